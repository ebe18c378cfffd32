"""Issue 17 (what breaks after a correct setup) on small tables: each check reports its planted fault and stays
silent on the clean counterpart; guided checkpoints are not applicable until recorded, then judge the record."""

from __future__ import annotations

import json
from datetime import date

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import exposure as x
from idbridge.checks.rules import lifecycle as lc
from idbridge.checks.rules import scim as s
from idbridge.checks.runner import run_checks
from idbridge.core.parameters import ChecksParams, ProvisioningSettingsRecord
from idbridge.snapshot.store import NotCollected

load_all()
MGMT = "999999999999"
OURS = {"provisioning.active_not_mapped", "provisioning.target_actions_off", "provisioning.deprovisioning_settings",
        "aws.portal_session_long", "access.revocation_not_prepared", "aws.no_delegated_admin",
        "access.management_account_assignment", "access.assignment_not_required"}


def rows(**changes) -> dict:
    """bridge_tables plus what these checks read, all correct: flows on, assignment required, a delegated
    administrator, nothing assigned in the management account."""
    data = bt.rows()
    data["entra_sync_object_mappings"] = [
        {"jobId": bt.JOB, "objectMapping": f"Provision Microsoft Entra ID {kind}s", "sourceObjectName": kind,
         "targetObjectName": kind, "enabled": True, "flowTypes": "Add, Update, Delete"} for kind in ("User", "Group")]
    data["entra_service_principal"] = [{"id": "sp", "appId": "app", "displayName": "AWS IAM Identity Center",
                                        "appRoleAssignmentRequired": True}]
    data["org_organization"] = [{"organizationId": "o-1", "managementAccountId": MGMT, "featureSet": "ALL"}]
    data["org_delegated_admins"] = [{"servicePrincipal": "sso.amazonaws.com", "accountId": "333333333333",
                                     "name": "identity", "status": "ACTIVE"}]
    data["idc_instances"] = [{"instanceArn": "arn:aws:sso:::instance/ssoins-1", "ownerAccountId": MGMT}]
    data["idc_permission_set_policies"] = []
    data.update(changes)
    return data


def recorded(**checks) -> dict:
    return {"provisioning_settings": ProvisioningSettingsRecord(
        checked_on=date(2026, 5, 30), notification_email="ops@contoso.com", accidental_deletion_threshold=500),
        "portal_session_hours": 8, "revocation_prepared": "scp"} | checks


def findings(data, **checks) -> dict[str, str]:
    results = run_checks(bt.tables(data), bt.settings(**checks), ids=sorted(OURS))
    return {f.check_id: f.severity for f in results.findings}


def test_a_correct_bridge_with_recorded_checkpoints_passes_every_issue_17_check():
    results = run_checks(bt.tables(rows()), bt.settings(**recorded()), ids=sorted(OURS))
    assert results.findings == [] and {o.status for o in results.outcomes} == {"pass"}


def test_unrecorded_checkpoints_are_not_applicable_and_say_where_to_look():
    results = run_checks(bt.tables(rows()), bt.settings(), ids=sorted(OURS))
    reasons = {o.check_id: o.reason for o in results.outcomes if o.status == "not_applicable"}
    assert set(reasons) == {"provisioning.deprovisioning_settings", "aws.portal_session_long",
                            "access.revocation_not_prepared"}
    assert "not readable with a read-only permission" in reasons["provisioning.deprovisioning_settings"]
    assert "never save it" in reasons["provisioning.deprovisioning_settings"]  # the answer carries the token
    assert "no API" in reasons["aws.portal_session_long"]


# --------------------------------------------------------------------------------------------- item 1


def test_active_not_mapped_when_the_mapping_is_gone_or_fed_from_elsewhere():
    gone = rows(entra_sync_mappings=[m for m in rows()["entra_sync_mappings"] if m["targetAttributeName"] != "active"])
    hit = bt.run(lc.active_not_mapped, gone)[bt.APP]
    assert hit.evidence["activeMapping"] is None and "not mapped" in hit.detail
    other = rows()
    bt.find(other, "entra_sync_mappings", targetAttributeName="active")["sourceExpression"] = '"True"'
    assert bt.run(lc.active_not_mapped, other)[bt.APP].evidence["activeMapping"] == ['"True"']
    assert bt.run(lc.active_not_mapped, rows()) == {}
    assert bt.run(lc.active_not_mapped, rows(entra_sync_jobs=[])) == {}  # no job: job_not_active's business


@pytest.mark.parametrize("kind, change, problem, severity", [
    ("User", {"flowTypes": "Add, Update"}, "no Delete", "high"),
    ("User", {"flowTypes": "Add"}, "no Update / Delete", "high"),
    ("User", {"enabled": False}, "disabled", "high"),
    ("Group", {"flowTypes": "Add, Update"}, "no Delete", "medium"),
])
def test_target_actions_off(kind, change, problem, severity):
    data = rows()
    bt.find(data, "entra_sync_object_mappings", sourceObjectName=kind).update(change)
    hit = bt.run(lc.target_actions_off, data)[bt.APP]
    assert hit.severity == severity and hit.evidence["objectMappings"][0]["problem"] == problem


def test_target_actions_default_to_all_three_when_graph_omits_flow_types():
    data = rows()
    for row in data["entra_sync_object_mappings"]:
        row["flowTypes"] = None
    assert bt.run(lc.target_actions_off, data) == {}


def test_target_actions_of_a_snapshot_without_the_table_are_not_collected():
    data = rows()
    del data["entra_sync_object_mappings"]
    with pytest.raises(NotCollected, match="collect again"):
        list(lc.target_actions_off(bt.tables(data), bt.settings()))


@pytest.mark.parametrize("change, severity, words", [
    ({"skip_out_of_scope_deletions": True}, "high", "SkipOutOfScopeDeletions"),
    ({"accidental_deletion_threshold": None}, "medium", "accidental-deletion prevention is off"),
    ({"notification_email": None}, "medium", "no notification email"),
])
def test_deprovisioning_settings_judge_the_record(change, severity, words):
    record = recorded()["provisioning_settings"].model_copy(update=change)
    hit = bt.run(lc.deprovisioning_settings, rows(), **recorded(provisioning_settings=record))[bt.APP]
    assert hit.severity == severity and words in hit.detail and "2026-05-30" in hit.detail


# --------------------------------------------------------------------------------------------- item 2


def test_portal_session_against_the_engagement_maximum():
    hit = bt.run(lc.portal_session_long, rows(), **recorded(portal_session_hours=12))[bt.APP]
    assert hit.evidence["max_portal_session_hours"] == 8 and hit.severity is None
    week = bt.run(lc.portal_session_long, rows(), **recorded(portal_session_hours=24 * 30))
    assert week[bt.APP].severity == "high"
    at_limit = recorded(portal_session_hours=12, max_portal_session_hours=12)
    assert bt.run(lc.portal_session_long, rows(), **at_limit) == {}


def test_portal_session_parameters_are_validated():
    with pytest.raises(ValueError):
        ChecksParams(portal_session_hours=24 * 91)  # AWS allows at most 90 days
    with pytest.raises(ValueError):
        ChecksParams(revocation_prepared="maybe")


def test_revocation_recorded_as_none_is_a_finding():
    hits = bt.run(lc.revocation_not_prepared, rows(), **recorded(revocation_prepared="none"))
    assert list(hits) == [bt.APP]


def _inline(arn: str, statement: dict) -> dict:
    return {"permissionSetArn": arn, "kind": "inline",
            "document": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


DENY = {"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"identitystore:userId": "Add user ID here"}}}


def test_revocation_in_permission_set_inline_policies_is_verified_per_assigned_set():
    data = rows(idc_permission_set_policies=[_inline("arn:ps/dev", DENY),
                                             _inline("arn:ps/ro", {**DENY, "Effect": "Allow"})])
    hits = bt.run(lc.revocation_not_prepared, data, **recorded(revocation_prepared="permission_set_inline"))
    assert list(hits) == ["permission_set:ReadOnly"]
    data["idc_permission_set_policies"][1] = _inline("arn:ps/ro", {**DENY, "Action": ["*"], "Condition": {
        "StringLike": {"aws:userid": "*:leaver@contoso.com"}}})
    assert bt.run(lc.revocation_not_prepared, data, **recorded(revocation_prepared="permission_set_inline")) == {}


# --------------------------------------------------------------------------------------------- item 4


def test_no_delegated_admin_only_when_the_management_account_owns_the_instance_and_none_is_registered():
    assert bt.run(x.no_delegated_admin, rows()) == {}
    hit = bt.run(x.no_delegated_admin, rows(org_delegated_admins=[]))[f"account:{MGMT}"]
    assert hit.evidence["delegatedAdministrators"] == []
    member_owned = rows(org_delegated_admins=[], idc_instances=[{"instanceArn": "i", "ownerAccountId": "1" * 12}])
    assert bt.run(x.no_delegated_admin, member_owned) == {}


def test_permission_sets_assigned_in_the_management_account():
    data = rows()
    data["idc_account_assignments"].append({"accountId": MGMT, "permissionSetArn": "arn:ps/ro",
                                            "principalType": "GROUP", "principalId": "ig-devs"})
    data["org_accounts"].append({"accountId": MGMT, "name": "management", "status": "ACTIVE"})
    hit = bt.run(x.management_account_assignment, data)[f"account:{MGMT}"]
    assert hit.evidence == {"accountName": "management", "assignments": [
        {"permissionSet": "ReadOnly", "principalType": "GROUP", "principal": "AWS-Devs"}]}
    assert bt.run(x.management_account_assignment, rows()) == {}


def test_exposure_checks_are_not_checked_without_the_delegation_source():
    results = run_checks(bt.tables(rows(), not_collected={"org_organization": "AccessDenied"}), bt.settings(),
                         ids=["aws.no_delegated_admin", "access.management_account_assignment"])
    assert {o.status for o in results.outcomes} == {"not_checked"}


# --------------------------------------------------------------------------------------------- item 8


def test_assignment_not_required_is_worse_when_provisioning_syncs_everyone():
    data = rows()
    data["entra_service_principal"][0]["appRoleAssignmentRequired"] = False
    hit = bt.run(x.assignment_not_required, data)[bt.APP]
    assert hit.severity is None and hit.evidence["provisioningScope"] == "assigned users and groups"
    # Identity Center holds a SCIM-made copy of a group that is not assigned: the job syncs all.
    data["idc_groups"].append({"groupId": "ig-other", "displayName": "Other", "externalIds": ["g-other"],
                               "createdBy": "SCIM"})
    hit = bt.run(x.assignment_not_required, data)[bt.APP]
    assert hit.severity == "high" and hit.evidence["provisioningScope"].startswith("all")
    assert bt.run(x.assignment_not_required, rows()) == {}


# --------------------------------------------------------------------------------------------- item 5


def with_group(data: dict, group_id: str, name: str) -> dict:
    data["entra_groups"].append({"id": group_id, "displayName": name, "securityEnabled": True, "isDynamic": False})
    data["entra_app_role_assignments"].append({"id": f"a-{group_id}", "principalId": group_id,
                                               "principalType": "Group", "principalDisplayName": name})
    return data


def test_assigned_groups_sharing_a_name_are_one_finding_listing_them_all():
    data = with_group(rows(), "g-copy", "AWS-Devs")
    hit = bt.run(s.duplicate_value, data)["group:AWS-Devs"]
    assert hit.evidence["groupIds"] == ["g-aws-devs", "g-copy"]
    # Not assigned (and the job syncs assigned groups only): never sent, never refused.
    data["entra_app_role_assignments"].pop()
    assert "group:AWS-Devs" not in bt.run(s.duplicate_value, data)
    # Names differing only in case are left alone: AWS documents no case folding for group names.
    assert "group:aws-devs" not in bt.run(s.duplicate_value, with_group(rows(), "g-lower", "aws-devs"))


def test_assigned_group_names_with_characters_identity_center_refuses():
    data = with_group(rows(), "g-ops", 'AWS Ops "on-call"')
    hit = bt.run(s.forbidden_characters, data)['group:AWS Ops "on-call"']
    assert hit.evidence["attributes"][0]["characters"] == ['"'] and hit.evidence["groupId"] == "g-ops"
    assert bt.run(s.forbidden_characters, with_group(rows(), "g-ok", "AWS-Ops-on-call")) == {}


def test_a_group_name_not_mapped_is_not_judged():
    data = with_group(rows(), "g-ops", "AWS Ops: on-call")
    data["entra_sync_mappings"] = [
        m for m in data["entra_sync_mappings"]
        if not (m["sourceObjectName"] == "Group" and m["targetAttributeName"] == "displayName")]
    assert bt.run(s.forbidden_characters, data) == {}
