"""Tables and figures of notebooks/30_changes: what changed since the previous run, and findings over time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from idbridge.core.parameters import Parameters
from idbridge.core.vocabulary import SEVERITY_COLOURS
from idbridge.history.diff import SnapshotDiff, diff_snapshots
from idbridge.history.runs import findings_over_time, previous_snapshot, snapshot_of
from idbridge.report.safe import Text, plotly_labels, table
from idbridge.snapshot.store import Snapshot

FIRST_RUN = "This is the first run of the engagement with a snapshot: there is nothing to compare with yet."


def previous(run_dir: str | Path, history_dir: str | Path, previous_snapshot_dir: str = "") -> Snapshot | None:
    """The snapshot to compare with: the one given, else the newest earlier run's of the engagement."""
    if previous_snapshot_dir:
        return Snapshot(snapshot_of(previous_snapshot_dir))
    found = previous_snapshot(run_dir, history_dir)
    return Snapshot(found) if found else None


def compare(before: Snapshot | None, after: Snapshot, params: Parameters) -> SnapshotDiff | None:
    return diff_snapshots(before, after, params) if before is not None else None


def _table(frame: pd.DataFrame):
    # The diff's cells are the tenant's names: escaped (safe.table), without the row numbers, left-aligned.
    return table(frame)


def headline(diff: SnapshotDiff | None, before: Snapshot | None):
    if diff is None:
        return Text(FIRST_RUN)
    return Text("Compared with the previous run's snapshot (run **{run}**, collected {before}); this run's was "
                "collected {after}.", run=before.directory.parent.name, before=diff.before, after=diff.after)


def section(diff: SnapshotDiff | None, name: str):
    if diff is None:
        return Text(FIRST_RUN)
    if name in diff.not_compared:
        return Text("Not compared: {why}.", why=diff.not_compared[name])
    frame = getattr(diff, name)
    return _table(frame) if not frame.empty else Text("None.")


def summary(diff: SnapshotDiff | None):
    return _table(diff.summary()) if diff is not None else Text(FIRST_RUN)


def findings_over_time_figure(history_dir: str | Path, run_dir: str | Path | None = None):
    frame = findings_over_time(history_dir, run_dir)
    if frame.empty:
        return Text("No run of this engagement has findings recorded yet.")
    figure = go.Figure()
    for severity, colour in SEVERITY_COLOURS.items():
        part = frame[frame["severity"] == severity]
        figure.add_bar(name=severity, x=plotly_labels(part["run"]), y=part["findings"], marker_color=colour)
    figure.update_layout(barmode="stack", title="Findings per run, by severity", xaxis_title="run (UTC)",
                         yaxis_title="findings", xaxis_type="category", height=360, margin=dict(t=50, b=60))
    return figure
