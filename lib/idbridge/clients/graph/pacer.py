"""Pacing for Microsoft Graph's identity-and-access reports: at most 5 requests per 10 s per app per tenant
(/auditLogs/signIns, /auditLogs/provisioning, /reports/...). Going faster only earns 429s, so requests wait
their turn here instead.

One pacer per request adapter (one adapter = one app in one tenant), shared by every collector that reads a
report, so sign-ins and provisioning logs collected at the same time still stay inside one budget.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque

REPORTS_LIMIT = 5
REPORTS_WINDOW_S = 10.0
# Requests reach Graph a little after their slot: keep a margin so a slow one does not land inside the window.
MARGIN_S = 0.5


class Pacer:
    """A sliding-window limiter: request k starts no sooner than `window` after request k-`limit`.

    Slots are reserved synchronously (no await between reading and writing the schedule), so it needs no lock
    and works from any event loop."""

    def __init__(self, limit: int = REPORTS_LIMIT, window_s: float = REPORTS_WINDOW_S + MARGIN_S,
                 clock=time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._slots: deque[float] = deque(maxlen=limit)

    def reserve(self) -> float:
        """Book the next slot; returns how many seconds to wait for it."""
        now = self.clock()
        slot = now
        if len(self._slots) == self.limit:
            slot = max(now, self._slots[0] + self.window_s)
        self._slots.append(slot)
        return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


_PACERS: "weakref.WeakKeyDictionary[object, Pacer]" = weakref.WeakKeyDictionary()


def reports_pacer(adapter) -> Pacer:
    """The reports pacer of this adapter (created on first use)."""
    pacer = _PACERS.get(adapter)
    if pacer is None:
        pacer = _PACERS[adapter] = Pacer()
    return pacer
