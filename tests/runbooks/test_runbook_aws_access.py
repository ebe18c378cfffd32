"""Step 3 against the sandbox once steps 1 and 2 are applied: names checked before planning, permission sets and
assignments written, an interrupted apply finished by running again, a changed permission set provisioned again,
removals behind allow_removals."""

from __future__ import annotations

import asyncio

import pytest
from support.runbook_harness import aws_writes, change_log, do_console_steps, empty_sandbox, open_for, scim_env

from idbridge.errors import InputError
from idbridge.runbooks import aws_access, aws_apply, provisioning, saml
from idbridge.runbooks.context import RunbookError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """The empty tenant with SAML and provisioning set up: the groups are in Identity Center."""
    sandbox = empty_sandbox()
    run_dir = tmp_path_factory.mktemp("bridge")
    mp = pytest.MonkeyPatch()
    scim_env(mp, sandbox)
    rb = open_for(sandbox, run_dir, apply=True)

    async def setup():
        await saml.apply(rb, await saml.plan(rb))
        await saml.federation_metadata(rb)
        do_console_steps(sandbox, run_dir)
        await provisioning.apply(rb, await provisioning.plan(rb))

    asyncio.run(setup())
    mp.undo()
    yield sandbox
    sandbox.stop()


def plan_of(rb):
    return asyncio.run(aws_access.plan(rb))


def test_wrong_names_are_refused_before_anything_is_planned(box, tmp_path):
    def edit(doc):
        access = doc["aws_access"]
        access["permission_sets"][0]["managed_policies"].append("arn:aws:iam::aws:policy/AdministratorAcess")
        access["assignments"][0]["group"] = "Cloud Platfrom"
        access["assignments"][1]["targets"] = {"accounts": ["111122223333"], "ous": ["Workloads/Test"],
                                               "tags": {"environment": ["qa"]}}
        access["assignments"][2]["group"] = "Product"   # in Entra, never provisioned

    before = aws_writes(box)
    with pytest.raises(InputError) as caught:
        plan_of(open_for(box, tmp_path, apply=True, edit=edit))
    text = str(caught.value)
    for expected in ("permission_sets[0].managed_policies[1]: no AWS managed policy "
                     "arn:aws:iam::aws:policy/AdministratorAcess",
                     "assignments[0].group: no group 'Cloud Platfrom' in Entra or in Identity Center",
                     "assignments[1].targets.accounts[0]: account 111122223333 is not in the organisation",
                     "assignments[1].targets.ous[0]: no OU 'Workloads/Test'",
                     "assignments[1].targets.tags.environment: no account has tag environment = qa",
                     "assignments[2].group: group 'Product' is not in Identity Center and not in "
                     "provisioning.groups"):
        assert expected in text, text
    assert text.count("- line ") == 6 and aws_writes(box) == before


def test_an_interrupted_apply_is_finished_by_running_again(box, tmp_path, monkeypatch):
    rb = open_for(box, tmp_path, apply=True)
    first = plan_of(rb)
    real = aws_apply.appliers
    calls = {"n": 0}

    def flaky(rb_, access, window):
        appliers = real(rb_, access, window)

        def stop_at_tenth(change):
            calls["n"] += 1
            if calls["n"] == 10:
                raise ConnectionError("network gone")
            return appliers[change.kind](change)

        return {kind: stop_at_tenth for kind in appliers}

    monkeypatch.setattr(aws_apply, "appliers", flaky)
    outcomes = aws_apply.apply(rb, first)
    assert [o.status for o in outcomes].count("applied") == 9 and outcomes[-1].status == "failed"
    with pytest.raises(RunbookError, match="1 change\\(s\\) failed"):
        from idbridge.runbooks.results import raise_on_failure
        raise_on_failure(outcomes)
    monkeypatch.setattr(aws_apply, "appliers", real)

    created = [c.key for c in first.plan.changes if c.kind == "aws.permission_set" and c.action == "create"]
    assert created and [w.split(" is created")[0] for w in first.warnings] == [f"Warning: {n}" for n in created]
    assert all("AWSReservedSSO_" in w and w in first.notes for w in first.warnings)
    second = plan_of(rb)
    # the sets made before the interruption no longer warn; those still to make do
    still = [c.key for c in second.plan.changes if c.kind == "aws.permission_set" and c.action == "create"]
    assert len(still) < len(created) and len(second.warnings) == len(still)
    assert len(second.plan.changes) == len(first.plan.changes) - 9
    outcomes = aws_apply.apply(rb, second)
    assert {o.status for o in outcomes} == {"applied"}
    assert plan_of(rb).plan.is_empty and plan_of(rb).warnings == []
    logged = change_log(tmp_path)
    assert [e["status"] for e in logged].count("applied") == len(first.plan.changes)
    assert [e for e in logged if e["status"] == "failed"][0]["result"] == {"error": "network gone"}
    assert box.aws_calls["sso-admin:CreateAccountAssignment"] == \
        sum(1 for c in first.plan.changes if c.kind == "aws.account_assignment")


def test_a_changed_permission_set_is_provisioned_again(box, tmp_path):
    def edit(doc):
        doc["aws_access"]["permission_sets"][0]["session_duration"] = "PT2H"

    rb = open_for(box, tmp_path, apply=True, edit=edit)
    plan = plan_of(rb)
    assert [(c.action, c.kind) for c in plan.plan.changes] == [("update", "aws.permission_set"),
                                                               ("update", "aws.provision_permission_set")]
    assert plan.plan.changes[0].before == {"SessionDuration": "PT4H"}
    assert len(plan.plan.changes[1].after["accounts"]) == 4
    assert {o.status for o in aws_apply.apply(rb, plan)} == {"applied"}
    state = box.world.aws.sso
    assert all(all(accounts.values()) for accounts in state.provisioned.values())
    assert plan_of(rb).plan.is_empty


def test_removals_happen_only_with_allow_removals(box, tmp_path):
    def edit(doc):
        doc["aws_access"]["permission_sets"][0]["session_duration"] = "PT2H"   # as the test before left it
        developer = doc["aws_access"]["permission_sets"][2]
        del developer["permissions_boundary"]
        doc["aws_access"]["assignments"][0]["targets"] = {"ous": ["Workloads"]}  # no longer the management account

    rb = open_for(box, tmp_path / "a", apply=True, edit=edit)
    plan = plan_of(rb)
    actions = [(c.action, c.kind) for c in plan.plan.changes]
    assert actions == [("delete", "aws.permissions_boundary"), ("update", "aws.provision_permission_set"),
                       ("delete", "aws.account_assignment")]
    [warning] = plan.warnings  # the only assignment of that set in the management account goes
    removed = plan.plan.changes[-1].payload
    assert f"last assignment of {removed['set']} in " in warning and f"({removed['account']})" in warning
    assert "referencingpermissionsets" in warning
    outcomes = aws_apply.apply(rb, plan)
    assert [o.status for o in outcomes] == ["blocked", "applied", "blocked"]
    rb = open_for(box, tmp_path / "b", apply=True, allow_removals=True, edit=edit)
    outcomes = aws_apply.apply(rb, plan_of(rb))
    assert {o.status for o in outcomes} == {"applied"} and plan_of(rb).plan.is_empty
    assert [e["kind"] for e in change_log(tmp_path / "b")] == ["aws.permissions_boundary",
                                                              "aws.provision_permission_set",
                                                              "aws.account_assignment"]
