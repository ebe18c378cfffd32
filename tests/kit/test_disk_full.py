"""A full disk (or quota, read-only or failing disk) is not "findings": `idbridge collect` and `idbridge run` exit
3 with one line naming the file, without a traceback, and leave no half-written file behind (every artifact is
written beside its place, then renamed)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from idbridge.cli import main
from idbridge.core import files
from idbridge.errors import EXIT_NOT_COLLECTED
from support.kit import unreachable_parameters

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def disk_full_at(monkeypatch, name: str, how: str) -> None:
    """Writing a file called `name` fails with ENOSPC: half of it written, then the error ("write"), or written
    whole and the rename refused ("rename")."""
    if how == "rename":
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).name == name:
                raise FULL
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        return

    real_open = open

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise FULL

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        return HalfWriter(handle) if name in Path(path).name and "w" in mode else handle

    monkeypatch.setattr(files, "open", fake_open, raising=False)


def half_files(folder: Path) -> list[str]:
    """Temporary files left behind, and files that do not parse as what they are."""
    bad = []
    for path in folder.rglob("*"):
        if ".partial" in path.name:
            bad.append(f"{path}: left behind")
        elif path.is_file() and path.suffix in (".json", ".ipynb"):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                bad.append(f"{path}: truncated")
    return bad


def one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert "No space left on device" in errors[0] and "nothing half-written was left" in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("how", ["write", "rename"])
def test_collect_on_a_full_disk_exits_3_with_one_line_and_no_snapshot(tmp_path, monkeypatch, capsys, how):
    params = unreachable_parameters(tmp_path)
    out = tmp_path / "snapshots" / "s1"
    disk_full_at(monkeypatch, "manifest.json", how)
    with pytest.raises(SystemExit) as exit_info:
        main(["collect", "-p", str(params), "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_NOT_COLLECTED, err
    # Besides the collection's progress (one line per source, core/progress.py), only the error line.
    said = [line for line in err.splitlines() if not line.startswith(("collected ", "not collected "))]
    assert len(said) == 1 and f"cannot write {out}.partial/manifest.json" in one_error_line(err), err
    assert list((tmp_path / "snapshots").iterdir()) == [], "no snapshot, finished or partial"


@pytest.mark.parametrize("how", ["write", "rename"])
def test_run_on_a_full_disk_exits_3_and_leaves_no_half_file(tmp_path, monkeypatch, capsys, how):
    params = unreachable_parameters(tmp_path)
    run = tmp_path / "run"
    disk_full_at(monkeypatch, "findings.json", how)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(params), "--only", "10", "--out", str(run)])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_NOT_COLLECTED, err
    assert f"cannot write {run / 'findings.json'}" in one_error_line(err)
    assert not (run / "findings.json").exists() and (run / "snapshot" / "manifest.json").exists()
    assert half_files(run) == []


@pytest.mark.notebook
def test_a_notebook_written_on_a_full_disk_is_not_left_truncated(tmp_path, monkeypatch, capsys):
    import papermill.iorw

    real_write = papermill.iorw.LocalHandler.write

    def write_half(self, buf, path):
        real_write(self, buf[: len(buf) // 2], path)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(papermill.iorw.LocalHandler, "write", write_half)
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "-p", str(unreachable_parameters(tmp_path, sources=None)), "--only", "00", "--out", str(run)])
    err = capsys.readouterr().err
    assert exit_info.value.code == EXIT_NOT_COLLECTED, err
    assert f"cannot write {run / 'notebooks' / '00_preflight.ipynb'}" in one_error_line(err)
    assert list((run / "notebooks").iterdir()) == [], "no notebook, whole or truncated"
    assert half_files(run) == []


def test_atomic_writes_leave_the_previous_file_or_none(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    files.write_text_atomic(target, '{"old": 1}')
    for how in ("write", "rename"):
        with monkeypatch.context() as patch:
            disk_full_at(patch, "run.json", how)
            with pytest.raises(OSError) as caught:
                files.write_text_atomic(target, '{"new": 2}')
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
        assert target.read_text() == '{"old": 1}' and sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert files.storage_error(RuntimeError("wrapped")) is None
    try:
        try:
            raise OSError("IOError: [Errno 28] No space left on device")  # pyarrow: no errno, only the words
        except OSError as exc:
            raise RuntimeError("to_parquet failed") from exc
    except RuntimeError as exc:
        assert files.storage_error(exc) is not None
