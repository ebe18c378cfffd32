"""Pacing for Microsoft Graph's identity-and-access reports: at most 5 requests per 10 s per app per tenant
(/auditLogs/signIns, /auditLogs/provisioning, /reports/...). Going faster only earns 429s, so requests wait
their turn here instead.

One pacer per request adapter (one adapter = one app in one tenant), shared by every collector that reads a
report, so sign-ins and provisioning logs collected at the same time still stay inside one budget.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque

REPORTS_LIMIT = 5
REPORTS_WINDOW_S = 10.0
# Requests reach Graph a little after their slot: keep a margin so a slow one does not land inside the window.
MARGIN_S = 0.5


class Pacer:
    """A sliding-window limiter: request k goes out no sooner than `window` after request k-`limit` went out.

    The window counts when each request was let through, not when it was scheduled: a coroutine that wakes late
    (the event loop busy parsing a large page) is recorded where it really went, so the requests after it keep
    their distance. The check and the record happen without an await between them, under a lock, so it works
    from any event loop and thread."""

    def __init__(self, limit: int = REPORTS_LIMIT, window_s: float = REPORTS_WINDOW_S + MARGIN_S,
                 clock=time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._sent: deque[float] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Let a request through now (0.0, recorded as sent) or say how long to wait before asking again."""
        with self._lock:
            now = self.clock()
            if len(self._sent) == self.limit and now < self._sent[0] + self.window_s:
                return self._sent[0] + self.window_s - now
            self._sent.append(now)
            return 0.0

    async def wait(self) -> None:
        while (delay := self.reserve()) > 0:
            await asyncio.sleep(delay)


_PACERS: "weakref.WeakKeyDictionary[object, Pacer]" = weakref.WeakKeyDictionary()


def reports_pacer(adapter) -> Pacer:
    """The reports pacer of this adapter (created on first use)."""
    pacer = _PACERS.get(adapter)
    if pacer is None:
        pacer = _PACERS[adapter] = Pacer()
    return pacer
