"""Issue 17 items 6 and 7 on small tables: account instances not prevented by an SCP, provisioning AWS reports
as failed (status APIs and refused CloudTrail calls), assignments on suspended accounts. Each planted fault is
reported; the shared clean tables stay silent."""

from __future__ import annotations

import json

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import governance as g
from idbridge.checks.runner import run_checks

load_all()
MGMT = "account:999999999999"
OURS = ["aws.account_instances_allowed", "aws.provisioning_failed", "aws.assignment_on_suspended_account"]
PS_DEV, ACCOUNT = "arn:ps/dev", "111111111111"


def test_the_clean_tables_pass_every_check():
    results = run_checks(bt.tables(bt.rows()), bt.settings(), ids=OURS)
    assert results.findings == [] and {o.status for o in results.outcomes} == {"pass"}


# --------------------------------------------------------------------------------------------- item 6


def _scp(statement: dict, targets=("ROOT:r-ab12:Root",), name="Guard") -> dict:
    return {"policyId": f"p-{name.lower()}", "name": name, "awsManaged": False,
            "content": json.dumps({"Version": "2012-10-17", "Statement": [statement]}), "targets": list(targets)}


DENY = {"Effect": "Deny", "Action": "sso:CreateInstance", "Resource": "*"}


def test_no_scp_denying_create_instance_is_a_finding_that_says_what_was_not_collected():
    data = bt.rows()
    data["org_scps"] = data["org_scps"][:1]  # only FullAWSAccess
    hit = bt.run(g.account_instances_allowed, data)[MGMT]
    assert hit.severity is None and "no service control policy denies sso:CreateInstance" in hit.detail
    assert hit.evidence["accountInstances"] == "not collected: no member-account read role configured"


@pytest.mark.parametrize("statement", [
    DENY, {**DENY, "Action": ["s3:*", "SSO:Create*"]}, {**DENY, "Action": "*"}, {"Effect": "Deny",
     "NotAction": ["iam:*"], "Resource": "*"}])
def test_a_deny_on_the_root_in_any_spelling_passes(statement):
    data = bt.rows()
    data["org_scps"] = data["org_scps"][:1] + [_scp(statement)]
    assert bt.run(g.account_instances_allowed, data) == {}


@pytest.mark.parametrize("statement, targets, words", [
    (DENY, ["ORGANIZATIONAL_UNIT:ou-ab12-1:Workloads"], "only on Workloads"),
    ({**DENY, "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["222222222222"]}}}, ["ROOT:r-ab12:Root"],
     "only under a condition"),
])
def test_a_partial_deny_is_low(statement, targets, words):
    data = bt.rows()
    data["org_scps"] = data["org_scps"][:1] + [_scp(statement, targets)]
    hit = bt.run(g.account_instances_allowed, data)[MGMT]
    assert hit.severity == "low" and words in hit.detail


def test_a_deny_that_is_attached_nowhere_or_excludes_the_action_is_no_protection():
    data = bt.rows()
    data["org_scps"] = [_scp(DENY, targets=()), _scp({"Effect": "Deny", "NotAction": "sso:*", "Resource": "*"},
                                                     name="Other")]
    assert bt.run(g.account_instances_allowed, data)[MGMT].severity is None


# --------------------------------------------------------------------------------------------- item 7


def _failure(kind="permission_set", **extra) -> dict:
    return {"kind": kind, "requestId": f"r-{kind}", "permissionSetArn": PS_DEV, "accountId": "222222222222",
            "failureReason": "Received a 404 status error: policy DataTeam does not exist in the account",
            "createdDate": "2026-05-30T10:00:00Z", **extra}


def test_failed_provisioning_and_assignment_are_reported_per_permission_set():
    data = bt.rows()
    data["idc_provisioning_failures"] = [
        _failure(), _failure("assignment", principalType="GROUP", principalId="ig-devs",
                             createdDate="2026-05-30T10:01:00Z")]
    hit = bt.run(g.provisioning_failed, data)["permission_set:Developer"]
    assert hit.evidence["count"] == 2 and {f["accountName"] for f in hit.evidence["failures"]} == {"prod"}
    assert "latest in prod" in hit.detail and "does not exist" in hit.detail


def test_a_failure_resolved_by_a_later_success_is_silent():
    data = bt.rows()
    data["idc_provisioning_failures"] = [
        _failure(accountId=ACCOUNT),  # the set is LATEST_PERMISSION_SET_PROVISIONED there now
        _failure("assignment", accountId=ACCOUNT, principalType="GROUP", principalId="ig-devs")]  # exists now
    assert bt.run(g.provisioning_failed, data) == {}


def test_refused_calls_in_cloudtrail_are_failures_too():
    data = bt.rows()
    record = {"eventName": "CreateAccountAssignment", "errorCode": "AccessDeniedException",
              "userIdentity": {"arn": bt.ADMIN_ARN},
              "requestParameters": {"permissionSetArn": PS_DEV, "targetId": "222222222222"}}
    data["cloudtrail_events"] = [{"eventId": "e1", "eventTime": "2026-05-31T09:00:00Z",
                                  "eventName": "CreateAccountAssignment", "eventSource": "sso.amazonaws.com",
                                  "errorCode": "AccessDeniedException", "errorMessage": "not authorized",
                                  "event_json": json.dumps(record)},
                                 {**record, "eventId": "e2", "eventTime": "2026-05-31T09:01:00Z",
                                  "eventSource": "sso.amazonaws.com", "errorCode": None,
                                  "event_json": json.dumps({**record, "errorCode": None})}]
    hit = bt.run(g.provisioning_failed, data)["permission_set:Developer"]
    [only] = hit.evidence["failures"]
    assert only["source"] == "cloudtrail" and only["who"] == bt.ADMIN_ARN
    assert only["failureReason"] == "AccessDeniedException: not authorized"


def test_assignments_on_a_suspended_account():
    data = bt.rows()
    bt.find(data, "org_accounts", accountId=ACCOUNT)["status"] = "SUSPENDED"
    hit = bt.run(g.assignment_on_suspended_account, data)[f"account:{ACCOUNT}"]
    assert [(r["permissionSet"], r["principal"]) for r in hit.evidence["assignments"]] == [
        ("Developer", "AWS-Devs"), ("ReadOnly", "alice@contoso.com")]
    bt.find(data, "org_accounts", accountId=ACCOUNT)["status"] = "ACTIVE"
    bt.find(data, "org_accounts", accountId="222222222222")["status"] = "SUSPENDED"  # nothing assigned there
    assert bt.run(g.assignment_on_suspended_account, data) == {}
