"""The sign-in log and CloudTrail's event history serve the same pages as before they were indexed for volume:
/auditLogs/signIns page by page against the generic filter-order-page path (odata.collection_body, which every
other collection still takes), LookupEvents against a plain scan of the store with the old matching rules.
Both with events at equal times, on the window's edges, outside it, and added between walks."""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.graph_harness import NOW, GraphServer, raw, run, scenario, world

from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import NOW as AWS_NOW
from idbridge.sandbox.aws.testkit import build_aws_world, client, small_scenario
from idbridge.sandbox.aws.trail import _matcher
from idbridge.sandbox.graph import odata
from idbridge.sandbox.graph import resources as R
from idbridge.sandbox.graph.resources import widened

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

UPNS = ["adele@contoso.com", "bob@contoso.com", "cara@contoso.com", "gina_fabrikam.com#EXT#@contoso.onmicrosoft.com"]


@pytest.fixture(scope="module")
def server():
    rng = random.Random(3)
    # 60 sign-ins, some at the same minute (ties), a few outside a 30-day window, one exactly on its edge
    sign_ins = [{"user": rng.choice(UPNS), "at": f"now-{rng.choice([5, 5, 90, 600, 3000, 43200, 50000, 70000])}m",
                 **({"status": "failure", "error_code": 50126, "mfa": False} if i % 7 == 0 else {})}
                for i in range(60)]
    srv = GraphServer(world(scenario(entra__sign_ins=sign_ins)))
    yield srv
    srv.close()


def _served(server, version: str, query: str) -> list[dict]:
    async def main():
        adapter = server.adapter()
        pages = [await raw(adapter, f"{server.base}/{version}/auditLogs/signIns?{query}")]
        while pages[-1].get("@odata.nextLink"):
            pages.append(await raw(adapter, pages[-1]["@odata.nextLink"]))
        return pages
    return run(main())


def _generic(server, version: str, query: str) -> list[dict]:
    """The pages as the generic path cuts them (what /auditLogs/signIns served before), following its own links."""
    items = server.world.graph.sign_ins
    resource = odata.for_version(widened(R.SIGN_IN, items), version)
    page_url = f"{server.base}/{version}/auditLogs/signIns"
    args = dict(parse_qsl(query))
    pages = []
    while True:
        q = odata.parse_query(args, {}, resource, collection=True)
        pages.append(odata.collection_body(list(items), q, resource, version=version,
                                           context=odata.context_url(f"{server.base}/{version}", "auditLogs/signIns",
                                                                     q), page_url=page_url))
        link = pages[-1].get("@odata.nextLink")
        if not link:
            return pages
        args = dict(parse_qsl(urlsplit(link).query))


def _same(served: list[dict], generic: list[dict]) -> None:
    assert len(served) == len(generic)
    for got, want in zip(served, generic):
        assert got["value"] == want["value"]
        assert got.get("@odata.count") == want.get("@odata.count")
        assert urlsplit(got.get("@odata.nextLink", "")).query == urlsplit(want.get("@odata.nextLink", "")).query


def test_sign_in_pages_are_those_of_the_generic_path(server):
    graph = server.world.graph
    app_id = graph.service_principals[graph.aws_sp_id]["appId"]
    since = (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    queries = [f"$filter=appId eq '{app_id}' and createdDateTime ge {since}&$top=7",
               f"$filter=createdDateTime ge {since}&$top=5&$count=true",
               "$filter=status/errorCode eq 50126&$top=3",
               "$orderby=createdDateTime&$top=11",
               "$top=1000", ""]
    walked = 0
    for version in ("v1.0", "beta"):
        for query in queries:
            served = _served(server, version, query)
            _same(served, _generic(server, version, query))
            walked += len(served)
    assert walked > 2 * len(queries)  # the walks really paged
    everything = sum(len(p["value"]) for p in _served(server, "beta", "$top=7"))
    assert everything == 60


def test_a_sign_in_added_later_is_served(server):
    graph = server.world.graph
    query = "$top=7"
    before = sum(len(p["value"]) for p in _served(server, "beta", query))
    with server.world.lock:
        graph.sign_ins.append({**graph.sign_ins[0], "id": "0a0a0a0a-0000-4000-8000-000000000001",
                               "createdDateTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")})
    try:
        served = _served(server, "beta", query)
        _same(served, _generic(server, "beta", query))
        assert sum(len(p["value"]) for p in served) == before + 1
        assert served[0]["value"][0]["id"] == "0a0a0a0a-0000-4000-8000-000000000001"  # newest first
    finally:
        with server.world.lock:
            graph.sign_ins.pop()


# ------------------------------------------------------------------------------------------------ CloudTrail


def _lookup(trail, **kwargs) -> list[str]:
    ids, token = [], None
    while True:
        page = trail.lookup_events(MaxResults=7, **kwargs, **({"NextToken": token} if token else {}))
        ids += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            return ids


def _scan(store, attribute: dict | None, start, end) -> list[str]:
    """The lookup as it was: every stored event (newest first) tested against the window and the attribute."""
    match = _matcher(attribute) if attribute else (lambda e: True)
    low, high = (None if t is None else t.timestamp() for t in (start, end))
    return [e.record["eventID"] for e in store._entries
            if (low is None or e.time >= low) and (high is None or e.time <= high) and match(e)]


def test_lookup_pages_are_those_of_a_scan():
    world = build_aws_world(small_scenario())
    store = world.aws.cloudtrail
    rng = random.Random(5)
    names = ["UserAuthentication", "PatchUser", "CreateAccountAssignment"]
    minutes = [0, 1, 1, 1, 30, 60, 60, 600, 1440, 1440 * 29, 1440 * 30, 1440 * 31, 1440 * 45]
    for _ in range(120):
        store.record({"eventName": rng.choice(names), "eventSource": "signin.amazonaws.com",
                      "eventTime": AWS_NOW - timedelta(minutes=rng.choice(minutes))})
    minute = AWS_NOW - timedelta(minutes=1)
    windows = [(None, None), (AWS_NOW - timedelta(days=30), AWS_NOW), (AWS_NOW - timedelta(minutes=60), None),
               (None, minute), (minute, minute)]
    attributes = [None, *({"AttributeKey": "EventName", "AttributeValue": n} for n in [*names, "Nothing"]),
                  {"AttributeKey": "EventSource", "AttributeValue": "signin.amazonaws.com"}]
    with start_moto_server(world) as handle:
        trail = client(handle, "cloudtrail", "eu-west-1")

        def check() -> int:
            seen = 0
            for start, end in windows:
                for attribute in attributes:
                    kwargs = {**({"StartTime": start} if start else {}), **({"EndTime": end} if end else {}),
                              **({"LookupAttributes": [attribute]} if attribute else {})}
                    ids = _lookup(trail, **kwargs)
                    assert ids == _scan(store, attribute, start, end), (attribute, start, end)
                    seen += len(ids)
            return seen

        first = check()
        assert first > 500
        # recorded after the index was built, at a time already taken: kept in order
        for name in names:
            store.record({"eventName": name, "eventSource": "sso.amazonaws.com",
                          "eventTime": AWS_NOW - timedelta(hours=1)})
        assert check() > first
        # a store whose entries were rewritten behind its back (tests remove a planted event so) is re-indexed
        store._entries = [e for e in store._entries if e.record["eventName"] != "PatchUser"]
        check()
        assert _lookup(trail, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PatchUser"}]) == []
