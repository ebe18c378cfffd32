"""The access model on small hand-made organisations: every path kind, when a path is effective, the joins to
accounts and permission sets, path ids, and the helpers notebooks use (explain, who_can_reach, the matrix)."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from test_access_world import (ADMIN, DEV, PROD, PS, assignment, idc_user, member, permission_set, policy, rows,
                              tables)

from idbridge.core.parameters import ChecksParams
from idbridge.model.access.build import build_access, explain, highest_privilege_matrix, who_can_reach
from idbridge.model.access.columns import ACCESS_COLUMNS


def access(data=None, **checks) -> pd.DataFrame:
    return build_access(tables(data), ChecksParams(**checks))


def paths(frame: pd.DataFrame, **match) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        mask &= frame[column].astype(object).eq(value)
    return frame[mask]


def test_columns_are_the_contract_and_the_clean_world_is_counted_right():
    table = access()
    assert tuple(table.columns) == ACCESS_COLUMNS
    assert table["path_id"].is_unique
    counts = table.groupby(["path_kind", "effective"], observed=True).size().to_dict()
    # bob and carol: Developer on dev + ReadOnly on prod; alice: ReadOnly on dev and prod; dave: nested, twice
    assert counts == {("group", True): 6, ("nested_group", False): 2}
    bob = paths(table, user_principal_name="bob@contoso.com", account_id=DEV).iloc[0]
    assert bob["entra_group_name"] == "AWS-Devs" and bob["idc_principal_name"] == "AWS-Devs"
    assert bob["idc_principal_type"] == "GROUP" and bob["idc_user_name"] == "bob@contoso.com"
    assert bob["entra_state"] == "active" and bool(bob["account_enabled"]) and bob["user_type"] == "Member"
    assert bob["permission_set_name"] == "Developer" and bob["privilege"] == "power" and bob["privilege_rank"] == 3
    assert bob["session_duration"] == "PT2H" and bob["session_hours"] == 2.0
    assert bob["managed_policies"] == "PowerUserAccess" and not bob["has_inline_policy"]
    assert bob["account_name"] == "dev" and bob["ou_path"] == "Workloads/NonProd" and not bob["is_production"]
    prod = paths(table, user_principal_name="bob@contoso.com", account_id=PROD).iloc[0]
    assert prod["is_production"] and prod["account_tags"] == "environment=prod; owner=platform"


def test_nested_only_users_are_nested_group_paths_that_never_work():
    table = access()
    dave = paths(table, user_principal_name="dave@contoso.com")
    assert set(dave["path_kind"]) == {"nested_group"} and not dave["effective"].any()
    assert set(dave["nested_group_name"]) == {"Nested"} and set(dave["entra_group_name"]) == {"AWS-Devs"}
    assert dave["idc_user_id"].isna().all()


def test_a_user_in_two_nested_groups_gets_the_one_whose_membership_holds_him():
    data = rows()
    data["entra_groups"].append({"id": "g-nested2", "displayName": "Nested2"})
    data["entra_group_members"] += [member("g-aws-devs", "g-nested2", kind="group"),
                                    member("g-nested2", "u-dave")]
    assert set(paths(access(data), user_principal_name="dave@contoso.com")["nested_group_name"]) == {"Nested2"}


def test_entra_member_not_in_identity_center_is_a_group_path_that_does_not_work():
    data = rows()
    data["entra_group_members"].append(member("g-aws-devs", "u-erin"))
    erin = paths(access(data), user_principal_name="erin@contoso.com")
    assert set(erin["path_kind"]) == {"group"} and not erin["effective"].any() and erin["idc_user_id"].isna().all()
    assert explain(access(data), erin["path_id"].iloc[0])[-1].startswith("Not effective: the user is not in")


def test_membership_not_synced_yet_and_disabled_identity_center_user_do_not_work():
    data = rows()
    data["idc_group_memberships"] = [m for m in data["idc_group_memberships"] if m["userId"] != "i-bob"]
    data["idc_users"][2]["userStatus"] = "DISABLED"  # carol
    table = access(data)
    bob = paths(table, user_principal_name="bob@contoso.com")
    carol = paths(table, user_principal_name="carol@contoso.com")
    assert not bob["effective"].any() and bob["idc_user_name"].notna().all()
    assert not carol["effective"].any() and set(carol["idc_user_status"]) == {"DISABLED"}
    assert "does not list the user as a member" in explain(table, bob["path_id"].iloc[0])[-1]


def test_disabled_in_entra_but_enabled_in_identity_center_still_works():
    data = rows()
    data["entra_users"][1]["accountEnabled"] = False  # bob
    bob = paths(access(data), user_principal_name="bob@contoso.com")
    assert bob["effective"].all() and set(bob["entra_state"]) == {"disabled"}
    assert not bob["account_enabled"].any()
    assert "although the user is disabled in Entra" in explain(access(data), bob["path_id"].iloc[0])[-1]


def test_a_user_deleted_in_entra_is_idc_only_without_entra_columns():
    data = rows()
    data["entra_users"] = [u for u in data["entra_users"] if u["id"] != "u-bob"]
    data["entra_group_members"] = [m for m in data["entra_group_members"] if m["memberId"] != "u-bob"]
    bob = paths(access(data), idc_user_name="bob@contoso.com")
    assert set(bob["path_kind"]) == {"idc_only"} and bob["effective"].all()
    assert set(bob["entra_state"]) == {"deleted"}
    assert bob[["entra_user_id", "user_principal_name", "entra_group_id"]].isna().all().all()
    assert set(bob["idc_principal_name"]) == {"AWS-Devs"}


def test_hand_made_principals_are_idc_only_not_in_entra():
    data = rows()
    data["idc_users"].append(idc_user("root", externalIds=[], createdBy=ADMIN))
    data["idc_groups"].append({"groupId": "ig-legacy", "displayName": "Legacy", "externalIds": [],
                               "createdBy": ADMIN})
    data["idc_group_memberships"].append({"groupId": "ig-legacy", "userId": "i-root", "membershipId": "m9"})
    data["idc_account_assignments"] += [assignment(PROD, "ReadOnly", "ig-legacy"),
                                        assignment(DEV, "Developer", "i-root", "USER")]
    root = paths(access(data), idc_user_name="root@contoso.com")
    assert set(root["path_kind"]) == {"idc_only"} and set(root["entra_state"]) == {"not_in_entra"}
    assert set(zip(root["idc_principal_type"], root["idc_principal_name"])) == {
        ("GROUP", "Legacy"), ("USER", "root@contoso.com")}
    assert "created in Identity Center, not by SCIM" in explain(access(data), root["path_id"].iloc[0])[0]


def test_identity_center_membership_entra_no_longer_has_is_idc_only_with_the_person_known():
    data = rows()
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-alice", "membershipId": "m8"})
    alice = paths(access(data), user_principal_name="alice@contoso.com", idc_principal_name="AWS-Devs")
    assert set(alice["path_kind"]) == {"idc_only"} and alice["effective"].all()
    assert alice["entra_group_id"].isna().all() and set(alice["entra_state"]) == {"active"}


def test_identity_center_membership_is_trusted_where_entra_membership_was_not_collected():
    """Sync all users and groups: groups not assigned to the app are provisioned, their members not collected."""
    data = rows()
    data["entra_groups"].append({"id": "g-all", "displayName": "All Staff"})
    data["idc_groups"].append({"groupId": "ig-all", "displayName": "All Staff", "externalIds": ["g-all"],
                               "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70"})
    data["idc_group_memberships"].append({"groupId": "ig-all", "userId": "i-bob", "membershipId": "m7"})
    data["idc_account_assignments"].append(assignment(DEV, "ReadOnly", "ig-all"))
    row = paths(access(data), user_principal_name="bob@contoso.com", idc_principal_name="All Staff")
    assert list(row["path_kind"]) == ["group"] and row["effective"].all()
    assert list(row["entra_group_name"]) == ["All Staff"]


def test_direct_user_assignment_and_orphaned_assignment():
    data = rows()
    data["idc_account_assignments"] += [assignment(PROD, "ReadOnly", "i-alice", "USER"),
                                        assignment(PROD, "Developer", "ig-gone")]
    table = access(data)
    direct = paths(table, path_kind="direct_user")
    assert list(direct["user_principal_name"]) == ["alice@contoso.com"] and direct["effective"].all()
    assert list(direct["idc_principal_type"]) == ["USER"] and direct["entra_group_id"].isna().all()
    orphan = paths(table, path_kind="orphaned")
    assert len(orphan) == 1 and not orphan["effective"].any()
    assert orphan.iloc[0]["idc_principal_id"] == "ig-gone" and pd.isna(orphan.iloc[0]["idc_principal_name"])
    assert orphan[["entra_user_id", "idc_user_id", "entra_state"]].isna().all().all()
    assert orphan.iloc[0]["account_name"] == "prod" and orphan.iloc[0]["permission_set_name"] == "Developer"
    assert "no longer has" in explain(table, orphan.iloc[0]["path_id"])[0]


def test_production_from_tags_or_ous_given_in_the_parameters():
    assert set(paths(access(), is_production=True)["account_id"]) == {PROD}
    by_ou = access(production={"tags": {}, "ous": ["workloads/nonprod"]})
    assert set(paths(by_ou, is_production=True)["account_id"]) == {DEV}
    nothing = access(production={"tags": {"stage": ["live"]}, "ous": ["Workloads/Pro"]})  # not a path segment
    assert not nothing["is_production"].any()


def test_path_ids_are_stable_and_depend_on_the_hops_only():
    first = access().set_index("path_id")
    shuffled = rows()
    for name in ("entra_users", "idc_users", "idc_account_assignments", "idc_group_memberships"):
        random.Random(7).shuffle(shuffled[name])
    again = access(shuffled).set_index("path_id")
    assert sorted(first.index) == sorted(again.index)
    pd.testing.assert_series_equal(first["permission_set_name"].astype(object).sort_index(),
                                   again["permission_set_name"].astype(object).sort_index())
    # a user not provisioned yet keeps the id of the path once provisioned
    data = rows()
    data["entra_group_members"].append(member("g-aws-devs", "u-erin"))
    before = set(paths(access(data), user_principal_name="erin@contoso.com")["path_id"])
    data["idc_users"].append(idc_user("erin"))
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-erin", "membershipId": "m6"})
    after = paths(access(data), user_principal_name="erin@contoso.com")
    assert set(after["path_id"]) == before and after["effective"].all()
    # another permission set on the same account is another path
    data["idc_account_assignments"][0]["permissionSetArn"] = PS["ReadOnly"]
    assert set(paths(access(data), user_principal_name="erin@contoso.com")["path_id"]) != before


def test_permission_set_columns_and_privilege():
    data = rows()
    data["idc_permission_sets"].append(permission_set("Admin", "PT1H30M"))
    data["idc_permission_set_policies"] += [
        policy("Admin"), {"permissionSetArn": PS["Admin"], "kind": "boundary_customer_managed",
                          "policyName": "Fence", "policyPath": "/b/"},
        {"permissionSetArn": PS["Admin"], "kind": "inline", "document": '{"Statement": []}'},
        {"permissionSetArn": PS["Admin"], "kind": "customer_managed", "policyName": "Extra", "policyPath": "/x/"}]
    data["idc_account_assignments"].append(assignment(DEV, "Admin", "ig-readers"))
    row = paths(access(data), permission_set_name="Admin").iloc[0]
    assert row["privilege"] == "admin" and row["privilege_rank"] == 4 and row["session_hours"] == 1.5
    assert row["boundary"] == "/b/Fence" and row["has_inline_policy"]
    assert row["customer_managed_policies"] == "/x/Extra"
    assert "AdministratorAccess" in row["reasons"] and "/b/Fence" in row["reasons"]


def test_explain_tells_each_hop():
    table = access()
    bob = paths(table, user_principal_name="bob@contoso.com", account_id=PROD).iloc[0]
    sentences = explain(table, bob["path_id"])
    assert sentences[0].startswith("Entra user Bob Test (bob@contoso.com")
    assert "Direct member of Entra group AWS-Devs" in sentences[1]
    assert "ReadOnly on account prod" in sentences[3]
    assert sentences[-1] == "Effective: AWS grants this access today."
    dave = paths(table, user_principal_name="dave@contoso.com").iloc[0]
    assert any("member of Entra group Nested, nested in AWS-Devs" in s for s in explain(table, dave["path_id"]))
    with pytest.raises(KeyError):
        explain(table, "0000000000000000")


def test_who_can_reach_and_the_privilege_matrix():
    table = access()
    assert set(who_can_reach(table, account="prod")["user_principal_name"]) == {
        "alice@contoso.com", "bob@contoso.com", "carol@contoso.com"}
    assert set(who_can_reach(table, group="aws-devs")["user_principal_name"]) == {"bob@contoso.com",
                                                                                  "carol@contoso.com"}
    assert set(who_can_reach(table, group="Nested", effective=False)["user_principal_name"]) == {"dave@contoso.com"}
    assert who_can_reach(table, group="Nested").empty
    assert set(who_can_reach(table, user="BOB@contoso.com", account=DEV)["permission_set_name"]) == {"Developer"}
    users = highest_privilege_matrix(table, by="user")
    assert users.loc["bob@contoso.com", "dev"] == 3 and users.loc["bob@contoso.com", "prod"] == 1
    assert users.loc["alice@contoso.com", "dev"] == 1 and "dave@contoso.com" not in users.index
    groups = highest_privilege_matrix(table, by="group")
    assert groups.to_dict() == {"dev": {"AWS-Devs": 3, "AWS-Readers": 1}, "prod": {"AWS-Devs": 1, "AWS-Readers": 1}}


def test_an_organisation_without_assignments_has_an_empty_table():
    data = rows()
    data["idc_account_assignments"] = []
    table = access(data)
    assert table.empty and tuple(table.columns) == ACCESS_COLUMNS
    assert highest_privilege_matrix(table).empty
