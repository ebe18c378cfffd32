"""PIM for Groups in the access model, on the tiny organisation of test_access_world: the state per (group,
person), the access table's `membership` column, and eligible paths kept out of the access table."""

from __future__ import annotations

import pandas as pd
import pytest
from test_access_world import DEV, NOW, PROD, rows, settings, tables

from idbridge.model.access.build import access_model, build_access, eligible_access
from idbridge.model.pim import pim_state, state_of


def window(kind: str, user: str, group: str = "g-aws-devs", *, start="2026-01-01T00:00:00Z", end=None,
           assignment_type=None, access="member") -> dict:
    return {"groupId": group, "id": f"{kind}-{group}-{user}-{start}", "kind": kind, "principalId": f"u-{user}",
            "accessId": access, "memberType": "direct", "assignmentType": assignment_type, "status": "Provisioned",
            "startDateTime": start, "endDateTime": end, "scheduleId": f"{kind}-{group}-{user}-{start}"}


def pim_world() -> dict:
    """AWS-Devs is PIM-managed: bob activated until 14:00 (a member on both sides), carol is eligible only (in
    neither), dave is a permanent active member of AWS-Readers, which nobody is eligible for."""
    data = rows()
    data["entra_pim_instances"] = [
        window("eligibility", "bob"), window("eligibility", "carol", end="2026-12-31T00:00:00Z"),
        window("assignment", "bob", start="2026-06-01T10:00:00Z", end="2026-06-01T14:00:00Z",
               assignment_type="activated"),
        window("assignment", "alice", "g-aws-readers", assignment_type="assigned")]
    data["entra_pim_schedules"] = [dict(w) for w in data["entra_pim_instances"]]
    data["entra_group_members"] = [m for m in data["entra_group_members"] if m["memberId"] != "u-carol"]
    data["idc_group_memberships"] = [m for m in data["idc_group_memberships"] if m["userId"] != "i-carol"]
    return data


def membership(table: pd.DataFrame, upn: str) -> set[str]:
    return set(table.loc[table["user_principal_name"].astype(object).eq(upn), "membership"].astype(object))


def test_state_per_group_and_person():
    data = pim_world()
    # an ownership grants nothing in AWS; a schedule still to come is not in force
    data["entra_pim_instances"] += [window("assignment", "erin", access="owner"),
                                    window("eligibility", "dave", start="2026-07-01T00:00:00Z")]
    data["entra_pim_schedules"].append(window("assignment", "carol", start="2026-05-31T08:00:00Z",
                                              end="2026-06-01T11:00:00Z", assignment_type="activated"))
    state = pim_state(tables(data), NOW)
    by = {(g, p): row for g, p, row in zip(state.pairs["groupId"], state.pairs["principalId"],
                                           state.pairs.to_dict("records"))}
    assert state.managed == {"g-aws-devs"}
    assert by[("g-aws-devs", "u-bob")]["state"] == "active"
    assert by[("g-aws-devs", "u-bob")]["until"] == pd.Timestamp("2026-06-01T14:00:00Z")
    # carol's activation ended an hour ago (Graph still lists it): eligible, and when it ended is known
    carol = by[("g-aws-devs", "u-carol")]
    assert carol["state"] == "eligible" and carol["ended"] == pd.Timestamp("2026-06-01T11:00:00Z")
    assert carol["eligible_until"] == pd.Timestamp("2026-12-31T00:00:00Z")
    assert by[("g-aws-readers", "u-alice")]["state"] == "permanent"
    assert ("g-aws-devs", "u-erin") not in by and ("g-aws-devs", "u-dave") not in by


def test_an_activation_that_ended_with_no_eligibility_left_is_ended():
    state = state_of(pd.DataFrame([window("assignment", "bob", end="2026-06-01T11:00:00Z",
                                          assignment_type="activated")]),
                     pd.DataFrame(columns=list(window("assignment", "x"))), NOW)
    assert state.pairs["state"].tolist() == ["ended"] and not state.managed


def test_membership_column_says_how_each_path_is_held():
    table = build_access(tables(pim_world()), settings())
    assert membership(table, "bob@contoso.com") == {"active (PIM) until 2026-06-01 14:00 UTC"}
    # AWS-Readers is not PIM-managed: a permanent assignment there is plain standing membership; so is the
    # direct assignment's (none here) and every group without PIM
    assert membership(table, "alice@contoso.com") == {"standing"}
    assert membership(table, "dave@contoso.com") == {"standing"}  # nested in AWS-Devs, not in PIM
    assert membership(table, "carol@contoso.com") == set()  # eligible only: no access row


def test_permanent_member_of_a_pim_group():
    data = pim_world()
    data["entra_pim_instances"].append(window("assignment", "bob", "g-aws-devs", assignment_type="assigned",
                                              start="2025-01-01T00:00:00Z"))
    assert membership(build_access(tables(data), settings()), "bob@contoso.com") == {"permanent (PIM)"}


def test_membership_lingering_in_identity_center_after_the_activation():
    data = pim_world()
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m9"})
    model = access_model(tables(data), settings())
    carol = model.access[model.access["user_principal_name"].astype(object).eq("carol@contoso.com")]
    assert set(carol["path_kind"]) == {"idc_only"} and carol["effective"].all()
    assert set(carol["membership"]) == {"PIM activation ended (no activation in force)"}
    assert model.eligible.empty  # she holds the group in Identity Center: nothing more to activate


def test_eligible_paths_are_what_could_be_activated_and_never_access():
    data = pim_world()
    plain = build_access(tables(rows()), settings())
    model = access_model(tables(data), settings())
    eligible = model.eligible
    assert list(eligible.columns) == list(model.access.columns)
    assert set(eligible["user_principal_name"]) == {"carol@contoso.com"}
    assert set(zip(eligible["account_id"], eligible["permission_set_name"])) == {(DEV, "Developer"),
                                                                                 (PROD, "ReadOnly")}
    assert set(eligible["path_kind"]) == {"eligible"} and not eligible["effective"].any()
    assert set(eligible["membership"]) == {"eligible (PIM) until 2026-12-31 00:00 UTC"}
    assert set(eligible["entra_group_name"]) == {"AWS-Devs"} and set(eligible["idc_principal_name"]) == {"AWS-Devs"}
    assert set(eligible["idc_user_name"]) == {"carol@contoso.com"}  # her Identity Center user, out of the group
    assert not set(eligible["path_id"]) & set(model.access["path_id"])
    # the access table holds the same paths as without PIM, less carol's (she left both groups' sides)
    assert "eligible" not in set(model.access["path_kind"].astype(object))
    assert len(model.access) == len(plain) - 2
    assert eligible_access(tables(data), settings()).equals(eligible)


def test_eligible_for_a_pim_group_only_nested_in_an_assigned_group_reaches_nothing():
    data = pim_world()
    data["entra_pim_instances"].append(window("eligibility", "erin", "g-nested"))
    assert set(access_model(tables(data), settings()).eligible["user_principal_name"]) == {"carol@contoso.com"}


@pytest.mark.parametrize("why", ["Forbidden: needs PrivilegedEligibilitySchedule.Read.AzureADGroup"])
def test_pim_not_collected_says_so_on_group_paths(why):
    data = pim_world()
    data["entra_app_role_assignments"].append({"id": "a9", "principalId": "u-bob", "principalType": "User"})
    data["idc_account_assignments"].append({"accountId": DEV, "permissionSetArn": "arn:ps/ro",
                                            "principalType": "USER", "principalId": "i-bob"})
    model = access_model(tables(data, {"entra_pim_schedules": why, "entra_pim_instances": why}), settings())
    kinds = dict(zip(model.access["path_kind"].astype(object) + ":" + model.access["user_principal_name"].astype(
        object).fillna(""), model.access["membership"].astype(object)))
    assert kinds["group:bob@contoso.com"] == f"not collected: {why}"
    assert kinds["direct_user:bob@contoso.com"] == "standing"  # PIM for Groups has no say on a direct assignment
    assert model.eligible.empty


def test_a_snapshot_without_the_pim_tables_is_not_collected():
    data = {k: v for k, v in rows().items() if not k.startswith("entra_pim")}
    table = build_access(tables(data), settings())
    group = table[table["path_kind"].astype(object).eq("group")]
    assert set(group["membership"].astype(object)) == {
        "not collected: not in this snapshot (taken before idbridge collected PIM for Groups)"}
