"""One collection per engagement at a time.

Two runs of one engagement collecting at once (an hourly schedule overlapping a slow run, a consultant's manual run)
would make two snapshots of one moment and double the API calls against the tenant's throttling budget. A collection
holds an exclusive flock on `<run_root>/<engagement>/.lock` (the lock file is never deleted: deleting a lock file
others may have open breaks flock). A second one waits for it, up to `wait_seconds` (LOCK_WAIT_SECONDS: a
collection of a large tenant takes minutes), saying once who holds it; then it gives up with Busy (exit 3: not
collected), naming the holder. The lock goes with the process: a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from idbridge.errors import Busy

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
LOCK_WAIT_SECONDS = 600.0
POLL_SECONDS = 0.5
UNKNOWN = "holder unknown"
# The holder writes who it is just after it takes the lock: a waiter that finds no name yet looks again for this
# long before saying "holder unknown" (two runs started together met that moment).
HOLDER_GRACE_SECONDS = 2.0


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return UNKNOWN
    return f"pid {info.get('pid')}, {info.get('what')}, since {info.get('since')}"


@contextmanager
def engagement_lock(engagement_dir: str | Path, engagement: str, what: str,
                    wait_seconds: float | None = None) -> Iterator[Path]:
    """Hold the engagement's collection lock for the block (`what`: who holds it, e.g. the run folder)."""
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    folder = Path(engagement_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    with open(path, "a+", encoding="utf-8") as handle:
        started = time.monotonic()
        deadline = started + wait_seconds
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                now = time.monotonic()
                if now >= deadline:
                    raise Busy(f"another run of engagement {engagement} is collecting ({holder}); waited "
                               f"{wait_seconds:g} s: not collected, try again when it has finished") from None
                if not waited and (holder != UNKNOWN or now - started >= HOLDER_GRACE_SECONDS):
                    log.warning("another run of engagement %s is collecting (%s): waiting up to %g s",
                                engagement, holder, wait_seconds)
                    waited = True
                time.sleep(POLL_SECONDS if waited else min(POLL_SECONDS, 0.1))
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "what": what,
                                     "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
            handle.flush()
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
