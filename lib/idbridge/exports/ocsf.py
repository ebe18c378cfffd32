"""A run's findings as OCSF Detection Finding events (class_uid 2004), built and validated by py-ocsf-models (the
OCSF models Prowler maintains and uses for its own OCSF output).

    events = ocsf_events(read_run(run_dir))       # list of DetectionFinding models, validated on construction
    write_ocsf(run_dir, out_file)                 # the same, as one JSON array, written atomically

One event per finding of the run, and one per finding of the engagement's previous run that this run no longer
has:

    finding                      activity   status     type_uid
    new since the previous run   Create     New        200401
    also in the previous run     Update     New        200402
    gone since the previous run  Close      Resolved   200403
    accepted as an exception     (as above) Suppressed (as above)

`finding_info.uid` is the finding's stable id (findings.finding_uid), so a SIEM correlates the events of one
finding across runs. OCSF's Detection Finding has no compliance object (that is the Compliance Finding class):
the controls the check maps to go into `unmapped.controls`, with the check id and the catalogue severity.
Reads only: the run folder and, for what was resolved, the previous run's findings.json.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from idbridge.checks.base import Finding
from idbridge.core.files import write_text_atomic
from idbridge.exports.findings import RunFindings, parse_time, read_run

log = logging.getLogger(__name__)

SEVERITY_IDS: dict[str, SeverityID] = {"critical": SeverityID.Critical, "high": SeverityID.High,
                                       "medium": SeverityID.Medium, "low": SeverityID.Low,
                                       "info": SeverityID.Informational}
TYPE_IDS = {ActivityID.Create: DetectionFindingTypeID.Create, ActivityID.Update: DetectionFindingTypeID.Update,
            ActivityID.Close: DetectionFindingTypeID.Close}


def previous_run(run: RunFindings) -> RunFindings | None:
    """The engagement's run before this one that has findings (None on the first run, or when it cannot be read:
    then nothing is reported resolved, and the log says why)."""
    from idbridge.history.runs import previous_snapshot

    snapshot = previous_snapshot(run.run_dir, run.run_dir.resolve().parent)
    if snapshot is None:
        return None
    try:
        return read_run(snapshot.parent)
    except Exception as exc:  # an earlier run damaged or without findings must not stop this export
        log.warning("previous run %s unreadable (%s): no finding is reported resolved", snapshot.parent, exc)
        return None


def _millis(text: str) -> int:
    return int(parse_time(text).timestamp() * 1000)


def _event(run: RunFindings, finding: Finding, activity: ActivityID, status: StatusID, when: str) -> DetectionFinding:
    from idbridge import __version__

    uid = run.uid(finding)
    kind, _, name = finding.subject.partition(":")
    severity = SEVERITY_IDS[finding.severity]
    return DetectionFinding(
        metadata=Metadata(product=Product(name="idbridge", vendor_name="idbridge", version=__version__),
                          version=OCSF_VERSION, event_code=finding.check_id, uid=f"{uid}@{when}",
                          labels=[f"engagement:{run.engagement}", f"area:{finding.area}"]),
        activity_id=activity, activity_name=activity.name,
        type_uid=TYPE_IDS[activity], type_name=f"Detection Finding: {activity.name}",
        severity_id=severity, severity=severity.name,
        status_id=status, status=status.name,
        time=_millis(when), time_dt=parse_time(when),
        message=f"{finding.title}: {finding.subject}",
        finding_info=FindingInformation(
            uid=uid, title=finding.title, desc=finding.detail or finding.meaning, types=[finding.area],
            src_url=finding.references[0] if finding.references else None,
            last_seen_time=_millis(run.evaluation.collected_at or when)),
        resources=[ResourceDetails(uid=finding.subject, name=name or finding.subject, type=kind if name else None)],
        evidences=[EvidenceArtifacts(data=json.loads(json.dumps(finding.evidence, default=str)))]
        if finding.evidence else None,
        remediation=Remediation(desc=finding.fix, references=list(finding.references) or None),
        risk_details=finding.meaning,
        unmapped={"check_id": finding.check_id, "engagement": run.engagement,
                  "check_severity": finding.check_severity or finding.severity,
                  "severity_reason": finding.severity_reason,
                  "controls": [{"framework": c.framework, "id": c.id, "title": c.title} for c in finding.controls],
                  **({"accepted": dict(finding.accepted)} if finding.accepted else {})},
    )


def ocsf_events(run: RunFindings, previous: RunFindings | None = None) -> list[DetectionFinding]:
    """The run's findings (and those resolved since `previous`) as validated Detection Finding events."""
    when = run.evaluation.evaluated_at or run.evaluation.collected_at
    before = {previous.uid(f): f for f in previous.findings} if previous else {}
    events = []
    for finding in run.findings:
        activity = ActivityID.Update if run.uid(finding) in before else ActivityID.Create
        # An accepted exception (checks/accepted.py) is OCSF's Suppressed: still sent, so the SIEM sees it.
        status = StatusID.Suppressed if finding.accepted else StatusID.New
        events.append(_event(run, finding, activity, status, when))
    now = {run.uid(f) for f in run.findings}
    for uid, finding in before.items():
        if uid not in now:
            events.append(_event(run, finding, ActivityID.Close, StatusID.Resolved, when))
    return events


def to_json(events: list[DetectionFinding]) -> str:
    return json.dumps([e.model_dump(mode="json", exclude_none=True) for e in events], indent=1)


def write_ocsf(run_dir: str | Path, out: str | Path) -> tuple[Path, dict[str, int]]:
    """The OCSF events of a run folder into `out` (one JSON array); returns the path and counts by status."""
    run = read_run(run_dir)
    events = ocsf_events(run, previous_run(run))
    write_text_atomic(Path(out), to_json(events) + "\n")
    counts = {"new": sum(e.activity_id == ActivityID.Create for e in events),
              "still open": sum(e.activity_id == ActivityID.Update for e in events),
              "resolved": sum(e.activity_id == ActivityID.Close for e in events)}
    return Path(out), counts
