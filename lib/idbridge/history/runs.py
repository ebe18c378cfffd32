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


def _collected_at(snapshot: Path) -> str:
    try:
        return json.loads((snapshot / "manifest.json").read_text(encoding="utf-8")).get("collected_at", "")
    except (OSError, ValueError):
        return ""


def run_folders(history_dir: str | Path) -> list[Path]:
    """The engagement's run folders that hold a snapshot, oldest first (by collection time, then name)."""
    history_dir = Path(history_dir)
    if not history_dir.is_dir():
        return []
    runs = [p for p in history_dir.iterdir() if (p / "snapshot" / "manifest.json").exists()]
    return sorted(runs, key=lambda p: (_collected_at(p / "snapshot"), p.name))


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
            log.warning("findings of run %s left out, %s unreadable: %s", run.name, path, exc)
            continue
        when = _collected_at(run / "snapshot")
        for severity in SEVERITIES:
            rows.append({"run": run.name, "collected_at": when, "severity": severity,
                         "findings": severities.count(severity)})
    return pd.DataFrame(rows, columns=["run", "collected_at", "severity", "findings"])
