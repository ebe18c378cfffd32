"""Raw JSON reads through msgraph-sdk's request adapter.

Typed msgraph-sdk models cost ~4.5 ms per object; bulk reads keep the adapter (its auth, retry and redirect
middleware) but take the response body as bytes and parse it with json. Errors still come back as msgraph-sdk's
ODataError, with the HTTP status and Graph's error code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from kiota_abstractions.api_client_builder import register_default_deserializer
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from kiota_serialization_text.text_parse_node_factory import TextParseNodeFactory
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

ERROR_MAP = {"4XX": ODataError, "5XX": ODataError}

# Error bodies are parsed into ODataError by kiota's process-wide parse-node registry, which only a
# GraphServiceClient fills. Without this, a raw-only process gets a bare APIError with no Graph error code
# (no Directory_ExpiredPageToken, no Authorization_RequestDenied) for every 4xx/5xx.
register_default_deserializer(JsonParseNodeFactory)
register_default_deserializer(TextParseNodeFactory)


def _absolute(adapter, path_or_url: str, params: dict[str, Any] | None) -> str:
    if path_or_url.startswith(("http://", "https://")):
        url = path_or_url
    else:
        url = adapter.base_url.rstrip("/") + "/" + path_or_url.lstrip("/")
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params, safe="$,'/:()")
    return url


async def send_json(adapter, method: str, path_or_url: str, *, params: dict[str, Any] | None = None,
                    headers: dict[str, str] | None = None, body: Any = None) -> Any:
    """One request through the adapter; returns the parsed JSON body (None for an empty body)."""
    info = RequestInformation()
    info.http_method = Method[method.upper()]
    info.url = _absolute(adapter, path_or_url, params)
    info.headers.try_add("Accept", "application/json")
    for key, value in (headers or {}).items():
        info.headers.try_add(key, value)
    if body is not None:
        info.set_stream_content(json.dumps(body).encode(), "application/json")
    raw = await adapter.send_primitive_async(info, "bytes", ERROR_MAP)
    return json.loads(raw) if raw else None


async def get_json(adapter, path_or_url: str, *, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Any:
    return await send_json(adapter, "GET", path_or_url, params=params, headers=headers)


async def iterate_pages(adapter, path: str, *, params: dict[str, Any] | None = None,
                        headers: dict[str, str] | None = None) -> AsyncIterator[list[dict]]:
    """Yield each page's `value` list, following @odata.nextLink."""
    page = await get_json(adapter, path, params=params, headers=headers)
    while True:
        yield page.get("value", [])
        next_link = page.get("@odata.nextLink")
        if not next_link:
            return
        page = await get_json(adapter, next_link, headers=headers)


def odata_error_code(exc: BaseException) -> tuple[int | None, str | None, str]:
    """(HTTP status, Graph error code, message) of an ODataError or any other exception."""
    status = getattr(exc, "response_status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) if error else None
    message = getattr(error, "message", None) if error else None
    return status, code, message or str(exc) or type(exc).__name__
