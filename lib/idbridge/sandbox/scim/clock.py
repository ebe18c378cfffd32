"""When each object of a cycle is processed: the activity times of provisioning-log entries and SCIM calls."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

_OBJECT_SPACING = timedelta(milliseconds=450)
_BUCKET = timedelta(minutes=30)  # how long a scheduled (history) cycle spends on its objects


class Clock:
    """Activity times of one cycle: objects follow each other, squeezed so the cycle ends by `end_by`.

    A `schedule` (seeding's history) gives objects their own moment instead — the cycle in which each first
    came into scope; objects sharing a moment are spread over that cycle's length."""

    def __init__(self, start: datetime, end_by: datetime | None, expected: int,
                 schedule: dict[str, datetime] | None = None):
        self.now = start
        step = _OBJECT_SPACING
        if end_by is not None and expected:
            step = min(step, max(timedelta(0), end_by - start) / (expected + 1))
        self.step = step
        self.schedule = schedule or {}
        sizes: dict[datetime, int] = {}
        for moment in self.schedule.values():
            sizes[moment] = sizes.get(moment, 0) + 1
        self._bucket_step = {m: min(_OBJECT_SPACING, _BUCKET / (n + 1)) for m, n in sizes.items()}
        self._bucket_used: dict[datetime, int] = {}

    def tick(self, key: str | None = None) -> datetime:
        moment = self.schedule.get(key) if key is not None else None
        if moment is None:
            self.now += self.step
            return self.now
        used = self._bucket_used.get(moment, 0)
        self._bucket_used[moment] = used + 1
        return moment + self._bucket_step[moment] * used

    def duration_ms(self, key: str) -> int:
        return 180 + zlib.crc32(key.encode()) % 700 if self.step >= timedelta(milliseconds=200) else \
            max(1, int(self.step.total_seconds() * 1000))
