"""A run's findings in AWS Security Hub, in the AWS Security Finding Format (ASFF), through the one plan/apply path.

    export = plan_securityhub(params, run_dir)          # reads: who we are, what we imported before
    outcomes = apply_securityhub(export, apply=True)    # BatchImportFindings, batch by batch, each logged

Findings are imported under the audit identity's own product ARN
(arn:<partition>:securityhub:<region>:<account>:product/<account>/default: the one any account may import to),
each with its stable id (findings.finding_uid) and GeneratorId `idbridge/<engagement>/<check id>`. What was
imported before is read back with GetFindings filtered on that ProductArn and GeneratorId prefix, so that

- a finding not there yet is imported (new);
- a finding there with an older UpdatedAt, or archived, is imported again with the same Id: Security Hub updates
  it (updated; its CreatedAt and FirstObservedAt are kept);
- a finding there with this run's UpdatedAt is left alone (unchanged: exporting the same run twice writes nothing);
- an active finding of this engagement that this run no longer has is imported again with RecordState ARCHIVED
  (archived: resolved since).

Writes are batched (at most 100 findings and 6 MB a call, each finding under 240 KB) and paced to the documented
rates (BatchImportFindings 10 per second, GetFindings 3 per second: clients/aws/pacing.py). Every batch is one
change of the plan: dry run unless asked, appended to the run folder's change log when applied.

Sources: the Security Hub API reference (BatchImportFindings, GetFindings, and the throttling limits of its
introduction) and the partner guide's "Guidelines for using the BatchImportFindings API" (batch and size limits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idbridge.checks.accepted import label
from idbridge.checks.base import Finding
from idbridge.checks.controls import ordered
from idbridge.clients.aws.calls import read_all
from idbridge.core.parameters import Parameters
from idbridge.exports.findings import RunFindings, parse_time, read_run
from idbridge.plan import Change, Outcome, Plan, apply_plan

STEP = "export_securityhub"
KIND = "securityhub.findings"
CHANGE_LOG = "changes.jsonl"  # the run folder's change log, as the runbooks write it
SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
MAX_PER_CALL = 100                  # findings per BatchImportFindings call
MAX_CALL_BYTES = 6 * 1024 * 1024    # per call
MAX_FINDING_BYTES = 240 * 1024      # per finding
LABELS = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFORMATIONAL"}
# ASFF's lengths: Title 256, Description 1024, Recommendation.Text 512; RelatedRequirements at most 32 items.
TITLE_MAX, DESCRIPTION_MAX, TEXT_MAX, REQUIREMENTS_MAX = 256, 1024, 512, 32
# Members of a finding we send; what Security Hub adds (ProductName, Workflow, ProcessedAt, ...) is not sent back.
OURS = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt",
        "FirstObservedAt", "LastObservedAt", "Severity", "FindingProviderFields", "Title", "Description",
        "Remediation", "ProductFields", "Resources", "Compliance", "RecordState")


class SecurityHubError(Exception):
    """Security Hub refused findings of a batch (FailedFindings): the change fails and the step stops."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(when: datetime) -> str:
    """ASFF's timestamp form (RFC 3339, UTC, milliseconds): 2026-05-01T12:00:00.000Z."""
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Target:
    """Where findings go: the audit identity's account and partition, the Region, its own product ARN."""

    account: str
    partition: str
    region: str

    @property
    def product_arn(self) -> str:
        return f"arn:{self.partition}:securityhub:{self.region}:{self.account}:product/{self.account}/default"


def generator_prefix(engagement: str) -> str:
    return f"idbridge/{engagement}/"


def asff(run: RunFindings, finding: Finding, target: Target, created: str | None = None,
         first_seen: str | None = None) -> dict[str, Any]:
    """One finding in ASFF. `created`/`first_seen`: those of the finding Security Hub already holds."""
    updated = _iso(run.evaluated_at)
    seen = _iso(run.collected_at)
    severity = {"Label": LABELS[finding.severity], "Original": finding.severity}
    kind, _, name = finding.subject.partition(":")
    url = next((r for r in finding.references if r.startswith("https://")), None)
    recommendation = {"Text": _cut(finding.fix, TEXT_MAX), **({"Url": url} if url else {})}
    description = finding.detail + (" — " if finding.detail else "") + finding.meaning
    if finding.accepted:  # BatchImportFindings cannot set Workflow on an existing finding: say it in the text
        description = f"[{label(finding.accepted)} (by {finding.accepted['accepted_by']})] " + description
    return {
        "SchemaVersion": SCHEMA_VERSION, "Id": run.uid(finding), "ProductArn": target.product_arn,
        "GeneratorId": generator_prefix(run.engagement) + finding.check_id, "AwsAccountId": target.account,
        "Types": [FINDING_TYPE], "CreatedAt": created or updated, "UpdatedAt": updated,
        "FirstObservedAt": first_seen or seen, "LastObservedAt": seen,
        "Severity": severity, "FindingProviderFields": {"Severity": severity, "Types": [FINDING_TYPE]},
        "Title": _cut(f"{finding.title}: {finding.subject}", TITLE_MAX),
        "Description": _cut(description or finding.title, DESCRIPTION_MAX),
        "Remediation": {"Recommendation": recommendation},
        "ProductFields": {"idbridge/Engagement": run.engagement, "idbridge/CheckId": finding.check_id,
                          "idbridge/Subject": finding.subject, "idbridge/Area": finding.area,
                          "idbridge/CheckSeverity": finding.check_severity or finding.severity,
                          **({"idbridge/Accepted": label(finding.accepted),
                              "idbridge/AcceptedBy": finding.accepted["accepted_by"],
                              "idbridge/AcceptedUntil": str(finding.accepted["expires"])}
                             if finding.accepted else {})},
        "Resources": [{"Type": "Other", "Id": _cut(finding.subject, 512), "Partition": target.partition,
                       "Region": target.region,
                       "Details": {"Other": {"SubjectKind": kind if name else "other",
                                             "Subject": _cut(name or finding.subject, 1024)}}}],
        "Compliance": {"Status": "FAILED",
                       "RelatedRequirements": [c.label for c in ordered(finding.controls)][:REQUIREMENTS_MAX]},
        "RecordState": "ACTIVE",
    }


def archived(held: dict[str, Any], when: datetime) -> dict[str, Any]:
    """A finding Security Hub holds, as re-imported to archive it: resolved since (its control now passes)."""
    mine = {k: held[k] for k in OURS if k in held}
    mine["ProductFields"] = {k: v for k, v in (held.get("ProductFields") or {}).items() if k.startswith("idbridge/")}
    if isinstance(mine.get("Severity"), dict):  # Security Hub adds Normalized/Product; send back what we sent
        mine["Severity"] = {k: v for k, v in mine["Severity"].items() if k in ("Label", "Original")}
    compliance = dict(mine.get("Compliance") or {})
    compliance = {k: v for k, v in compliance.items() if k in ("RelatedRequirements",)}
    return {**mine, "Compliance": {**compliance, "Status": "PASSED"}, "RecordState": "ARCHIVED",
            "UpdatedAt": _iso(when)}


@dataclass
class SecurityHubExport:
    run: RunFindings
    target: Target
    plan: Plan
    counts: dict[str, int]
    sample: dict[str, Any] | None
    client: Any = field(repr=False, default=None)

    @property
    def change_log(self) -> Path:
        return self.run.run_dir / CHANGE_LOG


def _batches(findings: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Findings cut into calls of at most MAX_PER_CALL findings and MAX_CALL_BYTES bytes."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for finding in findings:
        length = len(json.dumps(finding).encode("utf-8"))
        if length > MAX_FINDING_BYTES:
            raise SecurityHubError(f"finding {finding['Id']} is {length} bytes, above Security Hub's "
                                   f"{MAX_FINDING_BYTES} per finding")
        if current and (len(current) == MAX_PER_CALL or size + length > MAX_CALL_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(finding)
        size += length
    return out + ([current] if current else [])


def diff(run: RunFindings, held: dict[str, dict[str, Any]], target: Target) -> dict[str, list[dict[str, Any]]]:
    """What to send, by category (new, updated, archived), given what Security Hub holds of this engagement; and
    `unchanged`, held already as this run would send them."""
    out: dict[str, list[dict[str, Any]]] = {"new": [], "updated": [], "archived": [], "unchanged": []}
    current = set()
    for finding in run.findings:
        uid = run.uid(finding)
        if uid in current:
            continue  # one check never names a subject twice; if it did, Security Hub holds one finding
        current.add(uid)
        before = held.get(uid)
        if before is None:
            out["new"].append(asff(run, finding, target))
            continue
        record = asff(run, finding, target, before.get("CreatedAt"), before.get("FirstObservedAt"))
        stale = parse_time(str(before.get("UpdatedAt", ""))) < run.evaluated_at if before.get("UpdatedAt") \
            else True
        category = "updated" if stale or before.get("RecordState") == "ARCHIVED" else "unchanged"
        out[category].append(record)
    for uid, before in held.items():
        if uid not in current and before.get("RecordState", "ACTIVE") == "ACTIVE":
            out["archived"].append(archived(before, run.evaluated_at))
    return out


def build_plan(run: RunFindings, held: dict[str, dict[str, Any]], target: Target) -> tuple[Plan, dict[str, int],
                                                                                              dict | None]:
    """One change per BatchImportFindings call: new findings (create), updates and archivals (update: an
    archived finding stays in Security Hub, so it is no removal)."""
    categories = diff(run, held, target)
    plan = Plan(STEP)
    words = {"new": "import {n} new finding(s)", "updated": "update {n} finding(s)",
             "archived": "archive {n} finding(s) resolved since"}
    for category, action in (("new", "create"), ("updated", "update"), ("archived", "update")):
        batches = _batches(categories[category])
        for i, batch in enumerate(batches, 1):
            ids = [f["Id"] for f in batch]
            plan.changes.append(Change(
                action=action, kind=KIND, key=f"{target.product_arn} {category} {i}/{len(batches)}",
                summary=words[category].format(n=len(batch)) + f" (BatchImportFindings call {i} of {len(batches)})",
                after={"category": category, "ids": ids, "record_state": batch[0]["RecordState"]},
                payload={"findings": batch}))
    counts = {k: len(v) for k, v in categories.items()}
    sample = next((categories[k][0] for k in ("new", "updated", "archived") if categories[k]), None)
    return plan, counts, sample


def held_findings(client, target: Target, engagement: str) -> dict[str, dict[str, Any]]:
    """Every finding Security Hub holds that this kit imported for this engagement, active or archived."""
    filters = {"ProductArn": [{"Value": target.product_arn, "Comparison": "EQUALS"}],
               "GeneratorId": [{"Value": generator_prefix(engagement), "Comparison": "PREFIX"}]}
    return {f["Id"]: f for f in read_all(client, "get_findings", "Findings", Filters=filters, MaxResults=100)}


def audit_target(session, params: Parameters, region: str | None = None) -> Target:
    from idbridge.clients.factory import aws_client

    identity = aws_client(session, "sts", params).get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    return Target(identity["Account"], partition, region or params.aws.region)


def securityhub_client(session, params: Parameters, region: str):
    from idbridge.clients.aws.pacing import PACER
    from idbridge.clients.factory import aws_client

    client = aws_client(session, "securityhub", params, region)
    PACER.install(client)
    return client


def plan_securityhub(params: Parameters, run_dir: str | Path, region: str | None = None) -> SecurityHubExport:
    """Read who the audit identity is and what Security Hub holds of this engagement; plan the imports."""
    from idbridge.clients.factory import aws_session

    run = read_run(run_dir)
    session = aws_session(params)
    target = audit_target(session, params, region)
    client = securityhub_client(session, params, target.region)
    plan, counts, sample = build_plan(run, held_findings(client, target, run.engagement), target)
    return SecurityHubExport(run, target, plan, counts, sample, client)


def apply_securityhub(export: SecurityHubExport, *, apply: bool) -> list[Outcome]:
    """The plan through plan.apply_plan: nothing sent unless `apply`; every sent batch in the change log."""

    def send(change: Change) -> dict:
        answer = export.client.batch_import_findings(Findings=change.payload["findings"])
        failed = answer.get("FailedFindings") or []
        if answer.get("FailedCount") or failed:
            first = "; ".join(f"{f.get('Id')}: {f.get('ErrorCode')} {f.get('ErrorMessage')}" for f in failed[:3])
            raise SecurityHubError(f"{answer.get('FailedCount', len(failed))} of {len(change.payload['findings'])} "
                                   f"findings refused ({first})")
        return {"imported": answer.get("SuccessCount", 0)}

    return apply_plan(export.plan, {KIND: send}, apply=apply, allow_removals=False, change_log=export.change_log)
