"""AWS sources of issue 17 that read governance rather than the bridge itself, kept apart from the main walk:

- aws.scps: the organisation's service control policies with their content and targets (from the management
  account, like aws.delegation), so a check can tell whether member accounts are kept from creating account
  instances of Identity Center (a Deny on sso:CreateInstance);
- aws.provisioning_failures: permission-set provisioning requests and account-assignment creations AWS reports
  as FAILED, each with its FailureReason (a customer-managed policy or boundary missing in the target account,
  an account not in the organisation...). Listing filters on FAILED, so one Describe is made per failure only.

Tables follow collect/aws/tables.py (ISO-8601 UTC times, lists of strings).
"""

from __future__ import annotations

from idbridge.clients.aws import organizations as aws_org
from idbridge.clients.aws.calls import fan_out, read_all
from idbridge.clients.aws.pacing import PACER
from idbridge.collect.aws.tables import table, utc_iso
from idbridge.collect.context import CollectContext, Tables

SCP = "SERVICE_CONTROL_POLICY"
PAGE = 100  # MaxResults ceiling of the sso-admin status listings
FAILED = {"Status": "FAILED"}  # OperationStatusFilter


def _client(ctx: CollectContext, service: str, region: str | None = None):
    client = ctx.aws(service, region)
    PACER.install(client)
    return client


# --------------------------------------------------------------------------------------------- SCPs


def scp_row(summary: dict, content: str | None, targets: list[dict]) -> dict:
    """One org_scps row from a PolicySummary, DescribePolicy's Content and ListTargetsForPolicy's Targets."""
    return {"policyId": summary.get("Id"), "name": summary.get("Name"), "awsManaged": summary.get("AwsManaged"),
            "content": content,
            # type:id only: a target's name is free text (an account or OU name), which a recording's pseudonymiser
            # replaces as a whole value but could not inside a joined string (docs/recording.md)
            "targets": sorted(f"{t.get('Type')}:{t.get('TargetId')}" for t in targets)}


def collect_scps(ctx: CollectContext) -> Tables:
    org = _client(ctx, "organizations")
    summaries = read_all(org, "list_policies", "Policies", Filter=SCP, MaxResults=aws_org.PAGE)

    def one(summary: dict) -> dict:
        policy = org.describe_policy(PolicyId=summary["Id"])["Policy"]
        targets = read_all(org, "list_targets_for_policy", "Targets", PolicyId=summary["Id"],
                           MaxResults=aws_org.PAGE)
        ctx.progress("aws.scps", 1)
        return scp_row(policy.get("PolicySummary") or summary, policy.get("Content"), targets)

    rows = fan_out(one, summaries, ctx.params.collection.concurrency)
    return {"org_scps": table("org_scps", sorted(rows, key=lambda r: r["policyId"] or ""))}


# --------------------------------------------------------------------------------------------- failures


def permission_set_failure_row(status: dict) -> dict:
    """DescribePermissionSetProvisioningStatus's PermissionSetProvisioningStatus -> a failure row."""
    return {"kind": "permission_set", "requestId": status.get("RequestId"),
            "permissionSetArn": status.get("PermissionSetArn"), "accountId": status.get("AccountId"),
            "principalType": None, "principalId": None, "failureReason": status.get("FailureReason"),
            "createdDate": utc_iso(status.get("CreatedDate"))}


def assignment_failure_row(status: dict) -> dict:
    """DescribeAccountAssignmentCreationStatus's AccountAssignmentCreationStatus -> a failure row."""
    return {"kind": "assignment", "requestId": status.get("RequestId"),
            "permissionSetArn": status.get("PermissionSetArn"), "accountId": status.get("TargetId"),
            "principalType": status.get("PrincipalType"), "principalId": status.get("PrincipalId"),
            "failureReason": status.get("FailureReason"), "createdDate": utc_iso(status.get("CreatedDate"))}


def collect_provisioning_failures(ctx: CollectContext) -> Tables:
    # The audited instance is the first row of idc_instances (collectors.audited_instance, not imported: that
    # module registers this one).
    frame = ctx.needs("aws.instances")["idc_instances"]
    if frame.empty:
        raise LookupError("no IAM Identity Center instance to read provisioning failures from")
    instance = frame.iloc[0].to_dict()
    sso = _client(ctx, "sso-admin", instance["region"])
    arn = instance["instanceArn"]
    sets = read_all(sso, "list_permission_set_provisioning_status", "PermissionSetsProvisioningStatus",
                    InstanceArn=arn, Filter=FAILED, MaxResults=PAGE)
    creations = read_all(sso, "list_account_assignment_creation_status", "AccountAssignmentsCreationStatus",
                         InstanceArn=arn, Filter=FAILED, MaxResults=PAGE)
    ctx.progress("aws.provisioning_failures", 2)  # the two listings read, whatever they hold

    def one(job: tuple[str, str]) -> dict:
        kind, request_id = job
        ctx.progress("aws.provisioning_failures", 1)
        if kind == "permission_set":
            return permission_set_failure_row(sso.describe_permission_set_provisioning_status(
                InstanceArn=arn, ProvisionPermissionSetRequestId=request_id)["PermissionSetProvisioningStatus"])
        return assignment_failure_row(sso.describe_account_assignment_creation_status(
            InstanceArn=arn, AccountAssignmentCreationRequestId=request_id)["AccountAssignmentCreationStatus"])

    jobs = [("permission_set", s["RequestId"]) for s in sets] + [("assignment", c["RequestId"]) for c in creations]
    rows = fan_out(one, jobs, ctx.params.collection.concurrency)
    rows.sort(key=lambda r: (r["createdDate"] or "", r["requestId"] or ""))
    return {"idc_provisioning_failures": table("idc_provisioning_failures", rows)}


GOVERNANCE_COLLECTORS = {
    "aws.scps": (collect_scps, ()),
    "aws.provisioning_failures": (collect_provisioning_failures, ("aws.instances",)),
}
