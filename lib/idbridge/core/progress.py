"""Progress of a collection, readable however many sources run at once, on a terminal or in a log.

The collection runs its sources concurrently (both clouds, several sources each), so one progress bar per source
printed as it comes interleaves into noise. Two modes instead, chosen from the stream:

- live (a terminal): a block at the bottom with one status line per running source (rows so far, seconds) and a
  count of sources done / running / waiting, redrawn in place; each source that finishes leaves one permanent line
  above it. While the block is shown, whatever else is written to stderr (log records, warnings) is printed above
  the block, so it is never torn.
- lines (anything else: CI, Airflow, cron, a file): no escape sequence at all, one line per source when it
  finishes, and a "still collecting" line now and then (heartbeat_s) so a long source does not look hung.

Finished lines read the same in both modes:

    collected entra.users: 1,204 rows in 3.2 s
    partially collected entra.sign_ins: 900 rows in 61.0 s; 429 TooManyRequests: ...
    not collected aws.cloudtrail: AccessDenied: ...

Names and error messages come from the clouds: they go through `for_terminal` like every other CLI line.
Advances arrive from worker threads (boto3 runs off the event loop), hence the lock.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from idbridge.core.terminal import for_terminal

_UP_AND_CLEAR = "\x1b[{n}A\r\x1b[J"  # cursor up n lines, to column 0, erase to the end of the screen


def finished_line(source: str, status: str, rows: int, seconds: float, error: str | None = None) -> str:
    """The one line a finished source leaves, on a terminal and in a log alike."""
    why = " ".join(for_terminal(error or "").split())  # one line, whatever the cloud's message holds
    counted = f"{rows:,} row{'' if rows == 1 else 's'} in {seconds:.1f} s"
    if status == "complete":
        return f"collected {source}: {counted}"
    if status == "partial":
        return f"partially collected {source}: {counted}; {why or 'incomplete'}"
    return f"not collected {source}: {why or 'no reason given'}"


@dataclass
class _Running:
    started: float
    items: int = 0


@dataclass
class SourceProgress:
    """Tell it `begin(sources)`, then per source `start`, `advance` (from any thread) and `finish`; `close` at the
    end (or use it as a context manager). `live=None` decides from the stream (a terminal, TERM not dumb)."""

    stream: TextIO | None = None
    live: bool | None = None
    clock: Callable[[], float] = time.monotonic
    width: int | None = None  # columns of the terminal (default: asked when drawing)
    refresh_s: float = 0.25  # least time between two redraws caused by advances (live)
    heartbeat_s: float = 60.0  # time between two "still collecting" lines (lines mode)
    ticker: bool = True  # a thread that redraws the seconds (live) / writes the heartbeat (lines)

    total: int = field(default=0, init=False)
    running: dict[str, _Running] = field(default_factory=dict, init=False)
    done: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.stream = self.stream if self.stream is not None else sys.stderr
        if self.live is None:
            self.live = _is_terminal(self.stream)
        self._lock = threading.RLock()
        self._drawn = 0  # lines of the live block on screen now
        self._last_draw = float("-inf")
        self._last_beat: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._restore: list[Callable[[], None]] = []

    # ------------------------------------------------------------------------------------------------ events

    def begin(self, sources: Iterable[str]) -> SourceProgress:
        with self._lock:
            self.total = len(list(sources))
            self._last_beat = self.clock()
            if self.live:
                self._capture_stderr()
                self._draw()
        if self.ticker and self._thread is None:
            self._thread = threading.Thread(target=self._tick_forever, name="idbridge-progress", daemon=True)
            self._thread.start()
        return self

    def start(self, source: str) -> None:
        with self._lock:
            self.running[source] = _Running(self.clock())
            self._draw()

    def advance(self, source: str, n: int) -> None:
        with self._lock:
            if source in self.done:  # a late page from a worker thread: the source has had its line
                return
            entry = self.running.setdefault(source, _Running(self.clock()))
            entry.items += n
            if self.live and self.clock() - self._last_draw >= self.refresh_s:
                self._draw()

    def finish(self, source: str, status: str, rows: int = 0, seconds: float | None = None,
               error: str | None = None) -> None:
        with self._lock:
            entry = self.running.pop(source, None)
            if seconds is None:
                seconds = self.clock() - entry.started if entry else 0.0
            self.done.append(source)
            self._above(finished_line(for_terminal(source), status, rows, seconds, error))

    def tick(self) -> None:
        """What the ticker does each time: redraw the seconds (live), or a heartbeat line when one is due."""
        with self._lock:
            if self.live:
                self._draw()
            elif self.running and self._last_beat is not None and self.clock() - self._last_beat >= self.heartbeat_s:
                self._last_beat = self.clock()
                now = self.clock()
                parts = [f"{for_terminal(name)} ({entry.items:,} so far, {now - entry.started:.0f} s)"
                         for name, entry in sorted(self.running.items())]
                self._write(f"still collecting: {', '.join(parts)}\n")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            if self.live:
                self._erase()
                proxy = getattr(self, "_proxy", None)
                if proxy is not None and proxy._pending:  # a last line written without its newline
                    self._real_write(proxy._pending)
                    proxy._pending = ""
                self._flush()
            for restore in reversed(self._restore):
                restore()
            self._restore.clear()

    def __enter__(self) -> SourceProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ drawing

    def block(self) -> list[str]:
        """The live block's lines: one per running source (oldest first), then the counts."""
        now = self.clock()
        columns = self.width or shutil.get_terminal_size((100, 24)).columns
        name_width = max([len(n) for n in self.running] + [24])
        lines = [f"  {for_terminal(name):<{name_width}} {entry.items:>10,} so far {now - entry.started:>7.1f} s"
                 for name, entry in self.running.items()]  # in the order they started: lines do not jump
        waiting = max(self.total - len(self.done) - len(self.running), 0)
        lines.append(f"collecting: {len(self.done)} of {self.total} sources done, {len(self.running)} running, "
                     f"{waiting} waiting")
        # A line wider than the terminal wraps, and the block would no longer be where it is redrawn from.
        return [line[:max(columns - 1, 10)] for line in lines]

    def _write(self, text: str) -> None:
        self._real_write(text)
        self._flush()

    def _real_write(self, text: str) -> None:
        getattr(self, "_raw_write", self.stream.write)(text)

    def _flush(self) -> None:
        try:
            self.stream.flush()
        except (AttributeError, ValueError, OSError):
            pass

    def _erase(self) -> None:
        if self._drawn:
            self._real_write(_UP_AND_CLEAR.format(n=self._drawn))
            self._drawn = 0

    def _draw(self) -> None:
        if not self.live or self._stop.is_set():
            return
        lines = self.block()
        self._erase()
        self._real_write("".join(line + "\n" for line in lines))
        self._drawn = len(lines)
        self._last_draw = self.clock()
        self._flush()

    def _above(self, line: str) -> None:
        """A permanent line: above the live block (which is redrawn below it), or just the line."""
        if self.live:
            self._erase()
            self._real_write(line + "\n")
            self._draw()
            self._flush()
        else:
            self._write(line + "\n")

    def _tick_forever(self) -> None:
        interval = max(self.refresh_s, 0.5) if self.live else min(self.heartbeat_s, 5.0)
        while not self._stop.wait(interval):
            self.tick()

    # ------------------------------------------------------------------------------- other writers to stderr

    def _capture_stderr(self) -> None:
        """While the block is shown, other writes to the same stream (sys.stderr, log handlers holding it) go
        through `_Above`: the block is erased, their text printed, the block drawn again."""
        real = self.stream
        self._raw_write = real.write  # the block itself bypasses the proxy
        proxy = self._proxy = _Above(self, real)
        if sys.stderr is real:
            sys.stderr = proxy
            self._restore.append(lambda: setattr(sys, "stderr", real))
        for logger in [logging.getLogger(), *[v for v in logging.Logger.manager.loggerDict.values()
                                              if isinstance(v, logging.Logger)]]:
            for handler in logger.handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is real:
                    handler.stream = proxy
                    self._restore.append(lambda h=handler: setattr(h, "stream", real))


class _Above:
    """A stand-in for the terminal's stream while the live block is on it: complete lines are printed above it."""

    def __init__(self, progress: SourceProgress, real: TextIO):
        self._progress, self._real, self._pending = progress, real, ""

    def write(self, text: str) -> int:
        with self._progress._lock:
            self._pending += text
            if "\n" in self._pending:
                complete, _, self._pending = self._pending.rpartition("\n")
                self._progress._above(complete)
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str):
        return getattr(self._real, name)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False
