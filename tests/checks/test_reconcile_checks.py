"""Reconciliation checks on small tables: the baseline tenant passes, each kind of drift fails with its subject."""

from __future__ import annotations

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import reconcile as r
from idbridge.checks.runner import run_checks

load_all()


def without(data: dict, table: str, **match) -> dict:
    data[table] = [row for row in data[table] if not all(row.get(k) == v for k, v in match.items())]
    return data


def test_the_baseline_passes_every_reconcile_check():
    results = run_checks(bt.tables(), bt.settings(), areas=["reconcile"])
    assert results.findings == [] and {o.status for o in results.outcomes} == {"pass"}


# --------------------------------------------------------------------------------------------- presence


def test_missing_user_and_group():
    data = without(bt.rows(), "idc_users", userId="i-bob")
    data = without(data, "idc_group_memberships", userId="i-bob")
    data["entra_app_role_assignments"].append({"id": "a3", "principalId": "g-other", "principalType": "Group"})
    hits = bt.run(r.missing_in_idc, data)
    assert set(hits) == {"user:bob@contoso.com", "group:Other"}
    assert hits["user:bob@contoso.com"].evidence["inScopeThrough"] == ["direct member of AWS-Devs"]
    assert hits["group:Other"].evidence["assigned"] is True


def test_a_disabled_user_never_provisioned_is_not_missing():
    data = without(bt.rows(), "idc_users", userId="i-alice")
    bt.find(data, "entra_users", id="u-alice")["accountEnabled"] = False
    assert bt.run(r.missing_in_idc, data) == {}


def test_nested_only_and_out_of_scope_users_are_not_missing():
    assert bt.run(r.missing_in_idc) == {}  # dave (nested only) and erin (unassigned) are not in scope


def test_extra_users_and_groups():
    data = bt.rows()
    data = without(data, "entra_users", id="u-carol")                           # deleted in Entra
    data = without(data, "entra_group_members", memberId="u-carol")
    data["idc_users"].append(bt._idc_user("erin"))                              # out of scope
    data["idc_users"].append(bt._idc_user("root", externalIds=[], createdBy=bt.ADMIN_ARN))  # by hand
    data["idc_groups"].append({"groupId": "ig-legacy", "displayName": "Legacy", "externalIds": [],
                               "createdBy": bt.ADMIN_ARN})
    hits = bt.run(r.extra_in_idc, data)
    assert set(hits) == {"user:carol@contoso.com", "user:erin@contoso.com", "user:root@contoso.com", "group:Legacy"}
    assert "not in scope" in hits["user:erin@contoso.com"].detail
    assert "deleted in Entra" in hits["user:carol@contoso.com"].detail


def test_a_user_entra_disabled_when_it_left_scope_is_not_extra():
    data = bt.rows()
    data["idc_users"].append(bt._idc_user("erin", userStatus="DISABLED"))
    data["idc_users"].append(bt._idc_user("gone", userStatus="DISABLED", externalIds=["u-gone"]))  # no Entra user
    assert set(bt.run(r.extra_in_idc, data)) == {"user:gone@contoso.com"}


def test_everything_provisioned_is_in_scope_when_the_job_syncs_all():
    data = bt.rows()
    data["idc_users"] += [bt._idc_user("erin"), bt._idc_user("dave")]
    data["idc_groups"] += [{"groupId": "ig-o", "displayName": "Other", "externalIds": ["g-other"], "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70"},
                           {"groupId": "ig-n", "displayName": "Nested", "externalIds": ["g-nested"],
                            "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70"}]
    assert bt.run(r.extra_in_idc, data) == {} and bt.run(r.missing_in_idc, data) == {}
    assert bt.run(r.group_membership, data) == {}  # membership of unassigned groups was not collected


def test_created_by_hand():
    data = bt.rows()
    bt.find(data, "idc_users", userId="i-alice")["createdBy"] = bt.ADMIN_ARN
    data["idc_groups"].append({"groupId": "ig-legacy", "displayName": "Legacy", "createdBy": bt.ADMIN_ARN})
    hits = bt.run(r.created_by_hand, data)
    assert set(hits) == {"user:alice@contoso.com", "group:Legacy"}
    assert hits["group:Legacy"].evidence["createdBy"] == bt.ADMIN_ARN


# --------------------------------------------------------------------------------------------- membership


def test_group_membership_missing_and_extra_members():
    data = bt.rows()
    data = without(data, "idc_group_memberships", userId="i-carol")   # carol missing in Identity Center
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-alice", "membershipId": "m3"})
    data["idc_users"].append(bt._idc_user("ghost", externalIds=["u-ghost"]))
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-ghost", "membershipId": "m4"})
    hit = bt.run(r.group_membership, data)["group:AWS-Devs"]
    assert hit.evidence == {"missing_in_idc": ["carol@contoso.com"],
                            "extra_in_idc": ["alice@contoso.com", "ghost@contoso.com"]}


def test_group_membership_counts_a_member_not_yet_in_identity_center():
    data = without(bt.rows(), "idc_users", userId="i-bob")
    data = without(data, "idc_group_memberships", userId="i-bob")
    assert bt.run(r.group_membership, data)["group:AWS-Devs"].evidence["missing_in_idc"] == ["bob@contoso.com"]


def test_group_renamed_in_entra_keeps_its_old_name_in_identity_center():
    data = bt.rows()
    bt.find(data, "entra_groups", id="g-aws-devs")["displayName"] = "AWS-Engineers"  # renamed in Entra
    hits = bt.run(r.group_name_drift, data)
    assert set(hits) == {"group:AWS-Engineers"}  # the Entra (current) name
    evidence = hits["group:AWS-Engineers"].evidence
    assert evidence["entra"] == "AWS-Engineers" and evidence["identityCenter"] == "AWS-Devs"
    assert evidence["matchedBy"] == "externalId" and evidence["idcGroupId"] == "ig-devs"
    assert evidence["caseOnly"] is False
    # the rename is not a missing or extra group: the pair is still matched by externalId
    assert bt.run(r.missing_in_idc, data) == {} and bt.run(r.extra_in_idc, data) == {}
    assert bt.run(r.group_name_drift) == {}


def test_group_name_drift_in_letter_case_and_only_for_groups_in_scope():
    data = bt.rows()
    bt.find(data, "idc_groups", groupId="ig-devs")["displayName"] = "aws-devs"
    assert bt.run(r.group_name_drift, data)["group:AWS-Devs"].evidence["caseOnly"] is True
    data = bt.rows()  # Other is not assigned: its stale copy is extra_in_idc's business, not a rename
    data["idc_groups"].append({"groupId": "ig-other", "displayName": "Other-Old", "externalIds": ["g-other"],
                               "createdBy": bt.ADMIN_ARN})
    assert bt.run(r.group_name_drift, data) == {}


def test_group_name_drift_follows_the_display_name_mapping():
    data = bt.rows()
    bt.find(data, "entra_sync_mappings", sourceObjectName="Group",
            targetAttributeName="displayName")["sourceExpression"] = "[mailNickname]"
    bt.find(data, "entra_groups", id="g-aws-devs")["mailNickname"] = "AWS-Devs"
    assert bt.run(r.group_name_drift, data) == {}  # Entra sends the nickname, which Identity Center holds
    bt.find(data, "entra_groups", id="g-aws-devs")["mailNickname"] = "aws-devs-team"
    assert bt.run(r.group_name_drift, data)["group:AWS-Devs"].evidence["entraSource"] == "mailNickname"
    bt.find(data, "entra_sync_mappings", sourceObjectName="Group",
            targetAttributeName="displayName")["sourceExpression"] = "[extensionAttribute1]"
    result = run_checks(bt.tables(data), bt.settings(), ids=["reconcile.group_name_drift"]).outcomes[0]
    assert result.status == "not_checked" and "extensionAttribute1" in result.reason


# --------------------------------------------------------------------------------------------- attributes


def test_attribute_mismatch_lists_each_field():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob").update(surname="Smith", displayName="Bob Smith")
    bt.find(data, "idc_users", userId="i-carol")["email"] = "CAROL@contoso.com"  # email case does not matter
    bt.find(data, "entra_users", id="u-alice")["mail"] = None                      # cleared: not synced
    hits = bt.run(r.attribute_mismatch, data)
    assert set(hits) == {"user:bob@contoso.com", "user:alice@contoso.com"}
    bob = hits["user:bob@contoso.com"].evidence
    assert set(bob) == {"displayName", "familyName"}
    assert bob["familyName"] == {"entra": "Smith", "identityCenter": "Test", "entraSource": "surname"}
    assert "removals are not synced" in hits["user:alice@contoso.com"].evidence["note"]


def test_attribute_mismatch_follows_the_mapping_source():
    data = bt.rows()
    bt.find(data, "entra_sync_mappings", targetAttributeName='emails[type eq "work"].value')["sourceExpression"] = \
        "[userPrincipalName]"
    bt.find(data, "entra_users", id="u-bob")["mail"] = "bobby@other.com"  # not what the job sends
    assert bt.run(r.attribute_mismatch, data) == {}


def test_user_name_mismatch_and_case_are_reported_separately():
    data = bt.rows()
    bt.find(data, "idc_users", userId="i-bob")["userName"] = "bob@contoso.onmicrosoft.com"
    bt.find(data, "idc_users", userId="i-carol")["userName"] = "Carol@Contoso.com"
    assert set(bt.run(r.username_mismatch, data)) == {"user:bob@contoso.com"}
    case = bt.run(r.username_case, data)
    assert set(case) == {"user:carol@contoso.com"}
    assert case["user:carol@contoso.com"].evidence["idcUserName"] == "Carol@Contoso.com"
    assert bt.run(r.username_mismatch) == {} and bt.run(r.username_case) == {}


# --------------------------------------------------------------------------------------------- identifiers


def test_external_id_missing_on_a_scim_user_only():
    data = bt.rows()
    bt.find(data, "idc_users", userId="i-bob").update(externalIds=[])
    data["idc_users"].append(bt._idc_user("root", externalIds=[], createdBy=bt.ADMIN_ARN))  # created_by_hand's
    assert set(bt.run(r.external_id, data)) == {"user:bob@contoso.com"}


@pytest.mark.parametrize("source", ["[mailNickname]", "[userPrincipalName]", "[employeeId]"])
def test_external_id_from_a_mutable_source_is_an_app_finding(source):
    data = bt.rows()
    bt.find(data, "entra_sync_mappings", targetAttributeName="externalId", sourceObjectName="User")[
        "sourceExpression"] = source
    hit = bt.run(r.external_id, data)[bt.APP]
    assert hit.evidence == {"user_externalId_source": source}


def test_external_id_not_mapped_at_all():
    data = without(bt.rows(), "entra_sync_mappings", targetAttributeName="externalId", sourceObjectName="Group")
    assert bt.run(r.external_id, data)[bt.APP].evidence == {"group_externalId_source": None}


def test_orphaned_assignment_per_account():
    data = bt.rows()
    data["idc_account_assignments"] += [
        {"accountId": account, "permissionSetArn": arn, "principalType": kind, "principalId": principal}
        for account, arn, kind, principal in (("222222222222", "arn:ps/ro", "GROUP", "ig-old"),
                                              ("222222222222", "arn:ps/dev", "USER", "i-old"),
                                              ("111111111111", "arn:ps/ro", "USER", "ig-devs"))]
    hits = bt.run(r.orphaned_assignment, data)
    assert set(hits) == {"account:222222222222", "account:111111111111"}  # a group id given as a user dangles too
    assert [a["permissionSet"] for a in hits["account:222222222222"].evidence["orphaned_assignments"]] == \
        ["ReadOnly", "Developer"]
    assert bt.run(r.orphaned_assignment) == {}


def test_disabled_and_deleted_users_still_enabled():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-bob")["accountEnabled"] = False           # disabled, still ENABLED
    bt.find(data, "entra_users", id="u-alice")["accountEnabled"] = False         # disabled and DISABLED: fine
    bt.find(data, "idc_users", userId="i-alice")["userStatus"] = "DISABLED"
    data = without(data, "entra_users", id="u-carol")                           # deleted in Entra
    data["idc_users"].append(bt._idc_user("root", externalIds=[], createdBy=bt.ADMIN_ARN))  # hand-made: not this
    hits = bt.run(r.disabled_still_enabled, data)
    assert set(hits) == {"user:bob@contoso.com", "user:carol@contoso.com"}
    assert "deleted" in hits["user:carol@contoso.com"].detail
    assert bt.run(r.disabled_still_enabled) == {}


def test_reconcile_is_not_checked_without_identity_center():
    data = bt.tables(not_collected={"idc_users": "AccessDenied", "idc_groups": "AccessDenied"})
    results = run_checks(data, bt.settings(), areas=["reconcile"])
    statuses = {o.check_id: o.status for o in results.outcomes}
    assert set(statuses.values()) == {"not_checked"}
