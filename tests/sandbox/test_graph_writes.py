"""Writes through msgraph-sdk persist in the store: instantiate, PATCH, signing certificates, app role
assignments, the beta claims policy and the synchronization job life cycle."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from support.graph_harness import NOW, GraphServer, raw, run, scenario, world
from msgraph.generated.application_templates.item.instantiate.instantiate_post_request_body import (
    InstantiatePostRequestBody,
)
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.item.add_token_signing_certificate.\
    add_token_signing_certificate_post_request_body import AddTokenSigningCertificatePostRequestBody

from idbridge.sandbox import derived
from idbridge.sandbox.graph.shapes import USER_ROLE_ID

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def bare():
    """A tenant where the AWS app does not exist yet."""
    srv = GraphServer(world(scenario(entra__aws_app=None, entra__sign_ins=[])))
    yield srv
    srv.close()


@pytest.fixture
def full():
    srv = GraphServer(world())
    yield srv
    srv.close()


def test_instantiate_patch_and_signing_certificate_persist(bare):
    s = bare.world.scenario

    async def main():
        client = bare.client()
        created = await client.application_templates.by_application_template_id(
            derived.AWS_GALLERY_TEMPLATE_ID).instantiate.post(InstantiatePostRequestBody(display_name="AWS IdC"))
        app_id, sp_id = created.application.id, created.service_principal.id
        await client.service_principals.by_service_principal_id(sp_id).patch(
            ServicePrincipal(preferred_single_sign_on_mode="saml"))
        await client.applications.by_application_id(app_id).patch(Application(
            identifier_uris=[derived.issuer_url(s)],
            web=WebApplication(redirect_uris=[derived.acs_url(s, "eu-west-1")])))
        cert = await client.service_principals.by_service_principal_id(sp_id).add_token_signing_certificate.post(
            AddTokenSigningCertificatePostRequestBody(display_name="CN=AWS IAM Identity Center",
                                                      end_date_time=NOW + timedelta(days=730)))
        await client.service_principals.by_service_principal_id(sp_id).patch(
            ServicePrincipal(preferred_token_signing_key_thumbprint=cert.thumbprint))
        sp = await client.service_principals.by_service_principal_id(sp_id).get()
        app = await client.applications.by_application_id(app_id).get()
        bad = None
        try:
            await raw(bare.adapter(), f"/servicePrincipals/{sp_id}", "PATCH", {"favouriteColour": "blue"})
        except ODataError as exc:
            bad = exc
        return created, cert, sp, app, bad

    created, cert, sp, app, bad = run(main())
    # As Entra creates it (Graph SAML SSO tutorial): no reply URLs; the template's wildcard is the home page.
    assert created.application.web.redirect_uris == []
    assert created.application.web.home_page_url.startswith(derived.WILDCARD_REPLY_URL + "?metadata=")
    assert created.service_principal.app_role_assignment_required is True
    assert {r.display_name for r in created.service_principal.app_roles} == {"User", "msiam_access"}
    assert created.service_principal.application_template_id == derived.AWS_GALLERY_TEMPLATE_ID
    assert sp.preferred_single_sign_on_mode == "saml"
    assert app.identifier_uris == [derived.issuer_url(s)]
    assert app.web.redirect_uris == sp.reply_urls == [derived.acs_url(s, "eu-west-1")]
    assert len(cert.thumbprint) == 40 and cert.key and cert.usage == "Verify"
    assert cert.display_name == "CN=AWS IAM Identity Center"
    assert sp.preferred_token_signing_key_thumbprint == cert.thumbprint
    assert sorted(k.usage for k in sp.key_credentials) == ["Sign", "Verify"]
    assert len(sp.password_credentials) == 1
    assert bare.world.graph.aws_sp_id == sp.id
    assert bad is not None and bad.response_status_code == 400


def test_app_role_assigned_to_write_read_delete(full):
    store = full.world.graph
    sp_id = store.aws_sp_id
    bob = "0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11"

    async def main():
        assigned_to = full.client().service_principals.by_service_principal_id(sp_id).app_role_assigned_to
        created = await assigned_to.post(AppRoleAssignment(principal_id=bob, resource_id=sp_id,
                                                           app_role_id=USER_ROLE_ID))
        after_add = await assigned_to.get()
        duplicate = await _error(assigned_to.post(AppRoleAssignment(principal_id=bob, resource_id=sp_id,
                                                                    app_role_id=USER_ROLE_ID)))
        await assigned_to.by_app_role_assignment_id(created.id).delete()
        after_delete = await assigned_to.get()
        gone = await _error(assigned_to.by_app_role_assignment_id(created.id).delete())
        return created, after_add, duplicate, after_delete, gone

    created, after_add, duplicate, after_delete, gone = run(main())
    assert created.principal_display_name == "Bob Kelly" and created.principal_type == "User"
    assert str(created.app_role_id) == USER_ROLE_ID and created.resource_display_name == "AWS IAM Identity Center"
    assert len(after_add.value) == 3 and len(after_delete.value) == 2
    assert duplicate.response_status_code == 400
    assert gone.response_status_code == 404


async def _error(coro) -> ODataError:
    with pytest.raises(ODataError) as caught:
        await coro
    return caught.value


def test_claims_policy_patch_is_persisted(full):
    sp_id = full.world.graph.aws_sp_id

    async def main():
        adapter = full.adapter("beta")
        policy = await raw(adapter, f"/servicePrincipals/{sp_id}/claimsPolicy")
        policy["claims"][0]["configurations"] = policy["claims"][0]["configurations"][:1]
        await raw(adapter, f"/servicePrincipals/{sp_id}/claimsPolicy", "PATCH", {"claims": policy["claims"]})
        return await raw(adapter, f"/servicePrincipals/{sp_id}/claimsPolicy")

    again = run(main())
    assert len(again["claims"][0]["configurations"]) == 1  # the guest rule was removed


def test_synchronization_job_life_cycle_without_the_engine(bare):
    async def main():
        client = bare.client()
        created = await client.application_templates.by_application_template_id(
            derived.AWS_GALLERY_TEMPLATE_ID).instantiate.post(InstantiatePostRequestBody(display_name="AWS IdC"))
        sp_id = created.service_principal.id
        adapter = bare.adapter()
        base = f"/servicePrincipals/{sp_id}/synchronization"
        templates = await raw(adapter, f"{base}/templates")
        job = await raw(adapter, f"{base}/jobs", "POST", {"templateId": templates["value"][0]["id"]})
        twice = await _error(raw(adapter, f"{base}/jobs", "POST", {"templateId": "aWSSingleSignon"}))
        await raw(adapter, f"{base}/secrets", "PUT", {"value": [
            {"key": "BaseAddress", "value": derived.scim_endpoint(bare.world.scenario)},
            {"key": "SecretToken", "value": derived.scim_token(bare.world.scenario)},
            {"key": "SyncAll", "value": "false"}]})
        configured = await raw(adapter, f"{base}/jobs/{job['id']}")
        schema = await raw(adapter, f"{base}/jobs/{job['id']}/schema")
        await raw(adapter, f"{base}/jobs/{job['id']}/pause", "POST")
        paused = await client.service_principals.by_service_principal_id(sp_id).synchronization.jobs \
            .by_synchronization_job_id(job["id"]).get()
        await raw(adapter, f"{base}/jobs/{job['id']}", "DELETE")
        missing = await _error(raw(adapter, f"{base}/jobs/{job['id']}"))
        return sp_id, templates, job, twice, configured, schema, paused, missing

    sp_id, templates, job, twice, configured, schema, paused, missing = run(main())
    assert [t["id"] for t in templates["value"]] == [derived.AWS_SYNC_TEMPLATE_ID]
    assert job["status"]["code"] == "NotConfigured" and job["schedule"]["state"] == "Disabled"
    # Graph's form: <templateId>.<tenant id without dashes>.<GUID with dashes>
    template, tenant, guid = job["id"].split(".")
    assert template == "aWSSingleSignon" and tenant == bare.tenant.replace("-", "")
    assert str(uuid.UUID(guid)) == guid
    assert twice.response_status_code == 409
    assert configured["status"]["code"] == "NotRun"
    secrets = {s["key"]: s["value"] for s in bare.world.graph.sync_secrets[sp_id]}
    assert secrets["SecretToken"] == derived.scim_token(bare.world.scenario)
    assert schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    assert paused.status.code.value == "Paused" and paused.schedule.state.value == "Paused"
    assert missing.response_status_code == 404


# ------------------------------------------------------------------ with the provisioning engine


@pytest.fixture
def engine_world():
    pytest.importorskip("idbridge.sandbox.provisioning")
    pytest.importorskip("idbridge.sandbox.aws.seed")
    from idbridge.sandbox.world import build_world

    srv = GraphServer(build_world(scenario(), NOW))
    yield srv
    srv.close()


def test_validate_credentials_start_and_provision_on_demand(engine_world):
    srv = engine_world
    store = srv.world.graph
    sp_id = store.aws_sp_id
    (job_id,) = store.sync_jobs[sp_id]
    s = srv.world.scenario

    async def main():
        adapter = srv.adapter()
        base = f"/servicePrincipals/{sp_id}/synchronization/jobs"
        good = await raw(adapter, f"{base}/validateCredentials", "POST", {
            "useSavedCredentials": False, "templateId": derived.AWS_SYNC_TEMPLATE_ID, "credentials": [
                {"key": "BaseAddress", "value": derived.scim_endpoint(s)},
                {"key": "SecretToken", "value": derived.scim_token(s)}]})
        bad = await _error(raw(adapter, f"{base}/validateCredentials", "POST", {
            "useSavedCredentials": False, "templateId": derived.AWS_SYNC_TEMPLATE_ID, "credentials": [
                {"key": "BaseAddress", "value": derived.scim_endpoint(s)},
                {"key": "SecretToken", "value": "not-the-token"}]}))
        started = await raw(adapter, f"{base}/{job_id}/start", "POST")
        job = await raw(adapter, f"{base}/{job_id}")
        adele = store.user_by_upn("adele@contoso.com")["id"]
        rule_id = store.sync_schemas[job_id]["synchronizationRules"][0]["id"]
        on_demand = await raw(adapter, f"{base}/{job_id}/provisionOnDemand", "POST", {"parameters": [
            {"ruleId": rule_id, "subjects": [{"objectId": adele, "objectTypeName": "User"}]}]})
        refused = await _error(raw(adapter, f"{base}/{job_id}/provisionOnDemand", "POST", {"parameters": [
            {"ruleId": "no-such-rule", "subjects": [{"objectId": adele, "objectTypeName": "User"}]}]}))
        restarted = await raw(adapter, f"{base}/{job_id}/restart", "POST", {"criteria": {"resetScope": "Full"}})
        return good, bad, started, job, on_demand, refused, restarted

    good, bad, started, job, on_demand, refused, restarted = run(main())
    assert good is None and started is None and restarted is None
    assert bad.response_status_code == 400 and bad.error.message
    assert bad.error.code == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert job["status"]["code"] in {"Active", "NotRun", "Quarantine", "Paused"}
    assert isinstance(on_demand, dict)
    assert refused.response_status_code == 400
    assert store.provisioning_logs  # the engine logged the cycles
