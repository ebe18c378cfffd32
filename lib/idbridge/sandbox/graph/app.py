"""The Microsoft Graph emulator as a WSGI application (werkzeug), answered to the unmodified msgraph-sdk.

    POST /{tenant}/oauth2/v2.0/token                                   client-credentials tokens
    GET  /{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid=...   SAML IdP metadata (anonymous)
    *    /v1.0/...  and  /beta/...                                      Graph (bearer token required)

Every Graph response carries request-id / client-request-id headers and Graph's JSON content type; errors use
Graph's error shape. Handlers run under world.lock, so the emulator is safe behind a threaded server; fault
latency is spent outside the lock.

Requests whose Host header is not a loopback name are refused before anything else (a web page reaching the
emulator through DNS rebinding names itself there); no response carries a CORS header, so a cross-origin page
can neither send the bearer token nor read an answer.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from datetime import datetime, timedelta, timezone

from werkzeug.wrappers import Request, Response

from idbridge.sandbox.graph import pim, routes_apps, routes_delta, routes_directory, routes_reports, routes_sync
from idbridge.sandbox.graph.auth import TokenIssuer
from idbridge.sandbox.graph.batch import run_batch
from idbridge.sandbox.graph.core import Call, Result, Router
from idbridge.sandbox.graph.errors import GraphError, bad_request, error_body, method_not_allowed
from idbridge.sandbox.graph.faults import GraphFaults
from idbridge.sandbox.graph.metadata import active_key, federation_metadata
from idbridge.sandbox.hosts import allowed_names, host_allowed

log = logging.getLogger(__name__)

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_TOKEN = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token/?$")
_METADATA = re.compile(r"^/(?P<tenant>[^/]+)/federationmetadata/2007-06/federationmetadata\.xml$", re.I)
_DIAGNOSTIC = json.dumps({"ServerInfo": {"DataCenter": "idbridge sandbox", "Slice": "E", "Ring": "1",
                                         "ScaleUnit": "000", "RoleInstance": "SANDBOX"}}, separators=(",", ":"))


class GraphStats:
    """What the emulator was asked, for tests and benchmarks: (method, path, status, in_batch) per call."""

    def __init__(self, size: int = 100_000):
        self._lock = threading.Lock()
        self.calls: deque[tuple[str, str, int, bool]] = deque(maxlen=size)

    def record(self, method: str, path: str, status: int, in_batch: bool) -> None:
        with self._lock:
            self.calls.append((method, path, status, in_batch))

    def count(self, path: str | None = None, *, method: str | None = None, status: int | None = None,
              prefix: bool = False) -> int:
        with self._lock:
            calls = list(self.calls)
        return sum(1 for m, p, s, _ in calls
                   if (path is None or (p.startswith(path) if prefix else p == path))
                   and (method is None or m == method) and (status is None or s == status))

    def statuses(self) -> Counter:
        with self._lock:
            return Counter(s for _, _, s, _ in self.calls)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


class GraphApp:
    def __init__(self, world, bound_host: str | None = None, allowed_hosts: tuple[str, ...] = ()):
        self.world = world
        self.hosts = allowed_names(bound_host, allowed_hosts)
        tenant = world.scenario.tenant
        self.issuer = TokenIssuer(tenant.id, [tenant.default_domain, *tenant.domains])
        self.faults = GraphFaults(world.faults, tenant.licence)
        self.stats = GraphStats()
        self.router = Router()
        self.delta = routes_delta.DeltaTracker()  # change-tracking state behind delta tokens
        # routes_delta first: /users/delta must not be read as the user whose id is "delta".
        for module in (routes_delta, routes_directory, routes_apps, routes_sync, routes_reports, pim):
            module.register(self.router)
        self._started = time.monotonic()

    def now(self) -> datetime:
        """Sandbox time: the world's `now` plus the time the server has been running."""
        return self.world.now + timedelta(seconds=time.monotonic() - self._started)

    # ------------------------------------------------------------------ Graph calls

    def execute(self, call: Call) -> Result:
        """Authenticate, apply faults and route one call (top-level or a batch item)."""
        try:
            call.caller = self.issuer.authenticate(call.headers.get("authorization"))
            if call.path.rstrip("/") == "/$batch":
                if call.method != "POST":
                    raise method_not_allowed(call.method)
                result = run_batch(self, call)
            else:
                self.faults.before(call.method, call.path, call.caller.app_id, "$skiptoken" in call.args)
                with self.world.lock:
                    result = self.router.dispatch(call)
        except GraphError as error:
            result = self.error_result(call, error)
        except Exception as exc:  # a bug in the emulator: answer like Graph's 500 and keep the server up
            log.error("Graph emulator error on %s %s\n%s", call.method, call.path, traceback.format_exc())
            result = self.error_result(call, GraphError(500, "UnknownError", f"{type(exc).__name__}: {exc}"))
        self.stats.record(call.method, call.path, result.status, call.in_batch)
        return result

    def error_result(self, call: Call, error: GraphError) -> Result:
        date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return Result(error.status, error_body(error, call.request_id, call.client_request_id, date),
                      dict(error.headers))

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or request_id
        ids = {"request-id": request_id, "client-request-id": client_request_id}
        if not host_allowed(request.headers.get("Host"), self.hosts):
            request.get_data()  # consumed: a kept-alive connection must not read it as the next request
            # What HTTP.sys answers for a Host it does not serve.
            return Response("<h2>Bad Request - Invalid Hostname</h2><hr><p>HTTP Error 400. The request hostname is "
                            "invalid.</p>", 400, headers=ids, content_type="text/html; charset=us-ascii")
        self.faults.latency()
        path = request.path
        token = _TOKEN.match(path)
        if token:
            if request.method != "POST":
                return Response("", 405, headers=ids)
            status, body = self.issuer.token_response(token.group("tenant"), request.form.to_dict())
            return Response(json.dumps(body), status, headers=ids, content_type="application/json; charset=utf-8")
        metadata = _METADATA.match(path)
        if metadata and request.method == "GET":
            return self._metadata(metadata.group("tenant"), request.args.get("appid", ""), ids)
        version, _, rest = path.lstrip("/").partition("/")
        if version not in ("v1.0", "beta"):
            return Response(json.dumps({"error": {"code": "BadRequest", "message": "Invalid version."}}), 400,
                            headers=ids, content_type=JSON_TYPE)
        call = Call(method=request.method.upper(), version=version, path="/" + rest, args=request.args.to_dict(),
                    headers={k.lower(): v for k, v in request.headers.items()}, body=None,
                    service_root=request.host_url.rstrip("/") + "/" + version, app=self,
                    request_id=request_id, client_request_id=client_request_id)
        raw = request.get_data()
        if raw.strip():
            try:
                call.body = json.loads(raw)
            except ValueError:
                return self._respond(self.error_result(call, bad_request(
                    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                    "valid JSON format.")), ids)
        return self._respond(self.execute(call), ids)

    def _respond(self, result: Result, ids: dict[str, str]) -> Response:
        headers = {**ids, "x-ms-ags-diagnostic": _DIAGNOSTIC, "OData-Version": "4.0",
                   "Strict-Transport-Security": "max-age=31536000", "Cache-Control": "no-cache", **result.headers}
        if result.body is None:
            return Response(b"", result.status, headers=headers)
        if isinstance(result.body, (dict, list)):
            return Response(json.dumps(result.body), result.status, headers=headers,
                            content_type=result.content_type or JSON_TYPE)
        data = result.body if isinstance(result.body, bytes) else str(result.body).encode()
        return Response(data, result.status, headers=headers, content_type=result.content_type or "text/plain")

    def _metadata(self, tenant: str, app_id: str, ids: dict[str, str]) -> Response:
        if tenant.lower() not in self.issuer.tenant_names:
            return Response(f"AADSTS90002: Tenant '{tenant}' not found.", 400, headers=ids, content_type="text/plain")
        with self.world.lock:
            store = self.world.graph
            sp = next((s for s in store.service_principals.values() if s["appId"] == app_id.lower()), None)
            key = active_key(store, sp) if sp else None
            if key is None:
                # Real Entra answers tenant-wide WS-Federation metadata here; the sandbox only serves app metadata.
                return Response(f"The sandbox has no SAML signing certificate for appid '{app_id}'.", 404,
                                headers=ids, content_type="text/plain")
            document = federation_metadata(store, sp, key)
        return Response(document, 200, headers=ids, content_type="application/xml; charset=utf-8")


def create_graph_app(world, bound_host: str | None = None, allowed_hosts: tuple[str, ...] = ()) -> GraphApp:
    """The WSGI app for `world` (a SandboxWorld): serve it with werkzeug's make_server(..., threaded=True). It
    answers requests addressed to loopback names, `bound_host` (unless a wildcard) and `allowed_hosts`."""
    return GraphApp(world, bound_host, allowed_hosts)
