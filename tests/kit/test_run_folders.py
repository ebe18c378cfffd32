"""Run folders: a finished snapshot in --out is used and the CLI says so (or --recollect), two runs started in the
same second never share a folder, and one collection per engagement runs at a time.

The runs here need no kernel: the kit's notebooks are replaced by a stand-in (these tests are about the folder and
the snapshot, not the reports)."""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support.kit import unreachable_parameters, without_notebooks
from support.snapshots import stand_in_snapshot

from idbridge.cli import main
from idbridge.core import locks
from idbridge.errors import EXIT_BAD_INPUT, EXIT_NOT_COLLECTED, Busy
from idbridge.kit import run as kit_run

ENGAGEMENT = "folders"


@pytest.fixture
def no_notebooks(monkeypatch):
    without_notebooks(monkeypatch)


def parameters(tmp_path: Path, engagement: str = ENGAGEMENT) -> Path:
    return unreachable_parameters(tmp_path, engagement)


def snapshot(folder: Path, collected_at: str, engagement: str = ENGAGEMENT) -> Path:
    return stand_in_snapshot(folder, collected_at, engagement)


def collected_at(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text())["collected_at"]


# ------------------------------------------------------------------------------------ a snapshot already there
def test_a_finished_snapshot_in_out_is_used_and_the_cli_says_so(tmp_path, monkeypatch, capsys, no_notebooks):
    from idbridge.collect import run as collect_run

    run = tmp_path / "run"
    snapshot(run / "snapshot", "2026-01-01T00:00:00+00:00")
    monkeypatch.setattr(collect_run, "collect", lambda *a, **k: pytest.fail("collected again"))
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(parameters(tmp_path)), "--only", "10", "--out", str(run)])
    assert exit_info.value.code == EXIT_NOT_COLLECTED  # nothing was collected in the stand-in snapshot
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"Using the snapshot already in {run / 'snapshot'} (collected 2026-01-01T00:00:00+00:00), not "
                      "collecting again: --recollect to collect anew.")
    assert out[1].startswith("Report: ") and len(out) == 2
    assert json.loads((run / "run.json").read_text())["snapshot_origin"] == "reused"
    assert collected_at(run / "snapshot") == "2026-01-01T00:00:00+00:00"


def test_recollect_collects_anew_and_keeps_the_old_snapshot_beside(tmp_path, monkeypatch, capsys, no_notebooks):
    from idbridge.collect import run as collect_run

    run = tmp_path / "run"
    snapshot(run / "snapshot", "2026-01-01T00:00:00+00:00")
    monkeypatch.setattr(collect_run, "collect",
                        lambda params, out, **kwargs: snapshot(Path(out), "2026-02-02T00:00:00+00:00"))
    with pytest.raises(SystemExit):
        main(["run", "-p", str(parameters(tmp_path)), "--only", "10", "--out", str(run), "--recollect"])
    aside = run / "snapshot.replaced-20260101T000000Z"
    assert capsys.readouterr().out.splitlines()[0] == \
        f"Collected anew into {run / 'snapshot'}; the snapshot it held is now {aside}."
    assert collected_at(run / "snapshot") == "2026-02-02T00:00:00+00:00"
    assert collected_at(aside) == "2026-01-01T00:00:00+00:00"
    assert json.loads((run / "run.json").read_text())["snapshot_origin"] == "recollected"


def test_a_snapshot_of_another_engagement_in_out_is_bad_input(tmp_path, capsys, no_notebooks):
    run = tmp_path / "run"
    snapshot(run / "snapshot", "2026-01-01T00:00:00+00:00", engagement="someone-else")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(parameters(tmp_path)), "--only", "10", "--out", str(run)])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "a snapshot of engagement 'someone-else', not 'folders'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ runs in the same second
def _claim(args) -> str:
    run_root, barrier = args
    from idbridge.core.parameters import Parameters

    params = Parameters.model_validate({"engagement": ENGAGEMENT, "run_root": run_root,
                                        "graph": {"tenant_id": "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"}})
    barrier.wait()
    return str(kit_run.new_run_dir(params, now=datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)))


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    processes = 6
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            made = pool.map(_claim, [(str(tmp_path / "runs"), barrier)] * processes)
    base = tmp_path / "runs" / ENGAGEMENT / "20260301T120000Z"
    assert sorted(made) == sorted(str(base) if n == 1 else f"{base}-{n}" for n in range(1, processes + 1))
    assert all(Path(p).is_dir() for p in made)


# ------------------------------------------------------------------------------ one collection per engagement
def _hold_lock(engagement_dir: str, held, release) -> None:
    with locks.engagement_lock(engagement_dir, ENGAGEMENT, "run held-by-test"):
        held.set()
        release.wait(30)


@pytest.fixture
def lock_held_elsewhere(tmp_path):
    """Another process holds the engagement's collection lock until the test ends (or releases it early)."""
    context = multiprocessing.get_context("fork")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path / "runs" / ENGAGEMENT), held, release))
    holder.start()
    assert held.wait(10)
    yield holder, release
    release.set()
    holder.join(10)


def test_a_second_run_of_the_engagement_exits_3_saying_another_is_collecting(tmp_path, monkeypatch, capsys,
                                                                              no_notebooks, lock_held_elsewhere):
    from idbridge.collect import run as collect_run

    holder, _release = lock_held_elsewhere
    monkeypatch.setattr(locks, "LOCK_WAIT_SECONDS", 1.0)
    monkeypatch.setattr(collect_run, "collect", lambda *a, **k: pytest.fail("collected while another collects"))
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(parameters(tmp_path)), "--only", "10"])
    assert exit_info.value.code == EXIT_NOT_COLLECTED and time.monotonic() - started < 10
    run = next(p for p in (tmp_path / "runs" / ENGAGEMENT).iterdir() if p.is_dir())
    reasons = " ".join(json.loads((run / "run.json").read_text())["reasons"])
    assert f"another run of engagement {ENGAGEMENT} is collecting (pid {holder.pid}, run held-by-test" in reasons
    assert not (run / "snapshot").exists() and not (run / "snapshot.partial").exists()

    with pytest.raises(SystemExit) as exit_info:  # `idbridge collect` takes the same lock
        main(["collect", "-p", str(parameters(tmp_path))])
    assert exit_info.value.code == EXIT_NOT_COLLECTED
    assert "error: another run of engagement folders is collecting" in capsys.readouterr().err


def test_a_second_collection_waits_for_the_first_to_finish(tmp_path, monkeypatch, lock_held_elsewhere):
    _holder, release = lock_held_elsewhere
    engagement_dir = tmp_path / "runs" / ENGAGEMENT
    with pytest.raises(Busy):
        with locks.engagement_lock(engagement_dir, ENGAGEMENT, "second", wait_seconds=0.2):
            pass
    release.set()
    started = time.monotonic()
    with locks.engagement_lock(engagement_dir, ENGAGEMENT, "second", wait_seconds=10):
        assert json.loads((engagement_dir / ".lock").read_text())["what"] == "second"
    assert time.monotonic() - started < 10
    assert (engagement_dir / ".lock").read_text() == "", "the holder is forgotten when the lock is released"


def test_a_waiter_names_a_holder_that_had_not_yet_said_who_it_is(tmp_path, caplog, monkeypatch):
    """Two runs started together: the second can find the lock taken and the holder's name not yet written (it is
    written just after taking the lock). It looks again, and names the holder once it has said who it is."""
    import fcntl
    import logging
    import threading

    engagement_dir = tmp_path / "runs" / ENGAGEMENT
    engagement_dir.mkdir(parents=True)
    holder = open(engagement_dir / ".lock", "a+", encoding="utf-8")
    fcntl.flock(holder, fcntl.LOCK_EX)  # taken, nothing written yet
    looked, read = [], {"unknown": threading.Event(), "named": threading.Event()}
    original = locks._holder

    def holder_as_read(path):
        looked.append(original(path))
        read["unknown" if looked[-1] == locks.UNKNOWN else "named"].set()
        return looked[-1]

    def says_who_then_finishes():
        read["unknown"].wait(10)  # the waiter found no name
        holder.write(json.dumps({"pid": 4242, "what": "run first", "since": "2026-03-01T12:00:00+00:00"}))
        holder.flush()
        read["named"].wait(10)    # ... and then the name
        holder.seek(0)
        holder.truncate()
        fcntl.flock(holder, fcntl.LOCK_UN)

    monkeypatch.setattr(locks, "_holder", holder_as_read)
    thread = threading.Thread(target=says_who_then_finishes)
    thread.start()
    try:
        with caplog.at_level(logging.WARNING, logger="idbridge.core.locks"):
            with locks.engagement_lock(engagement_dir, ENGAGEMENT, "second", wait_seconds=30):
                pass
    finally:
        thread.join()
        holder.close()
    assert looked[0] == locks.UNKNOWN, "the moment before the holder says who it is was met"
    [said] = [r.getMessage() for r in caplog.records if "is collecting" in r.getMessage()]
    assert "pid 4242, run first" in said and locks.UNKNOWN not in said
