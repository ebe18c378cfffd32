"""What a web page open in the consultant's browser can do to a running sandbox: nothing.

Both servers answer only requests addressed to a loopback name (DNS rebinding names the page's host) and send no
CORS header (so a cross-origin page can neither send credentials nor read an answer). The AWS side requires a
SigV4 signature made with the sandbox's key, verified over the whole request, in the Authorization header; it
does not serve moto's /moto-api. The Graph emulator requires its bearer token on every Graph call.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from support.sandbox import forget_sandbox, running_sandbox

from idbridge.clients.factory import aws_session
from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY, Parameters
from idbridge.sandbox import derived

EVIL = "https://evil.example"
LIST_INSTANCES = {"X-Amz-Target": "SWBExternalService.ListInstances",
                  "Content-Type": "application/x-amz-json-1.1"}
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def box():
    sandbox = running_sandbox("empty")
    yield sandbox
    sandbox.stop()
    forget_sandbox()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def raw(port: int, method: str, path: str, headers: dict | None = None, body: bytes | str | None = None):
    """One request as a browser (or anything) could send it: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def signed(port: int, method: str, path: str, headers: dict, body: bytes = b"", *, host: str | None = None,
           key: str = SANDBOX_AWS_ACCESS_KEY_ID, secret: str = SANDBOX_AWS_SECRET_ACCESS_KEY,
           service: str = "sso", region: str = "eu-west-1"):
    """A request signed by botocore's SigV4 for `host` (default: the real one), sent to the sandbox."""
    host = host or f"127.0.0.1:{port}"
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers={"Host": host, **headers})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return raw(port, method, path, dict(request.headers.items()), body)


def _aws(box, service: str, region: str | None = None, **credentials):
    credentials = credentials or {"aws_access_key_id": SANDBOX_AWS_ACCESS_KEY_ID,
                                  "aws_secret_access_key": SANDBOX_AWS_SECRET_ACCESS_KEY}
    return boto3.client(service, endpoint_url=box.endpoints.aws_endpoint_url, region_name=region or box.endpoints.region,
                        config=NO_RETRIES,
                        **credentials)


def _code(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ------------------------------------------------------------------------------------------------ AWS: credentials


def test_the_sandbox_key_works_through_boto3_and_the_parameters_file(box):
    assert _aws(box, "sso-admin").list_instances()["Instances"][0]["InstanceArn"] == box.endpoints.instance_arn
    assert _aws(box, "sts", "us-east-1").get_caller_identity()["Account"]
    session = aws_session(Parameters.model_validate(box.parameters()))  # `credentials: sandbox`
    organizations = session.client("organizations", endpoint_url=box.endpoints.aws_endpoint_url)
    assert len(organizations.list_accounts()["Accounts"]) == len(box.scenario.aws.accounts)
    port = _port(box.endpoints.aws_endpoint_url)
    status, _, body = signed(port, "POST", "/", LIST_INSTANCES, b"{}", region=box.endpoints.region)
    assert status == 200 and json.loads(body)["Instances"][0]["InstanceArn"] == box.endpoints.instance_arn


def test_unsigned_requests_are_refused_with_aws_error_shapes(box):
    port = _port(box.endpoints.aws_endpoint_url)
    status, headers, body = raw(port, "POST", "/", LIST_INSTANCES, "{}")
    assert status == 403 and json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, _, body = raw(port, "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
                          "Action=CreateRole&Version=2010-05-08&RoleName=evil&AssumeRolePolicyDocument=%7B%7D")
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in body
    status, _, _ = raw(port, "GET", "/?Action=ListRoles&Version=2010-05-08")
    assert status == 403
    assert "evil" not in [r["RoleName"] for r in _aws(box, "iam", "us-east-1").list_roles()["Roles"]]


def test_a_presigned_url_is_refused(box):
    """A signature in the query string can be sent by a web page without a CORS preflight."""
    url = _aws(box, "sts", "us-east-1").generate_presigned_url("get_caller_identity")
    status, _, body = raw(_port(box.endpoints.aws_endpoint_url), "GET", url.split(str(_port(url)), 1)[1])
    assert status == 403 and b"MissingAuthenticationToken" in body and b"Authorization header only" in body


def test_another_key_is_refused(box):
    other = {"aws_access_key_id": "AKIAEXAMPLEOTHERKEY0", "aws_secret_access_key": "x"}
    assert _code(_aws(box, "sso-admin", **other).list_instances) == ("UnrecognizedClientException", 403)
    assert _code(lambda: _aws(box, "identitystore", **other).list_users(
        IdentityStoreId=box.endpoints.identity_store_id)) == ("UnrecognizedClientException", 403)
    assert _code(_aws(box, "sts", "us-east-1", **other).get_caller_identity) == ("InvalidClientTokenId", 403)


def test_the_sandbox_key_id_with_another_secret_is_refused(box):
    wrong = {"aws_access_key_id": SANDBOX_AWS_ACCESS_KEY_ID, "aws_secret_access_key": "not-the-secret"}
    assert _code(_aws(box, "sso-admin", **wrong).list_instances) == ("InvalidSignatureException", 403)
    assert _code(_aws(box, "sts", "us-east-1", **wrong).get_caller_identity) == ("SignatureDoesNotMatch", 403)


def test_the_signature_covers_the_body(box):
    """A signed request whose body is changed afterwards is refused: the signature is verified, not only the key
    id."""
    sso = _aws(box, "sso-admin")

    def tamper(request, **_):
        request.body = json.dumps({"InstanceArn": box.endpoints.instance_arn, "Name": "Evil"}).encode()
        request.headers["Content-Length"] = str(len(request.body))

    sso.meta.events.register("before-send.sso-admin.ListPermissionSets", tamper)
    assert _code(lambda: sso.list_permission_sets(InstanceArn=box.endpoints.instance_arn)) == (
        "InvalidSignatureException", 403)


def test_a_malformed_authorization_header_is_refused(box):
    port = _port(box.endpoints.aws_endpoint_url)
    status, _, body = raw(port, "POST", "/", {**LIST_INSTANCES, "Authorization": "Bearer x"}, "{}")
    assert status == 400 and json.loads(body)["__type"] == "IncompleteSignatureException"
    status, _, body = raw(port, "POST", "/", {
        **LIST_INSTANCES, "Authorization": f"AWS4-HMAC-SHA256 Credential={SANDBOX_AWS_ACCESS_KEY_ID}/20260101/"
                                           "eu-west-1/sso/aws4_request, SignedHeaders=host, Signature=" + "0" * 64},
        "{}")
    assert status == 400 and json.loads(body)["__type"] == "IncompleteSignatureException"  # no X-Amz-Date


def test_temporary_keys_the_sandbox_issued_work(box):
    """`aws.role_arn` in the parameters: the keys moto's STS hands out are accepted, with their session token."""
    issued = _aws(box, "sts", "us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{box.endpoints.management_account}:role/idbridge-audit",
        RoleSessionName="idbridge-audit")["Credentials"]
    sso = _aws(box, "sso-admin", aws_access_key_id=issued["AccessKeyId"],
               aws_secret_access_key=issued["SecretAccessKey"], aws_session_token=issued["SessionToken"])
    assert sso.list_instances()["Instances"]
    forged = _aws(box, "sso-admin", aws_access_key_id=issued["AccessKeyId"],
                  aws_secret_access_key=issued["SecretAccessKey"], aws_session_token="forged")
    assert _code(forged.list_instances) == ("UnrecognizedClientException", 403)


# ------------------------------------------------------------------------------------------------ AWS: moto-api


@pytest.mark.parametrize("method,path", [("GET", "/moto-api/data.json"), ("POST", "/moto-api/reset"),
                                         ("POST", "/moto-api/seed?a=42"), ("GET", "/moto-api/"),
                                         ("POST", "/moto-api/reset-auth")])
def test_moto_api_is_not_served_signed_or_not(box, method, path):
    port = _port(box.endpoints.aws_endpoint_url)
    accounts = len(box.scenario.aws.accounts)
    status, _, body = raw(port, method, path)
    assert status == 404 and b"Organization" not in body
    status, _, body = signed(port, method, path, {})
    assert status == 404 and b"Organization" not in body
    assert len(_aws(box, "organizations", "us-east-1").list_accounts()["Accounts"]) == accounts, "not reset"


# ------------------------------------------------------------------------------------------------ both: CORS, Host


def _token(box) -> str:
    form = urlencode({"grant_type": "client_credentials", "client_id": derived.SANDBOX_CLIENT_ID,
                      "client_secret": "sandbox", "scope": "https://graph.microsoft.com/.default"})
    status, _, body = raw(_port(box.endpoints.graph_root), "POST", f"/{box.endpoints.tenant_id}/oauth2/v2.0/token",
                          {"Content-Type": "application/x-www-form-urlencoded"}, form)
    assert status == 200
    return json.loads(body)["access_token"]


def test_the_aws_side_sends_no_cors_headers(box):
    port = _port(box.endpoints.aws_endpoint_url)
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,x-amz-target,x-amz-date,content-type"}
    for path in ("/", "/moto-api/data.json"):
        status, headers, _ = raw(port, "OPTIONS", path, preflight)
        assert status >= 400 and not [h for h in headers if h.startswith("access-control-")], (path, headers)
    status, headers, _ = raw(port, "GET", "/", {"Origin": EVIL})
    assert not [h for h in headers if h.startswith("access-control-")]
    # Even a request the sandbox accepts (signed with its key) gets no CORS header back.
    status, headers, _ = signed(port, "POST", "/", {**LIST_INSTANCES, "Origin": EVIL}, b"{}")
    assert status == 200 and not [h for h in headers if h.startswith("access-control-")], headers


def test_the_graph_emulator_sends_no_cors_headers(box):
    port, tenant = _port(box.endpoints.graph_root), box.endpoints.tenant_id
    preflight = {"Origin": EVIL, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}
    for path in ("/v1.0/users", "/beta/users", f"/{tenant}/oauth2/v2.0/token",
                 f"/{tenant}/federationmetadata/2007-06/federationmetadata.xml"):
        status, headers, _ = raw(port, "OPTIONS", path, preflight)
        assert status >= 400 and not [h for h in headers if h.startswith("access-control-")], (path, headers)
    status, headers, _ = raw(port, "GET", "/v1.0/users",
                             {"Origin": EVIL, "Authorization": f"Bearer {_token(box)}"})
    assert status == 200 and not [h for h in headers if h.startswith("access-control-")]


def test_requests_naming_another_host_are_refused_by_both_servers(box):
    """DNS rebinding: the page's own name resolves to 127.0.0.1 and the browser sends Host: that name."""
    aws_port, graph_port = _port(box.endpoints.aws_endpoint_url), _port(box.endpoints.graph_root)
    status, _, body = signed(aws_port, "POST", "/", LIST_INSTANCES, b"{}", host=f"evil.example:{aws_port}")
    assert status == 403 and json.loads(body)["__type"] == "InvalidHostHeader"
    for host in ("localhost", f"localhost:{aws_port}", f"[::1]:{aws_port}"):
        assert signed(aws_port, "POST", "/", LIST_INSTANCES, b"{}", host=host)[0] == 200, host
    token = _token(box)
    status, _, _ = raw(graph_port, "GET", "/v1.0/users",
                       {"Host": f"evil.example:{graph_port}", "Authorization": f"Bearer {token}"})
    assert status == 400
    status, _, _ = raw(graph_port, "POST", f"/{box.endpoints.tenant_id}/oauth2/v2.0/token",
                       {"Host": f"evil.example:{graph_port}", "Content-Type": "application/x-www-form-urlencoded"},
                       "grant_type=client_credentials")
    assert status == 400
    assert raw(graph_port, "GET", "/v1.0/users", {"Host": f"localhost:{graph_port}",
                                                  "Authorization": f"Bearer {token}"})[0] == 200


# ------------------------------------------------------------------------------------------------ Graph: the token

GRAPH_CALLS = [
    ("GET", "/v1.0/users"), ("GET", "/beta/users"), ("GET", "/v1.0/users/$count"), ("GET", "/v1.0/groups"),
    ("GET", "/v1.0/organization"), ("GET", "/v1.0/servicePrincipals"), ("GET", "/v1.0/applications"),
    ("PATCH", "/v1.0/applications/00000000-0000-0000-0000-000000000001"),
    ("POST", "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000001/appRoleAssignedTo"),
    ("DELETE", "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000001/appRoleAssignedTo/x"),
    ("POST", "/v1.0/applicationTemplates/00000000-0000-0000-0000-000000000001/instantiate"),
    ("POST", "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000001/synchronization/jobs/x/start"),
    ("PUT", "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000001/synchronization/secrets"),
    ("GET", "/v1.0/auditLogs/signIns"), ("GET", "/v1.0/auditLogs/provisioning"),
    ("GET", "/v1.0/reports/authenticationMethods/userRegistrationDetails"),
    ("GET", "/v1.0/identity/conditionalAccess/policies"), ("POST", "/v1.0/$batch"), ("GET", "/v1.0/nothing/here"),
]


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.token", "Basic c2FuZGJveDpzYW5kYm94"])
def test_every_graph_call_needs_the_emulators_bearer_token(box, monkeypatch, authorization):
    port = _port(box.endpoints.graph_root)
    app = box._graph_server.app
    dispatched = []
    monkeypatch.setattr(app.router, "dispatch", lambda call: dispatched.append(call.path))
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in GRAPH_CALLS:
        body = json.dumps({"requests": [{"id": "1", "method": "GET", "url": "/users"}]}) if "$batch" in path \
            else ("{}" if method in ("POST", "PATCH", "PUT") else None)
        status, _, answer = raw(port, method, path, {**headers, "Content-Type": "application/json"}, body)
        assert status == 401, (method, path, status)
        assert json.loads(answer)["error"]["code"] == "InvalidAuthenticationToken"
    assert dispatched == [], "no handler runs before the token is checked"
    # a token signed by another emulator (another server secret) is refused too
    from idbridge.sandbox.graph.auth import TokenIssuer

    foreign = TokenIssuer(box.endpoints.tenant_id, []).issue(derived.SANDBOX_CLIENT_ID)
    assert raw(port, "GET", "/v1.0/users", {"Authorization": f"Bearer {foreign}"})[0] == 401
