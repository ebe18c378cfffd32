"""Reading whole Graph collections as raw JSON: every page, restarted from page 1 when a next link has
expired, paced where Graph asks for it.

msgraph-sdk's retry handler already retries 429 / 503 / 504 three times (honouring Retry-After); a request
that still fails after that is tried again here a couple of times before the error is passed on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from idbridge.clients.graph.raw import get_json, odata_error_code

EXPIRED_PAGE_TOKEN = "Directory_ExpiredPageToken"
TRANSIENT = {429, 503, 504}
MAX_RESTARTS = 4          # listings restarted from page 1 after an expired next link
MAX_EXTRA_ATTEMPTS = 2    # tries after the SDK's own retries gave up on a 429 / 503 / 504
EXTRA_BACKOFF_S = 2.0


class GraphSourceError(Exception):
    """A Graph error worded for the source that met it. Carries the HTTP status and Graph error code the same
    way msgraph-sdk's ODataError does, so the runner's describe_error() prints "403 Code: message"."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.response_status_code = status
        self.error = SimpleNamespace(code=code, message=message)


def relative_url(url: str) -> str:
    """A next link or absolute Graph URL as a path below the version ("/groups/x/members?..."): what $batch
    items need."""
    parts = urlsplit(url)
    path = parts.path if parts.scheme else url.split("?", 1)[0]
    for version in ("/v1.0/", "/beta/"):
        if path.startswith(version):
            path = path[len(version) - 1:]
            break
    query = parts.query if parts.scheme else (url.split("?", 1)[1] if "?" in url else "")
    return path + ("?" + query if query else "")


async def get_with_retries(adapter, url: str, *, params: dict[str, Any] | None = None,
                           headers: dict[str, str] | None = None,
                           before: Callable[[], Awaitable[None]] | None = None) -> Any:
    """One GET; a 429 / 503 / 504 that outlived the SDK's retries is tried again after a pause."""
    attempt = 0
    while True:
        if before is not None:
            await before()
        try:
            return await get_json(adapter, url, params=params, headers=headers)
        except Exception as exc:
            status, _code, _message = odata_error_code(exc)
            if status not in TRANSIENT or attempt >= MAX_EXTRA_ATTEMPTS:
                raise
            attempt += 1
            await asyncio.sleep(EXTRA_BACKOFF_S * attempt)


async def read_all(adapter, path: str, *, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None,
                   before: Callable[[], Awaitable[None]] | None = None,
                   progress: Callable[[int], None] | None = None,
                   each: Callable[[dict], Any] | None = None) -> list:
    """Every item of a collection, following @odata.nextLink.

    `before` runs before each request (a pacer); `progress(n)` is told about items as they arrive; `each`, if
    given, turns every item into what is kept of it as its page arrives (a log read whole would otherwise hold
    100,000 full records before a frame keeps a dozen of their fields). When a next
    link has expired (Directory_ExpiredPageToken) the listing starts again from page 1: Graph's page tokens
    cannot be renewed. Progress never goes backwards: a restart reports only items beyond those seen before.
    """
    reported = 0
    for restart in range(MAX_RESTARTS + 1):
        items: list[dict] = []
        url, query = path, params
        try:
            while True:
                page = await get_with_retries(adapter, url, params=query, headers=headers, before=before) or {}
                found = page.get("value") or ()
                items.extend(map(each, found) if each is not None else found)
                if progress is not None and len(items) > reported:
                    progress(len(items) - reported)
                    reported = len(items)
                url, query = page.get("@odata.nextLink"), None
                if not url:
                    return items
        except Exception as exc:
            _status, code, _message = odata_error_code(exc)
            if code != EXPIRED_PAGE_TOKEN or restart == MAX_RESTARTS:
                raise
    raise AssertionError("unreachable")
