"""The sandbox answers every request of the inventory in the documented shape: the same request, sent to the demo
sandbox over plain HTTP (Graph, with the sandbox's token) or through boto3 (AWS), compared with its contract fixture
by tests/support/contract.py shape_differences: keys, JSON types, what is omitted, status codes, error bodies.

The sandbox is not the truth: a difference here is fixed in lib/idbridge/sandbox, never in the fixture."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
from support.sandbox import sandbox_parameters

from idbridge.clients.factory import aws_client, aws_session, graph_credential
from tests.support.contract import load_fixture, shape_differences


@pytest.fixture(scope="module")
def box(demo_sandbox):
    return demo_sandbox  # conftest's: one demo sandbox for the module


class Graph:
    """Plain HTTP to the sandbox's Graph: the status code and the JSON body of each answer."""

    def __init__(self, params):
        self.base = params.graph.base_url.rstrip("/")
        self.root = self.base.rsplit("/", 1)[0]
        token = graph_credential(params).get_token("https://graph.microsoft.com/.default").token
        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.ids: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, version: str = "v1.0") -> tuple[int, object]:
        # $count on directory objects is an advanced query: Graph wants ConsistencyLevel: eventual (preflight sends it).
        headers = {"ConsistencyLevel": "eventual"} if "$count" in path else None
        url = path if path.startswith("http") else f"{self.root}/{version}{path}"
        response = self.http.request(method, url, json=body, headers=headers)
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, response.text


@pytest.fixture(scope="module")
def graph(box):
    g = Graph(sandbox_parameters(box))
    name = box.scenario.entra.aws_app.display_name
    _, sps = g.call("GET", f"/servicePrincipals?$filter=displayName eq '{name}'")
    sp = sps["value"][0]
    _, apps = g.call("GET", f"/applications?$filter=appId eq '{sp['appId']}'")
    _, jobs = g.call("GET", f"/servicePrincipals/{sp['id']}/synchronization/jobs")
    _, assigned = g.call("GET", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo")
    group = next(a["principalId"] for a in assigned["value"] if a["principalType"] == "Group")
    _, users = g.call("GET", "/users?$select=id,userPrincipalName")
    user = users["value"][0]
    _, templates = g.call("GET", "/applicationTemplates")
    g.ids = {"sp": sp["id"], "app": apps["value"][0]["id"], "job": jobs["value"][0]["id"], "group": group,
             "user": user["id"], "upn": user["userPrincipalName"], "appId": sp["appId"],
             "template": templates["value"][0]["id"], "user_role": next(
                 r["id"] for r in sp["appRoles"] if r["displayName"] == "User")}
    yield g
    g.http.close()


SYNC = "/servicePrincipals/{sp}/synchronization"
# fixture -> (method, path, body, expected status, nullable keys, version). Paths take the ids found above.
GRAPH_REQUESTS = {
    "organization_list": ("GET", "/organization?$select=id,displayName,verifiedDomains", None, 200, ()),
    "users_list": ("GET", "/users?$select=id,userPrincipalName,displayName,givenName,surname,mail,otherMails,"
                   "accountEnabled,userType,department,jobTitle,employeeId,createdDateTime,onPremisesSyncEnabled,"
                   "onPremisesImmutableId,externalUserState&$top=999", None, 200,
                   ("mail", "department", "jobTitle", "employeeId", "onPremisesSyncEnabled", "onPremisesImmutableId",
                    "externalUserState")),
    "users_list_count": ("GET", "/users?$count=true&$top=1&$select=id", None, 200, ()),
    "user_get_select": ("GET", "/users/{upn}?$select=id,userPrincipalName,accountEnabled", None, 200, ()),
    "user_list_memberof": ("GET", "/users/{user}/memberOf?$select=id", None, 200, ()),
    "groups_list": ("GET", "/groups?$select=id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,"
                    "membershipRule,onPremisesSyncEnabled,createdDateTime&$top=999", None, 200,
                    ("description", "mail", "membershipRule", "onPremisesSyncEnabled")),
    "group_list_members": ("GET", "/groups/{group}/members?$select=id&$top=999", None, 200, ()),
    "group_list_transitivemembers": ("GET", "/groups/{group}/transitiveMembers?$select=id&$top=999", None, 200, ()),
    "serviceprincipal_list_filter": ("GET", "/servicePrincipals?$filter=appId eq '{appId}'&$select=id,appId,"
                                     "displayName,preferredSingleSignOnMode,loginUrl,replyUrls,appRoleAssignmentRequired,"
                                     "preferredTokenSigningKeyThumbprint,notificationEmailAddresses,applicationTemplateId,"
                                     "samlSingleSignOnSettings,appRoles,keyCredentials", None, 200,
                                     ("relayState", "value", "key", "customKeyIdentifier")),
    "application_get_select": ("GET", "/applications/{app}?$select=id,appId,displayName,identifierUris,web", None, 200,
                               ("homePageUrl", "logoutUrl", "index")),
    "applicationtemplate_get": ("GET", "/applicationTemplates/{template}", None, 200, ("description",)),
    "serviceprincipal_list_approleassignedto": ("GET", "/servicePrincipals/{sp}/appRoleAssignedTo", None, 200, ()),
    "synchronization_job_list": ("GET", SYNC + "/jobs", None, 200,
                                 ("lastExecution", "lastSuccessfulExecution", "lastSuccessfulExecutionWithExports",
                                  "quarantine", "expiration")),
    "synchronization_schema_get": ("GET", SYNC + "/jobs/{job}/schema", None, 200, ("scope", "defaultValue")),
    "synchronization_template_list": ("GET", SYNC + "/templates", None, 200, ("description",)),
    "provisioning_list_failure": ("GET", "/auditLogs/provisioning?$top=1000", None, 200, ()),
    "beta_signin_list": ("GET", "/auditLogs/signIns?$filter=appId eq '{appId}'&$top=1000", None, 200,
                         ("additionalDetails", "city", "state", "countryOrRegion", "failureReason"), "beta"),
    "error_not_found": ("GET", "/groups/00000000-0000-0000-0000-00000000dead", None, 404, ()),
    "serviceprincipal_update": ("PATCH", "/servicePrincipals/{sp}", {"notificationEmailAddresses": ["ops@contoso.com"]},
                                204, ()),
    "application_update": ("PATCH", "/applications/{app}", {"displayName": "AWS IAM Identity Center"}, 204, ()),
    "serviceprincipal_addtokensigningcertificate": ("POST", "/servicePrincipals/{sp}/addTokenSigningCertificate",
                                                    {"displayName": "CN=contract", "endDateTime": "2029-03-01T10:00:00Z"},
                                                    200, ()),
    "synchronization_job_validatecredentials": ("POST", SYNC + "/jobs/{job}/validateCredentials",
                                                {"useSavedCredentials": True, "credentials": []}, 204, ()),
    "synchronization_job_start": ("POST", SYNC + "/jobs/{job}/start", None, 204, ()),
}


def _expand(path: str, ids: dict) -> str:
    return path.format(**ids)


@pytest.mark.parametrize("name", list(GRAPH_REQUESTS))
def test_graph_sandbox_answers_in_the_documented_shape(graph, name):
    method, path, body, status, nullable, *version = GRAPH_REQUESTS[name]
    documented = load_fixture(name)["response"]
    got_status, served = graph.call(method, _expand(path, graph.ids), body, *version)
    if set(documented) >= {"status", "body"}:  # an answer pinned with its status: no body, or an error body
        assert got_status == documented["status"], (got_status, served)
        documented = documented["body"]
    else:
        assert got_status == status, (got_status, served)
    if documented is None:
        assert served is None, served
        return
    assert shape_differences(documented, served, nullable=frozenset(nullable)) == []


def test_graph_sandbox_claims_policy_write_answers_the_documented_policy(graph):
    """PATCH …/claimsPolicy (runbook 01) answers the policy; each documented claim kind is served in its shape."""
    documented = load_fixture("beta_serviceprincipal_claimspolicy_update")["response"]
    path = f"/servicePrincipals/{graph.ids['sp']}/claimsPolicy"
    _, current = graph.call("GET", path, version="beta")
    status, served = graph.call("PATCH", path, {"claims": current["claims"]}, version="beta")
    assert status == 201, (status, served)  # as the update page documents for PATCH: 201 Created and the policy
    nullable = frozenset({"includeApplicationIdInIssuer", "audienceOverride", "groupFilter", "namespace",
                          "samlAttributeNameFormat", "condition", "serviceProviderNameQualifier"})
    top = {k: v for k, v in documented.items() if k != "claims"}
    assert shape_differences(top, served, nullable=nullable) == []
    by_type = {c["@odata.type"]: c for c in served["claims"]}
    for claim in documented["claims"]:
        assert claim["@odata.type"] in by_type, claim["@odata.type"]
        assert shape_differences(claim, by_type[claim["@odata.type"]], nullable=nullable) == []


def test_graph_sandbox_answers_a_batch_in_the_documented_envelope(graph):
    documented = load_fixture("batch_responses")["response"]
    body = {"requests": [{"id": "1", "method": "GET", "url": f"/groups/{graph.ids['group']}/members?$select=id"},
                         {"id": "3", "method": "GET", "url": "/groups/00000000-0000-0000-0000-00000000dead/members"}]}
    status, served = graph.call("POST", "/$batch", body)
    assert status == 200
    by_id = {r["id"]: r for r in served["responses"]}
    ok, missing = documented["responses"][0], documented["responses"][2]
    assert shape_differences({k: v for k, v in ok.items() if k != "body"}, by_id["1"]) == []
    assert shape_differences({k: v for k, v in ok["body"].items() if k != "@odata.nextLink"}, by_id["1"]["body"]) == []
    assert by_id["3"]["status"] == 404 and shape_differences(missing["body"], by_id["3"]["body"]) == []


def test_graph_sandbox_throttles_with_retry_after_and_the_error_body():
    from idbridge.sandbox.faults import FaultConfig
    from tests.support import graph_harness as gh

    documented = load_fixture("error_throttled")["response"]
    server = gh.GraphServer(gh.world(faults=FaultConfig(graph_429=1.0)))
    try:
        token = server.credential().get_token("https://graph.microsoft.com/.default").token
        response = httpx.get(f"{server.root()}/users", headers={"Authorization": f"Bearer {token}"})
    finally:
        server.close()
    assert response.status_code == documented["status"] == 429
    assert float(response.headers["Retry-After"]) >= 0
    assert shape_differences(documented["body"], response.json()) == []


# ------------------------------------------------------------------------------------------------------- AWS


def _iso(value):
    """boto3's parsed answer as JSON text would carry it: datetimes as ISO-8601, ResponseMetadata dropped."""
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@pytest.fixture(scope="module")
def aws(box):
    params = sandbox_parameters(box)
    session = aws_session(params)

    def client(service):
        return aws_client(session, service, params)

    sso = client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    arns = sso.list_permission_sets(InstanceArn=instance["InstanceArn"])["PermissionSets"]
    store = client("identitystore")
    groups = store.list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"]
    users = store.list_users(IdentityStoreId=instance["IdentityStoreId"])["Users"]
    org = client("organizations")
    root = org.list_roots()["Roots"][0]
    accounts = org.list_accounts_for_parent(ParentId=root["Id"])["Accounts"]
    ids = {"instance": instance["InstanceArn"], "store": instance["IdentityStoreId"], "ps": arns[0],
           "group": groups[0]["GroupId"], "user": users[0]["UserId"], "user_name": users[0]["UserName"],
           "group_name": groups[0]["DisplayName"], "root": root["Id"], "account": accounts[0]["Id"]}
    return client, ids


def _aws_requests(i: dict) -> dict:
    inst, ps = {"InstanceArn": i["instance"]}, {"InstanceArn": i["instance"], "PermissionSetArn": i["ps"]}
    store = {"IdentityStoreId": i["store"]}
    return {
        "ssoadmin_list_instances": ("sso-admin", "list_instances", {}),
        "ssoadmin_list_regions": ("sso-admin", "list_regions", inst),
        "ssoadmin_list_permission_sets": ("sso-admin", "list_permission_sets", inst),
        "ssoadmin_describe_permission_set": ("sso-admin", "describe_permission_set", ps),
        "ssoadmin_list_managed_policies_in_permission_set": ("sso-admin", "list_managed_policies_in_permission_set", ps),
        "ssoadmin_list_customer_managed_policy_references_in_permission_set":
            ("sso-admin", "list_customer_managed_policy_references_in_permission_set", ps),
        "ssoadmin_get_inline_policy_for_permission_set": ("sso-admin", "get_inline_policy_for_permission_set", ps),
        "ssoadmin_list_accounts_for_provisioned_permission_set":
            ("sso-admin", "list_accounts_for_provisioned_permission_set", ps),
        "ssoadmin_list_account_assignments": ("sso-admin", "list_account_assignments",
                                              {**ps, "AccountId": i["account"]}),
        "ssoadmin_list_account_assignments_for_principal": ("sso-admin", "list_account_assignments_for_principal",
                                                            {**inst, "PrincipalType": "USER",
                                                             "PrincipalId": i["user"]}),
        "idstore_list_groups": ("identitystore", "list_groups", store),
        "idstore_describe_group": ("identitystore", "describe_group", {**store, "GroupId": i["group"]}),
        "idstore_list_group_memberships": ("identitystore", "list_group_memberships", {**store, "GroupId": i["group"]}),
        "idstore_list_group_memberships_for_member": ("identitystore", "list_group_memberships_for_member",
                                                      {**store, "MemberId": {"UserId": i["user"]}}),
        "idstore_get_user_id": ("identitystore", "get_user_id", {**store, "AlternateIdentifier": {"UniqueAttribute": {
            "AttributePath": "userName", "AttributeValue": i["user_name"]}}}),
        "idstore_get_group_id": ("identitystore", "get_group_id", {**store, "AlternateIdentifier": {"UniqueAttribute": {
            "AttributePath": "displayName", "AttributeValue": i["group_name"]}}}),
        "organizations_describe_organization": ("organizations", "describe_organization", {}),
        "organizations_list_roots": ("organizations", "list_roots", {}),
        "organizations_list_accounts_for_parent": ("organizations", "list_accounts_for_parent", {"ParentId": i["root"]}),
        "organizations_list_organizational_units_for_parent":
            ("organizations", "list_organizational_units_for_parent", {"ParentId": i["root"]}),
        "organizations_list_tags_for_resource": ("organizations", "list_tags_for_resource",
                                                 {"ResourceId": i["account"]}),
        "sts_get_caller_identity": ("sts", "get_caller_identity", {}),
        "cloudtrail_lookup_events": ("cloudtrail", "lookup_events", {"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "UserAuthentication"}]}),
    }


AWS_READS = list(_aws_requests({k: "" for k in ("instance", "store", "ps", "group", "user", "user_name",
                                                 "group_name", "root", "account")}))


def _timestamps_as_text(value, key=""):
    """AWS's own examples write timestamps as epoch numbers (the wire form); boto3 gives datetimes, compared as
    text here."""
    if isinstance(value, dict):
        return {k: _timestamps_as_text(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_timestamps_as_text(v, key) for v in value]
    if isinstance(value, (int, float)) and key.endswith(("Timestamp", "Date", "Time")):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def aws_shape_differences(documented, served, path="$", verbatim: bool = False) -> list[str]:
    """AWS omits an optional member that has no value, so a member the fixture has and the sandbox does not is
    not a difference; a member the sandbox sends that the documented shape lacks is, and so is a type."""
    served = {k: v for k, v in served.items() if k != "NextToken"} if isinstance(served, dict) else served
    out = shape_differences(documented, served, path, extra_keys=verbatim)
    return [d for d in out if not d.endswith("documented, omitted by the sandbox")]


@pytest.mark.parametrize("name", AWS_READS)
def test_aws_sandbox_answers_in_the_documented_shape(aws, name):
    client, ids = aws
    service, operation, kwargs = _aws_requests(ids)[name]
    served = _iso(getattr(client(service), operation)(**kwargs))
    fixture = load_fixture(name, "aws")
    documented = _timestamps_as_text(fixture["response"])
    # AWS's examples show some members only; a composed fixture has every documented member.
    verbatim = fixture["note"].startswith("verbatim")
    assert aws_shape_differences(documented, served, verbatim=verbatim) == []
    # What the kit reads is there, not only allowed: the first item's members the collectors use.
    for key, value in documented.items():
        if isinstance(value, list) and value and served.get(key):
            assert set(served[key][0]) & set(value[0]) if isinstance(value[0], dict) else True


def test_aws_sandbox_refuses_a_missing_boundary_with_the_documented_error(aws):
    from botocore.exceptions import ClientError

    client, ids = aws
    documented = load_fixture("ssoadmin_error_resource_not_found", "aws")["response"]["body"]
    with pytest.raises(ClientError) as caught:
        client("sso-admin").get_permissions_boundary_for_permission_set(InstanceArn=ids["instance"],
                                                                         PermissionSetArn=ids["ps"])
    assert caught.value.response["Error"]["Code"] == documented["__type"]
    status = load_fixture("ssoadmin_error_resource_not_found", "aws")["response"]["status"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_aws_sandbox_cloudtrail_records_have_the_documented_shape(aws):
    client, _ = aws
    trail = client("cloudtrail")
    for name, fixture in (("UserAuthentication", "user_authentication_success"),
                          ("CreateBearerToken", "sso_directory_create_bearer_token")):
        events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
        assert events, name
        served = json.loads(events[0]["CloudTrailEvent"])
        documented = load_fixture(fixture, "aws")["response"]
        assert shape_differences(documented, served, nullable=frozenset({"requestParameters", "responseElements"})) \
            == [], name
        for key in ("eventSource", "eventType"):
            assert served[key] == documented[key], (name, key)
