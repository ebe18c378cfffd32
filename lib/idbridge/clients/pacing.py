"""A thread-safe token bucket that makes callers wait their turn instead of being throttled by the server.

    limiter = RateLimiter(19.0, burst=10)
    limiter.acquire()      # blocks until this call may go out

Each caller reserves the next free slot under a lock and then sleeps outside it, so N threads waiting on one
limiter are released one every 1/rate seconds, in the order they asked — no polling, no thundering herd.
"""

from __future__ import annotations

import threading
import time
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
