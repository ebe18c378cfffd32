"""Evaluate registered checks against collected tables.

Every check ends in exactly one outcome:
    pass            it ran on complete data and found nothing
    fail            it ran and found at least one subject at fault
    accepted        it ran and found subjects at fault, every one covered by an accepted exception that has not
                    expired (checks/accepted.py): not a pass, and not counted as a failure by the verdict
    not_checked     a table it reads was not collected (the reason says which source and why)
    not_applicable  nothing is configured for it to check (a parameter left unset, no pairs declared)
    error           the check itself raised (a bug): reported with the exception, the others still run
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from idbridge.checks.base import REGISTRY, SEVERITY_ORDER, CheckMeta, Finding, NotApplicable, to_finding
from idbridge.checks.controls import Control
from idbridge.snapshot.store import NotCollected

log = logging.getLogger(__name__)


class TableSource(Protocol):
    def table(self, name: str) -> pd.DataFrame: ...


class MemoryTables:
    """Tables held in memory (tests, and snapshots being built): the same `.table()` contract as Snapshot."""

    def __init__(self, tables: dict[str, pd.DataFrame], not_collected: dict[str, str] | None = None):
        self.tables = tables
        self.not_collected = not_collected or {}

    def table(self, name: str) -> pd.DataFrame:
        if name in self.not_collected:
            raise NotCollected(name, self.not_collected[name])
        if name not in self.tables:
            raise KeyError(name)
        return self.tables[name]


OUTCOMES = ("pass", "fail", "accepted", "not_checked", "not_applicable", "error")


@dataclass
class CheckOutcome:
    check_id: str
    title: str
    area: str
    severity: str
    status: str            # one of OUTCOMES
    findings: int
    reason: str = ""
    passed: str = ""       # what a pass means (CheckMeta.passed): what tables show on a passing row
    other_severities: str = ""  # severities a finding may take besides `severity`, and when (CheckMeta.graded)
    controls: tuple[Control, ...] = ()
    accepted: int = 0      # of `findings`, how many an accepted exception covers


def outcome_fields(meta: CheckMeta) -> dict:
    """What an outcome repeats of its check's catalogue entry, whatever the status."""
    return dict(check_id=meta.id, title=meta.title, area=meta.area, severity=meta.severity, passed=meta.passed,
                other_severities="; ".join(f"{s} when {when}" for s, when in meta.graded),
                controls=meta.controls)


OUTCOME_COLUMNS = ["check_id", "title", "area", "severity", "other_severities", "status", "findings", "accepted",
                   "reason", "passed", "controls"]
FINDING_COLUMNS = ["check_id", "severity", "check_severity", "severity_reason", "area", "subject", "title", "detail",
                   "evidence", "meaning", "fix", "references", "controls"]


@dataclass
class CheckResults:
    outcomes: list[CheckOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def outcomes_frame(self) -> pd.DataFrame:
        """One row per check; `severity` is the catalogue's, `controls` a tuple of Control."""
        return pd.DataFrame([{c: getattr(o, c) for c in OUTCOME_COLUMNS} for o in self.outcomes],
                            columns=OUTCOME_COLUMNS)

    def findings_frame(self) -> pd.DataFrame:
        """One row per finding, worst first and accepted ones after the rest: `severity` is the finding's (what
        fail_on and the order use), `check_severity` the check's catalogue severity and `severity_reason` why
        they differ; `accepted` is "accepted: <reason>, until <date>" for a finding an accepted exception covers
        (else ""), with `exception`, `accepted_by` and `accepted_until` beside it."""
        frame = pd.DataFrame([{c: getattr(f, c) for c in FINDING_COLUMNS} | _acceptance(f) for f in self.findings],
                             columns=FINDING_COLUMNS + ACCEPTANCE_COLUMNS)
        if not frame.empty:
            frame["rank"] = frame["severity"].map(SEVERITY_ORDER)
            frame["open"] = frame["accepted"].eq("")
            frame = frame.sort_values(["open", "rank", "check_id", "subject"], ascending=[False, False, True, True])
            frame = frame.drop(columns=["rank", "open"]).reset_index(drop=True)
        return frame


ACCEPTANCE_COLUMNS = ["accepted", "exception", "accepted_by", "accepted_until"]


def _acceptance(finding: Finding) -> dict[str, str]:
    """A finding's acceptance as frame columns: all empty when no exception covers it."""
    from idbridge.checks.accepted import label

    accepted = finding.accepted or {}
    return {"accepted": label(accepted), "exception": accepted.get("exception", ""),
            "accepted_by": accepted.get("accepted_by", ""), "accepted_until": accepted.get("expires", "")}


def run_checks(data: TableSource, settings: Any, *, ids: list[str] | None = None,
               areas: list[str] | None = None) -> CheckResults:
    results = CheckResults()
    for check_id in sorted(REGISTRY):
        check = REGISTRY[check_id]
        meta = check.meta
        if (ids and check_id not in ids) or (areas and meta.area not in areas):
            continue
        base = outcome_fields(meta)
        missing = []
        for table in meta.tables:
            try:
                data.table(table)
            except NotCollected as exc:
                missing.append(f"{exc.source}: {exc.why}")
        if missing:
            results.outcomes.append(CheckOutcome(**base, status="not_checked", findings=0,
                                                 reason="not collected: " + "; ".join(dict.fromkeys(missing))))
            continue
        try:
            # A hit with a severity the catalogue does not announce raises here too: an error, not a finding.
            findings = [to_finding(meta, hit) for hit in check.evaluate(data, settings)]
        except NotCollected as exc:
            results.outcomes.append(CheckOutcome(**base, status="not_checked", findings=0,
                                                 reason=f"not collected: {exc.source}: {exc.why}"))
            continue
        except NotApplicable as exc:
            results.outcomes.append(CheckOutcome(**base, status="not_applicable", findings=0, reason=exc.why))
            continue
        except Exception as exc:  # a broken unit is reported, not fatal
            log.exception("check %s failed", check_id)
            results.outcomes.append(CheckOutcome(**base, status="error", findings=0,
                                                 reason=f"{type(exc).__name__}: {exc}"))
            continue
        results.findings.extend(findings)
        results.outcomes.append(CheckOutcome(**base, status="fail" if findings else "pass", findings=len(findings)))
    return results
