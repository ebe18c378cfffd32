"""Recording what the clouds answer a collection, at the HTTP level of the real clients.

    recorder = Recorder(params)
    recorder.install_graph(adapter)      # an httpx response hook on msgraph-sdk's client
    recorder.install_aws(client)         # botocore before-call / after-call handlers on a boto3 client
    ... collect ...
    recorder.save(folder)                # secrets removed, personal data pseudonymised, written whole

The hooks sit where production and sandbox share one code path (the same hooks count calls in collect/run.py).
They see each logical request once, after the SDKs' own retries. Nothing of the request's headers is kept (no
Authorization header, token or SigV4 signature); token requests never pass through these clients.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from idbridge.clients.recording.pseudonyms import Pseudonymiser
from idbridge.clients.recording.store import GRAPH_ROOT, parse_body, remove_secrets, write_recording
from idbridge.core import secrets as secret_refs
from idbridge.errors import EXIT_NOT_COLLECTED, IdbridgeError

_CONTEXT_KEY = "idbridge.recording.request"


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _secret_values(document: dict) -> list[str]:
    """Values of the parameters' secret references that are set in the environment (removed from the recording
    wherever they might appear; a reference not set now is not needed by a collection either)."""
    values = []
    for key, ref in secret_refs.references_in(document):
        if ref.startswith("env:") and secret_refs.is_secret_key(key) and os.environ.get(ref[4:]):
            values.append(os.environ[ref[4:]])
    return values


def replay_parameters(params) -> dict:
    """What a replay needs of the parameters a collection ran with: ids, Region, the app to look for, the
    collection and check settings. No endpoint, credential, profile, role, key or engagement name."""
    document = params.model_dump(mode="json")
    aws = document.get("aws") or {}
    return {
        "tenant_id": document["graph"]["tenant_id"],
        "aws": {k: aws.get(k) for k in ("region", "instance_arn", "management_account", "extra_regions")
                if aws.get(k) is not None},
        "app": document.get("app") or {},
        "collection": document.get("collection") or {},
        "checks": document.get("checks") or {},
        "fail_on": document.get("fail_on"),
    }


class RecordingIncomplete(IdbridgeError):
    """Some answers could not be kept: no recording is written (exit 3, like an incomplete collection)."""

    exit_code = EXIT_NOT_COLLECTED


class Recorder:
    def __init__(self, params, *, pseudonymise: bool = True, key: bytes | None = None):
        self.params = params
        self.pseudonymise = pseudonymise
        self._key = key  # tests pass one to pseudonymise a snapshot the same way; never saved
        self.graph_root = _root(params.graph.base_url)
        self._lock = threading.Lock()
        self._seq = 0
        self.graph: list[dict] = []
        self.aws: list[dict] = []
        self.pseudonymiser: Pseudonymiser | None = None
        self.failures: list[str] = []  # answers that could not be kept: the recording would be incomplete

    def _failed(self, request: str, exc: Exception) -> None:
        with self._lock:
            self.failures.append(f"{request}: {type(exc).__name__}: {exc}")

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------------------------------------ Graph

    def install_graph(self, adapter) -> None:
        http = adapter._http_client  # msgraph-sdk's httpx.AsyncClient: the hook sees each logical request

        async def record(response) -> None:
            try:
                await response.aread()
                self.record_graph(response.request, response)
            except Exception as exc:  # a recording fault must not cost the engagement its collection
                self._failed(f"{response.request.method} {response.request.url.path}", exc)

        http.event_hooks = {**http.event_hooks, "response": [*http.event_hooks.get("response", []), record]}

    def record_graph(self, request, response) -> None:
        url, root = request.url, self.graph_root
        content_type = response.headers.get("content-type", "")
        request_type = request.headers.get("content-type", "")
        body_text = response.content.decode("utf-8", "replace").replace(root, GRAPH_ROOT)
        sent = request.content  # kiota sends bytes, never a stream
        request_text = sent.decode("utf-8", "replace").replace(root, GRAPH_ROOT) if sent else None
        row = {"method": request.method, "path": url.path, "query": [list(p) for p in url.params.multi_items()],
               "body": parse_body(request_text, request_type), "status": response.status_code,
               "content_type": content_type, "response": parse_body(body_text, content_type)}
        with self._lock:
            self.graph.append({"seq": self._next(), **row})

    # ------------------------------------------------------------------------------------------ AWS

    def install_aws(self, client) -> None:
        region = client.meta.region_name

        def before(params: dict, context: dict, **_kwargs) -> None:
            context[_CONTEXT_KEY] = params  # the serialised request: body, headers (not signed yet)

        def after(http_response, model, context: dict, **_kwargs) -> None:
            try:
                self.record_aws(model, context.get(_CONTEXT_KEY) or {}, http_response, region)
            except Exception as exc:  # a recording fault must not cost the engagement its collection
                self._failed(f"{model.service_model.service_name}:{model.name}", exc)

        client.meta.events.register("before-call.*.*", before, unique_id="idbridge-recording-before")
        client.meta.events.register("after-call.*.*", after, unique_id="idbridge-recording-after")

    def record_aws(self, model, request: dict, http_response, region: str | None) -> None:
        protocol = model.service_model.protocol
        body = request.get("body")
        if isinstance(body, dict):  # the query protocol's form fields
            params: Any = {k: str(v) for k, v in body.items()}
        else:
            params = parse_body(body or b"", "json") or {}
        headers = request.get("headers") or {}
        content_type = http_response.headers.get("content-type", "")
        row = {"service": model.service_model.service_name, "operation": model.name, "protocol": protocol,
               "target": headers.get("X-Amz-Target"), "region": region, "params": params,
               "status": http_response.status_code, "content_type": content_type,
               "response": parse_body(http_response.content, content_type)}
        with self._lock:
            self.aws.append({"seq": self._next(), **row})

    # ------------------------------------------------------------------------------------------ saving

    def save(self, folder: str | Path, *, pseudonymise: bool | None = None) -> Path:
        """Remove secrets, pseudonymise (unless switched off: the library's tests compare a replay with the
        original; the command line always pseudonymises) and write the recording; returns its folder."""
        pseudonymise = self.pseudonymise if pseudonymise is None else pseudonymise
        if self.failures:  # a replay would answer "not in the recording" where the tenant answered: say so now
            raise RecordingIncomplete(f"the recording was not written: {len(self.failures)} answer(s) could not be "
                                      f"kept, e.g. {self.failures[0]} (the snapshot was written all the same)")
        scrub = _secret_values(self.params.model_dump(mode="json"))
        with self._lock:
            graph = [remove_secrets(row, scrub) for row in sorted(self.graph, key=lambda r: r["seq"])]
            aws = [remove_secrets(row, scrub) for row in sorted(self.aws, key=lambda r: r["seq"])]
        parameters = remove_secrets(replay_parameters(self.params), scrub)
        if pseudonymise:
            pseudo = self.pseudonymiser = Pseudonymiser(self._key)
            pseudo.learn_answers([row["response"] for row in graph + aws] + [row["params"] for row in aws])
            graph = [self._pseudonymise_graph(pseudo, row) for row in graph]
            aws = [{**row, "params": pseudo.apply(row["params"]), "response": pseudo.apply(row["response"])}
                   for row in aws]
            # Ids stay (the tenant id included): only check settings may hold a person (e.g. a UPN).
            parameters = {**parameters, "checks": pseudo.apply(parameters["checks"]),
                          "app": pseudo.apply(parameters["app"])}
        manifest = {"pseudonymised": pseudonymise, "graph_root": GRAPH_ROOT, "parameters": parameters,
                    "note": "Answers of Microsoft Graph and AWS to one idbridge collection: secrets removed"
                            + (", personal data pseudonymised" if pseudonymise else
                               "; personal data NOT pseudonymised") + " (docs/recording.md)."}
        return write_recording(folder, manifest, graph, aws)

    @staticmethod
    def _pseudonymise_graph(pseudo: Pseudonymiser, row: dict) -> dict:
        return {**row, "path": pseudo.text(row["path"]),
                "query": [[name, pseudo.text(value)] for name, value in row["query"]],
                "body": pseudo.apply(row["body"]), "response": pseudo.apply(row["response"])}
