"""ABAC through the setup runbooks: the desired state's keys validated, the claims and the instance configuration
planned from what is there (a second plan after apply is empty), and the instance configuration written to the
sandbox through the plan/apply path, dry run first."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError
from support.sandbox import forget_sandbox, running_sandbox, sandbox_parameters

from idbridge.clients.factory import aws_client, aws_session
from idbridge.plan import Plan, apply_plan
from idbridge.runbooks import abac
from idbridge.runbooks.desired.state import AbacState


def state(**keys) -> AbacState:
    return AbacState(keys=keys)


WANTED = state(Project={"source": "user.jobtitle"},
               Department={"source": "user.department", "identity_center": "${path:enterprise.department}"})


def test_the_desired_keys_are_checked():
    for keys, expected in (({"a;b": {"source": "user.department"}}, "letters, digits"),
                           ({"Team": {"source": "department"}}, "user.department"),
                           ({"Team": {"source": "user.x", "identity_center": "enterprise.department"}}, "${path:"),
                           ({"Team": {"source": "user.x"}, "team": {"source": "user.y"}}, "only in case"),
                           ({f"k{i}": {"source": "user.x"} for i in range(51)}, "at most 50")):
        with pytest.raises(ValidationError) as caught:
            AbacState(keys=keys)
        assert expected in str(caught.value)


def test_claims_are_planned_from_the_policy_and_nothing_is_left_to_do_after():
    policy = {"claims": [{"@odata.type": "#microsoft.graph.samlNameIdClaim", "configurations": []},
                         abac._claim("Department", "user.companyname"), abac._claim("Legacy", "user.city")]}
    changes = abac.claim_changes(policy, WANTED)
    assert [(c.action, c.key) for c in changes] == [("create", "Project"), ("delete", "Department"),
                                                     ("delete", "Legacy")]
    claims = policy["claims"]
    for change in changes:
        claims = abac.with_claim_change(claims, change)
    assert claims[0]["@odata.type"].endswith("samlNameIdClaim")  # other claims kept
    assert abac.claim_changes({"claims": claims}, WANTED) == []
    assert json.loads(json.dumps(claims))[-1]["name"] == "AccessControl:Project"
    moved = abac.claim_changes({"claims": [abac._claim("Project", "user.department")]}, WANTED)
    assert [(c.action, c.before["source"], c.after["source"]) for c in moved] == [
        ("update", "user.department", "user.jobtitle")]


@pytest.fixture(scope="module")
def sso():
    box = running_sandbox("empty")   # Identity Center without ABAC
    params = sandbox_parameters(box)
    client = aws_client(aws_session(params), "sso-admin", params)
    yield client, client.list_instances()["Instances"][0]["InstanceArn"]
    box.stop()
    forget_sandbox()


@pytest.mark.integration
def test_the_instance_configuration_through_plan_and_apply(sso, tmp_path):
    client, instance = sso
    assert abac.read_instance(client, instance) is None
    plan = Plan("aws_access", abac.instance_changes(None, WANTED))
    writer = {"aws.abac_configuration": abac.instance_applier(client, instance)}
    dry = apply_plan(plan, writer, apply=False, allow_removals=False, change_log=tmp_path / "log.jsonl")
    assert [o.status for o in dry] == ["planned"] and abac.read_instance(client, instance) is None
    done = apply_plan(plan, writer, apply=True, allow_removals=False, change_log=tmp_path / "log.jsonl")
    assert [o.status for o in done] == ["applied"]
    answer = abac.read_instance(client, instance)
    assert answer["Status"] == "ENABLED"
    assert abac.instance_changes(answer, WANTED) == []       # planned again: nothing left
    more = state(**{**WANTED.keys, "CostCenter": {"source": "user.employeeid",
                                                 "identity_center": "${path:enterprise.costCenter}"}})
    [update] = abac.instance_changes(answer, more)
    assert update.action == "update" and update.after["CostCenter"] == "${path:enterprise.costCenter}"
    apply_plan(Plan("aws_access", [update]), writer, apply=True, allow_removals=False, change_log=None)
    assert abac.instance_changes(abac.read_instance(client, instance), more) == []
    with pytest.raises(ClientError):  # a second Create is refused as AWS does: the plan reads first for this
        abac.instance_applier(client, instance)(abac.instance_changes(None, WANTED)[0])
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(e["status"], e["kind"]) for e in log] == [("applied", "aws.abac_configuration")]


def _with_abac(doc):
    doc["abac"] = {"keys": {"Project": {"source": "user.jobtitle"},
                            "Department": {"source": "user.department",
                                           "identity_center": "${path:enterprise.department}"}}}


@pytest.mark.integration
def test_runbooks_01_and_03_plan_and_apply_the_abac_keys(tmp_path):
    """The empty tenant set up by 01-03 with an `abac:` section: dry runs write nothing, applies write the claim
    and the instance configuration, and planning again finds nothing to do."""
    import asyncio

    from support.runbook_harness import aws_writes, do_console_steps, empty_sandbox, open_for, scim_env

    from idbridge.runbooks import aws_access, aws_apply, provisioning, saml

    box = empty_sandbox()
    mp = pytest.MonkeyPatch()
    try:
        scim_env(mp, box)
        dry = open_for(box, tmp_path / "dry", apply=False, edit=_with_abac)
        planned = asyncio.run(saml.plan(dry))
        assert [(c.action, c.key) for c in planned.plan.changes if c.kind == "entra.abac_claim"] == \
            [("create", "Project")]
        rb = open_for(box, tmp_path / "run", apply=True, edit=_with_abac)

        async def setup():
            await saml.apply(rb, await saml.plan(rb))
            await saml.federation_metadata(rb)
            do_console_steps(box, tmp_path / "run")
            await provisioning.apply(rb, await provisioning.plan(rb))

        asyncio.run(setup())
        again = asyncio.run(saml.plan(rb))
        assert [c for c in again.plan.changes if c.kind == "entra.abac_claim"] == []

        before = aws_writes(box)
        access_dry = asyncio.run(aws_access.plan(open_for(box, tmp_path / "dry3", apply=False, edit=_with_abac)))
        [enable] = [c for c in access_dry.plan.changes if c.kind == "aws.abac_configuration"]
        assert enable.action == "create" and enable.after == {"Department": "${path:enterprise.department}"}
        assert aws_writes(box) == before
        access = asyncio.run(aws_access.plan(rb))
        outcomes = aws_apply.apply(rb, access)
        assert {o.status for o in outcomes if o.change.kind == "aws.abac_configuration"} == {"applied"}
        assert [c for c in asyncio.run(aws_access.plan(rb)).plan.changes if c.kind == "aws.abac_configuration"] == []
    finally:
        mp.undo()
        box.stop()
        forget_sandbox()
