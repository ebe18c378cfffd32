"""The review-decisions notebook (22_review_decisions): returned workbooks in, review status and a removal plan out.

A returned workbook that fails verification stops the notebook with review.decisions' InputError (file, cell, what
is wrong), shown first as a list a reviewer can act on: papermill marks the run failed and `idbridge run` turns an
InputError into exit code 2 (bad input), so a scheduler never mistakes a broken review round for "nothing to
remove". Nothing is planned while any workbook has a problem.

Applying goes through the one plan/apply path with the runbooks' switches: the desired-state file's `apply` and
`allow_removals` (runbooks/review_apply.py holds the appliers; each removal re-reads the tenant first, counts an
access already gone as done and refuses one whose group now grants what the reviewers never saw). Without a
desired-state file the notebook plans only and reads nothing from the tenant.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pandas as pd

from idbridge.core.csvsafe import write_csv
from idbridge.core.files import write_text_atomic
from idbridge.errors import InputError
from idbridge.plan import Outcome, Plan
from idbridge.report.safe import Text, items, show
from idbridge.review import contradictions, plan_removals, read_decisions, review_status
from idbridge.review.signing import from_parameters

log = logging.getLogger(__name__)
PLAN_STEM = "review-removals"


def decisions_folder(decisions_dir: str, run_dir) -> Path:
    """The folder of returned workbooks: the parameter, else the run folder's review/ (where 20 wrote the packs)."""
    return Path(decisions_dir) if decisions_dir else Path(run_dir) / "review"


def read_returned(folder, access: pd.DataFrame, meta: dict, params=None,
                  params_file: str | Path = "parameters") -> pd.DataFrame:
    """read_decisions on every .xlsx of the folder, verifying each pack's signature with the key
    review.signing_key of `params` refers to (unsigned packs only with review.allow_unsigned). On a problem: show
    it as a list, then raise the InputError (the notebook fails; `idbridge run` exits 2). Packs accepted without
    a verified signature are said first. The problems quote the reviewers' cells: shown as text."""
    key = from_parameters(params, str(params_file)) if params is not None else None
    allow_unsigned = bool(params is not None and params.review.allow_unsigned)
    try:
        decisions = read_decisions(folder, access, meta, key=key, allow_unsigned=allow_unsigned)
    except InputError as exc:
        lines, problems = items("problem", exc.problems)
        show(Text("**The returned workbooks cannot be used: nothing is planned.** `{file}`\n\n" + lines + "\n\n"
                  "Have the reviewer fix the file (or send the pack again), then run this notebook again.",
                  file=exc.file, **problems))
        raise
    unverified = sorted(set(decisions.loc[~decisions["verified"].astype(bool), "workbook"]))
    if unverified:
        lines, names = items("workbook", unverified)
        show(Text("**{count} returned workbook(s) are unsigned or their signature was not verified**, accepted "
                  "because `review.allow_unsigned` is true: their decisions could have been forged (a row copied "
                  "in from another owner's pack is not detected):\n\n" + lines, count=len(unverified), **names))
    return decisions


def status_table(decisions: pd.DataFrame, access: pd.DataFrame) -> pd.DataFrame:
    """Per returned workbook: rows, Keep, Remove, not reviewed; and the access no returned workbook covers."""
    return review_status(decisions, access)


def contradictions_table(decisions: pd.DataFrame, access: pd.DataFrame) -> pd.DataFrame | Text:
    """Writes decided both ways: one Remove ends access another reviewer marked Keep (review.contradictions)."""
    found = contradictions(decisions, access)
    if found.empty:
        return Text("**No contradictory decisions**: no access marked Keep would end with a Remove.")
    return found


def removal_plan(decisions: pd.DataFrame, access: pd.DataFrame, snapshot, run_dir) -> Plan:
    """plan_removals, also written to run_dir/review-removals.csv and .json (the plan as shown: no payload)."""
    plan = plan_removals(decisions, access, snapshot)
    frame = plan.frame()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_csv(run_dir / f"{PLAN_STEM}.csv", frame)  # spreadsheet-safe: group and user names come from the tenant
    write_text_atomic(run_dir / f"{PLAN_STEM}.json", json.dumps(frame.to_dict("records"), indent=1))
    return plan


def plan_table(plan: Plan) -> pd.DataFrame | Text:
    """One line per write the plan would make: what, why (the decisions and where they were made)."""
    if plan.is_empty:
        return Text("**No removals**: no returned decision says Remove.")
    return pd.DataFrame([{"kind": c.kind, "change": c.key, "summary": c.summary,
                          "decided in": "; ".join((c.before or {}).get("decided_in", []))} for c in plan.changes])


async def apply_decisions(plan: Plan, params, desired_state_file: str, run_dir) -> list[Outcome] | None:
    """Apply the removal plan through the one plan/apply path (runbooks/review_apply.py), as the desired-state
    file's `apply` and `allow_removals` say; each change re-reads the tenant first. None without a desired-state
    file: plan only, the tenant neither read nor written (analysis needs no credentials)."""
    if not desired_state_file or plan.is_empty:
        return None
    from idbridge.runbooks import review_apply
    from idbridge.runbooks.context import open_runbook

    rb = open_runbook(params, desired_state_file, run_dir)
    return await review_apply.apply(rb, plan)


_SAID = {"applied": "removed", "done": "already gone (counted as done)", "refused": "refused: the state changed",
         "blocked": "held back: a removal needs `allow_removals: true`", "planned": "would be removed (dry run)",
         "failed": "failed"}


def apply_summary(plan: Plan, outcomes: list[Outcome] | None) -> Text:
    """One line per outcome kind, then what each refusal found (the reviewers never saw it) and what to do."""
    if plan.is_empty:
        return Text("Nothing to apply.")
    if outcomes is None:
        return Text("**Plan only**: no desired-state file (`desired_state_file`; `idbridge run` uses "
                    "`desired-state.<engagement>.yaml` beside the parameters), so the tenant was neither read nor "
                    "written. To apply: set `apply: true` and `allow_removals: true` there and run again. The plan "
                    "is in `{stem}.csv` / `.json` in the run folder.", stem=PLAN_STEM)
    counts = Counter(o.status for o in outcomes)
    lines, fields = items("count", [f"{counts[s]} {_SAID[s]}" for s in _SAID if counts.get(s)])
    text = "**{total} removal(s)** read against the tenant now:\n" + lines
    refused = [f"{o.change.key}: {o.detail}" for o in outcomes if o.status == "refused"]
    if refused:
        more, named = items("refused", refused)
        text += "\n\n**Not removed, the access changed since the review:**\n" + more
        fields.update(named)
    if not (set(counts) - {"done"}):
        text += "\n\nNothing left to do: every removal is made."
    elif counts.get("planned"):
        text += "\n\nDry run: set `apply: true` in the desired-state file to write."
    if counts.get("applied") or counts.get("done"):
        text += ("\n\nEvery write is in `changes.jsonl` in the run folder, with who decided it; the next collection "
                 "shows the access gone, and notebook 30 lists it as lost.")
    return Text(text, total=len(outcomes), **fields)


def outcomes_table(outcomes: list[Outcome] | None) -> pd.DataFrame | Text:
    """Per change: what happened, why, and who decided it (the packs' reviewers and cells)."""
    if not outcomes:
        return Text("No outcome: nothing was read or applied.")
    return pd.DataFrame([{"kind": o.change.kind, "change": o.change.key, "status": o.status, "detail": o.detail,
                          "decided by": "; ".join((o.change.before or {}).get("decided_by", [])),
                          "decided in": "; ".join((o.change.before or {}).get("decided_in", []))} for o in outcomes])


def raise_on_failure(outcomes: list[Outcome] | None) -> None:
    """A write that failed stops the notebook (a headless run: exit 3); running again finishes the rest."""
    if outcomes:
        from idbridge.runbooks.results import raise_on_failure as stop

        stop(outcomes)
