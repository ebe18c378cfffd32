"""Validation of the bridge from a snapshot: run the validation checks, write findings for people and SIEMs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from idbridge.checks import load_all
from idbridge.checks.base import SEVERITY_ORDER
from idbridge.checks.runner import CheckResults, run_checks
from idbridge.checks.settings import settings_for
from idbridge.errors import EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK
from idbridge.parameters import Parameters
from idbridge.snapshot import Snapshot

VALIDATION_AREAS = ["saml", "provisioning", "reconcile", "scim", "aws"]
ACCESS_AREAS = ["access"]


def evaluate(snapshot: Snapshot, params: Parameters, areas: list[str] | None = None) -> CheckResults:
    load_all()
    settings = settings_for(params, snapshot.manifest.get("collected_at"))
    return run_checks(snapshot, settings, areas=areas)


def write_findings(results: CheckResults, out_dir: str | Path, stem: str = "findings") -> dict[str, Path]:
    """findings.json (one object per finding, for SIEMs), findings.csv, and the per-check outcomes."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "csv": out_dir / f"{stem}.csv",
             "checks": out_dir / f"{stem}-checks.csv"}
    paths["json"].write_text(json.dumps([asdict(f) for f in results.findings], indent=1, default=str),
                             encoding="utf-8")
    frame = results.findings_frame()
    frame["evidence"] = frame["evidence"].map(lambda e: json.dumps(e, default=str))
    frame["references"] = frame["references"].map(" ".join)
    frame.to_csv(paths["csv"], index=False)
    results.outcomes_frame().to_csv(paths["checks"], index=False)
    return paths


def exit_code(results: CheckResults, fail_on: str) -> int:
    """3 when a check could not run for lack of data (the audit is incomplete), else 1 when a finding reaches
    `fail_on`, else 0."""
    if any(o.status in ("not_checked", "error") for o in results.outcomes):
        return EXIT_NOT_COLLECTED
    if fail_on != "never" and any(SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[fail_on] for f in results.findings):
        return EXIT_FINDINGS
    return EXIT_OK
