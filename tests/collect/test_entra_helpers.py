"""The Entra collector's small parts, without a sandbox: the reports pacer, time normalisation, thumbprints,
claims and sync-schema flattening, next-link rewriting, and the $batch runner against a scripted Graph."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest

from idbridge.clients.graph import batch as graph_batch
from idbridge.clients.graph.pacer import Pacer, reports_pacer
from idbridge.clients.graph.paging import relative_url
from idbridge.collect.entra.collectors import ENTRA_COLLECTORS
from idbridge.collect.entra.frames import dig, frame, iso_utc, row_of
from idbridge.collect.entra.sync import mapping_rows
from idbridge.saml.certs import key_credential_thumbprint as thumbprint
from idbridge.saml.claims import claims_rows
from idbridge.snapshot.schema import SOURCES


def test_registry_covers_every_entra_source_with_known_dependencies():
    entra = {s.name for s in SOURCES if s.side == "entra"}
    assert set(ENTRA_COLLECTORS) == entra
    for name, (function, needs) in ENTRA_COLLECTORS.items():
        assert asyncio.iscoroutinefunction(function), name
        assert set(needs) <= entra, name
    assert ENTRA_COLLECTORS["entra.app_assignments"][1] == ("entra.app",)
    assert ENTRA_COLLECTORS["entra.group_members"][1] == ("entra.app_assignments",)
    for name in ("entra.sign_ins", "entra.provisioning", "entra.provisioning_logs"):
        assert ENTRA_COLLECTORS[name][1] == ("entra.app",)


def test_pacer_allows_five_per_window_then_spaces_requests():
    now = [100.0]
    pacer = Pacer(limit=5, window_s=10.0, clock=lambda: now[0])
    assert [pacer.reserve() for _ in range(5)] == [0, 0, 0, 0, 0]
    assert pacer.reserve() == pytest.approx(10.0)   # the 6th waits for the 1st to leave the window
    assert pacer.reserve() == pytest.approx(10.0)   # asking is not sending: nothing was recorded
    now[0] = 112.0
    # In (102, 112] nothing went out: five fit now, the next waits for the first of them.
    assert [pacer.reserve() for _ in range(5)] == [0, 0, 0, 0, 0]
    assert pacer.reserve() == pytest.approx(10.0)


def test_pacer_counts_requests_when_they_went_out_not_when_they_were_due():
    now = [100.0]
    pacer = Pacer(limit=5, window_s=10.0, clock=lambda: now[0])
    assert [pacer.reserve() for _ in range(5)] == [0] * 5
    assert pacer.reserve() == pytest.approx(10.0)   # due at 110...
    now[0] = 115.0                                  # ...but the loop was busy: it goes out at 115
    assert [pacer.reserve() for _ in range(5)] == [0] * 5
    # Counted by schedule, the next would be due at 120 and make six in (110, 120]; by send time it waits to 125.
    assert pacer.reserve() == pytest.approx(10.0)


def test_one_pacer_per_adapter():
    class Adapter:
        pass

    a, b = Adapter(), Adapter()
    assert reports_pacer(a) is reports_pacer(a)
    assert reports_pacer(a) is not reports_pacer(b)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
    ("2023-03-13T19:15:41.6195833Z", "2023-03-13T19:15:41Z"),
    ("2026-03-01T13:00:00+01:00", "2026-03-01T12:00:00Z"),
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    (None, None),
    ("", None),
])
def test_iso_utc(text, expected):
    assert iso_utc(text) == expected


def test_frame_keeps_catalogue_order_lists_and_missing_values():
    df = frame("entra_ca_policies", [{"id": "p1", "displayName": "P", "state": "enabled"}],
               derived={"builtInControls": lambda i: ["mfa"]})
    assert list(df.columns)[:3] == ["id", "displayName", "state"]
    assert df.loc[0, "builtInControls"] == ["mfa"]
    assert df.loc[0, "includeUsers"] is None
    empty = frame("entra_users", [])
    assert len(empty) == 0 and len(empty.columns) == 24


def test_thumbprint_from_certificate_or_custom_key_identifier():
    der = b"not really a certificate"
    digest = hashlib.sha1(der).hexdigest().upper()
    assert thumbprint({"key": base64.b64encode(der).decode()}) == digest
    assert thumbprint({"customKeyIdentifier": base64.b64encode(bytes.fromhex(digest)).decode()}) == digest
    assert thumbprint({"customKeyIdentifier": base64.b64encode(b"short").decode()}) is None
    assert thumbprint({}) is None


def test_claims_rows_split_member_and_guest_name_id_sources():
    def config(source_id, user_type=None):
        condition = {"userType": user_type} if user_type else None
        return {"condition": condition, "attribute": {"source": "user", "id": source_id}}

    policy = {"claims": [
        {"@odata.type": "#microsoft.graph.samlNameIdClaim", "nameIdFormat": "emailAddress",
         "configurations": [config("userprincipalname", "members"), config("mail", "externalGuests")]},
        {"@odata.type": "#microsoft.graph.customClaim", "name": "givenname", "configurations": [config("givenname")]},
    ]}
    [row] = claims_rows(policy)
    assert row["nameIdFormat"] == "emailAddress"
    assert row["nameIdSource"] == "user.userprincipalname"
    assert row["guestNameIdSource"] == "user.mail"
    assert '"givenname"' in row["claims_json"]
    assert claims_rows(None) == []


def test_mapping_rows_flatten_every_object_mapping():
    schema = {"synchronizationRules": [{"objectMappings": [
        {"name": "Users", "sourceObjectName": "User", "targetObjectName": "User", "attributeMappings": [
            {"targetAttributeName": "userName", "matchingPriority": 1, "flowBehavior": "FlowWhenChanged",
             "source": {"type": "Attribute", "expression": "[userPrincipalName]"}},
            {"targetAttributeName": "active", "matchingPriority": 0, "flowBehavior": "FlowWhenChanged",
             "source": {"type": "Function", "expression": "Not([IsSoftDeleted])"}}]},
        {"name": "Groups", "sourceObjectName": "Group", "targetObjectName": "Group", "attributeMappings": [
            {"targetAttributeName": "displayName", "matchingPriority": 1, "source": {"type": "Attribute",
                                                                                   "expression": "[displayName]"}}]},
    ]}]}
    rows = mapping_rows("job1", schema)
    assert [(r["objectMapping"], r["targetAttributeName"], r["mappingType"]) for r in rows] == [
        ("Users", "userName", "Attribute"), ("Users", "active", "Function"), ("Groups", "displayName", "Attribute")]
    assert all(r["jobId"] == "job1" for r in rows)


def test_relative_url():
    assert relative_url("https://graph.microsoft.com/v1.0/groups/g/members?$top=999&$skiptoken=X") == \
        "/groups/g/members?$top=999&$skiptoken=X"
    assert relative_url("http://127.0.0.1:1234/beta/users") == "/users"
    assert relative_url("/groups/g/members?$select=id") == "/groups/g/members?$select=id"


# ------------------------------------------------------------------------------------------------ $batch runner


class ScriptedGraph:
    """Answers $batch items from a script: url -> list of answers, used in turn (the last one repeats)."""

    def __init__(self, script: dict[str, list[dict]]):
        self.script = {url: list(answers) for url, answers in script.items()}
        self.batches: list[list[str]] = []

    async def send_json(self, adapter, method, path, *, body=None, **_):
        assert (method, path) == ("POST", "/$batch")
        assert len(body["requests"]) <= graph_batch.BATCH_LIMIT
        self.batches.append([r["url"] for r in body["requests"]])
        responses = []
        for request in body["requests"]:
            answers = self.script[request["url"]]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            responses.append({"id": request["id"], **answer})
        return {"responses": responses}


def ok(ids, next_link=None):
    body = {"value": [{"id": i, "@odata.type": "#microsoft.graph.user"} for i in ids]}
    if next_link:
        body["@odata.nextLink"] = "https://graph.microsoft.com/v1.0" + next_link
    return {"status": 200, "headers": {}, "body": body}


def error(status, code, headers=None):
    return {"status": status, "headers": headers or {}, "body": {"error": {"code": code, "message": code + "!"}}}


def run_batch(monkeypatch, script, urls):
    graph = ScriptedGraph(script)
    monkeypatch.setattr(graph_batch, "send_json", graph.send_json)
    counted, progressed = [], []
    result = asyncio.run(graph_batch.list_in_batches(
        object(), urls, count=lambda m, u: counted.append((m, u)), progress=progressed.append))
    return result, graph, counted, progressed


def test_batch_follows_next_links_and_retries_throttled_items(monkeypatch):
    script = {
        "/a": [error(429, "TooManyRequests", {"Retry-After": "0"}), ok(["a1", "a2"], "/a?page=2")],
        "/a?page=2": [error(503, "serviceNotAvailable", {"Retry-After": "0"}), ok(["a3"])],
        "/b": [ok(["b1"])],
    }
    result, graph, counted, progressed = run_batch(monkeypatch, script, {"A": "/a", "B": "/b"})
    assert {k: [i["id"] for i in v] for k, v in result.items.items()} == {"A": ["a1", "a2", "a3"], "B": ["b1"]}
    assert result.errors == {}
    assert len(counted) == sum(len(b) for b in graph.batches) == 5
    assert sum(progressed) == 4


def test_batch_restarts_a_listing_whose_page_token_expired(monkeypatch):
    script = {
        "/a": [ok(["a1"], "/a?page=2")],
        "/a?page=2": [error(400, "Directory_ExpiredPageToken"), ok(["a2"])],
    }
    result, graph, _counted, progressed = run_batch(monkeypatch, script, {"A": "/a"})
    assert [i["id"] for i in result.items["A"]] == ["a1", "a2"]   # a1 read twice, kept once
    assert [b[0] for b in graph.batches] == ["/a", "/a?page=2", "/a", "/a?page=2"]
    assert sum(progressed) == 2


def test_batch_reports_listings_it_gives_up(monkeypatch):
    script = {"/gone": [error(404, "Request_ResourceNotFound")], "/denied": [error(403, "Authorization_RequestDenied")],
              "/fine": [ok(["f"])]}
    result, *_ = run_batch(monkeypatch, script, {"G": "/gone", "D": "/denied", "F": "/fine"})
    assert set(result.items) == {"F"}
    assert result.errors["G"][:2] == (404, "Request_ResourceNotFound")
    assert result.errors["D"] == (403, "Authorization_RequestDenied", "Authorization_RequestDenied!")


def test_batch_splits_into_twenty_request_batches(monkeypatch):
    urls = {i: f"/g{i}" for i in range(45)}
    script = {url: [ok([url])] for url in urls.values()}
    result, graph, counted, _ = run_batch(monkeypatch, script, urls)
    assert len(result.items) == 45 and len(counted) == 45
    assert sorted(len(b) for b in graph.batches) == [5, 20, 20]


# ------------------------------------------------------------------------------------------------ paging


def scripted_get(monkeypatch, answers: dict[str, list]):
    """Replace graph_paging.get_json: url -> answers in turn (an exception is raised, a dict returned)."""
    from idbridge.clients.graph import paging as graph_paging

    calls = []

    async def get_json(adapter, url, *, params=None, headers=None):
        calls.append(url)
        answer = answers[url].pop(0) if len(answers[url]) > 1 else answers[url][0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(graph_paging, "get_json", get_json)
    monkeypatch.setattr(graph_paging, "EXTRA_BACKOFF_S", 0.0)
    return calls


def page(ids, next_link=None):
    return {"value": [{"id": i} for i in ids], **({"@odata.nextLink": next_link} if next_link else {})}


def test_read_all_restarts_from_page_one_when_the_next_link_expired(monkeypatch):
    from idbridge.clients.graph.paging import GraphSourceError, read_all

    expired = GraphSourceError("expired", 400, "Directory_ExpiredPageToken")
    calls = scripted_get(monkeypatch, {"/users": [page([1, 2], "next2")],
                                       "next2": [expired, page([3], "next3")],
                                       "next3": [page([4])]})
    progressed = []
    items = asyncio.run(read_all(object(), "/users", progress=progressed.append))
    assert [i["id"] for i in items] == [1, 2, 3, 4]
    assert calls == ["/users", "next2", "/users", "next2", "next3"]
    assert progressed == [2, 1, 1]  # the re-read first page reports nothing new


def test_read_all_retries_transient_errors_then_gives_up(monkeypatch):
    from idbridge.clients.graph.paging import MAX_EXTRA_ATTEMPTS, GraphSourceError, read_all

    busy = GraphSourceError("busy", 503, "serviceNotAvailable")
    scripted_get(monkeypatch, {"/a": [busy, page(["x"])]})
    assert [i["id"] for i in asyncio.run(read_all(object(), "/a"))] == ["x"]
    calls = scripted_get(monkeypatch, {"/b": [busy]})
    with pytest.raises(GraphSourceError):
        asyncio.run(read_all(object(), "/b"))
    assert len(calls) == 1 + MAX_EXTRA_ATTEMPTS
    denied = GraphSourceError("no", 403, "Authorization_RequestDenied")
    calls = scripted_get(monkeypatch, {"/c": [denied]})
    with pytest.raises(GraphSourceError):
        asyncio.run(read_all(object(), "/c"))
    assert len(calls) == 1


def test_rows_kept_per_item_frame_as_the_items_do():
    items = [{"id": "a", "createdDateTime": "2026-03-01T10:00:00.1234567Z", "appId": "x", "userId": "u",
              "status": {"errorCode": 50126, "failureReason": "Bad password"}, "location": {"city": "Paris"},
              "deviceDetail": {"browser": "Edge"}},
             {"id": "b", "createdDateTime": "2026-03-01T11:00:00Z", "status": None, "isInteractive": True}]
    derived = {"errorCode": lambda i: dig(i, "status", "errorCode"),
               "failureReason": lambda i: dig(i, "status", "failureReason")}
    rows = [row_of("entra_sign_ins", derived)(item) for item in items]
    assert "location" not in rows[0] and rows[0]["errorCode"] == 50126 and rows[1]["errorCode"] is None
    whole = frame("entra_sign_ins", items, times=("createdDateTime",), derived=derived)
    assert frame("entra_sign_ins", rows, times=("createdDateTime",)).equals(whole)
