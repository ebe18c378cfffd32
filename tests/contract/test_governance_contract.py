"""Contract for issue 17's governance sources: AWS Organizations' documented ListPolicies / DescribePolicy /
ListTargetsForPolicy answers and Identity Center's provisioning-status answers, run through the collector's row
builders and the checks that read them, and compared with what the sandbox serves for the same requests; the
documented refused CreateAccountAssignment record becomes a cloudtrail_events row the failure check reports."""

from __future__ import annotations

import json

import botocore.parsers
import botocore.session
import pytest
from support import bridge_tables as bt
from support.aws_harness import make_context
from support.contract import load_fixture, shape_differences
from support.sandbox import forget_sandbox, running_sandbox

from idbridge.checks.rules import governance
from idbridge.collect.aws.governance import (SCP, assignment_failure_row, permission_set_failure_row, scp_row)
from idbridge.collect.aws.trail import event_row

SESSION = botocore.session.get_session()


def _parsed(service: str, operation: str, name: str) -> dict:
    """A documented JSON answer as boto3 returns it, through botocore's own parser."""
    shape = SESSION.get_service_model(service).operation_model(operation).output_shape
    body = json.dumps(load_fixture(name, "aws")["response"]).encode()
    parsed = botocore.parsers.create_parser("json").parse({"body": body, "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_the_documented_scp_answers_become_rows_the_check_reads():
    [summary, *_] = _parsed("organizations", "ListPolicies", "organizations_list_policies")["Policies"]
    policy = _parsed("organizations", "DescribePolicy", "organizations_describe_policy")["Policy"]
    targets = _parsed("organizations", "ListTargetsForPolicy", "organizations_list_targets_for_policy")["Targets"]
    row = scp_row(policy["PolicySummary"], policy["Content"], targets)
    assert row["policyId"] == summary["Id"] == "p-examplepolicyid111" and row["awsManaged"] is False
    assert "ROOT:r-examplerootid111" in row["targets"] and len(row["targets"]) == len(targets)
    data = bt.rows()
    data["org_scps"] = [row]  # AWS's example allows everything: no protection
    assert bt.run(governance.account_instances_allowed, data)["account:999999999999"].severity is None
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyMemberAccountInstances", "Effect": "Deny", "Action": "sso:CreateInstance", "Resource": "*"}]})
    data["org_scps"] = [scp_row(policy["PolicySummary"], deny, targets)]
    assert bt.run(governance.account_instances_allowed, data) == {}


def test_the_documented_failure_answers_become_failure_rows():
    ps = _parsed("sso-admin", "DescribePermissionSetProvisioningStatus",
                 "ssoadmin_describe_permission_set_provisioning_status")["PermissionSetProvisioningStatus"]
    creation = _parsed("sso-admin", "DescribeAccountAssignmentCreationStatus",
                       "ssoadmin_describe_account_assignment_creation_status")["AccountAssignmentCreationStatus"]
    rows = [permission_set_failure_row(ps), assignment_failure_row(creation)]
    assert [(r["kind"], r["accountId"], r["createdDate"]) for r in rows] == [
        ("permission_set", "444455556666", "2026-03-01T10:00:00Z"), ("assignment", "444455556666",
                                                                     "2026-03-01T10:00:00Z")]
    assert rows[1]["principalType"] == "USER" and rows[0]["failureReason"].startswith("Received a 404")
    data = bt.rows()
    data["idc_provisioning_failures"] = rows
    data["idc_permission_sets"].append({"permissionSetArn": ps["PermissionSetArn"], "name": "Documented"})
    hit = bt.run(governance.provisioning_failed, data)["permission_set:Documented"]
    assert hit.evidence["count"] == 2


def test_the_documented_refused_call_is_a_failure():
    record = load_fixture("sso_create_account_assignment_refused", "aws")["response"]
    row = event_row({"EventId": record["eventID"], "EventName": record["eventName"],
                     "EventSource": record["eventSource"], "CloudTrailEvent": json.dumps(record)})
    data = bt.rows()
    data["cloudtrail_events"] = [row]
    data["idc_permission_sets"].append({"permissionSetArn": record["requestParameters"]["permissionSetArn"],
                                        "name": "Documented"})
    [failure] = bt.run(governance.provisioning_failed, data)["permission_set:Documented"].evidence["failures"]
    assert failure["accountId"] == "444455556666" and failure["failureReason"].startswith("AccessDeniedException")
    assert failure["who"] == record["userIdentity"]["arn"]


@pytest.mark.integration
def test_the_sandbox_answers_in_the_documented_shapes():
    box = running_sandbox("broken-provisioning")
    try:
        ctx = make_context(box)
        org, sso = ctx.aws("organizations"), ctx.aws("sso-admin", box.world.aws.region)
        listed = org.list_policies(Filter=SCP)
        policy = org.describe_policy(PolicyId=listed["Policies"][0]["Id"])
        targets = org.list_targets_for_policy(PolicyId=listed["Policies"][0]["Id"])
        instance = box.world.aws.instance_arn
        failed = sso.list_permission_set_provisioning_status(InstanceArn=instance, Filter={"Status": "FAILED"})
        # A failed assignment creation, made here: an account outside the organisation, as AWS ends it.
        ps_arn = box.world.aws.permission_sets["ReadOnly"]
        group = box.world.aws.identity_store.find_group(display_name="AWS-Engineers")
        sso.create_account_assignment(InstanceArn=instance, TargetId="999988887777", TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=ps_arn, PrincipalType="GROUP", PrincipalId=group)
        creations = sso.list_account_assignment_creation_status(InstanceArn=instance, Filter={"Status": "FAILED"})
    finally:
        box.stop()
        forget_sandbox()
    served = {"ListPolicies": listed, "DescribePolicy": policy, "ListTargetsForPolicy": targets,
              "ListPermissionSetProvisioningStatus": failed, "ListAccountAssignmentCreationStatus": creations}
    documented = {
        "ListPolicies": _parsed("organizations", "ListPolicies", "organizations_list_policies"),
        "DescribePolicy": _parsed("organizations", "DescribePolicy", "organizations_describe_policy"),
        "ListTargetsForPolicy": _parsed("organizations", "ListTargetsForPolicy",
                                        "organizations_list_targets_for_policy"),
        "ListPermissionSetProvisioningStatus": _parsed("sso-admin", "ListPermissionSetProvisioningStatus",
                                                       "ssoadmin_list_permission_set_provisioning_status"),
        "ListAccountAssignmentCreationStatus": _parsed("sso-admin", "ListAccountAssignmentCreationStatus",
                                                       "ssoadmin_list_account_assignment_creation_status"),
    }
    for operation, answer in served.items():
        answer.pop("ResponseMetadata", None)
        answer.pop("NextToken", None)
        assert shape_differences(documented[operation], answer) == [], operation
    assert [s["Status"] for s in failed["PermissionSetsProvisioningStatus"]] == ["FAILED"]  # DataAnalyst's
    assert [s["Status"] for s in creations["AccountAssignmentsCreationStatus"]] == ["FAILED"]
