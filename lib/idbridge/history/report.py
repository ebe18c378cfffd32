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
from idbridge.report.safe import Text, html_text, plotly_labels, table, table_html
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


def _table(frame: pd.DataFrame):
    # The diff's cells are the tenant's names: escaped (safe.table), without the row numbers, left-aligned.
    return table(frame)


def headline(diff: SnapshotDiff | NotCompared | None, before: Snapshot | NotCompared | None):
    if diff is None:
        return Text(FIRST_RUN)
    if isinstance(diff, NotCompared):
        return Text("Not compared: {why}.", why=diff.why)
    return Text("Compared with the previous run's snapshot (run **{run}**, collected {before}); this run's was "
                "collected {after}.", run=before.directory.parent.name, before=diff.before, after=diff.after)


def section(diff: SnapshotDiff | NotCompared | None, name: str):
    if diff is None:
        return Text(FIRST_RUN)
    if isinstance(diff, NotCompared):
        return Text("Not compared: {why}.", why=diff.why)
    if name in diff.not_compared:
        return Text("Not compared: {why}.", why=diff.not_compared[name])
    frame = getattr(diff, name)
    return _table(frame) if not frame.empty else Text("None.")


def summary(diff: SnapshotDiff | NotCompared | None):
    if isinstance(diff, NotCompared):
        return Text("Not compared: {why}.", why=diff.why)
    return _table(diff.summary()) if diff is not None else Text(FIRST_RUN)


# What each section holds, said once under its heading.
SECTION_NOTES = {
    "access_gained": "Person × account × permission set that Identity Center grants now and did not before, with "
                     "the principals it comes through.",
    "new_admins": "People who now hold a permission set at the admin level (as the access review classifies it) "
                  "and held none before.",
}


class _Html:
    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def _heading(title: str, level: int = 2) -> str:
    """A heading as the report's own are written, so the table of contents lists it."""
    anchor = "".join(c if c.isalnum() else "-" for c in title)
    return (f"<h{level} id=\"{anchor}\">{html_text(title)}<a class=\"anchor-link\" href=\"#{anchor}\">¶</a>"
            f"</h{level}>")


def changes(diff: SnapshotDiff | NotCompared | None):
    """Every section of the comparison under its own heading, each a table or "None."; nothing at all on a
    first run or when nothing could be compared: the headline above said so in one sentence."""
    if diff is None or isinstance(diff, NotCompared):
        return None
    parts = [_heading("Summary"), table_html(diff.summary())]
    for name, title in diff.SECTIONS:
        parts.append(_heading(title))
        if name in SECTION_NOTES:
            parts.append(f"<p>{html_text(SECTION_NOTES[name])}</p>")
        if name in diff.not_compared:
            parts.append(f"<p>Not compared: {html_text(diff.not_compared[name])}.</p>")
            continue
        frame = getattr(diff, name)
        parts.append(table_html(frame) if not frame.empty else "<p>None.</p>")
    parts.append(_heading("Findings over time"))
    parts.append("<p>Every run of the engagement that recorded its findings.</p>")
    return _Html("".join(parts))


def findings_over_time_figure(history_dir: str | Path, run_dir: str | Path | None = None, diff=False):
    """Findings per run and severity; nothing on a first run (`diff` None: there is one run, and the headline
    said so)."""
    if diff is None or isinstance(diff, NotCompared):
        return None
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
