"""The review-removal appliers (runbooks/review_apply.py) on the demo sandbox, through the real msgraph-sdk and
boto3: a plan made from a collected snapshot and reviewers' decisions, applied through the one plan/apply path.

One sandbox and one collection for the module (a collection takes ~25 s); each test removes other people's access
(memberships of other groups), so that none sees another's writes."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest
from support.runbook_harness import aws_writes, change_log
from support.sandbox import forget_sandbox, running_sandbox, sandbox_parameters

from idbridge.checks.settings import settings_for
from idbridge.collect.run import collect
from idbridge.model.access.build import build_access
from idbridge.plan import Plan
from idbridge.review import plan_removals
from idbridge.runbooks import review_apply
from idbridge.runbooks.context import Runbook
from idbridge.runbooks.desired.state import DesiredState
from idbridge.snapshot.store import Snapshot

pytestmark = pytest.mark.integration
REVIEWER = "owner@northwind-analytics.com"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    box = running_sandbox("demo")
    params = sandbox_parameters(box)
    asyncio.run(assign_directly(params, DIRECT_USER))
    snapshot = Snapshot(collect(params, tmp_path_factory.mktemp("review-apply") / "snapshot"))
    access = build_access(snapshot, settings_for(params, snapshot.manifest.get("collected_at")))
    yield box, params, snapshot, access
    box.stop()
    forget_sandbox()


DIRECT_USER = "sanne.devries@northwind-analytics.com"  # the demo's one direct account assignment


async def assign_directly(params, upn: str) -> None:
    """Assign the user to the AWS app directly too (as a tenant may): then removing every direct account
    assignment of theirs also takes their app assignment (entra.app_role_assignment)."""
    from idbridge.clients.factory import graph_adapter
    from idbridge.runbooks import graph

    adapter = graph_adapter(params)
    sp, _ = await graph.find_app(adapter, params.app.app_id, params.app.display_name)
    user = await graph.get(adapter, f"/users/{upn}", **{"$select": "id"})
    role = next(r["id"] for r in sp["appRoles"] if r.get("displayName") == "User")
    await graph.post(adapter, f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                     {"principalId": user["id"], "resourceId": sp["id"], "appRoleId": role})


def memberships(access: pd.DataFrame) -> pd.DataFrame:
    """One group path per (Entra user, assigned group) with its Identity Center group, groups in a fixed order."""
    rows = access[access["path_kind"].eq("group") & access["entra_user_id"].ne("")
                  & access["idc_principal_type"].eq("GROUP")]
    return rows.drop_duplicates(["entra_user_id", "entra_group_id"]).sort_values(["entra_group_name", "path_id"])


def pick(access: pd.DataFrame, group_rank: int, count: int = 1) -> list[dict]:
    """`count` memberships of the group_rank-th group (each test its own group)."""
    found = memberships(access)
    group = sorted(found["entra_group_id"].unique())[group_rank]
    return found[found["entra_group_id"].eq(group)].head(count).to_dict("records")


def plan_for(rows: list[dict], access, snapshot) -> Plan:
    decisions = pd.DataFrame([{"path_id": r["path_id"], "decision": "Remove", "comment": "left the team",
                               "workbook": "review-owner.xlsx", "cell": f"Access!O{n}", "reviewer": REVIEWER}
                              for n, r in enumerate(rows, start=2)])
    return plan_removals(decisions, access, snapshot)


def apply(params, run_dir, plan, *, apply: bool = True, allow_removals: bool = True, wrap=None):
    """The plan applied as a desired state with these switches would (a new runbook: one event loop each)."""
    rb = Runbook(params, DesiredState(apply=apply, allow_removals=allow_removals), None, run_dir)

    async def go():
        if wrap is None:
            return await review_apply.apply(rb, plan)
        review = review_apply.ReviewAppliers(rb)
        from idbridge.plan import apply_plan_async
        return await apply_plan_async(plan, wrap(review.appliers()), apply=True, allow_removals=True,
                                      change_log=rb.change_log, checks=review.checks())

    return asyncio.run(go())


def members(box, group_id: str) -> list[str]:
    return box.world.graph.direct_members.get(group_id, [])


def test_dry_run_and_allow_removals_off_write_nothing(demo, tmp_path):
    box, params, snapshot, access = demo
    (row,) = pick(access, 0)
    plan = plan_for([row], access, snapshot)
    before = dict(aws_writes(box))
    dry = apply(params, tmp_path, plan, apply=False)
    assert [o.status for o in dry] == ["planned"]
    gated = apply(params, tmp_path, plan, apply=True, allow_removals=False)
    assert [o.status for o in gated] == ["blocked"] and "allow_removals" in gated[0].detail
    assert row["entra_user_id"] in members(box, row["entra_group_id"])
    assert aws_writes(box) == before and change_log(tmp_path) == []


def test_apply_removes_each_kind_and_a_rerun_has_nothing_left_to_do(demo, tmp_path):
    box, params, snapshot, access = demo
    (member,) = pick(access, 1)
    direct = access[access["path_kind"].eq("direct_user")].to_dict("records")
    idc_only = access[access["path_kind"].eq("idc_only") & access["idc_user_id"].ne("")].head(1).to_dict("records")
    plan = plan_for([member, *direct, *idc_only], access, snapshot)
    kinds = {c.kind for c in plan.changes}
    assert kinds == {"entra.group_member", "aws.account_assignment", "aws.group_membership",
                     "entra.app_role_assignment"}, kinds

    outcomes = apply(params, tmp_path, plan)
    assert [o.status for o in outcomes] == ["applied"] * len(plan.changes), [(o.change.key, o.detail) for o in outcomes]
    assert member["entra_user_id"] not in members(box, member["entra_group_id"])
    for row in direct:
        key = (row["account_id"], row["permission_set_arn"], "USER", row["idc_principal_id"])
        assert not any(tuple(map(str, a))[:4] == key for a in box.world.aws.sso.assignments), key
    written = change_log(tmp_path)
    assert [e["status"] for e in written] == ["applied"] * len(plan.changes)
    assert all(e["before"]["decided_by"] == [REVIEWER] and e["before"]["decided_in"] for e in written)

    again = apply(params, tmp_path, plan)
    assert [o.status for o in again] == ["done"] * len(plan.changes)
    assert all(o.detail.startswith("already gone") for o in again)
    assert [e["status"] for e in change_log(tmp_path)][len(written):] == ["already done"] * len(plan.changes)


def test_an_access_already_gone_counts_as_done(demo, tmp_path):
    box, params, snapshot, access = demo
    first, second = pick(access, 2, count=2)
    plan = plan_for([first, second], access, snapshot)
    members(box, first["entra_group_id"]).remove(first["entra_user_id"])  # someone removed it in the meantime
    outcomes = apply(params, tmp_path, plan)
    by_member = {o.change.payload["member_id"]: o for o in outcomes}
    assert by_member[first["entra_user_id"]].status == "done"
    assert by_member[first["entra_user_id"]].detail == ("already gone: the user is no longer a direct member of the "
                                                        "Entra group")
    assert by_member[second["entra_user_id"]].status == "applied"


def test_a_group_that_now_grants_more_is_refused_naming_what_is_new(demo, tmp_path):
    box, params, snapshot, access = demo
    (row,) = pick(access, 3)
    (other,) = pick(access, 4)
    plan = plan_for([row, other], access, snapshot)
    granted = set(access.loc[access["idc_principal_id"].eq(row["idc_principal_id"]), "account_id"])
    new_account, new_set = next((a, p) for a, p in zip(access["account_id"], access["permission_set_arn"])
                                if a not in granted)
    from idbridge.clients.factory import aws_client, aws_session

    sso = aws_client(aws_session(params), "sso-admin", params)
    sso.create_account_assignment(InstanceArn=snapshot.manifest["instance_arn"], TargetId=new_account,
                                  TargetType="AWS_ACCOUNT", PermissionSetArn=new_set, PrincipalType="GROUP",
                                  PrincipalId=row["idc_principal_id"])
    set_name = access.loc[access["permission_set_arn"].eq(new_set), "permission_set_name"].iloc[0]

    outcomes = apply(params, tmp_path, plan)
    by_member = {o.change.payload["member_id"]: o for o in outcomes}
    refused = by_member[row["entra_user_id"]]
    assert refused.status == "refused"
    assert f"account {new_account} / permission set {set_name}" in refused.detail
    assert "which the reviewers never saw: not removed" in refused.detail
    assert row["entra_user_id"] in members(box, row["entra_group_id"])  # left as it is
    assert by_member[other["entra_user_id"]].status == "applied"  # the others go on
    assert [e["status"] for e in change_log(tmp_path)].count("refused") == 1


def test_an_interrupted_apply_finishes_on_rerun(demo, tmp_path):
    box, params, snapshot, access = demo
    rows = pick(access, 5, count=3)
    plan = plan_for(rows, access, snapshot)
    assert len(plan.changes) == 3

    def crash_after_first(appliers):
        calls = {"n": 0}
        real = appliers["entra.group_member"]

        async def interrupted(change):
            calls["n"] += 1
            if calls["n"] > 1:
                raise ConnectionError("connection lost")  # the run stops here
            return await real(change)
        return {**appliers, "entra.group_member": interrupted}

    first = apply(params, tmp_path, plan, wrap=crash_after_first)
    assert [o.status for o in first] == ["applied", "failed"]  # a failure stops the step
    assert [e["status"] for e in change_log(tmp_path)] == ["applied", "failed"]
    rerun = apply(params, tmp_path, plan)
    assert [o.status for o in rerun] == ["done", "applied", "applied"]
    assert all(r["entra_user_id"] not in members(box, r["entra_group_id"]) for r in rows)
