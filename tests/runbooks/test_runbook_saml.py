"""Step 1 against the sandbox's empty tenant, through the real msgraph-sdk adapter: the plan, the dry run that
writes nothing, the apply, the re-run that plans nothing, removals behind allow_removals, the federation metadata
and the identity-source checkpoint."""

from __future__ import annotations

import asyncio

import pytest
from support.runbook_harness import change_log, do_console_steps, empty_sandbox, fingerprint, open_for

from idbridge.errors import InputError
from idbridge.runbooks import checkpoints, saml
from idbridge.runbooks import graph as g
from idbridge.saml.metadata import parse_idp_metadata
from idbridge.sandbox import derived

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def box():
    sandbox = empty_sandbox()
    yield sandbox
    sandbox.stop()


def test_a_dry_run_plans_the_whole_app_and_writes_nothing(box, tmp_path):
    before = fingerprint(box)
    rb = open_for(box, tmp_path, apply=False)

    async def run():
        plan = await saml.plan(rb)
        return plan, await saml.apply(rb, plan), await saml.federation_metadata(rb)

    plan, outcomes, metadata = asyncio.run(run())
    kinds = [c.kind for c in plan.plan.changes]
    assert kinds == ["entra.app", "entra.service_principal", "entra.application", "entra.claims_policy",
                     "entra.signing_certificate"]
    app = plan.plan.changes[2]
    assert app.before["redirectUris"] == []  # a new gallery app has no reply URLs (the wildcard is its home page)
    assert app.after == {"identifierUris": [derived.issuer_url(box.scenario)],
                         "redirectUris": [derived.acs_url(box.scenario, "eu-west-2")]}
    assert {o.status for o in outcomes} == {"planned"} and "No federation metadata yet" in metadata
    assert fingerprint(box) == before and change_log(tmp_path) == []


def test_apply_sets_up_the_app_and_a_second_run_plans_nothing(box, tmp_path):
    rb = open_for(box, tmp_path, apply=True)

    async def run():
        first = await saml.plan(rb)
        outcomes = await saml.apply(rb, first)
        second = await saml.plan(rb)
        metadata = await saml.federation_metadata(rb)
        sp, app = await g.find_app(rb.graph, None, rb.params.app.display_name)
        return outcomes, second, metadata, sp, app

    outcomes, second, metadata, sp, app = asyncio.run(run())
    assert [o.status for o in outcomes] == ["applied"] * 5 and second.plan.is_empty
    assert sp["preferredSingleSignOnMode"] == "saml" and sp["loginUrl"] == derived.portal_login_url(box.scenario)
    assert app["web"]["redirectUris"] == [derived.acs_url(box.scenario, "eu-west-2")]
    logged = change_log(tmp_path)
    assert [e["kind"] for e in logged] == [o.change.kind for o in outcomes] and {e["status"] for e in logged} == \
        {"applied"}
    assert logged[-1]["result"]["thumbprint"] == sp["preferredTokenSigningKeyThumbprint"]
    meta = parse_idp_metadata(metadata.path)
    assert meta.signing_certificate.thumbprint == sp["preferredTokenSigningKeyThumbprint"]
    assert meta.signing_certificate.days_left > 3 * 365 - 2


def test_reply_urls_not_in_the_metadata_go_only_with_allow_removals(box, tmp_path):
    stale = "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/00000000-0000-0000-0000-000000000000"
    graph = box.world.graph
    app = next(a for a in graph.applications.values() if a["displayName"] == "AWS IAM Identity Center")
    app["web"]["redirectUris"].append(stale)   # left over from an earlier instance

    async def run(rb):
        plan = await saml.plan(rb)
        return plan, await saml.apply(rb, plan)

    plan, outcomes = asyncio.run(run(open_for(box, tmp_path / "a", apply=True)))
    assert [(c.action, c.kind, c.key) for c in plan.plan.changes] == [("delete", "entra.reply_url", stale)]
    assert [o.status for o in outcomes] == ["blocked"] and stale in app["web"]["redirectUris"]
    _, outcomes = asyncio.run(run(open_for(box, tmp_path / "b", apply=True, allow_removals=True)))
    assert [o.status for o in outcomes] == ["applied"] and stale not in app["web"]["redirectUris"]
    assert change_log(tmp_path / "b")[0]["action"] == "delete"


def test_identity_source_checkpoint_waits_for_the_upload_then_verifies(box, tmp_path):
    rb = open_for(box, tmp_path, apply=True)

    async def run():
        await saml.federation_metadata(rb)
        waiting = await checkpoints.identity_source(rb)
        do_console_steps(box, tmp_path)
        return waiting, await checkpoints.identity_source(rb)

    waiting, done = asyncio.run(run())
    assert waiting.status == "waiting" and "no CreateExternalIdPConfigurationForDirectory" in waiting.evidence
    assert str(tmp_path / "entra-federation-metadata.xml") in waiting._repr_html_()
    assert done.status == "done" and done.evidence.startswith("CreateExternalIdPConfigurationForDirectory at")


def test_sp_metadata_of_another_instance_is_refused_before_planning(box, tmp_path):
    rb = open_for(box, tmp_path, apply=True)
    other = (tmp_path / "aws-sp-metadata.xml").read_text().replace(box.world.aws.identity_store_id, "d-0123456789")
    (tmp_path / "aws-sp-metadata.xml").write_text(other)
    with pytest.raises(InputError) as caught:
        asyncio.run(saml.plan(rb))
    assert "saml.sp_metadata: the SP metadata is for identity store d-0123456789" in str(caught.value)
