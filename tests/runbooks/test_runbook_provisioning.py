"""Step 2 against the sandbox after step 1: wrong inputs stopped before planning, Test Connection before anything
is saved, the job set up and started with the test user provisioned on demand, the token never written down."""

from __future__ import annotations

import asyncio

import pytest
from support.runbook_harness import change_log, do_console_steps, empty_sandbox, fingerprint, open_for, scim_env

from idbridge.errors import InputError
from idbridge.runbooks import checkpoints, provisioning, provisioning_wait, saml
from idbridge.runbooks.context import RunbookError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """The empty tenant with step 1 applied; the console steps not done yet."""
    sandbox = empty_sandbox()
    run_dir = tmp_path_factory.mktemp("saml")
    rb = open_for(sandbox, run_dir, apply=True)

    async def setup():
        await saml.apply(rb, await saml.plan(rb))
        await saml.federation_metadata(rb)

    asyncio.run(setup())
    sandbox.saml_run_dir = run_dir
    yield sandbox
    sandbox.stop()


def test_unknown_group_and_a_test_user_out_of_scope_are_refused(box, tmp_path, monkeypatch):
    scim_env(monkeypatch, box)

    def misspelt(doc):
        doc["provisioning"]["groups"][1] = "Securty Team"

    def out_of_scope(doc):
        doc["provisioning"]["test_user"] = "greta.vogelsang@litwarelabs.com"   # in Product: not assigned

    with pytest.raises(InputError) as caught:
        asyncio.run(provisioning.plan(open_for(box, tmp_path / "a", apply=True, edit=misspelt)))
    assert "provisioning.groups[1]: no Entra group is named 'Securty Team'" in str(caught.value)

    with pytest.raises(InputError) as caught:
        asyncio.run(provisioning.plan(open_for(box, tmp_path / "b", apply=True, edit=out_of_scope)))
    assert "provisioning.test_user: greta.vogelsang@litwarelabs.com is not a direct member" in str(caught.value)


def test_a_secret_reference_that_is_not_set_is_named(box, tmp_path, monkeypatch):
    monkeypatch.delenv("IDBRIDGE_SCIM_TOKEN", raising=False)
    monkeypatch.setenv("IDBRIDGE_SCIM_ENDPOINT", "https://scim.eu-west-2.amazonaws.com/x/scim/v2")
    with pytest.raises(InputError) as caught:
        asyncio.run(provisioning.plan(open_for(box, tmp_path, apply=True)))
    assert "provisioning.scim_token: secret reference env:IDBRIDGE_SCIM_TOKEN: environment variable" in \
        str(caught.value)


def test_test_connection_refuses_a_token_identity_center_has_not_issued(box, tmp_path, monkeypatch):
    scim_env(monkeypatch, box)   # the console step is not done: AWS does not accept the token yet
    before = fingerprint(box)
    with pytest.raises(RunbookError, match="Test Connection .* failed"):
        asyncio.run(provisioning.plan(open_for(box, tmp_path, apply=True)))
    assert fingerprint(box) == before
    assert checkpoints.automatic_provisioning(open_for(box, tmp_path, apply=True)).status == "waiting"


def test_provisioning_is_set_up_started_and_verified(box, tmp_path, monkeypatch):
    token = scim_env(monkeypatch, box)
    do_console_steps(box, box.saml_run_dir)
    rb = open_for(box, tmp_path, apply=True)

    async def run():
        plan = await provisioning.plan(rb)
        outcomes = await provisioning.apply(rb, plan)
        status = await provisioning_wait.wait_for_first_cycle(rb)
        again = await provisioning.plan(rb)
        return plan, outcomes, status, again

    plan, outcomes, status, again = asyncio.run(run())
    assert [c.kind for c in plan.plan.changes] == ["entra.app_role_assignment"] * 5 + [
        "entra.sync_job", "entra.sync_secrets", "entra.provision_on_demand", "entra.sync_job_start"]
    secrets = plan.plan.changes[6]
    assert secrets.after["SyncAll"] == "false" and secrets.after["SecretToken"] == token
    assert token not in plan.frame().to_csv() and "***" in plan.frame().to_csv()
    assert {o.status for o in outcomes} == {"applied"} and again.plan.is_empty
    row = status.iloc[0]
    assert row["state"] == "cycle completed" and row["status"] == "Active" and row["schedule"] == "Active"
    logged = (tmp_path / "changes.jsonl").read_text()
    assert token not in logged and len(change_log(tmp_path)) == 9
    assert box.world.aws.identity_store.find_user(user_name="oskar.lindstrom@litwarelabs.com")
    users = checkpoints.scim_users(rb)
    assert users.status == "done" and "test user oskar.lindstrom@litwarelabs.com created by SCIM" in users.evidence
    done = checkpoints.automatic_provisioning(rb)
    assert done.status == "done" and "record checks.scim_token_created" in done.evidence


def test_removing_a_group_from_the_desired_state_unassigns_it_only_when_allowed(box, tmp_path, monkeypatch):
    scim_env(monkeypatch, box)

    def edit(doc):
        doc["provisioning"]["groups"].remove("Finance")

    async def run(rb):
        plan = await provisioning.plan(rb)
        return plan, await provisioning.apply(rb, plan)

    plan, outcomes = asyncio.run(run(open_for(box, tmp_path / "a", apply=True, edit=edit)))
    assert [(c.action, c.key) for c in plan.plan.changes] == [("delete", "Finance")]
    assert [o.status for o in outcomes] == ["blocked"]
    _, outcomes = asyncio.run(run(open_for(box, tmp_path / "b", apply=True, allow_removals=True, edit=edit)))
    assert [o.status for o in outcomes] == ["applied"]
    assert not any(a["principalDisplayName"] == "Finance" for a in box.world.graph.app_role_assignments.values())
