"""Thread-safe limiters that make callers wait their turn instead of being throttled by the server.

    limiter = RateLimiter(19.0, burst=10)      # a token bucket
    window = SlidingWindow(19, 1.04)           # at most 19 sends in any 1.04 s, by the time each went out
    limiter.acquire(); window.acquire()        # block until this call may go out

A server may limit either way: a token bucket (bursts up to its size, then a steady rate) or a strict window (at
most N requests in any one-second span). A sender that holds both shapes' limits passes either server.

Each caller reserves the next free slot under a lock and then sleeps outside it, so N threads waiting on one
limiter are released one every 1/rate seconds, in the order they asked — no polling, no thundering herd.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most `burst` calls at once, then `rate_per_s` calls per second on average."""

    def __init__(self, rate_per_s: float, burst: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = float(rate_per_s)
        self.burst = max(1.0, float(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()
        self.acquired = 0          # calls let through so far
        self.waited_s = 0.0        # total time callers spent waiting (for benchmarks)

    def reserve(self, n: float = 1.0) -> float:
        """Take n tokens now (going into debt if need be); returns how long the caller must wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n  # a negative balance is the queue of callers already waiting
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.acquired += 1
            self.waited_s += wait
            return wait

    def acquire(self, n: float = 1.0) -> float:
        """Block until the call may proceed; returns the seconds waited."""
        wait = self.reserve(n)
        if wait > 0:
            self._sleep(wait)
        return wait


class SlidingWindow:
    """At most `limit` calls in any `window_s` seconds, counted by when each call was let through (its send time),
    not by when it was scheduled: a caller that wakes late (a busy process, a slow thread) is counted where it
    really went, so the calls after it keep their distance from it."""

    def __init__(self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s positive")
        self.limit = int(limit)
        self.window_s = float(window_s)
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque(maxlen=self.limit)
        self._lock = threading.Lock()
        self.acquired = 0
        self.waited_s = 0.0

    def widen(self, step_s: float, most_s: float) -> None:
        """Make the window `step_s` longer, up to `most_s` (the server counted closer than we sent)."""
        with self._lock:
            self.window_s = min(most_s, self.window_s + step_s)

    def try_acquire(self) -> float:
        """Let the call through now (returns 0.0) or say how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            if len(self._sent) == self.limit and now < self._sent[0] + self.window_s:
                return self._sent[0] + self.window_s - now
            self._sent.append(now)  # the oldest falls out (maxlen)
            self.acquired += 1
            return 0.0

    def acquire(self) -> float:
        """Block until the call may proceed; returns the seconds waited."""
        waited = 0.0
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)
            waited += wait
        with self._lock:
            self.waited_s += waited
        return waited
