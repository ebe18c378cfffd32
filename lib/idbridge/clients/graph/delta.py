"""Graph delta queries (change tracking) for users and groups: take a "sync from now" link, and read one round of
changes from a stored link.

Facts relied on (Graph reference, concepts/delta-query-overview):
- `$deltaToken=latest` on a directory resource answers no objects and a deltaLink ("sync from now");
- a round is followed through @odata.nextLink pages until @odata.deltaLink; the stored link carries the query;
- directory delta tokens live seven days; an expired one answers a 40x error with code syncStateNotFound, and a
  synchronization reset answers 410 Gone: both mean "read everything again";
- the same object may appear several times in a round (replays, a large group's members split over pages).
"""

from __future__ import annotations

from typing import Any

from idbridge.clients.graph.paging import get_with_retries, relative_url
from idbridge.clients.graph.raw import odata_error_code

TOKEN_LIFETIME_DAYS = 7
EXPIRED_CODES = {"syncStateNotFound", "resyncRequired", "syncStateInvalid"}


class DeltaUnavailable(Exception):
    """The stored delta link cannot be used (expired, reset): a full read is needed. `why` says which."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def expired(exc: BaseException) -> str | None:
    """Why a delta request's error means "synchronize again", or None when it is another error."""
    status, code, message = odata_error_code(exc)
    if status == 410:
        return f"Graph reset the synchronization (410 Gone{': ' + code if code else ''})"
    if code in EXPIRED_CODES:
        return f"the delta link expired ({status} {code}: {message})"
    return None


async def latest_link(adapter, path: str, select: str) -> str:
    """A deltaLink for the collection as it is now, without reading it (relative to the Graph version root)."""
    page = await get_with_retries(adapter, path, params={"$select": select, "$deltatoken": "latest"})
    link = (page or {}).get("@odata.deltaLink")
    if not link:
        raise RuntimeError(f"GET {path}?$deltatoken=latest answered no @odata.deltaLink")
    return relative_url(link)


async def read_round(adapter, link: str) -> tuple[list[dict[str, Any]], str]:
    """Every item of one delta round from a stored link, and the round's new deltaLink (relative). Raises
    DeltaUnavailable when Graph says the link can no longer be used."""
    items: list[dict[str, Any]] = []
    url: str | None = link
    while url:
        try:
            page = await get_with_retries(adapter, url) or {}
        except Exception as exc:
            why = expired(exc)
            if why is not None:
                raise DeltaUnavailable(why) from exc
            raise
        items.extend(page.get("value") or ())
        next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
        if delta_link and not next_link:
            return items, relative_url(delta_link)
        if not next_link:
            raise RuntimeError("a delta page with neither @odata.nextLink nor @odata.deltaLink")
        url = next_link
    raise AssertionError("unreachable")
