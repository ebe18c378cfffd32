"""The scope model: who provisioning sends to Identity Center, who is left out by nesting, how the two sides are
paired, and the reading of attribute mappings the checks predict from."""

from __future__ import annotations

import pandas as pd
import pytest

from support import bridge_tables as bt

from idbridge.model import mapping
from idbridge.model.scope import bridge, build_scope, match_groups, match_users


def model(data=None, not_collected=None, **kwargs):
    return bridge(bt.tables(data, not_collected), **kwargs)


# --------------------------------------------------------------------------------------------- scope


def test_scope_is_direct_assignments_and_direct_members_of_assigned_groups():
    scope = model().scope
    assert not scope.sync_all
    assert set(scope.assigned_users) == {"u-alice"}
    assert set(scope.assigned_groups) == {"g-aws-devs"}
    assert set(scope.users) == {"u-alice", "u-bob", "u-carol"} == set(scope.reachable)
    assert set(scope.groups) == {"g-aws-devs"}
    assert scope.nested_only.to_dict("records") == [{"groupId": "g-aws-devs", "memberId": "u-dave"}]


def test_a_nested_user_who_is_also_a_direct_member_elsewhere_is_not_nested_only():
    data = bt.rows()
    data["entra_app_role_assignments"].append({"id": "a3", "principalId": "u-dave", "principalType": "User"})
    assert model(data).scope.nested_only.empty


def test_group_members_of_unassigned_groups_and_group_members_are_not_in_scope():
    data = bt.rows()
    data["entra_group_members"].append({"groupId": "g-other", "memberId": "u-erin", "memberType": "user",
                                        "relation": "direct"})
    scope = model(data).scope
    assert "u-erin" not in scope.users and "g-nested" not in scope.users


def test_assignment_of_a_deleted_user_does_not_count():
    data = bt.rows()
    data["entra_app_role_assignments"].append({"id": "a9", "principalId": "u-gone", "principalType": "User"})
    assert "u-gone" not in model(data).scope.users


def test_empty_tables_give_an_empty_scope():
    data = {name: [] for name in bt.rows()}
    built = model(data)
    assert len(built.scope.users) == 0 and built.user_match.empty and not built.scope.sync_all


# --------------------------------------------------------------------------------------------- sync all


def test_sync_all_is_inferred_from_scim_groups_that_are_not_assigned():
    data = bt.rows()
    data["idc_groups"].append({"groupId": "ig-other", "displayName": "Other", "externalIds": ["g-other"],
                               "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70"})
    built = model(data)
    assert built.scope.sync_all
    assert built.sync_all_evidence["provisioned_groups_not_assigned"] == ["Other"]
    assert set(built.scope.users) == {"u-alice", "u-bob", "u-carol", "u-dave", "u-erin"}
    assert set(built.scope.groups) == {"g-aws-devs", "g-nested", "g-other"}
    assert built.scope.nested_only.empty  # everyone is provisioned anyway


def test_sync_all_is_inferred_from_the_jobs_group_count():
    data = bt.rows()
    data["entra_sync_jobs"][0]["status_json"] = \
        '{"synchronizedEntryCountByType": [{"key": "group to Group", "value": 3}]}'
    built = model(data)
    assert built.scope.sync_all
    assert built.sync_all_evidence == {"synchronized_group_count": 3, "assigned_group_count": 1}


def test_hand_made_groups_and_out_of_scope_users_do_not_make_sync_all():
    data = bt.rows()
    data["idc_groups"].append({"groupId": "ig-x", "displayName": "Other", "externalIds": [],
                               "createdBy": bt.ADMIN_ARN})
    data["idc_users"].append(bt._idc_user("erin"))  # a user out of scope: maybe removed after the last cycle
    assert not model(data).scope.sync_all


# --------------------------------------------------------------------------------------------- matching


def test_users_match_by_object_id_even_after_a_rename():
    data = bt.rows()
    bt.find(data, "idc_users", userId="i-bob")["userName"] = "robert@contoso.com"
    match = model(data).user_match.set_index("idcUserId")
    assert match.loc["i-bob", "entraId"] == "u-bob" and match.loc["i-bob", "matchedBy"] == "externalId"


def test_users_match_by_user_name_ignoring_case_when_there_is_no_external_id():
    entra = bt.frame("entra_users", [bt._user("alice")])
    idc = bt.frame("idc_users", [bt._idc_user("alice", userName="Alice@Contoso.com", externalIds=[])])
    assert match_users(entra, idc).to_dict("records") == [
        {"entraId": "u-alice", "idcUserId": "i-alice", "matchedBy": "userName"}]


def test_users_match_by_the_mapped_external_id_source():
    data = bt.rows()
    bt.find(data, "entra_sync_mappings", targetAttributeName="externalId",
            sourceObjectName="User")["sourceExpression"] = "[mailNickname]"
    for user in data["idc_users"]:
        user["externalIds"] = [user["userId"][2:]]
        user["userName"] = "old-" + user["userName"]
    match = model(data).user_match
    assert set(match["matchedBy"]) == {"externalIdSource"} and len(match) == 3


def test_matching_is_one_to_one_best_key_first():
    entra = bt.frame("entra_users", [bt._user("alice"), bt._user("bob")])
    # i-x carries alice's object id but bob's user name; i-y has bob's user name too.
    idc = bt.frame("idc_users", [bt._idc_user("x", userName="bob@contoso.com", externalIds=["u-alice"]),
                                 bt._idc_user("y", userName="bob@contoso.com", externalIds=[])])
    pairs = set(map(tuple, match_users(entra, idc)[["entraId", "idcUserId"]].to_numpy()))
    assert pairs == {("u-alice", "i-x"), ("u-bob", "i-y")}


def test_groups_match_by_external_id_then_display_name():
    entra = bt.frame("entra_groups", [{"id": "g1", "displayName": "A"}, {"id": "g2", "displayName": "B"}])
    idc = bt.frame("idc_groups", [{"groupId": "x", "displayName": "renamed", "externalIds": ["g1"]},
                                  {"groupId": "y", "displayName": "b", "externalIds": None}])
    assert match_groups(entra, idc)[["entraGroupId", "idcGroupId", "matchedBy"]].to_dict("records") == [
        {"entraGroupId": "g1", "idcGroupId": "x", "matchedBy": "externalId"},
        {"entraGroupId": "g2", "idcGroupId": "y", "matchedBy": "displayName"}]




def test_expected_users_leave_out_disabled_users_never_provisioned():
    data = bt.rows()
    bt.find(data, "entra_users", id="u-alice")["accountEnabled"] = False   # provisioned: still expected
    bt.find(data, "entra_users", id="u-carol")["accountEnabled"] = False   # ...
    data["idc_users"] = [u for u in data["idc_users"] if u["userId"] != "i-carol"]  # ...never provisioned
    assert set(model(data).expected_users()) == {"u-alice", "u-bob"}


def test_bridge_without_identity_center_when_allowed():
    not_collected = {"idc_users": "denied", "idc_groups": "denied"}
    built = model(not_collected=not_collected, need_idc=False)
    assert not built.idc_collected and built.user_match.empty
    assert set(built.scope.users) == {"u-alice", "u-bob", "u-carol"}
    with pytest.raises(Exception, match="denied"):
        model(not_collected=not_collected)


# --------------------------------------------------------------------------------------------- mappings


def plain(series) -> list:
    return [v if isinstance(v, list) or not pd.isna(v) else None for v in series]


def test_mapping_values_follow_provisioning_names():
    users = bt.frame("entra_users", [bt._user("alice", businessPhones=["+1 1"], mobilePhone="+1 2",
                                              mailNickname=None), bt._user("bob", mail="")])
    assert plain(mapping.values(users, "telephoneNumber")) == ["+1 1", None]
    assert plain(mapping.values(users, "mobile")) == ["+1 2", None]
    assert plain(mapping.values(users, "objectId")) == ["u-alice", "u-bob"]
    assert plain(mapping.values(users, "mailNickname")) == ["alice", "bob"]  # derived from the UPN when unset
    assert plain(mapping.values(users, "mail")) == ["alice@contoso.com", None]  # "" is nothing sent
    assert plain(mapping.values(users, "businessPhones")) == [["+1 1"], None]
    assert mapping.values(users, "state") is None  # not collected
    assert mapping.sent(users, 'Join(" ", [givenName], [surname])').all()
    assert mapping.count(mapping.values(users, "businessPhones"), users.index).tolist() == [1, 0]
    assert plain(mapping.scalar(mapping.values(users, "businessPhones"))) == ["+1 1", None]


def test_mapping_targets():
    assert mapping.entry_of('phoneNumbers[type eq "mobile"].value') == ("phoneNumbers", "mobile")
    assert mapping.entry_of('addresses[type eq "work"].locality') == ("addresses", "work")
    assert mapping.entry_of("emails") == ("emails", "*")
    assert mapping.entry_of("name.givenName") is None
    assert mapping.single_source(mapping.user_mappings(pd.DataFrame()), "externalId") == "objectId"
    assert mapping.references('Switch([IsSoftDeleted], , "False", "True")') == []
