"""JSON batching (POST /$batch): up to 20 requests with relative URLs, each run through the normal routing (so
authentication, faults and throttling apply per item), `dependsOn` honoured, all answered in one response."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote, urlsplit

from idbridge.sandbox.graph.core import Call, Host, Result
from idbridge.sandbox.graph.errors import bad_request

MAX_REQUESTS = 20


def _validate(requests: object) -> list[dict]:
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        raise bad_request(f"The batch request contains {len(requests)} requests; a batch can contain at most "
                          f"{MAX_REQUESTS} requests.")
    seen: set[str] = set()
    for item in requests:
        if not isinstance(item, dict) or not all(item.get(k) for k in ("id", "method", "url")):
            raise bad_request("Invalid batch payload format: every request needs id, method and url.")
        item_id = str(item["id"])
        if item_id in seen:
            raise bad_request(f"Batch request ids must be unique: '{item_id}' is used twice.")
        seen.add(item_id)
    for item in requests:
        for dep in item.get("dependsOn") or []:
            if str(dep) not in seen:
                raise bad_request(f"Request '{item['id']}' depends on '{dep}', which is not in the batch.")
    return requests


def run_batch(app: Host, outer: Call) -> Result:
    requests = _validate(outer.json_body().get("requests"))
    by_id = {str(item["id"]): item for item in requests}
    results: dict[str, dict] = {}
    running: set[str] = set()

    def run(item_id: str) -> dict:
        if item_id in results:
            return results[item_id]
        if item_id in running:
            raise bad_request(f"The dependsOn chain of request '{item_id}' is circular.")
        running.add(item_id)
        item = by_id[item_id]
        deps = [run(str(d)) for d in item.get("dependsOn") or []]
        if any(d["status"] >= 400 for d in deps):
            results[item_id] = {"id": item_id, "status": 424, "headers": {"Content-Type": "application/json"},
                                "body": {"error": {"code": "FailedDependency",
                                                   "message": "A request this one depends on failed."}}}
        else:
            results[item_id] = _run_item(app, outer, item)
        running.discard(item_id)
        return results[item_id]

    for item in requests:
        run(str(item["id"]))
    return Result(200, {"responses": [results[str(item["id"])] for item in requests]})


def _run_item(app: Host, outer: Call, item: dict) -> dict:
    url = str(item["url"])
    item_id = str(item["id"])
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    if url.lower().startswith(("http://", "https://")):
        result = app.error_result(outer, bad_request("Batch requests need relative URLs such as /users."))
    else:
        parts = urlsplit("/" + url.lstrip("/"))
        body = item.get("body")
        if isinstance(body, str) and headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        call = Call(method=str(item["method"]).upper(), version=outer.version, path=unquote(parts.path),
                    args=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={"authorization": outer.headers.get("authorization", ""), **headers},
                    body=body, service_root=outer.service_root, app=app, in_batch=True,
                    request_id=outer.request_id, client_request_id=outer.client_request_id)
        if call.path == "/$batch":
            result = app.error_result(call, bad_request("A batch cannot contain another batch."))
        else:
            result = app.execute(call)
    out = {"id": item_id, "status": result.status, "headers": {}}
    if result.body is not None:
        out["headers"]["Content-Type"] = result.content_type or "application/json"
        out["body"] = result.body
    out["headers"].update(result.headers)
    return out
