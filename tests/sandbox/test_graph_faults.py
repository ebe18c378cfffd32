"""Authentication, response headers, and every fault switch, as msgraph-sdk experiences them."""

from __future__ import annotations

import random
import time
import uuid

import httpx
import pytest
from support.graph_harness import GraphServer, raw, run, scenario, world
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from idbridge.sandbox import derived
from idbridge.sandbox.faults import FaultConfig

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _server(scn=None, **faults) -> GraphServer:
    return GraphServer(world(scn, FaultConfig(**faults)))


def _seed(condition) -> int:
    """A seed whose first draws satisfy `condition` (each request draws three numbers: 429, 503, page token)."""
    for seed in range(10_000):
        rng = random.Random(seed)
        if condition([rng.random() for _ in range(9)]):
            return seed
    raise AssertionError("no seed found")


async def _error(coro) -> ODataError:
    with pytest.raises(ODataError) as caught:
        await coro
    return caught.value


def test_every_graph_call_needs_a_bearer_token():
    srv = _server()
    try:
        anonymous = httpx.get(f"{srv.root()}/users", headers={"client-request-id": "my-id"})
        forged = httpx.get(f"{srv.root()}/users", headers={"Authorization": "Bearer a.b.c"})
        token = httpx.post(srv.token_url, data={"grant_type": "client_credentials",
                                                "client_id": derived.SANDBOX_CLIENT_ID, "client_secret": "x",
                                                "scope": "https://graph.microsoft.com/.default"}).json()
        ok = httpx.get(f"{srv.root()}/organization", headers={"Authorization": f"Bearer {token['access_token']}"})
        wrong_tenant = httpx.post(srv.token_url.replace(srv.tenant, "other.onmicrosoft.com"), data={
            "grant_type": "client_credentials", "client_id": derived.SANDBOX_CLIENT_ID,
            "scope": "https://graph.microsoft.com/.default"})
        not_a_guid = httpx.post(srv.token_url, data={"grant_type": "client_credentials", "client_id": "audit-app",
                                                     "scope": "https://graph.microsoft.com/.default"})
        by_domain = httpx.post(f"{srv.base}/contoso.com/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
            "scope": "https://graph.microsoft.com/.default"})
    finally:
        srv.close()
    assert anonymous.status_code == 401
    error = anonymous.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["client-request-id"] == "my-id" == anonymous.headers["client-request-id"]
    assert anonymous.headers["request-id"] == error["innerError"]["request-id"]
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert set(token) >= {"token_type", "expires_in", "access_token"} and token["token_type"] == "Bearer"
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/json;odata.metadata=minimal")
    assert ok.json()["@odata.context"].endswith("/v1.0/$metadata#organization")
    assert ok.headers["request-id"] and ok.headers["client-request-id"]
    assert wrong_tenant.status_code == 400 and "AADSTS90002" in wrong_tenant.json()["error_description"]
    assert not_a_guid.status_code == 400 and not_a_guid.json()["error"] == "unauthorized_client"
    assert by_domain.status_code == 200  # any GUID client id, tenant by domain name


def test_429_is_retried_by_msgraph_sdk_honouring_retry_after():
    seed = _seed(lambda d: d[0] < 0.5 <= d[3])  # first call throttled, second not
    srv = _server(graph_429=0.5, retry_after_s=1, seed=seed)
    try:
        started = time.monotonic()
        users = run(srv.client().users.get())
        elapsed = time.monotonic() - started
        attempts = [s for m, p, s, _ in srv.app.stats.calls if p == "/users"]
    finally:
        srv.close()
    assert len(users.value) == 4
    assert attempts == [429, 200]
    assert elapsed >= 1.0  # Retry-After: 1 was waited for


def test_429_body_and_retry_after_when_retries_run_out():
    srv = _server(graph_429=1.0, retry_after_s=1)
    try:
        error = run(_error(raw(srv.adapter(), "/groups", retries=1)))
        attempts = srv.app.stats.count("/groups")
    finally:
        srv.close()
    assert error.response_status_code == 429 and error.error.code == "TooManyRequests"
    assert error.response_headers["retry-after"] == "1"
    assert attempts == 2  # the first call and one retry


def test_503_is_retried():
    seed = _seed(lambda d: d[1] < 0.5 <= d[4])
    srv = _server(graph_503=0.5, retry_after_s=1, seed=seed)
    try:
        page = run(raw(srv.adapter(), "/groups?$select=displayName"))
        attempts = [s for m, p, s, _ in srv.app.stats.calls if p == "/groups"]
    finally:
        srv.close()
    assert len(page["value"]) == 4 and attempts == [503, 200]


def test_faulty_runs_repeat_with_the_same_seed():
    def statuses() -> list[int]:
        srv = _server(graph_429=0.3, graph_503=0.2, seed=42)
        try:
            async def main():
                adapter = srv.adapter()
                for _ in range(12):
                    try:
                        await raw(adapter, "/organization", retries=0)
                    except ODataError:
                        pass
            run(main())
            return [s for _, _, s, _ in srv.app.stats.calls]
        finally:
            srv.close()

    first, second = statuses(), statuses()
    assert first == second and {429, 503} <= set(first) and 200 in first


def test_expired_page_token():
    srv = _server(expired_page_token=1.0)
    try:
        async def main():
            adapter = srv.adapter()
            first = await raw(adapter, "/users?$top=2&$select=id")
            error = await _error(raw(adapter, first["@odata.nextLink"]))
            again = await raw(adapter, "/users?$top=2&$select=id")  # restarting from page 1 works
            return first, error, again
        first, error, again = run(main())
    finally:
        srv.close()
    assert error.response_status_code == 400 and error.error.code == "Directory_ExpiredPageToken"
    assert again["value"] == first["value"]


def test_reports_limit_five_per_ten_seconds_per_app():
    srv = _server(graph_reports_limit=True)
    try:
        async def main():
            adapter = srv.adapter()
            for url in ["/auditLogs/signIns"] * 3 + ["/auditLogs/provisioning",
                                                     "/reports/authenticationMethods/userRegistrationDetails"]:
                await raw(adapter, url, retries=0)
            throttled = await _error(raw(adapter, "/auditLogs/signIns", retries=0))
            users = await raw(adapter, "/users?$select=id", retries=0)  # not a report: unaffected
            other_app = await raw(srv.adapter(client_id=str(uuid.uuid4())), "/auditLogs/signIns", retries=0)
            return throttled, users, other_app
        throttled, users, other_app = run(main())
    finally:
        srv.close()
    assert throttled.response_status_code == 429 and throttled.error.code == "TooManyRequests"
    assert 1 <= int(throttled.response_headers["retry-after"]) <= 10
    assert len(users["value"]) == 4 and len(other_app["value"]) == 3


def test_denied_sources():
    srv = _server(deny=["signIns", "synchronization", "groups"])
    sp_id = srv.world.graph.aws_sp_id
    try:
        async def main():
            adapter = srv.adapter()
            errors = [await _error(raw(adapter, url)) for url in (
                "/auditLogs/signIns", f"/servicePrincipals/{sp_id}/synchronization/jobs", "/groups")]
            users = await raw(adapter, "/users?$select=id")
            sp = await raw(adapter, f"/servicePrincipals/{sp_id}?$select=id")
            return errors, users, sp
        errors, users, sp = run(main())
    finally:
        srv.close()
    for error in errors:
        assert error.response_status_code == 403
        assert error.error.code == "Authorization_RequestDenied"
        assert error.error.message == "Insufficient privileges to complete the operation."
    assert users["value"] and sp["id"] == sp_id


LICENCE_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def test_unlicensed_sources():
    srv = _server(unlicensed=["signIns", "registrationDetails"])
    try:
        async def main():
            adapter = srv.adapter()
            errors = [await _error(raw(adapter, url)) for url in (
                "/auditLogs/signIns", "/reports/authenticationMethods/userRegistrationDetails",
                "/users?$select=displayName,signInActivity")]
            plain = await raw(adapter, "/users?$select=displayName")
            return errors, plain
        errors, plain = run(main())
    finally:
        srv.close()
    assert [(e.response_status_code, e.error.code) for e in errors] == [(403, LICENCE_CODE)] * 3
    assert errors[0].error.message == "Neither tenant is B2C or tenant doesn't have premium license"
    assert len(plain["value"]) == 4


def test_free_tenant_gets_licence_errors():
    srv = _server(scenario(tenant__licence="free"))
    try:
        async def main():
            adapter = srv.adapter()
            errors = [await _error(raw(adapter, url)) for url in (
                "/auditLogs/signIns", "/reports/authenticationMethods/userRegistrationDetails",
                "/users?$select=signInActivity",
                "/users?$filter=signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z",
                "/users/0b6e1a8e-36b5-4d52-9a3c-0a1d6b2e7f11?$select=signInActivity")]
            users = await raw(adapter, "/users")
            org = await raw(adapter, "/organization")
            return errors, users, org
        errors, users, org = run(main())
    finally:
        srv.close()
    assert all((e.response_status_code, e.error.code) == (403, LICENCE_CODE) for e in errors)
    assert len(users["value"]) == 4 and org["value"][0]["assignedPlans"] == []


def test_latency_is_added():
    srv = _server(latency_ms=60)
    try:
        token = srv.credential().get_token("https://graph.microsoft.com/.default").token
        started = time.monotonic()
        httpx.get(f"{srv.root()}/organization", headers={"Authorization": f"Bearer {token}"})
        elapsed = time.monotonic() - started
    finally:
        srv.close()
    assert elapsed >= 0.06
