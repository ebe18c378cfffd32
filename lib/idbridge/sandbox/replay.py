"""A recording served back: `idbridge sandbox up --replay DIR` answers the requests of a collection with what the
clouds answered when it was recorded (`idbridge collect --record DIR`), on the sandbox's two endpoints.

    with ReplaySandbox("recordings/contoso-2026-05") as box:
        box.parameters()        # a parameters document pointing idbridge at the replay

Graph side: the token endpoint and bearer check of the Graph emulator (auth.py), then the recorded answer of the
request with the same method, path, query and body (clients/recording/store.py: graph_key). AWS side: the
sandbox's gate (Host and SigV4 with the sandbox's key, auth.py), then the recorded answer of the same operation
with the same parameters (aws_key). The same request asked again gets the next recorded answer, and the last one
once they are used up. A request that is not in the recording gets the service's error shape (Graph 400
BadRequest, AWS 400 ValidationException) saying "not in the recording" and which request it was: a collector
reports it as "not collected: ..." rather than reading it as an empty listing.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import yaml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idbridge.clients.recording.store import GRAPH_ROOT, Recording, aws_key, graph_key, parse_body, read_recording
from idbridge.sandbox import derived
from idbridge.sandbox.aws.auth import SandboxGate, _body
from idbridge.sandbox.graph.app import JSON_TYPE
from idbridge.sandbox.graph.auth import TokenIssuer
from idbridge.sandbox.graph.errors import GraphError, error_body
from idbridge.sandbox.hosts import allowed_names, host_allowed
from idbridge.sandbox.server import SandboxEndpoints

NOT_RECORDED = "not in the recording"


class Answers:
    """Recorded answers by request key, each key's answers in the order they were recorded."""

    def __init__(self, rows: list[dict], key):
        self._by_key: dict[str, list[dict]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r["seq"]):
            self._by_key[key(row)].append(row)
        self._used: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.missed: list[str] = []  # requests not in the recording, for the tests and the operator

    def next(self, key: str) -> dict | None:
        with self._lock:
            answers = self._by_key.get(key)
            if not answers:
                self.missed.append(key)
                return None
            index = min(self._used[key], len(answers) - 1)
            self._used[key] += 1
            return answers[index]


def aws_operation(target: str | None, params: dict) -> str:
    """The JSON protocol's X-Amz-Target ("SWBExternalService.ListInstances"), or the query protocol's Action."""
    return target or f"Action={params.get('Action', '?')}"


def _recorded_aws_key(row: dict) -> str:
    params = row["params"] if isinstance(row["params"], dict) else {}
    return aws_key(aws_operation(row.get("target"), params), row["params"])


class GraphReplay:
    """The Graph side as a WSGI application."""

    def __init__(self, recording: Recording, bound_host: str | None = None):
        self.folder = recording.folder
        self.hosts = allowed_names(bound_host)
        self.issuer = TokenIssuer(recording.parameters["tenant_id"], [])
        self.answers = Answers(recording.graph, lambda r: graph_key(r["method"], r["path"], r["query"], r["body"]))

    def __call__(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        ids = {"request-id": request_id, "client-request-id": request.headers.get("client-request-id") or request_id}
        data = request.get_data()  # read whatever happens: a kept-alive connection must not take it for a request
        if not host_allowed(request.headers.get("Host"), self.hosts):
            return Response("<h2>Bad Request - Invalid Hostname</h2>", 400, headers=ids, content_type="text/html")
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            status, body = self.issuer.token_response(parts[0], request.form.to_dict())
            return Response(json.dumps(body), status, headers=ids, content_type="application/json; charset=utf-8")
        root = request.host_url.rstrip("/")
        try:
            self.issuer.authenticate(request.headers.get("Authorization"))
        except GraphError as error:
            return self._error(error, ids)
        body = parse_body(data.decode("utf-8", "replace").replace(root, GRAPH_ROOT), request.content_type or "")
        query = list(request.args.items(multi=True))
        row = self.answers.next(graph_key(request.method, request.path, query, body))
        if row is None:
            asked = request.path + ("?" + urlencode(query) if query else "")
            return self._error(GraphError(400, "BadRequest", f"{request.method} {asked}: {NOT_RECORDED} "
                                                              f"{self.folder} (idbridge sandbox up --replay)"), ids)
        answer = row["response"]
        if answer is None:
            return Response(b"", row["status"], headers=ids)
        text = json.dumps(answer, ensure_ascii=False) if isinstance(answer, (dict, list)) else str(answer)
        return Response(text.replace(GRAPH_ROOT, root), row["status"], headers=ids,
                        content_type=row.get("content_type") or JSON_TYPE)

    @staticmethod
    def _error(error: GraphError, ids: dict[str, str]) -> Response:
        date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        body = error_body(error, ids["request-id"], ids["client-request-id"], date)
        return Response(json.dumps(body), error.status, headers={**ids, **error.headers}, content_type=JSON_TYPE)


class AwsReplay:
    """The AWS side as a WSGI application (behind SandboxGate, which checks Host and signature first)."""

    def __init__(self, recording: Recording):
        self.folder = recording.folder
        self.answers = Answers(recording.aws, _recorded_aws_key)

    def __call__(self, environ, start_response):
        data = _body(environ)
        target = environ.get("HTTP_X_AMZ_TARGET") or None
        if target:
            params = parse_body(data, "json") or {}
        else:
            params = dict(parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True))
        operation = aws_operation(target, params if isinstance(params, dict) else {})
        row = self.answers.next(aws_key(operation, params))
        request_id = str(uuid.uuid4())
        if row is None:
            message = (f"{operation} {json.dumps(params, sort_keys=True, default=str)}: {NOT_RECORDED} "
                       f"{self.folder} (idbridge sandbox up --replay)")
            if target:
                body = json.dumps({"__type": "ValidationException", "message": message}).encode()
                headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "ValidationException")]
            else:
                body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>"
                        f"{_xml_escape(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                        "</ErrorResponse>").encode()
                headers = [("Content-Type", "text/xml")]
            start_response("400 Bad Request", headers + [("x-amzn-RequestId", request_id),
                                                         ("Content-Length", str(len(body)))])
            return [body]
        answer = row["response"]
        if isinstance(answer, (dict, list)):
            body = json.dumps(answer, ensure_ascii=False).encode()
        else:
            body = ("" if answer is None else str(answer)).encode()
        status = f"{row['status']} {'OK' if row['status'] < 300 else 'Error'}"
        start_response(status, [("Content-Type", row.get("content_type") or "application/x-amz-json-1.1"),
                                ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))])
        return [body]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ReplaySandbox:
    """Both sides of a recording served on 127.0.0.1, like Sandbox (start, parameters, write_parameters, stop)."""

    def __init__(self, folder: str | Path, *, host: str = "127.0.0.1", graph_port: int = 0, aws_port: int = 0):
        self.recording = read_recording(folder)  # InputError (exit 2) for a folder that is not a recording
        self.host = host
        self.graph_port = graph_port
        self.aws_port = aws_port
        self.graph: GraphReplay | None = None
        self.aws: AwsReplay | None = None
        self.endpoints: SandboxEndpoints | None = None
        self._servers: list = []

    def start(self) -> SandboxEndpoints:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.graph = GraphReplay(self.recording, self.host)
        self.aws = AwsReplay(self.recording)
        try:
            for app, port in ((self.graph, self.graph_port), (SandboxGate(self.aws, bound_host=self.host),
                                                                self.aws_port)):
                try:
                    server = make_server(self.host, port, app, threaded=True)
                except OSError as exc:
                    raise OSError(f"cannot listen on {self.host}:{port} for the replay: {exc.strerror}") from None
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                          name=f"replay-{server.server_port}", daemon=True)
                thread.start()
                self._servers.append((server, thread))
        except BaseException:
            self.stop()
            raise
        params = self.recording.parameters
        aws = params.get("aws") or {}
        graph_root = f"http://{self.host}:{self._servers[0][0].server_port}"
        self.endpoints = SandboxEndpoints(
            graph_root=graph_root, graph_base_url=f"{graph_root}/v1.0",
            token_url=f"{graph_root}/{params['tenant_id']}/oauth2/v2.0/token",
            aws_endpoint_url=f"http://{self.host}:{self._servers[1][0].server_port}",
            tenant_id=params["tenant_id"], client_id=derived.SANDBOX_CLIENT_ID,
            region=aws.get("region") or "us-east-1", instance_arn=aws.get("instance_arn") or "",
            identity_store_id="", management_account=aws.get("management_account") or "")
        return self.endpoints

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
        self._servers = []

    def __enter__(self) -> "ReplaySandbox":
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def missed(self) -> list[str]:
        """Requests asked of the replay that the recording does not hold."""
        return [*(self.graph.answers.missed if self.graph else []), *(self.aws.answers.missed if self.aws else [])]

    def parameters(self, engagement: str | None = None) -> dict:
        """The recorded collection's settings, pointed at this replay with the sandbox's public credentials."""
        ep = self.endpoints
        assert ep is not None, "start the replay first"
        recorded = self.recording.parameters
        aws = {"region": ep.region, "endpoint_url": ep.aws_endpoint_url, "credentials": "sandbox"}
        aws.update({k: v for k, v in (recorded.get("aws") or {}).items()
                    if k in ("instance_arn", "management_account", "extra_regions") and v is not None})
        document = {
            "engagement": engagement or f"replay-{self.recording.folder.resolve().name}",
            "sandbox": True,
            "graph": {"tenant_id": ep.tenant_id, "auth": "sandbox", "client_id": ep.client_id,
                      "base_url": ep.graph_base_url, "token_url": ep.token_url},
            "aws": aws,
            "app": recorded.get("app") or {},
            "collection": recorded.get("collection") or {},
            "checks": recorded.get("checks") or {},
            "review": {"signing_key": "sandbox:review-signing-key"},
        }
        if recorded.get("fail_on"):
            document["fail_on"] = recorded["fail_on"]
        return document

    def write_parameters(self, path: str | Path, engagement: str | None = None) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (f"# Written by `idbridge sandbox up --replay {self.recording.folder}`.\n"
                  "# Points idbridge at the replay of a recording; holds no secret.\n")
        path.write_text(header + yaml.safe_dump(self.parameters(engagement), sort_keys=False), encoding="utf-8")
        return path
