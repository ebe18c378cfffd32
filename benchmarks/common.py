"""What the benchmark scripts share: where the checkout is (its lib/ goes first on sys.path, so a bare checkout
works; the venv installs idbridge already) and the organisation sizes they generate.

The scripts run as `python benchmarks/<name>.py`, which puts this folder on sys.path: they `import common`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "lib") not in sys.path:
    sys.path.insert(0, str(ROOT / "lib"))

SEED = 1
DEFAULT_DENSITY = 12  # the generator's default (principal, account, permission set) assignments per account


@dataclass(frozen=True)
class Size:
    """An organisation for idbridge.sandbox.generate. `assignments`: the target number of (principal, account,
    permission set) assignments, None for the generator's default density; `sign_ins`: how many users sign in,
    None for the generator's default (users // 10, at least 1,000)."""

    users: int
    groups: int
    accounts: int
    permission_sets: int
    assignments: int | None = None
    sign_ins: int | None = None

    @property
    def assignments_per_account(self) -> float:
        return self.assignments / self.accounts if self.assignments is not None else DEFAULT_DENSITY

    def scenario(self) -> dict:
        """The generated scenario document (seed SEED: the same organisation every run)."""
        from idbridge.sandbox.generate import generate_scenario

        return generate_scenario(self.users, self.groups, self.accounts, self.permission_sets, seed=SEED,
                                 assignments=self.assignments, sign_ins=self.sign_ins)


def serve_sandbox(conn, start, ready, answer, lifetime_s: float = float("inf"), last_words=None) -> None:
    """The child side of a benchmark's sandbox process (the servers get an interpreter of their own, so the
    collector's wall and memory are its own). `start()` seeds and starts the sandbox and returns it; `ready(box)`
    is what the first message tells the parent (a failure there still stops the box). Then each message from the parent is answered with `answer(box, message)` until "stop", the parent
    going away, or `lifetime_s`. A failure is sent to the parent as {"ok": False, "error": ...}; `last_words()`,
    if given, is sent after the box has stopped (the child's peak RSS, say)."""
    import time

    deadline = time.monotonic() + lifetime_s
    box = None
    try:
        box = start()
        conn.send({"ok": True, **ready(box)})
        while time.monotonic() < deadline:
            if not conn.poll(1.0):
                continue
            message = conn.recv()  # EOFError when the parent is gone: stop serving
            if message == "stop":
                break
            conn.send(answer(box, message))
    except EOFError:
        pass
    except BaseException as exc:  # reported to the parent, which prints it
        try:
            conn.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        except Exception:
            pass
    finally:
        if box is not None:
            box.stop()
        if last_words is not None:
            try:
                conn.send(last_words())
            except Exception:
                pass


def start_sandbox(target, args: tuple, name: str, timeout_s: float):
    """The parent side of serve_sandbox's start: run `target(conn, *args)` in a spawned child process and wait up
    to `timeout_s` for its first message. Returns (conn, process, ready); when the child fails or does not answer
    in time it is stopped and TimeoutError or RuntimeError raised."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    conn, child_end = ctx.Pipe()
    process = ctx.Process(target=target, args=(child_end, *args), name=name, daemon=True)
    process.start()
    child_end.close()
    try:
        if not conn.poll(max(1.0, timeout_s)):
            raise TimeoutError(f"the sandbox was not ready in {timeout_s:.0f} s")
        ready = conn.recv()
        if not ready.get("ok"):
            raise RuntimeError(f"sandbox failed: {ready.get('error')}")
    except BaseException:
        stop_sandbox(conn, process)
        raise
    return conn, process, ready


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def require_loopback(document: dict) -> None:
    """Refuse parameters whose endpoints are not this machine: a benchmark talks to its sandbox only."""
    from urllib.parse import urlparse

    for url in (document["graph"]["base_url"], document["graph"]["token_url"], document["aws"]["endpoint_url"]):
        if urlparse(url).hostname not in LOOPBACK:
            raise RuntimeError(f"refusing to send traffic to {url}: not a loopback address")


def stop_sandbox(conn, process, join_s: float = 30.0) -> float | None:
    """The parent side of serve_sandbox's end: tell the child to stop, wait for it (terminated if it hangs), and
    return the peak RSS in MB it sent as its last words, None when it sent none."""
    peak = None
    try:
        conn.send("stop")
        while conn.poll(join_s):
            message = conn.recv()
            if isinstance(message, dict) and "max_rss_mb" in message:
                peak = message["max_rss_mb"]
                break
    except (EOFError, OSError):
        pass
    process.join(join_s)
    if process.is_alive():
        process.terminate()
        process.join(5)
    return peak
