"""Many Graph listings read through JSON batching (POST /$batch, at most 20 requests each).

msgraph-sdk's batch helper loses JSON bodies, so the batch is built and sent here as plain JSON through the
adapter (auth and retry middleware kept). Each item is its own request to Graph: it can be throttled (429 with
Retry-After), fail (503 / 504), or, on a next link, find its page token expired. Those are handled per item:
throttled and failed items go into a later batch after their wait, an expired listing starts again from page 1,
and the next link of every page is followed until the listing is complete.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from idbridge.clients.graph.paging import EXPIRED_PAGE_TOKEN, relative_url
from idbridge.clients.graph.raw import send_json

BATCH_LIMIT = 20           # Graph's limit on requests per batch
PARALLEL_BATCHES = 4       # batches in flight at once: a few, to stay well inside the per-app resource budget
MAX_ITEM_RETRIES = 6       # 429 / 503 / 504 answers in a row tolerated per listing
MAX_RESTARTS = 3           # expired page tokens tolerated per listing
DEFAULT_RETRY_S = 2.0      # wait when a throttled item names no Retry-After


@dataclass
class _Listing:
    key: Hashable
    first_url: str
    url: str
    items: list = field(default_factory=list)
    retries: int = 0
    restarts: int = 0
    not_before: float = 0.0
    done: bool = False
    error: tuple[int, str, str] | None = None  # (status, code, message) when the listing was given up


@dataclass
class BatchResult:
    items: dict[Hashable, list[dict]]              # complete listings only
    errors: dict[Hashable, tuple[int, str, str]]   # listings given up: (HTTP status, Graph code, message)


def _retry_after(headers: dict) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _error(body) -> tuple[str, str]:
    error = (body or {}).get("error") if isinstance(body, dict) else None
    error = error or {}
    return str(error.get("code") or ""), str(error.get("message") or "")


def _settle(listing: _Listing, response: dict, now: float) -> None:
    """Apply one item's answer to its listing."""
    status = int(response.get("status") or 0)
    body = response.get("body")
    if 200 <= status < 300 and isinstance(body, dict):
        values = body.get("value") or []
        listing.items.extend(values)
        listing.retries = 0
        next_link = body.get("@odata.nextLink")
        if next_link:
            listing.url = relative_url(next_link)
        else:
            listing.done = True
        return
    code, message = _error(body)
    if code == EXPIRED_PAGE_TOKEN and listing.restarts < MAX_RESTARTS:
        listing.restarts += 1
        listing.items.clear()
        listing.url = listing.first_url
        return
    if status in (429, 503, 504) and listing.retries < MAX_ITEM_RETRIES:
        listing.retries += 1
        wait = _retry_after(response.get("headers") or {})
        if wait is None:  # no Retry-After: back off a little more each time
            wait = DEFAULT_RETRY_S * listing.retries
        listing.not_before = now + wait
        return
    listing.done = True
    listing.error = (status, code, message)


async def _send(adapter, chunk: list[_Listing], count: Callable[[str, str], None]) -> list[dict]:
    requests = []
    for index, listing in enumerate(chunk):
        requests.append({"id": str(index), "method": "GET", "url": listing.url})
        count("GET", listing.url)
    answer = await send_json(adapter, "POST", "/$batch", body={"requests": requests})
    return (answer or {}).get("responses") or []


async def list_in_batches(adapter, urls: dict[Hashable, str], *, count: Callable[[str, str], None],
                          progress: Callable[[int], None] | None = None,
                          clock=time.monotonic) -> BatchResult:
    """Read every listing in `urls` (key -> relative URL such as "/groups/{id}/members?$select=id") to its last
    page. `count(method, url)` is called for every item sent (sub-requests are not seen by HTTP hooks).
    Listings that end in an error are reported in BatchResult.errors, not raised: the caller decides."""
    listings = [_Listing(key, url, url) for key, url in urls.items()]
    reported: dict[Hashable, int] = {}
    while True:
        pending = [listing for listing in listings if not listing.done]
        if not pending:
            break
        now = clock()
        ready = [listing for listing in pending if listing.not_before <= now]
        if not ready:
            await asyncio.sleep(max(0.0, min(listing.not_before for listing in pending) - now))
            continue
        ready = ready[:BATCH_LIMIT * PARALLEL_BATCHES]
        chunks = [ready[i:i + BATCH_LIMIT] for i in range(0, len(ready), BATCH_LIMIT)]
        answers = await asyncio.gather(*(_send(adapter, chunk, count) for chunk in chunks))
        now = clock()
        for chunk, responses in zip(chunks, answers):
            by_id = {str(r.get("id")): r for r in responses}
            for index, listing in enumerate(chunk):
                response = by_id.get(str(index))
                if response is None:  # Graph answered the batch without this item: ask again
                    response = {"status": 503, "headers": {}, "body": None}
                _settle(listing, response, now)
                # Progress counts items kept; a restarted listing reports again only beyond what it had.
                if progress is not None and len(listing.items) > reported.get(listing.key, 0):
                    progress(len(listing.items) - reported.get(listing.key, 0))
                    reported[listing.key] = len(listing.items)
    return BatchResult(
        items={listing.key: listing.items for listing in listings if listing.error is None},
        errors={listing.key: listing.error for listing in listings if listing.error is not None},
    )
