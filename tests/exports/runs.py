"""Run folders as `idbridge run` leaves them, as far as the exports read them: snapshot/manifest.json (engagement,
collection time) and findings.json, the findings made with real checks' metadata."""

from __future__ import annotations

import json
from pathlib import Path

from idbridge.checks import load_all
from idbridge.checks.artifact import write_evaluation
from idbridge.checks.base import Finding
from idbridge.checks.evaluate import Evaluation, Verdict
from idbridge.checks.runner import CheckResults
from idbridge.snapshot.store import FORMAT_VERSION

ADMIN = "access.direct_user_assignment"


def finding(check_id: str, subject: str, severity: str | None = None, detail: str = "d") -> Finding:
    meta = load_all()[check_id].meta
    severity = severity or meta.severity
    return Finding(check_id=check_id, title=meta.title, severity=severity, area=meta.area, subject=subject,
                   detail=detail, evidence={"subject": subject}, meaning=meta.meaning, fix=meta.fix,
                   references=meta.references, check_severity=meta.severity,
                   severity_reason=meta.severity_reason(severity), controls=meta.controls)


def make_run(root: Path, name: str, when: str, findings: list[Finding], engagement: str = "contoso") -> Path:
    run = root / engagement / name
    (run / "snapshot").mkdir(parents=True)
    (run / "snapshot" / "manifest.json").write_text(json.dumps(
        {"format": FORMAT_VERSION, "engagement": engagement, "collected_at": when}), encoding="utf-8")
    evaluation = Evaluation(CheckResults([], findings), {}, "high", Verdict("fail", 1, "FAIL"),
                            collected_at=when, evaluated_at=when)
    write_evaluation(evaluation, run)
    return run
