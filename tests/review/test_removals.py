import pandas as pd
import pytest

from idbridge.plan import apply_plan
from idbridge.review import plan_removals

from support.review_tables import INSTANCE, PS, path_row, pid


def decisions(**by_key) -> pd.DataFrame:
    return pd.DataFrame([{"path_id": k, "decision": v, "comment": "", "workbook": "w.xlsx", "cell": f"Access!O{n}"}
                         for n, (k, v) in enumerate(by_key.items(), start=2)])


def plan_of(access, tables, **by_key):
    return plan_removals(decisions(**by_key), access, tables)


def test_group_path_removes_the_membership_and_shows_every_access_it_ends(access, tables):
    prod, dev = pid(access, "bob", "111111111111"), pid(access, "bob", "222222222222")
    (change,) = plan_of(access, tables, **{prod: "Remove"}).changes
    assert (change.action, change.kind, change.key) == (
        "delete", "entra.group_member", "AWS-Devs / member bob@contoso.com")
    # what the group granted as the reviewers saw it: the applier refuses when it grants more by then
    assert change.payload == {"group_id": "g-AWS-Devs", "member_id": "u-bob", "idc_principal_type": "GROUP",
                              "idc_principal_id": "ig-AWS-Devs", "instance_arn": INSTANCE,
                              "grants_seen": (f"111111111111 {PS['ReadOnly'][0]}", f"222222222222 {PS['ReadOnly'][0]}")}
    assert change.summary == (
        "Remove bob@contoso.com from Entra group AWS-Devs: ends 1 access reviewed Remove; ALSO ends 1 more: "
        "bob@contoso.com: ReadOnly on data-dev (222222222222) via group AWS-Devs; AWS follows at the next "
        "provisioning cycle")
    assert change.before["also_ends"] == ["bob@contoso.com: ReadOnly on data-dev (222222222222) via group AWS-Devs"]
    assert change.before["decided_in"] == ["w.xlsx Access!O2"] and change.after is None
    # a Keep on the other access is a conflict, said first
    (change,) = plan_of(access, tables, **{prod: "Remove", dev: "Keep"}).changes
    assert change.summary.startswith("CONFLICT with a Keep: Remove bob@contoso.com")
    assert "via group AWS-Devs [marked Keep]" in change.summary and len(change.before["marked_keep"]) == 1


def test_two_paths_ended_by_one_change_give_one_change(access, tables):
    plan = plan_of(access, tables, **{pid(access, "bob", "111111111111"): "Remove",
                                      pid(access, "bob", "222222222222"): "Remove"})
    (change,) = plan.changes
    assert "ALSO" not in change.summary and "ends 2 accesses reviewed Remove" in change.summary
    assert len(change.before["ends"]) == 2 and change.before["also_ends"] == []


def test_direct_user_removes_the_account_assignment_and_the_app_assignment_when_all_go(access, tables):
    prod, sandbox = pid(access, "alice", "111111111111"), pid(access, "alice", "333333333333")
    (change,) = plan_of(access, tables, **{prod: "Remove", sandbox: "Keep"}).changes
    assert (change.kind, change.key) == ("aws.account_assignment", "USER alice@contoso.com -> 111111111111 / Admin")
    assert change.payload == {"instance_arn": INSTANCE, "account_id": "111111111111",
                              "permission_set_arn": PS["Admin"][0], "principal_type": "USER", "principal_id": "i-alice"}
    assert change.summary == ("Delete the account assignment of Admin on data-prod (111111111111) to user "
                              "alice@contoso.com: ends 1 access reviewed Remove")
    plan = plan_of(access, tables, **{prod: "Remove", sandbox: "Remove"})
    assert [c.kind for c in plan.changes] == ["aws.account_assignment", "aws.account_assignment",
                                              "entra.app_role_assignment"]
    app = plan.changes[-1]
    assert app.payload == {"service_principal_id": "sp-aws", "assignment_id": "ara-alice", "principal_id": "u-alice",
                           "idc_principal_type": "USER", "idc_principal_id": "i-alice", "instance_arn": INSTANCE,
                           "grants_seen": (f"111111111111 {PS['Admin'][0]}", f"333333333333 {PS['ReadOnly'][0]}")}
    assert app.summary.startswith("Remove the direct assignment of alice@contoso.com to the app AWS IAM Identity "
                                  "Center; every direct account assignment")
    assert app.before["decided_in"] == ["w.xlsx Access!O2", "w.xlsx Access!O3"]
    # without the Entra app tables the optional clean-up is left out, the AWS removals stay
    partial = {k: v for k, v in tables.items() if k != "entra_app_role_assignments"}
    assert [c.kind for c in plan_removals(decisions(**{prod: "Remove", sandbox: "Remove"}), access, partial).changes] \
        == ["aws.account_assignment"] * 2


def test_nested_idc_only_and_orphaned(access, tables):
    plan = plan_of(access, tables, **{pid(access, "dave", "111111111111"): "Remove",
                                      pid(access, "olivia", "111111111111"): "Remove",
                                      pid(access, "platform.admin", "333333333333"): "Remove",
                                      pid(access, None, "333333333333"): "Remove"})
    by_key = {c.key: c for c in plan.changes}
    assert list(by_key) == ["GROUP ig-gone -> 333333333333 / Admin",
                            "USER platform.admin@contoso.com -> 333333333333 / ReadOnly",
                            "AWS-Devs / member olivia@contoso.com", "Nested / member dave@contoso.com"]
    assert by_key["Nested / member dave@contoso.com"].payload == {"group_id": "g-Nested", "member_id": "u-dave"}
    assert "never worked in AWS" in by_key["Nested / member dave@contoso.com"].summary
    olivia = by_key["AWS-Devs / member olivia@contoso.com"]
    assert olivia.kind == "aws.group_membership" and olivia.payload == {
        "identity_store_id": "d-1234567890", "membership_id": "m-olivia", "group_id": "ig-AWS-Devs",
        "user_id": "i-olivia", "idc_principal_type": "GROUP", "idc_principal_id": "ig-AWS-Devs",
        "instance_arn": INSTANCE, "grants_seen": (f"111111111111 {PS['ReadOnly'][0]}",
                                                  f"222222222222 {PS['ReadOnly'][0]}")}
    orphan = by_key["GROUP ig-gone -> 333333333333 / Admin"]
    assert orphan.payload["principal_id"] == "ig-gone" and orphan.summary.endswith("the principal no longer exists")


def test_another_way_in_is_shown(access, tables):
    access = pd.concat([access, pd.DataFrame([path_row("direct_user", "bob", "111111111111", "ReadOnly")])],
                       ignore_index=True)
    (change,) = plan_of(access, tables, **{pid(access, "bob", "111111111111", "group"): "Remove",
                                           pid(access, "bob", "222222222222"): "Remove"}).changes
    assert change.summary.endswith("; still reached another way: bob@contoso.com: ReadOnly on data-prod "
                                   "(111111111111) assigned directly; AWS follows at the next provisioning cycle")


def test_keeps_and_blanks_plan_nothing_and_the_plan_goes_through_apply_plan(access, tables):
    assert plan_of(access, tables, **{pid(access, "bob", "111111111111"): "Keep",
                                      pid(access, "carol", "111111111111"): ""}).is_empty
    plan = plan_of(access, tables, **{pid(access, "bob", "111111111111"): "Remove"})
    assert plan.step == "review-removals" and plan.frame()["after"].tolist() == [""]
    outcomes = apply_plan(plan, {}, apply=True, allow_removals=False, change_log=None)
    assert [o.status for o in outcomes] == ["blocked"]


def test_missing_snapshot_ids_fail_loudly(access, tables):
    with pytest.raises(LookupError, match="instance ARN"):
        plan_of(access, {}, **{pid(access, "alice", "111111111111"): "Remove"})
    with pytest.raises(LookupError, match="no membership of user i-olivia"):
        plan_of(access, {**tables, "idc_group_memberships": tables["idc_group_memberships"].iloc[:0]},
                **{pid(access, "olivia", "111111111111"): "Remove"})
    with pytest.raises(ValueError, match="not in the access table"):
        plan_of(access, tables, nope="Remove")


def test_group_path_without_entra_side_removes_the_identity_center_membership(access, tables):
    key = pid(access, "bob", "111111111111")
    access.loc[access["path_id"].eq(key), "entra_group_id"] = None  # group membership not collected in Entra
    (change,) = plan_of(access, tables, **{key: "Remove"}).changes
    assert change.kind == "aws.group_membership" and change.payload["membership_id"] == "m-bob"
    assert change.summary.endswith("Entra's side of this membership is unknown: if Entra has it, SCIM adds it back")
