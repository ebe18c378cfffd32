"""Tables and figures of notebooks/30_changes: what changed since the previous run, and findings over time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from idbridge.core.files import storage_error
from idbridge.core.parameters import Parameters
from idbridge.core.vocabulary import SEVERITY_COLOURS
from idbridge.history.diff import SnapshotDiff, diff_snapshots
from idbridge.errors import InputError
from idbridge.history.runs import findings_over_time, previous_snapshot, snapshot_of, unreadable
from idbridge.snapshot.store import Snapshot

FIRST_RUN = "This is the first run of the engagement with a snapshot: there is nothing to compare with yet."


@dataclass
class NotCompared:
    """The previous run could not be read (its snapshot damaged: a disk that filled, a killed run): this run is
    not compared with it, and every section says why instead of failing the report."""

    why: str


def previous(run_dir: str | Path, history_dir: str | Path,
             previous_snapshot_dir: str = "") -> Snapshot | NotCompared | None:
    """The snapshot to compare with: the one given, else the newest earlier run's of the engagement (runs whose
    snapshot cannot be read are left out, saying so); NotCompared when the one given cannot be read."""
    if previous_snapshot_dir:
        try:
            return Snapshot(snapshot_of(previous_snapshot_dir))
        except InputError as exc:
            return NotCompared(unreadable(exc.file, "; ".join(exc.problems), "this run is not compared with it"))
    found = previous_snapshot(run_dir, history_dir)
    if not found:
        return None
    try:
        return Snapshot(found)
    except InputError as exc:
        return NotCompared(unreadable(exc.file, "; ".join(exc.problems), "this run is not compared with it"))


def compare(before: Snapshot | NotCompared | None, after: Snapshot,
            params: Parameters) -> SnapshotDiff | NotCompared | None:
    """The comparison; NotCompared (said) when the previous run's snapshot cannot be read, whole or a table."""
    if before is None or isinstance(before, NotCompared):
        return before
    try:
        after.manifest  # noqa: B018  (this run's snapshot was read already: an error below is the previous run's)
        return diff_snapshots(before, after, params)
    except (InputError, OSError, ValueError, KeyError) as exc:
        if storage_error(exc):
            raise
        why = "; ".join(exc.problems) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
        where = exc.file if isinstance(exc, InputError) else before.directory
        return NotCompared(unreadable(where, why, "this run is not compared with it"))


def _text(words: str):
    """A sentence shown as text in the report (a bare string would show as its repr, in quotes)."""
    from IPython.display import Markdown

    return Markdown(words)


def _table(frame: pd.DataFrame):
    # Without the row numbers and left-aligned: these tables are read, not computed on.
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left"})


def headline(diff: SnapshotDiff | NotCompared | None, before: Snapshot | NotCompared | None):
    if diff is None:
        return _text(FIRST_RUN)
    if isinstance(diff, NotCompared):
        return _text(f"Not compared: {diff.why}.")
    return _text(f"Compared with the previous run's snapshot (run **{before.directory.parent.name}**, collected "
                 f"{diff.before}); this run's was collected {diff.after}.")


def section(diff: SnapshotDiff | NotCompared | None, name: str):
    if diff is None:
        return _text(FIRST_RUN)
    if isinstance(diff, NotCompared):
        return _text(f"Not compared: {diff.why}.")
    if name in diff.not_compared:
        return _text(f"Not compared: {diff.not_compared[name]}.")
    frame = getattr(diff, name)
    return _table(frame) if not frame.empty else _text("None.")


def summary(diff: SnapshotDiff | NotCompared | None):
    if isinstance(diff, NotCompared):
        return _text(f"Not compared: {diff.why}.")
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
