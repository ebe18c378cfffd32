"""The sandbox answers the kit's writes, its error cases and the federation-metadata download in the documented
shape (the companion of test_sandbox_shapes.py, which covers the reads): Graph writes of runbook 02 over plain
HTTP, Graph's 403 / licence / expired-page-token / Test Connection errors, the AWS writes of runbook 03 and the
other AWS calls through boto3 (answers and errors as botocore parses them), and Entra's federation metadata
compared element by element with its fixture.

The sandbox is not the truth: a difference here is fixed in lib/idbridge/sandbox, never in the fixture. Writes
change the sandbox, so this module runs its own demo sandbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from defusedxml.ElementTree import fromstring
from support.sandbox import sandbox_parameters

from idbridge.clients.factory import aws_client, aws_session
from idbridge.sandbox.faults import FaultConfig
from idbridge.saml.urls import federation_metadata_url
from tests.contract.test_sandbox_shapes import Graph, _iso, _timestamps_as_text, aws_shape_differences
from tests.support import graph_harness as gh
from tests.support.contract import load_fixture, shape_differences


@pytest.fixture(scope="module")
def box(demo_sandbox):
    return demo_sandbox  # conftest's: one demo sandbox for the module


@pytest.fixture(scope="module")
def graph(box):
    g = Graph(sandbox_parameters(box))
    yield g
    g.http.close()


def _documented(name: str):
    """(status, body) of a fixture pinned with its status, else (None, the answer)."""
    response = load_fixture(name)["response"]
    if isinstance(response, dict) and set(response) >= {"status", "body"}:
        return response["status"], response["body"]
    return None, response


# ------------------------------------------------------------------------------------------ Graph writes


@pytest.fixture(scope="module")
def new_app(graph):
    """A second AWS gallery app, instantiated as runbook 01 does: no provisioning job, no assignments yet."""
    _, templates = graph.call("GET", "/applicationTemplates?$filter=displayName eq "
                                     "'AWS IAM Identity Center (successor to AWS Single Sign-On)'")
    status, made = graph.call("POST", f"/applicationTemplates/{templates['value'][0]['id']}/instantiate",
                              {"displayName": "Contract writes"})
    assert status == 201, made
    sp = made["servicePrincipal"]
    _, sync_templates = graph.call("GET", f"/servicePrincipals/{sp['id']}/synchronization/templates")
    _, groups = graph.call("GET", "/groups?$select=id&$top=1")
    return {"sp": sp["id"], "template": sync_templates["value"][0]["id"], "group": groups["value"][0]["id"],
            "role": next(r["id"] for r in sp["appRoles"] if r["displayName"] == "User")}


def test_creating_a_synchronization_job_answers_201_and_the_new_job(graph, new_app):
    status, served = graph.call("POST", f"/servicePrincipals/{new_app['sp']}/synchronization/jobs",
                                {"templateId": new_app["template"]})
    _, documented = _documented("synchronization_job_post")
    assert status == 201, served
    assert shape_differences(documented, served, nullable=frozenset(
        {"expiration", "lastExecution", "lastSuccessfulExecution", "lastSuccessfulExecutionWithExports",
         "quarantine"})) == []
    # No credentials saved yet: the job is NotConfigured and its schedule Disabled, in Graph's case.
    assert (served["status"]["code"], served["schedule"]["state"]) == \
        (documented["status"]["code"], documented["schedule"]["state"])
    assert served["id"].startswith(served["templateId"] + ".")


def test_a_refused_test_connection_answers_the_documented_error(graph, new_app):
    status, served = graph.call("POST", f"/servicePrincipals/{new_app['sp']}/synchronization/jobs/validateCredentials",
                                {"useSavedCredentials": False, "templateId": new_app["template"], "credentials": [
                                    {"key": "BaseAddress",
                                     "value": "https://scim.eu-west-1.amazonaws.com/contract/scim/v2"},
                                    {"key": "SecretToken", "value": "not-a-token"}]})
    documented_status, documented = _documented("error_validate_credentials")
    assert status == documented_status, served
    assert shape_differences(documented, served, extra_keys=False) == []
    assert served["error"]["code"] == documented["error"]["code"]


def test_saving_synchronization_secrets_answers_204_with_no_body(graph, new_app):
    status, served = graph.call("PUT", f"/servicePrincipals/{new_app['sp']}/synchronization/secrets",
                                {"value": [{"key": "BaseAddress", "value": "https://scim.example/scim/v2"},
                                           {"key": "SecretToken", "value": "t"},
                                           {"key": "SyncAll", "value": "false"}]})
    assert (status, served) == _documented("synchronization_secrets_put")


def test_assigning_a_group_answers_201_and_removing_it_204(graph, new_app):
    path = f"/servicePrincipals/{new_app['sp']}/appRoleAssignedTo"
    status, made = graph.call("POST", path, {"principalId": new_app["group"], "resourceId": new_app["sp"],
                                             "appRoleId": new_app["role"]})
    _, documented = _documented("serviceprincipal_post_approleassignedto")
    assert status == 201, made
    assert shape_differences(documented, made, extra_keys=False, nullable=frozenset({"deletedDateTime"})) == []
    assert made["principalType"] == "Group" and made["resourceId"] == new_app["sp"]
    assert graph.call("DELETE", f"{path}/{made['id']}") == _documented("serviceprincipal_delete_approleassignedto")
    _, listed = graph.call("GET", path)
    assert made["id"] not in {a["id"] for a in listed["value"]}


def test_removing_a_group_member_answers_204_and_a_second_time_404(graph):
    """The review removals' Entra write: the reference goes, the user stays; removing it again is 404."""
    _, groups = graph.call("GET", "/groups?$select=id&$top=999")
    group, member = next((g["id"], m["value"][0]["id"]) for g in groups["value"]
                         for m in [graph.call("GET", f"/groups/{g['id']}/members/microsoft.graph.user?$select=id")[1]]
                         if m["value"])
    path = f"/groups/{group}/members/{member}/$ref"
    assert graph.call("DELETE", path) == _documented("group_delete_member_ref")
    _, left = graph.call("GET", f"/groups/{group}/members?$select=id")
    assert member not in {m["id"] for m in left["value"]}
    assert graph.call("GET", f"/users/{member}?$select=id")[0] == 200
    status, error = graph.call("DELETE", path)
    _, documented = _documented("error_not_found")
    assert status == 404 and shape_differences(documented, error) == []


def test_provision_on_demand_answers_outcome_in_key_and_report_in_value(box, graph):
    name = box.scenario.entra.aws_app.display_name
    _, sps = graph.call("GET", f"/servicePrincipals?$filter=displayName eq '{name}'")
    sync = f"/servicePrincipals/{sps['value'][0]['id']}/synchronization"
    _, jobs = graph.call("GET", f"{sync}/jobs")
    job = jobs["value"][0]["id"]
    _, schema = graph.call("GET", f"{sync}/jobs/{job}/schema")
    _, assigned = graph.call("GET", f"/servicePrincipals/{sps['value'][0]['id']}/appRoleAssignedTo")
    group = next(a["principalId"] for a in assigned["value"] if a["principalType"] == "Group")
    _, members = graph.call("GET", f"/groups/{group}/members?$select=id")
    status, served = graph.call("POST", f"{sync}/jobs/{job}/provisionOnDemand", {"parameters": [{
        "ruleId": schema["synchronizationRules"][0]["id"],
        "subjects": [{"objectId": members["value"][0]["id"], "objectTypeName": "User"}]}]})
    _, documented = _documented("synchronization_job_provisionondemand")
    assert status == 200, served
    assert shape_differences(documented, served, extra_keys=False) == []
    # Both members are JSON text: the key the outcome, the value the run's report.
    key, report = json.loads(served["key"]), json.loads(served["value"])
    documented_key, documented_report = json.loads(documented["key"]), json.loads(documented["value"])
    assert set(key) == set(documented_key) and key["result"] in ("Success", "Skipped", "Failure")
    # A step's details are the object's attributes as the step saw them (an open set of names): an object, not
    # compared key by key.
    step, documented_step = report["provisioningSteps"][0], documented_report["provisioningSteps"][0]
    assert shape_differences({**documented_step, "details": {}}, {**step, "details": {}}) == []
    assert isinstance(step["details"], dict) and step["type"] in {"Import", "Scoping", "Matching", "Processing",
                                                                 "ReferenceResolution", "Export"}
    assert shape_differences({k: documented_report[k] for k in ("statusInfo", "sourceIdentity", "targetSystem")},
                             report, nullable=frozenset({"id", "displayName", "details", "errorCode", "reason",
                                                         "additionalDetails", "errorCategory", "recommendedAction"})) \
        == []


# ------------------------------------------------------------------------------------------ Graph errors


def _graph_get(world, path: str, version: str = "v1.0") -> httpx.Response:
    server = gh.GraphServer(world)
    try:
        token = server.credential().get_token("https://graph.microsoft.com/.default").token
        return httpx.get(path if path.startswith("http") else f"{server.root(version)}{path}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    finally:
        server.close()


def _assert_error(response: httpx.Response, fixture: str) -> None:
    status, documented = _documented(fixture)
    assert response.status_code == status, response.text
    served = response.json()
    assert shape_differences(documented, served, extra_keys=False) == []
    assert served["error"]["code"] == documented["error"]["code"]


def test_a_denied_read_answers_403_authorization_request_denied():
    _assert_error(_graph_get(gh.world(faults=FaultConfig(deny=["users"])), "/users?$select=id"),
                  "error_authorization_denied")


@pytest.mark.parametrize("path,version", [
    ("/auditLogs/signIns?$top=10", "beta"),
    ("/reports/authenticationMethods/userRegistrationDetails", "v1.0"),
    ("/users?$select=id,signInActivity&$top=120", "v1.0"),
], ids=["sign-ins", "registration-details", "signInActivity"])
def test_a_tenant_without_p1_p2_is_answered_the_licence_error(path, version):
    _assert_error(_graph_get(gh.world(gh.scenario(tenant__licence="free")), path, version), "error_licence_required")


def test_an_expired_next_link_answers_directory_expired_page_token():
    server = gh.GraphServer(gh.world(faults=FaultConfig(expired_page_token=1.0)))
    try:
        token = server.credential().get_token("https://graph.microsoft.com/.default").token
        headers = {"Authorization": f"Bearer {token}"}
        first = httpx.get(f"{server.root()}/users?$select=id&$top=1", headers=headers, timeout=30)
        assert first.status_code == 200 and "$skiptoken" in first.json()["@odata.nextLink"]
        response = httpx.get(first.json()["@odata.nextLink"], headers=headers, timeout=30)
    finally:
        server.close()
    _assert_error(response, "error_expired_page_token")


# ------------------------------------------------------------------------------------------ federation metadata


def _structure(root: ET.Element) -> set[tuple[str, tuple[str, ...]]]:
    """(element path by namespaced tag, its attribute names) for every element; the enveloped ds:Signature
    subtree left out (Microsoft's page shows no signature; tests/sandbox/test_graph_metadata.py verifies the
    sandbox's)."""
    out: set[tuple[str, tuple[str, ...]]] = set()

    def walk(element: ET.Element, path: str) -> None:
        here = f"{path}/{element.tag}"
        out.add((here, tuple(sorted(element.attrib))))
        for child in element:
            if child.tag != "{http://www.w3.org/2000/09/xmldsig#}Signature":
                walk(child, here)

    walk(root, "")
    return out


def test_federation_metadata_has_the_documented_elements(box):
    params = sandbox_parameters(box)
    sp_app_id = box.world.graph.service_principals[box.world.graph.aws_sp_id]["appId"]
    root = params.graph.token_url.split("/", 3)
    response = httpx.get(federation_metadata_url(box.scenario.tenant.id, sp_app_id, root="/".join(root[:3])),
                         timeout=30)
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    served = fromstring(response.content)
    documented = fromstring(load_fixture("federationmetadata", "login")["response"].encode())
    # Every element and attribute the page documents is served, and nothing else (a NameIDFormat, say).
    assert _structure(documented) - _structure(served) == set()
    assert _structure(served) - _structure(documented) == set()
    # The values a reader relies on, in the documented case.
    xsi_type = "{http://www.w3.org/2001/XMLSchema-instance}type"
    for document in (documented, served):
        assert {e.get("use") for e in document.iter("{urn:oasis:names:tc:SAML:2.0:metadata}KeyDescriptor")} == \
            {"signing"}
        assert document.find("{urn:oasis:names:tc:SAML:2.0:metadata}RoleDescriptor").get(xsi_type) == \
            "fed:SecurityTokenServiceType"
    bindings = {e.get("Binding") for e in served.iter("{urn:oasis:names:tc:SAML:2.0:metadata}SingleSignOnService")}
    assert {e.get("Binding") for e in documented.iter("{urn:oasis:names:tc:SAML:2.0:metadata}SingleSignOnService")} \
        <= bindings
    assert served.get("entityID") == f"https://sts.windows.net/{box.scenario.tenant.id}/"


# ------------------------------------------------------------------------------------------ AWS


@pytest.fixture(scope="module")
def aws(box):
    params = sandbox_parameters(box)
    session = aws_session(params)

    def client(service, **config):
        if config:  # a client of its own settings (no retries), aimed at the sandbox like the kit's
            return session.client(service, region_name=params.aws.region, endpoint_url=params.aws.endpoint_url,
                                  config=Config(**config))
        return aws_client(session, service, params)

    sso = client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    store = client("identitystore")
    group = store.list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"][0]["GroupId"]
    org = client("organizations")
    account = org.list_accounts_for_parent(ParentId=org.list_roots()["Roots"][0]["Id"])["Accounts"][0]["Id"]
    return client, {"instance": instance["InstanceArn"], "group": group, "account": account}


def _compare(name: str, served: dict) -> None:
    fixture = load_fixture(name, "aws")
    documented = _timestamps_as_text(fixture["response"])
    assert aws_shape_differences(documented, _iso(served), verbatim=fixture["note"].startswith("verbatim")) == []


STATUSES = {"IN_PROGRESS", "FAILED", "SUCCEEDED"}  # StatusValues, as botocore's model spells them


def test_runbook_03_writes_answer_in_the_documented_shape(aws):
    client, ids = aws
    sso, instance = client("sso-admin"), ids["instance"]
    read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    made = sso.create_permission_set(InstanceArn=instance, Name="ContractWrites", SessionDuration="PT4H",
                                     Description="contract test")
    _compare("ssoadmin_create_permission_set", made)
    target = {"InstanceArn": instance, "PermissionSetArn": made["PermissionSet"]["PermissionSetArn"]}
    empty = [
        sso.update_permission_set(**target, SessionDuration="PT2H"),
        sso.put_inline_policy_to_permission_set(**target, InlinePolicy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})),
        sso.attach_managed_policy_to_permission_set(**target, ManagedPolicyArn=read_only),
        sso.attach_customer_managed_policy_reference_to_permission_set(
            **target, CustomerManagedPolicyReference={"Name": "contract-boundary", "Path": "/"}),
        sso.put_permissions_boundary_to_permission_set(
            **target, PermissionsBoundary={"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}),
        sso.delete_permissions_boundary_from_permission_set(**target),
        sso.detach_customer_managed_policy_reference_from_permission_set(
            **target, CustomerManagedPolicyReference={"Name": "contract-boundary", "Path": "/"}),
        sso.detach_managed_policy_from_permission_set(**target, ManagedPolicyArn=read_only),
        sso.delete_inline_policy_from_permission_set(**target),
    ]
    for answer in empty:  # "an HTTP 200 response with an empty HTTP body"
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200 and _iso(answer) == {}
        _compare("ssoadmin_empty_response", answer)

    assignment = {**target, "TargetId": ids["account"], "TargetType": "AWS_ACCOUNT", "PrincipalType": "GROUP",
                  "PrincipalId": ids["group"]}
    created = sso.create_account_assignment(**assignment)
    _compare("ssoadmin_create_account_assignment", created)
    request = created["AccountAssignmentCreationStatus"]["RequestId"]
    status = sso.describe_account_assignment_creation_status(InstanceArn=instance,
                                                             AccountAssignmentCreationRequestId=request)
    _compare("ssoadmin_describe_account_assignment_creation_status", status)
    assert status["AccountAssignmentCreationStatus"]["Status"] in STATUSES

    provisioned = sso.provision_permission_set(**target, TargetType="ALL_PROVISIONED_ACCOUNTS")
    _compare("ssoadmin_provision_permission_set", provisioned)
    request = provisioned["PermissionSetProvisioningStatus"]["RequestId"]
    status = sso.describe_permission_set_provisioning_status(InstanceArn=instance,
                                                             ProvisionPermissionSetRequestId=request)
    _compare("ssoadmin_describe_permission_set_provisioning_status", status)
    assert status["PermissionSetProvisioningStatus"]["Status"] in STATUSES

    deleted = sso.delete_account_assignment(**assignment)
    _compare("ssoadmin_delete_account_assignment", deleted)
    request = deleted["AccountAssignmentDeletionStatus"]["RequestId"]
    status = sso.describe_account_assignment_deletion_status(InstanceArn=instance,
                                                             AccountAssignmentDeletionRequestId=request)
    _compare("ssoadmin_describe_account_assignment_deletion_status", status)
    assert status["AccountAssignmentDeletionStatus"]["Status"] in STATUSES


def test_review_removal_calls_answer_in_the_documented_shape(aws):
    """The reads and writes of the review removals (runbooks/review_apply.py) on AWS."""
    client, ids = aws
    sso, store = client("sso-admin"), client("identitystore")
    instance = sso.list_instances()["Instances"][0]
    store_id = instance["IdentityStoreId"]
    membership = next(m for g in store.list_groups(IdentityStoreId=store_id)["Groups"]
                      for m in store.list_group_memberships(IdentityStoreId=store_id,
                                                            GroupId=g["GroupId"])["GroupMemberships"])
    described = store.describe_group_membership(IdentityStoreId=store_id, MembershipId=membership["MembershipId"])
    _compare("idstore_describe_group_membership", described)
    user = described["MemberId"]["UserId"]
    for_user = sso.list_account_assignments_for_principal(InstanceArn=instance["InstanceArn"], PrincipalType="USER",
                                                          PrincipalId=user)
    assert for_user["AccountAssignments"], "a user in a group: its group's assignments at least"
    _compare("ssoadmin_list_account_assignments_for_principal", for_user)
    deleted = store.delete_group_membership(IdentityStoreId=store_id, MembershipId=membership["MembershipId"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    _compare("idstore_delete_group_membership", deleted)
    with pytest.raises(ClientError) as gone:
        store.describe_group_membership(IdentityStoreId=store_id, MembershipId=membership["MembershipId"])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_sts_iam_and_secrets_manager_answer_in_the_documented_shape(aws):
    client, _ = aws
    _compare("sts_assume_role", client("sts").assume_role(
        RoleArn="arn:aws:iam::111122223333:role/idbridge-audit", RoleSessionName="idbridge-audit"))
    _compare("iam_get_policy", client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"))
    secrets = client("secretsmanager")
    secrets.create_secret(Name="contract/scim-token", SecretString="not-a-real-token")
    _compare("secretsmanager_get_secret_value", secrets.get_secret_value(SecretId="contract/scim-token"))


def _refusal(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def _assert_aws_error(fixture: str, response: dict) -> None:
    documented = load_fixture(fixture, "aws")["response"]
    assert response["Error"]["Code"] == documented["body"]["__type"]
    assert isinstance(response["Error"]["Message"], str) and response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == documented["status"]


def test_a_taken_permission_set_name_is_refused_with_conflict(aws):
    client, ids = aws
    sso = client("sso-admin")
    sso.create_permission_set(InstanceArn=ids["instance"], Name="ContractTwice")
    refused = _refusal(lambda: sso.create_permission_set(InstanceArn=ids["instance"], Name="ContractTwice"))
    _assert_aws_error("ssoadmin_error_conflict", refused)
    assert refused["Error"]["Message"] == "PermissionSet with name ContractTwice already exists."
    names = [sso.describe_permission_set(InstanceArn=ids["instance"], PermissionSetArn=arn)["PermissionSet"]["Name"]
             for arn in sso.list_permission_sets(InstanceArn=ids["instance"])["PermissionSets"]]
    assert names.count("ContractTwice") == 1


def test_a_denied_call_is_refused_with_access_denied(aws, box):
    client, ids = aws
    saved = box.world.faults
    box.world.faults = FaultConfig(deny=["sso-admin"])
    try:
        refused = _refusal(lambda: client("sso-admin").list_regions(InstanceArn=ids["instance"]))
    finally:
        box.world.faults = saved
    _assert_aws_error("ssoadmin_error_access_denied", refused)
    assert "is not authorized to perform: sso:ListRegions" in refused["Error"]["Message"]


def test_calls_above_the_rate_are_refused_with_throttling(aws, box):
    client, _ = aws
    sso = client("sso-admin", retries={"total_max_attempts": 1})  # see the refusal, not botocore's retry
    saved = box.world.faults
    box.world.faults = FaultConfig(aws_throttle=True)
    refusals = []

    def burst():
        for _ in range(15):
            try:
                sso.list_instances()
            except ClientError as exc:
                refusals.append(exc.response)

    try:
        # 20 a second with a burst of 20: 120 calls from 8 threads at once go over even on a loaded machine,
        # where one thread's calls alone may be slower than the refill.
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: burst(), range(8)))
    finally:
        box.world.faults = saved
    assert refusals
    _assert_aws_error("ssoadmin_error_throttling", refusals[0])
    assert refusals[0]["Error"]["Message"] == "Rate exceeded"


def test_timestamps_compare_as_text():
    """The helper the AWS comparisons rely on: epoch numbers in AWS's examples read as the ISO text boto3's
    datetimes become."""
    assert _timestamps_as_text({"CreatedDate": 0}) == {"CreatedDate": "1970-01-01T00:00:00Z"}
    assert _iso({"At": datetime(2026, 3, 1, tzinfo=timezone.utc)}) == {"At": "2026-03-01T00:00:00Z"}
