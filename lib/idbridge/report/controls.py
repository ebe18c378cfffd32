"""Check outcomes by control framework: for each control the checks map to, how many of those checks ran, passed,
failed or could not run, and their findings. One DataFrame, no rendering: reports and exports lay it out.

The status of a control row never says more than was checked: "fail" when a mapped check found something, "not
checked" when one could not run (and none failed), "accepted" when mapped checks found only findings accepted as
exceptions, "pass" only when every mapped check that applies ran and
passed, "not applicable" when none applies. A pass is a pass of those checks, not an assessment of the control.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from idbridge.checks.controls import ordered
from idbridge.checks.evaluate import Evaluation
from idbridge.checks.runner import CheckOutcome, CheckResults

COLUMNS = ["framework", "control", "title", "checks", "checks_run", "passed", "failed", "accepted", "not_checked",
           "not_applicable", "findings", "status", "check_ids"]


def framework_summary(outcomes: Evaluation | CheckResults | Iterable[CheckOutcome], framework: str | None = None
                      ) -> pd.DataFrame:
    """One row per (framework, control) some outcome maps to, frameworks in catalogue order, controls in their
    natural order. `outcomes`: an Evaluation, its CheckResults (e.g. `evaluation.for_areas(...)`) or outcomes;
    `framework`: keep only that framework (its name, e.g. "NIST SP 800-53 Rev. 5"). Counts are of checks, except
    `findings`; `check_ids` lists the mapped checks ("; "), `checks_run` = passed + failed + accepted."""
    if isinstance(outcomes, Evaluation):
        outcomes = outcomes.results
    if isinstance(outcomes, CheckResults):
        outcomes = outcomes.outcomes
    by_control: dict = {}
    for outcome in outcomes:
        for control in outcome.controls:
            if framework is None or control.framework == framework:
                by_control.setdefault(control, []).append(outcome)
    rows = []
    for control in ordered(by_control):
        mapped = sorted(by_control[control], key=lambda o: o.check_id)
        count = {s: sum(o.status == s for o in mapped) for s in ("pass", "fail", "accepted", "not_applicable")}
        not_run = sum(o.status in ("not_checked", "error") for o in mapped)
        # A check that found only accepted findings is no pass: the control says "accepted", not "pass".
        status = ("fail" if count["fail"] else "not_checked" if not_run else "accepted" if count["accepted"] else
                  "pass" if count["pass"] else "not_applicable")
        rows.append({"framework": control.framework, "control": control.id, "title": control.title,
                     "checks": len(mapped), "checks_run": count["pass"] + count["fail"] + count["accepted"],
                     "passed": count["pass"], "failed": count["fail"], "accepted": count["accepted"],
                     "not_checked": not_run, "not_applicable": count["not_applicable"],
                     "findings": sum(o.findings for o in mapped), "status": status,
                     "check_ids": "; ".join(o.check_id for o in mapped)})
    return pd.DataFrame(rows, columns=COLUMNS)
