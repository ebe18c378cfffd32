"""The request model shared by the WSGI front end, the route modules and $batch: one Graph call in, one Result
out, routed by regular expressions over the path below /v1.0 or /beta.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Protocol

from idbridge.sandbox.graph import odata
from idbridge.sandbox.graph.errors import GraphError, bad_request, method_not_allowed, no_segment
from idbridge.sandbox.graph.odata import Query, Resource
from idbridge.sandbox.graph.store import GraphStore, Json

if TYPE_CHECKING:
    from idbridge.sandbox.graph.auth import Caller


class Host(Protocol):
    """What a call needs of the application serving it (app.GraphApp, which imports this module: the routes and
    $batch know it only by this protocol)."""

    world: Any
    faults: Any

    def now(self) -> datetime: ...

    def execute(self, call: "Call") -> "Result": ...

    def error_result(self, call: "Call", error: GraphError) -> "Result": ...


@dataclass
class Call:
    method: str
    version: str                 # "v1.0" or "beta"
    path: str                    # decoded, below the version: "/users/abc"
    args: dict[str, str]
    headers: dict[str, str]      # lower-case names
    body: Any                    # parsed JSON, or None
    service_root: str            # "http://127.0.0.1:port/v1.0"
    app: Host
    caller: "Caller | None" = None
    in_batch: bool = False
    request_id: str = ""
    client_request_id: str = ""

    @property
    def store(self) -> GraphStore:
        return self.app.world.graph

    @property
    def world(self):
        return self.app.world

    def now(self) -> datetime:
        return self.app.now()

    def query(self, resource: Resource, *, collection: bool = True) -> Query:
        return odata.parse_query(self.args, self.headers, odata.for_version(resource, self.version),
                                 collection=collection)

    def json_body(self) -> dict:
        if not isinstance(self.body, dict):
            raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
        return self.body

    def url(self, path: str | None = None) -> str:
        return self.service_root + (path if path is not None else self.path)


@dataclass
class Result:
    status: int = 200
    body: Any = None             # dict -> JSON, str -> text/plain, bytes -> as is, None -> no body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


Handler = Callable[..., "Result | Json"]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern, dict[str, Handler]]] = []

    def add(self, pattern: str, **handlers: Handler) -> None:
        """`pattern` is a regex over the path (named groups become handler arguments); handlers by method."""
        self._routes.append((re.compile("^" + pattern + "$"), {m.upper(): h for m, h in handlers.items()}))

    def dispatch(self, call: Call) -> Result:
        path = call.path.rstrip("/") or "/"
        for pattern, handlers in self._routes:
            match = pattern.match(path)
            if match:
                handler = handlers.get(call.method)
                if handler is None:
                    raise method_not_allowed(call.method)
                out = handler(call, **match.groupdict())
                return out if isinstance(out, Result) else Result(200, out)
        segments = [s for s in path.split("/") if s]
        raise no_segment(segments[-1] if segments else "")


def entity(call: Call, item: Json | None, resource: Resource, entity_set: str, object_id: str) -> Json:
    """One object with $select applied, as GET /collection/{id} answers."""
    if item is None:
        raise GraphError(404, "Request_ResourceNotFound",
                         f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                         "are not present.")
    resource = odata.for_version(resource, call.version)
    q = call.query(resource, collection=False)
    body = {"@odata.context": odata.context_url(call.service_root, entity_set, q, entity=True)}
    body.update(odata.project(item, q, resource, call.version))
    return body


def collection(call: Call, items: list[Json], resource: Resource, entity_set: str, *,
               query: Query | None = None, default_page: int | None = None, page_cap: int | None = None) -> Json:
    resource = odata.for_version(resource, call.version)
    q = query or call.query(resource)
    return odata.collection_body(items, q, resource, version=call.version,
                                 context=odata.context_url(call.service_root, entity_set, q),
                                 page_url=call.url(), default_page=default_page, page_cap=page_cap)


def merge(target: dict, patch: dict) -> None:
    """PATCH semantics for Graph's complex types: nested objects merge, everything else is replaced."""
    for key, value in patch.items():
        if key.startswith("@odata"):
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
