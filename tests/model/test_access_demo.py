"""The access model on a real collection of the demo scenario: every row explains itself hop by hop, and the row
counts reconcile with the snapshot's tables (counted here straight from the tables, not through the model)."""

from __future__ import annotations

import pandas as pd
import pytest

from idbridge.checks.settings import settings_for
from idbridge.model.access.build import build_access, explain, highest_privilege_matrix, who_can_reach
from idbridge.model.access.columns import ACCESS_COLUMNS
from idbridge.model.scope import bridge

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(demo_snapshot):
    settings = settings_for(demo_snapshot.params, demo_snapshot.manifest["collected_at"])
    return demo_snapshot, build_access(demo_snapshot, settings)


def _persons(rows: pd.DataFrame) -> set[str]:
    upn = rows["user_principal_name"].astype(object)
    return set(upn.where(upn.notna(), rows["idc_user_name"].astype(object)))


def test_every_path_explains_itself_hop_by_hop(demo):
    _, access = demo
    assert tuple(access.columns) == ACCESS_COLUMNS and access["path_id"].is_unique
    for _, row in access.iterrows():
        sentences = explain(access, row["path_id"])
        assert len(sentences) >= 4, sentences
        assert sentences[-1].startswith("Effective" if row["effective"] else "Not effective")
        assert str(row["permission_set_name"]) in " ".join(sentences)
        assert str(row["account_id"]) in " ".join(sentences)
        person = row["user_principal_name"] if isinstance(row["user_principal_name"], str) else row["idc_user_name"]
        if isinstance(person, str):
            assert person in sentences[0]


def test_group_paths_reconcile_with_the_snapshot(demo):
    snapshot, access = demo
    members = snapshot.table("entra_group_members")
    users = snapshot.table("entra_users")
    direct = members[(members["relation"] == "direct") & (members["memberType"] == "user")
                     & members["memberId"].isin(users["id"])]
    groups = snapshot.table("idc_groups").explode("externalIds")
    assignments = snapshot.table("idc_account_assignments")
    per_group = assignments[assignments["principalType"] == "GROUP"].merge(
        groups[["groupId", "externalIds"]], left_on="principalId", right_on="groupId")
    expected = per_group.merge(direct, left_on="externalIds", right_on="groupId")
    got = access[access["path_kind"] == "group"]
    assert len(got) == len(expected)  # every (assignment × direct Entra member) once, provisioned or not

    # effective: the member is also in the Identity Center group, and enabled there
    idc_users = snapshot.table("idc_users")
    matched = bridge(snapshot).user_match.merge(idc_users[["userId", "userStatus"]], left_on="idcUserId",
                                                right_on="userId")
    memberships = snapshot.table("idc_group_memberships")
    works = expected.merge(matched, left_on="memberId", right_on="entraId").merge(
        memberships, left_on=["principalId", "idcUserId"], right_on=["groupId", "userId"])
    works = works[works["userStatus"] == "ENABLED"]
    assert int(got["effective"].sum()) == len(works)
    not_working = _persons(got[~got["effective"]])
    assert not_working == {"tiago.mendonca@northwind-analytics.com", "adaeze.okafor@northwind-analytics.com"}


def test_direct_idc_only_and_orphaned_paths_reconcile(demo):
    snapshot, access = demo
    assignments = snapshot.table("idc_account_assignments")
    users = set(snapshot.table("idc_users")["userId"])
    groups = set(snapshot.table("idc_groups")["groupId"])
    gone = assignments[~assignments["principalId"].isin(users | groups)]
    orphaned = access[access["path_kind"] == "orphaned"]
    assert len(orphaned) == len(gone) == 1
    assert set(orphaned["account_id"]) == {"193846572019"} and not orphaned["effective"].any()
    assert set(orphaned["idc_principal_id"]) == set(gone["principalId"])

    direct = access[access["path_kind"] == "direct_user"]
    assert len(direct) == int((assignments["principalType"] == "USER").sum()) == 1
    assert _persons(direct) == {"sanne.devries@northwind-analytics.com"}

    idc_only = access[access["path_kind"] == "idc_only"]
    states = dict(zip(idc_only["idc_user_name"].astype(object), idc_only["entra_state"].astype(object)))
    # The people whose PIM activation of AWS-Platform-Prod-JIT ended while the membership stays in Identity Center
    # (access.pim_membership_outlives_activation): access Entra no longer grants, held through Identity Center only.
    lingering = {f.subject.removeprefix("user:") for f in snapshot.scenario.faults
                 if f.check == "access.pim_membership_outlives_activation"}
    assert "katharina.schwarz@northwind-analytics.com" in lingering
    assert states == {"olivia.grant@northwind-analytics.com": "deleted",
                      "platform.admin@northwind-analytics.com": "not_in_entra",
                      **{upn: "active" for upn in lingering}}
    assert idc_only["effective"].all()
    others = idc_only[~idc_only["idc_user_name"].isin(lingering)]
    assert others["entra_user_id"].isna().all()
    # the activation requests tell when each of those activations ended (Graph lists them no more)
    held = idc_only[idc_only["idc_user_name"].isin(lingering)]["membership"].astype(object)
    assert held.str.match(r"PIM activation ended \d{4}-\d\d-\d\d \d\d:\d\d UTC$").all()


def test_nested_only_users_appear_only_as_nested_group_paths(demo):
    snapshot, access = demo
    nested_only = set(bridge(snapshot).scope.nested_only["memberId"])
    assert nested_only
    rows = access[access["entra_user_id"].isin(nested_only)]
    assert set(rows["path_kind"]) == {"nested_group"} and not rows["effective"].any()
    assert _persons(rows) == {"jaroslaw.kubiak@northwind-analytics.com", "amara.diallo@northwind-analytics.com"}
    assert set(rows["nested_group_name"]) == {"Data-Contractors"} and set(rows["entra_group_name"]) == {
        "AWS-Data-ReadOnly"}
    assert set(access.loc[access["path_kind"] == "nested_group", "entra_user_id"]) == nested_only


def test_privilege_and_production_in_the_demo(demo):
    _, access = demo
    admins = who_can_reach(access, group="AWS-Prod-Admins")
    assert set(admins["privilege"]) == {"admin"} and admins["is_production"].all()
    assert set(admins["account_name"]) == {"northwind-management", "log-archive", "security-tooling",
                                           "shared-services", "network", "platform-prod", "insights-prod",
                                           "data-prod"}
    matrix = highest_privilege_matrix(access, by="group")
    assert matrix.loc["AWS-Prod-Admins", "data-prod"] == 4 and matrix.loc["AWS-Developers", "dev-shared"] == 3
    assert matrix.loc["AWS-Developers", "platform-prod"] == 1
    sandbox = access[access["permission_set_name"] == "DeveloperSandbox"]
    assert set(sandbox["privilege"]) == {"admin"} and "iam:PassRole" in str(sandbox["reasons"].iloc[0])
    assert set(access.loc[access["permission_set_name"] == "DataEngineer", "session_hours"]) == {12.0}
