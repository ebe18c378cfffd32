"""The sandbox serves Graph delta queries in the documented shape (fixtures from the Graph reference's delta
examples): a "sync from now" link, pages linked by $skiptoken ending in a $deltatoken link, changed users with
their selected properties, removed ones with @removed, members@delta with added and removed members, and the
documented errors for an expired token (400 syncStateNotFound) and a synchronization reset (410 Gone + Location).

The sandbox is not the truth: a difference here is fixed in lib/idbridge/sandbox, never in the fixture."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from support.sandbox import sandbox_parameters

from idbridge.clients.factory import graph_credential
from idbridge.sandbox.graph import routes_delta
from tests.support.contract import load_fixture, shape_differences

pytestmark = pytest.mark.integration
USER_SELECT = "displayName,jobTitle,mobilePhone"


@pytest.fixture(scope="module")
def box(demo_sandbox):
    return demo_sandbox  # conftest's: one demo sandbox for the module


@pytest.fixture(scope="module")
def http(box):
    params = sandbox_parameters(box)
    token = graph_credential(params).get_token("https://graph.microsoft.com/.default").token
    client = httpx.Client(base_url=params.graph.base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                          timeout=30)
    yield client
    client.close()


def get(http, url: str) -> tuple[int, dict, httpx.Headers]:
    response = http.get(url)
    return response.status_code, response.json(), response.headers


def latest(http, path: str, select: str) -> str:
    status, body, _ = get(http, f"{path}?$select={select}&$deltatoken=latest")
    assert status == 200, body
    return body["@odata.deltaLink"]


def test_sync_from_now_answers_a_delta_link_and_no_objects(http):
    status, body, _ = get(http, f"/users/delta?$select={USER_SELECT}&$deltatoken=latest")
    documented = load_fixture("users_delta_latest")["response"]
    assert status == 200
    assert shape_differences(documented, body, extra_keys=False) == []
    assert body["value"] == [] and "$deltatoken=" in body["@odata.deltaLink"]


def test_a_first_round_is_paged_by_skiptoken_and_ends_in_a_delta_link(http, box, monkeypatch):
    monkeypatch.setattr(routes_delta, "PAGE", 7)
    monkeypatch.setattr(routes_delta, "MEMBER_CHUNK", 5)
    status, page, _ = get(http, "/groups/delta?$select=displayName,description,members")
    documented = load_fixture("groups_delta_initial_page")["response"]
    assert status == 200
    with_members = {**page, "value": [g for g in page["value"] if g.get("members@delta")]}
    assert shape_differences(documented, with_members, extra_keys=False,
                             nullable=frozenset({"description"})) == []
    assert "$skiptoken=" in page["@odata.nextLink"]
    seen: dict[str, set] = {}
    while True:
        for group in page["value"]:
            seen.setdefault(group["id"], set()).update(m["id"] for m in group.get("members@delta", ()))
        if "@odata.deltaLink" in page:
            break
        status, page, _ = get(http, page["@odata.nextLink"])
        assert status == 200
    store = box.world.graph
    # every group, with every direct member, even when split over several occurrences of the group
    assert seen == {g: set(store.direct_members.get(g, [])) for g in store.groups}
    assert "$deltatoken=" in page["@odata.deltaLink"]


def test_changed_and_removed_users_come_in_the_documented_shape(http, box):
    link = latest(http, "/users/delta", USER_SELECT)
    store = box.world.graph
    changed, gone = sorted(store.users)[:2]
    with box.world.lock:
        store.users[changed]["jobTitle"] = "Chief Delta Officer"
        store.users[changed]["mobilePhone"] = "+1 555 0100"
        store.deleted_users[gone] = store.users.pop(gone)
    try:
        status, body, _ = get(http, link)
    finally:
        with box.world.lock:
            store.users[gone] = store.deleted_users.pop(gone)
    documented = load_fixture("users_delta_changes")["response"]
    assert status == 200
    by_id = {item["id"]: item for item in body["value"]}
    assert shape_differences(documented["value"][0], by_id[changed], nullable=frozenset({"mobilePhone"})) == []
    assert shape_differences(documented["value"][1], by_id[gone], extra_keys=False) == []
    assert by_id[gone]["@removed"] == {"reason": "changed"}  # restorable: still in deletedItems
    assert by_id[changed]["jobTitle"] == "Chief Delta Officer"
    assert shape_differences({k: v for k, v in documented.items() if k != "value"},
                             {k: v for k, v in body.items() if k != "value"}, extra_keys=False) == []


def test_membership_changes_come_as_members_delta(http, box):
    link = latest(http, "/groups/delta", "displayName,description,members")
    store = box.world.graph
    group = next(g for g in sorted(store.groups) if store.direct_members.get(g) and store.groups[g].get("description"))
    removed = store.direct_members[group][0]
    added = next(u for u in sorted(store.users) if u not in store.direct_members[group])
    with box.world.lock:
        store.direct_members[group].remove(removed)
        store.direct_members[group].append(added)
    status, body, _ = get(http, link)
    documented = load_fixture("groups_delta_changes")["response"]
    assert status == 200
    item = next(i for i in body["value"] if i["id"] == group)
    assert shape_differences(documented["value"][0], item, nullable=frozenset({"description"})) == []
    entries = {m["id"]: m for m in item["members@delta"]}
    assert entries[removed]["@removed"] == {"reason": "deleted"} and "@removed" not in entries[added]
    assert len(entries) == 2  # only the changes


def test_an_expired_token_answers_sync_state_not_found(http, box):
    link = latest(http, "/users/delta", USER_SELECT)
    box.world.now += timedelta(days=7, minutes=1)
    try:
        status, body, _ = get(http, link)
    finally:
        box.world.now -= timedelta(days=7, minutes=1)
    documented = load_fixture("error_delta_sync_state_not_found")["response"]
    assert status == documented["status"]
    assert shape_differences(documented["body"], body, extra_keys=False) == []
    assert body["error"]["code"] == "syncStateNotFound"


def test_a_synchronization_reset_answers_410_with_the_initial_query_in_location(http, box):
    link = latest(http, "/groups/delta", "displayName")
    box._graph_server.app.delta.reset()
    status, body, headers = get(http, link)
    assert status == 410
    assert headers["Location"].endswith("/groups/delta") and "error" in body
