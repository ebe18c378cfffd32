"""POST /$batch, hand-built through msgraph-sdk's adapter (the SDK's batch helper is broken, see the reference)."""

from __future__ import annotations

import httpx
import pytest
from support.graph_harness import GraphServer, raw, run, world
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from idbridge.sandbox.faults import FaultConfig

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server():
    srv = GraphServer(world())
    yield srv
    srv.close()


def _get(item_id: str, url: str, **extra) -> dict:
    return {"id": item_id, "method": "GET", "url": url, **extra}


def test_twenty_requests_in_one_batch(server):
    groups = list(server.world.graph.groups)
    requests = [_get(str(i), f"/groups/{groups[i % 4]}/members?$select=id") for i in range(18)]
    requests += [_get("18", "users?$select=userPrincipalName&$top=2"), _get("19", "/users/nobody@contoso.com")]
    answer = run(raw(server.adapter(), "/$batch", "POST", {"requests": requests}))
    responses = {r["id"]: r for r in answer["responses"]}
    assert len(responses) == 20
    assert all(responses[str(i)]["status"] == 200 and "value" in responses[str(i)]["body"] for i in range(19))
    assert "@odata.nextLink" in responses["18"]["body"]  # relative URL without a leading slash works too
    assert responses["19"]["status"] == 404
    assert responses["19"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert responses["0"]["headers"]["Content-Type"].startswith("application/json")
    assert server.app.stats.count("/$batch") == 1


def test_twenty_one_requests_are_refused(server):
    requests = [_get(str(i), "/organization") for i in range(21)]
    with pytest.raises(ODataError) as caught:
        run(raw(server.adapter(), "/$batch", "POST", {"requests": requests}))
    assert caught.value.response_status_code == 400 and caught.value.error.code == "BadRequest"
    assert "20" in caught.value.error.message


def test_depends_on(server):
    sp_id = server.world.graph.aws_sp_id
    requests = [
        _get("read", f"/servicePrincipals/{sp_id}?$select=notes", dependsOn=["write"]),
        {"id": "write", "method": "PATCH", "url": f"/servicePrincipals/{sp_id}",
         "headers": {"Content-Type": "application/json"}, "body": {"notes": "patched in a batch"}},
        _get("missing", "/groups/00000000-0000-0000-0000-000000000000"),
        _get("after-missing", "/organization", dependsOn=["missing"]),
    ]
    answer = run(raw(server.adapter(), "/$batch", "POST", {"requests": requests}))
    responses = {r["id"]: r for r in answer["responses"]}
    assert [r["id"] for r in answer["responses"]] == ["read", "write", "missing", "after-missing"]
    assert responses["write"]["status"] == 204 and "body" not in responses["write"]
    assert responses["read"]["body"]["notes"] == "patched in a batch"  # ran after the write
    assert responses["missing"]["status"] == 404
    assert responses["after-missing"]["status"] == 424


def test_faults_and_auth_apply_per_item():
    srv = GraphServer(world(faults=FaultConfig(deny=["groups"], graph_reports_limit=True)))
    try:
        requests = [_get("users", "/users?$select=id"), _get("groups", "/groups")]
        requests += [_get(f"s{i}", "/auditLogs/signIns?$top=1") for i in range(6)]  # ($select: not allowed)
        requests += [_get("absolute", f"{srv.root()}/users")]
        answer = run(raw(srv.adapter(), "/$batch", "POST", {"requests": requests}))
        anonymous = httpx.post(f"{srv.root()}/$batch", json={"requests": requests[:1]})
    finally:
        srv.close()
    responses = {r["id"]: r for r in answer["responses"]}
    assert responses["users"]["status"] == 200
    assert responses["groups"]["status"] == 403
    assert [responses[f"s{i}"]["status"] for i in range(6)] == [200] * 5 + [429]
    assert int(responses["s5"]["headers"]["Retry-After"]) >= 1
    assert responses["absolute"]["status"] == 400
    assert anonymous.status_code == 401
