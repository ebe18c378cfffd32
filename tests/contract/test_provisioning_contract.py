"""Contract: Microsoft's documented v1.0 provisioning log entry (provisioningObjectSummary), run through the
collector's frame builder and the provisioning.errors check, and the sandbox's v1.0 answer compared with it.

v1.0 names the action `provisioningAction`; `action` is beta's deprecated name and v1.0 does not send it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from support import bridge_tables as bt
from support.graph_harness import GraphServer, raw, run, world

from idbridge.checks.rules import provisioning as checks
from idbridge.collect.entra.collectors import provisioning_frame
from idbridge.sandbox.scim import logs

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(area: str, name: str) -> dict:
    doc = json.loads((FIXTURES / area / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["source"].startswith("https://")
    assert doc["note"].split(":")[0].split(" ")[0] in ("verbatim", "trimmed", "composed")
    return doc["response"]


def _rows(items: list[dict]) -> list[dict]:
    frame = provisioning_frame(items)
    return [{k: (None if v != v else v) for k, v in r.items()} for r in frame.to_dict("records")]


def test_a_documented_v1_failure_is_reported_with_its_action_and_error():
    [item] = fixture("graph", "provisioning_list_failure")["value"]
    assert "action" not in item and item["provisioningAction"] == "create"
    [row] = _rows([item])
    assert (row["provisioningAction"], row["action"], row["status"]) == ("create", "create", "failure")
    assert (row["errorCode"], row["sourceType"]) == ("ContosoEntryConflict", "Group")
    data = bt.rows()
    data["entra_groups"].append({"id": item["sourceIdentity"]["id"], "displayName": "Self-service Pilot",
                                 "securityEnabled": True, "isDynamic": False})
    data["entra_provisioning_logs"] = [row]
    hits = bt.run(checks.errors, data)
    hit = hits["group:Self-service Pilot"]
    assert hit.evidence["actions"] == ["create"], "the action is evidence, not empty"
    assert hit.evidence["failures"] == 1 and hit.evidence["errors"][0]["errorCode"] == "ContosoEntryConflict"


def test_beta_action_alone_still_reads_and_provisioning_action_wins():
    [item] = fixture("graph", "provisioning_list_failure")["value"]
    beta_only = {k: v for k, v in item.items() if k != "provisioningAction"} | {"action": "Create"}
    both = item | {"action": "Update"}
    assert [r["provisioningAction"] for r in _rows([beta_only, both])] == ["create", "create"]


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_the_sandbox_serves_v1_entries_in_the_documented_shape():
    [documented] = fixture("graph", "provisioning_list_failure")["value"]
    w = world()
    sp_id = w.graph.aws_sp_id
    (job_id,) = w.graph.sync_jobs[sp_id]
    info = logs.cycle_info(tenant_id=w.scenario.tenant.id, job_id=job_id, cycle_id="c1",
                           sp={"id": sp_id, "displayName": "AWS IAM Identity Center"}, source_id="s", target_id="t")
    at = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    error = logs.error_information(409, {"detail": "Duplicate GroupDisplayName"}, at=at, retried=0)
    w.graph.provisioning_logs.append(logs.entry(
        info, entry_id="e1", change_id="ch1", at=at, duration_ms=100, kind="Group",
        source={"id": "g1", "displayName": "Self-service Pilot"}, target_id="", target_name="", action="create",
        status="failure", steps=[], modified=[], error=error))
    server = GraphServer(w)
    try:
        answer = run(raw(server.adapter(), "/auditLogs/provisioning"))
    finally:
        server.close()
    [served] = [e for e in answer["value"] if e["id"] == "e1"]
    assert "action" not in served and "statusInfo" not in served, "beta's names are not served on v1.0"
    assert set(served) >= set(documented) - {"provisioningSteps", "modifiedProperties"}
    assert served["provisioningAction"] == documented["provisioningAction"]  # lower case, as documented
    for key in ("provisioningStatusInfo", "sourceIdentity", "targetIdentity", "servicePrincipal", "initiatedBy"):
        assert set(_shape(served[key])) == set(_shape(documented[key])), key
    error_doc = documented["provisioningStatusInfo"]["errorInformation"]
    assert _shape(served["provisioningStatusInfo"]["errorInformation"]) == _shape(error_doc)
    assert served["provisioningStatusInfo"]["status"] == "failure"
    assert _rows([served])[0]["provisioningAction"] == "create"


# ------------------------------------------------------------------------------------------- SCIM in CloudTrail


def test_a_documented_scim_write_is_collected_by_its_name_and_reads_are_not_asked_for():
    from idbridge.collect.aws import trail as aws_trail

    record = fixture("aws", "scim_create_user")
    names = {a["AttributeValue"] for a in aws_trail.LOOKUPS if a["AttributeKey"] == "EventName"}
    assert record["eventName"] in names and all(a["AttributeKey"] == "EventName" for a in aws_trail.LOOKUPS)
    assert not names & {"GetUser", "ListUsers", "GetGroup", "ListGroups", "GetSchema", "ListSchemas"}
    item = {"EventId": record["eventID"], "EventName": record["eventName"], "EventSource": record["eventSource"],
            "EventTime": datetime(2024, 10, 10, 13, 23, 45, tzinfo=timezone.utc), "CloudTrailEvent": json.dumps(record)}
    assert aws_trail.keep(item)
    row = aws_trail.event_row(item)
    assert (row["eventName"], row["eventSource"], row["errorCode"]) == ("CreateUser", aws_trail.SCIM_EVENT_SOURCE, None)
    assert not aws_trail.keep({**item, "EventName": "PatchUser", "EventSource": "identitystore.amazonaws.com"}), \
        "the Identity Store API's own writes are not SCIM's"
    # ... but its CreateUser is kept: it says a principal was made by hand (model/origin.py)
    assert aws_trail.keep({**item, "EventSource": "identitystore.amazonaws.com"})


def test_the_sandbox_logs_scim_writes_like_the_documented_one_and_logs_reads_too():
    from idbridge.sandbox.scim import endpoint as scim

    documented = fixture("aws", "scim_create_user")
    from idbridge.sandbox.aws.identity_store import IdentityStore

    events: list[dict] = []
    at = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    store_id = "d-" + uuid.uuid4().hex[:10]
    store = IdentityStore("123456789012", "us-east-1", store_id, scim_issuer="https://scim.us-east-1.amazonaws.com/t",
                          default_time=at)
    ep = scim.ScimEndpoint(store=store, tenant_id="t1", tokens={"tok"}, region="us-east-1",
                           account_id="123456789012", trail=events.append, seed=store_id)
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@contoso.com",
            "displayName": "Ann", "name": {"givenName": "Ann", "familyName": "Lee"}, "active": True}
    assert scim.list_users(ep, 'userName eq "ann@contoso.com"', at, bearer="tok").ok  # Entra matches first
    created = scim.create_user(ep, user, at, bearer="tok")
    assert created.status == 201
    assert scim.get_user(ep, created.resource_id, at, bearer="tok").ok
    assert [e["eventName"] for e in events] == ["ListUsers", "CreateUser", "GetUser"]
    served = events[1]
    for key in ("eventSource", "eventName", "eventType", "readOnly", "eventVersion"):
        assert served[key] == documented[key], key
    assert served["userIdentity"]["type"] == documented["userIdentity"]["type"]
    assert set(documented) - {"eventTime"} <= set(served)
    assert set(served["requestParameters"]) == set(documented["requestParameters"])
    assert set(served["responseElements"]) == set(documented["responseElements"])
    masked = served["requestParameters"]["httpBody"]
    assert masked["userName"] == "HIDDEN_DUE_TO_SECURITY_REASONS" and masked["active"] is True
    reads = [events[0], events[2]]
    assert all(r["readOnly"] is True and r["eventSource"] == documented["eventSource"] for r in reads)
