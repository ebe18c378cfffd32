"""What the setup notebooks show: the plan's notes, the outcome of applying it, and a stop when a write failed."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from idbridge.plan import Outcome, outcomes_frame
from idbridge.report.safe import Text, items
from idbridge.runbooks.context import RunbookError


class Note(Text):
    """Text a notebook cell shows (as HTML, its values escaped: report.safe.Text)."""


def notes(step_plan) -> Note:
    """What the plan read and decided, and its size, in a few lines."""
    changes = step_plan.plan.changes
    counts = Counter(c.action for c in changes)
    head = ("**No change needed**: the tenant already matches the desired state." if not changes else
            "**{count} change(s)**: {actions}")
    lines, notes = items("note", step_plan.notes)  # the notes name the tenant's apps and groups
    return Note(head + ("\n" + lines if lines else ""), count=len(changes),
                actions=", ".join(f"{n} {a}" for a, n in sorted(counts.items())), **notes)


def outcomes_table(outcomes: list[Outcome]) -> pd.DataFrame:
    return outcomes_frame(outcomes)


def summary(outcomes: list[Outcome]) -> Note:
    counts = Counter(o.status for o in outcomes)
    if not outcomes:
        return Note("Nothing to apply.")
    text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    hints = []
    if counts.get("planned"):
        hints.append("dry run: set `apply: true` in the desired state to write")
    if counts.get("blocked"):
        hints.append("removals were not made: set `allow_removals: true` to let them happen")
    return Note("**{text}**" + "".join(f"\n- {h}" for h in hints), text=text)


def raise_on_failure(outcomes: list[Outcome]) -> None:
    """Stop the notebook (and a headless run) when a write failed; what was written is in the change log and a
    new run carries on from there."""
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise RunbookError(f"{len(failed)} change(s) failed: " + "; ".join(
            f"{o.change.action} {o.change.kind} {o.change.key}: {o.detail}" for o in failed)
            + ". Fix the cause and run the notebook again: it plans only what is still missing.")
