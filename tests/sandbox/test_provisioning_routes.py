"""The provisioning engine behind the Graph emulator's own routes (validateCredentials, start, provisionOnDemand,
/auditLogs/provisioning), called in-process through its WSGI app: the wiring between the two halves."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("idbridge.sandbox.graph.app")
pytest.importorskip("idbridge.sandbox.aws.seed")

from werkzeug.test import Client  # noqa: E402

from idbridge.sandbox import derived  # noqa: E402
from idbridge.sandbox.graph.app import create_graph_app  # noqa: E402

from test_provisioning import DOMAIN, TENANT, entra_id, sp_and_job, world_of  # noqa: E402


@pytest.fixture
def graph():
    world = world_of()
    client = Client(create_graph_app(world))
    token = client.post(f"/{TENANT}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": derived.SANDBOX_CLIENT_ID, "client_secret": "x",
        "scope": "https://graph.microsoft.com/.default"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, body: dict | None = None):
        return client.open(f"/v1.0{path}", method=method, headers=headers, json=body)

    return world, call


def test_validate_credentials(graph):
    world, call = graph
    sp, job = sp_and_job(world)
    good = {"useSavedCredentials": False, "templateId": "aWSSingleSignon", "credentials": [
        {"key": "BaseAddress", "value": derived.scim_endpoint(world.scenario)},
        {"key": "SecretToken", "value": derived.scim_token(world.scenario)}]}
    assert call("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials", good).status_code \
        == 204
    bad = json.loads(json.dumps(good))
    bad["credentials"][1]["value"] = "sbx-scim-wrong"
    answer = call("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials", bad)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert "Response Status Code: Unauthorized" in error["message"]


def test_start_and_on_demand_and_logs(graph):
    world, call = graph
    sp, job = sp_and_job(world)
    engineers = next(i for i, g in world.graph.groups.items() if g["displayName"] == "AWS-Engineers")
    world.graph.direct_members[engineers].append(entra_id(world, "noah"))
    assert call("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/start").status_code == 204
    assert world.aws.identity_store.find_user(user_name=f"noah@{DOMAIN}") is not None
    rule = call("GET", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/schema").get_json()[
        "synchronizationRules"][0]["id"]
    answer = call("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/provisionOnDemand", {
        "parameters": [{"ruleId": rule, "subjects": [{"objectId": entra_id(world, "alice"),
                                                      "objectTypeName": "User"}]}]})
    assert answer.status_code == 200
    assert json.loads(answer.get_json()["key"])["result"] == "Skipped"
    failures = call("GET", "/auditLogs/provisioning?$filter=provisioningStatusInfo/status eq 'failure'").get_json()
    reasons = {item["provisioningStatusInfo"]["errorInformation"]["errorCode"] for item in failures["value"]}
    assert reasons == {"SystemForCrossDomainIdentityManagementBadRequest",
                       "SystemForCrossDomainIdentityManagementConflict"}
    job_now = call("GET", f"/servicePrincipals/{sp}/synchronization/jobs/{job}").get_json()
    assert job_now["status"]["code"] == "Active"
    assert job_now["status"]["lastExecution"]["countExported"] >= 1
