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


# ----------------------------------------------------------------------------------------------- plan diffs


class _Policy(str):
    """An IAM policy document: shown as indented JSON, the way AWS shows policies, not flattened."""


def _parsed(value):
    """A value that is JSON text (settings Graph keeps as a string, a policy document) as what it holds."""
    if isinstance(value, str) and value[:1] in "{[":
        import json

        try:
            document = json.loads(value)
        except ValueError:
            return value
        if isinstance(document, dict) and "Statement" in document:
            return _Policy(json.dumps(document, indent=2))
        return document
    return value


def _flat(value, prefix: str = "") -> dict[str, object]:
    """A before/after document as field → value, nested fields dotted ("boundary.name"); lists stay whole;
    JSON text is read as what it holds (a policy stays one indented document)."""
    value = _parsed(value)
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out if out or not prefix else {prefix: {}}
    return {prefix or "value": value}


def _shown(value) -> str:
    """A value as a reader reads it: "not set" for missing, "none" for an empty list, lists one per line."""
    if value is None or value == {} or value == "":
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "\n".join(_shown(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def change_fields(change) -> list[tuple[str, str, str]]:
    """(field, before, after) of one change, the fields that differ only (all of them for a create or a
    removal), secrets redacted."""
    from idbridge.core.secrets import redact

    before = _flat(redact(change.before)) if change.before is not None else {}
    after = _flat(redact(change.after)) if change.after is not None else {}
    rows = []
    for field in list(dict.fromkeys([*before, *after])):
        old, new = before.get(field), after.get(field)
        if change.before is not None and change.after is not None and old == new:
            continue
        rows.append((field, "" if change.before is None else _shown(old),
                     "" if change.after is None else _shown(new)))
    return rows


class PlanTable:
    """The plan as a reader reads it: one block per change (what, on which object, why), and under it the
    fields it changes, before and after, as key/value rows — never raw JSON."""

    def __init__(self, step_plan):
        self.plan = getattr(step_plan, "plan", step_plan)

    def frame(self) -> pd.DataFrame:
        """One row per changed field: the same content as the HTML, for tests and exports."""
        rows = []
        for change in self.plan.changes:
            for field, before, after in change_fields(change) or [("", "", "")]:
                rows.append({"action": change.action, "kind": change.kind, "key": change.key,
                             "summary": change.summary, "field": field, "before": before, "after": after})
        return pd.DataFrame(rows, columns=["action", "kind", "key", "summary", "field", "before", "after"])

    def _repr_html_(self) -> str:
        from idbridge.report.safe import html_text

        if not self.plan.changes:
            return "<p>No change.</p>"

        def cell(text: str) -> str:
            if text.startswith("{\n"):  # an indented policy document
                return f"<pre>{html_text(text)}</pre>"
            return html_text(text).replace("\n", "<br>")

        blocks = []
        for change in self.plan.changes:
            fields = change_fields(change)
            heads = ("<th>Field</th>" + ("<th>Before</th>" if change.before is not None else "")
                     + ("<th>After</th>" if change.after is not None else ""))
            body = "".join(
                f"<tr><td>{cell(f)}</td>"
                + (f"<td class='before'>{cell(b)}</td>" if change.before is not None else "")
                + (f"<td class='after'>{cell(a)}</td>" if change.after is not None else "") + "</tr>"
                for f, b, a in fields)
            table = (f"<table class='idbridge-diff'><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"
                     if fields else "<p class='muted'>No field to show.</p>")
            blocks.append(f"<div class='idbridge-change'><p><b>{html_text(change.action)}</b> "
                          f"{html_text(change.kind)} <b>{html_text(change.key)}</b>: {html_text(change.summary)}</p>"
                          f"{table}</div>")
        return "".join(blocks)


def plan_table(step_plan) -> PlanTable:
    return PlanTable(step_plan)
