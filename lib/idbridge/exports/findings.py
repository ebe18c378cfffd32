"""What both exports read: a run folder's findings and the engagement they belong to, and the stable id a finding
keeps from run to run.

A SIEM or Security Hub tracks a finding by its id, so the id must not change while the problem persists: it is a
hash of the engagement, the check and the subject — nothing that changes between runs (no time, no detail, no
severity, which a graded check may raise or lower while it is the same problem).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from idbridge.checks.artifact import FINDINGS_JSON, read_evaluation
from idbridge.checks.base import Finding
from idbridge.checks.evaluate import Evaluation
from idbridge.errors import InputError

ID_PREFIX = "idbridge-"


def finding_uid(engagement: str, check_id: str, subject: str) -> str:
    """The finding's id in every export: the same for the same engagement, check and subject, in every run."""
    digest = hashlib.sha256("\x1f".join((engagement, check_id, subject)).encode("utf-8")).hexdigest()
    return ID_PREFIX + digest[:32]


@dataclass(frozen=True)
class RunFindings:
    run_dir: Path
    engagement: str
    evaluation: Evaluation

    @property
    def findings(self) -> list[Finding]:
        return list(self.evaluation.results.findings)

    def uid(self, finding: Finding) -> str:
        return finding_uid(self.engagement, finding.check_id, finding.subject)

    @property
    def evaluated_at(self) -> datetime:
        """When the run evaluated its findings (UTC); the collection time for an artifact without it."""
        return parse_time(self.evaluation.evaluated_at or self.evaluation.collected_at)

    @property
    def collected_at(self) -> datetime:
        return parse_time(self.evaluation.collected_at or self.evaluation.evaluated_at)


def parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else datetime.now(timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def read_run(run_dir: str | Path) -> RunFindings:
    """The findings of a run folder (findings.json) and its engagement (snapshot/manifest.json). Reads only."""
    run_dir = Path(run_dir)
    artifact = run_dir / FINDINGS_JSON
    if not artifact.is_file():
        raise InputError(run_dir, f"no {FINDINGS_JSON}: not a run folder of `idbridge run` (or the run stopped "
                                  "before its checks were evaluated)")
    manifest = run_dir / "snapshot" / "manifest.json"
    try:
        engagement = json.loads(manifest.read_text(encoding="utf-8")).get("engagement")
    except (OSError, ValueError) as exc:
        raise InputError(manifest, f"cannot be read ({exc}): the engagement of the findings is unknown") from None
    if not isinstance(engagement, str) or not engagement:
        raise InputError(manifest, "key `engagement`: missing; the findings cannot be given stable ids")
    try:
        evaluation = read_evaluation(artifact)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(artifact, f"not a findings artifact this idbridge reads: {exc}") from None
    return RunFindings(run_dir, engagement, evaluation)
