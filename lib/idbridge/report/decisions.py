"""The review-decisions notebook (22_review_decisions): returned workbooks in, review status and a removal plan out.

A returned workbook that fails verification stops the notebook with review.decisions' InputError (file, cell, what
is wrong), shown first as a list a reviewer can act on: papermill marks the run failed and `idbridge run` turns an
InputError into exit code 2 (bad input), so a scheduler never mistakes a broken review round for "nothing to
remove". Nothing is planned while any workbook has a problem.

Applying: idbridge's runbooks hold appliers only for their own steps (runbooks/aws_apply.py: the AWS access step's
kinds); none for the review-removal kinds (aws.account_assignment deletes by path, aws.group_membership,
entra.group_member, entra.app_role_assignment — review/removals.py documents their payloads). Until such a registry
exists this notebook plans only, and says so even when `apply` is true.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from idbridge.core.csvsafe import write_csv
from idbridge.core.files import write_text_atomic
from idbridge.errors import InputError
from idbridge.plan import Plan
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


def apply_removals(plan: Plan, apply: bool, allow_removals: bool) -> Text:
    """Plan only: there is no applier registry for the review-removal kinds (see the module docstring)."""
    if plan.is_empty:
        return Text("Nothing to apply.")
    kinds = ", ".join(sorted({c.kind for c in plan.changes}))
    head = ("**Plan only — nothing was changed, although `apply` is true.**" if apply else
            "**Plan only** (`apply` is false).")
    if apply:
        log.warning("22_review_decisions: apply is true but no applier exists for %s: plan only", kinds)
    gate = "" if allow_removals else " (removals would also need `allow_removals: true`)"
    return Text(head + " idbridge has no appliers for these changes yet ({kinds})" + gate + ": make them in the "
                "Entra admin centre and the IAM Identity Center console as the plan says, or with the runbooks once "
                "they support them. The plan is in `{stem}.csv` / `.json` in the run folder; after the next "
                "collection, notebook 30 shows the access that ended.", kinds=kinds, stem=PLAN_STEM)
