"""History of an engagement: its run folders, the previous run of a run, and findings over time.

Every run keeps its snapshot (`<run_root>/<engagement>/<UTC time>/snapshot/`), so what changed between two runs
is a comparison of two snapshots (history_diff), made offline at any later time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from idbridge.checks.artifact import read_evaluation
from idbridge.core.parameters import Parameters
from idbridge.core.vocabulary import SEVERITIES
from idbridge.errors import InputError

log = logging.getLogger(__name__)


def engagement_dir(params: Parameters, run_dir: str | Path | None = None) -> Path:
    """The folder holding the engagement's runs: the run folder's parent when it is laid out as
    <run_root>/<engagement>/<time>, else <run_root>/<engagement> (relative to the working directory)."""
    if run_dir is not None and Path(run_dir).resolve().parent.name == params.engagement:
        return Path(run_dir).resolve().parent
    return (Path(params.run_root) / params.engagement).resolve()


def snapshot_of(path: str | Path) -> Path:
    """A snapshot folder given either itself or the run folder holding it."""
    path = Path(path)
    if (path / "manifest.json").exists():
        return path
    if (path / "snapshot" / "manifest.json").exists():
        return path / "snapshot"
    raise InputError(path, "neither a snapshot (manifest.json) nor a run folder with snapshot/manifest.json")


_said: set[str] = set()


def unreadable(path: str | Path, why: str, consequence: str) -> str:
    """Say (once per file and process) that an earlier run's artifact cannot be read, and what that leaves out:
    an earlier run damaged (disk full, killed, edited) must never fail a later one."""
    message = f"previous run unreadable: {path}, {why}: {consequence}"
    if message not in _said:
        _said.add(message)
        log.warning("%s", message)
    return message


def _why(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}; truncated?)"
    return f"{type(exc).__name__}: {exc}"


def read_manifest(snapshot: Path) -> dict | None:
    """A snapshot's manifest, or None (said) when it cannot be read or is not one of this idbridge."""
    from idbridge.snapshot.store import FORMAT_VERSION, MANIFEST

    path = Path(snapshot) / MANIFEST
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        unreadable(path, _why(exc), "left out of the engagement's history")
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT_VERSION:
        unreadable(path, f"not a snapshot manifest of format {FORMAT_VERSION}", "left out of the engagement's history")
        return None
    return body


def _collected_at(snapshot: Path) -> str:
    try:
        return json.loads((snapshot / "manifest.json").read_text(encoding="utf-8")).get("collected_at", "")
    except (OSError, ValueError, AttributeError):
        return ""


def run_folders(history_dir: str | Path) -> list[Path]:
    """The engagement's run folders that hold a readable snapshot, oldest first (by collection time, then name).
    A run whose manifest cannot be read is left out, saying so (`unreadable`)."""
    history_dir = Path(history_dir)
    if not history_dir.is_dir():
        return []
    runs = []
    for folder in history_dir.iterdir():
        if (folder / "snapshot" / "manifest.json").exists():
            manifest = read_manifest(folder / "snapshot")
            if manifest is not None:
                runs.append((str(manifest.get("collected_at", "")), folder.name, folder))
    return [folder for _, _, folder in sorted(runs)]


def previous_snapshot(run_dir: str | Path, history_dir: str | Path) -> Path | None:
    """The snapshot of the newest run of the engagement before `run_dir` (None on the first run)."""
    run_dir = Path(run_dir).resolve()
    current = (_collected_at(run_dir / "snapshot"), run_dir.name)
    earlier = [p for p in run_folders(history_dir) if p.resolve() != run_dir
               and (_collected_at(p / "snapshot"), p.name) < current]
    return earlier[-1] / "snapshot" if earlier else None


def findings_over_time(history_dir: str | Path, current: str | Path | None = None) -> pd.DataFrame:
    """Findings per run and severity, from each run's findings.json (runs without one are left out); the
    current run is included even when it lives elsewhere (--out)."""
    rows = []
    runs = run_folders(history_dir)
    if current is not None and Path(current).resolve() not in {r.resolve() for r in runs}:
        runs.append(Path(current))
    for run in runs:
        path = run / "findings.json"
        if not path.exists():
            continue
        try:
            severities = [f.severity for f in read_evaluation(path).results.findings]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # An earlier run's artifact that cannot be read (truncated, another format) is left out, saying so:
            # it must not fail this run.
            unreadable(path, _why(exc), "its findings are left out of findings over time")
            continue
        when = _collected_at(run / "snapshot")
        for severity in SEVERITIES:
            rows.append({"run": run.name, "collected_at": when, "severity": severity,
                         "findings": severities.count(severity)})
    return pd.DataFrame(rows, columns=["run", "collected_at", "severity", "findings"])
