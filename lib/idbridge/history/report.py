"""Tables and figures of notebooks/30_changes: what changed since the previous run, and findings over time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from idbridge.core.parameters import Parameters
from idbridge.core.vocabulary import SEVERITY_COLOURS
from idbridge.history.diff import SnapshotDiff, diff_snapshots
from idbridge.history.runs import findings_over_time, previous_snapshot, snapshot_of
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


def _text(words: str):
    """A sentence shown as text in the report (a bare string would show as its repr, in quotes)."""
    from IPython.display import Markdown

    return Markdown(words)


def _table(frame: pd.DataFrame):
    # Without the row numbers and left-aligned: these tables are read, not computed on.
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left"})


def headline(diff: SnapshotDiff | None, before: Snapshot | None):
    if diff is None:
        return _text(FIRST_RUN)
    return _text(f"Compared with the previous run's snapshot (run **{before.directory.parent.name}**, collected "
                 f"{diff.before}); this run's was collected {diff.after}.")


def section(diff: SnapshotDiff | None, name: str):
    if diff is None:
        return _text(FIRST_RUN)
    if name in diff.not_compared:
        return _text(f"Not compared: {diff.not_compared[name]}.")
    frame = getattr(diff, name)
    return _table(frame) if not frame.empty else _text("None.")


def summary(diff: SnapshotDiff | None):
    return _table(diff.summary()) if diff is not None else _text(FIRST_RUN)


def findings_over_time_figure(history_dir: str | Path, run_dir: str | Path | None = None):
    frame = findings_over_time(history_dir, run_dir)
    if frame.empty:
        return _text("No run of this engagement has findings recorded yet.")
    figure = go.Figure()
    for severity, colour in SEVERITY_COLOURS.items():
        part = frame[frame["severity"] == severity]
        figure.add_bar(name=severity, x=part["run"], y=part["findings"], marker_color=colour)
    figure.update_layout(barmode="stack", title="Findings per run, by severity", xaxis_title="run (UTC)",
                         yaxis_title="findings", xaxis_type="category", height=360, margin=dict(t=50, b=60))
    return figure
