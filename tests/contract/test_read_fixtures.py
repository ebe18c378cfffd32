"""The documented answers of the inventory read through the same code a real collection or runbook uses, with
what a person reading the fixture would conclude."""

from __future__ import annotations

import json

from idbridge.clients.graph.batch import _Listing, _settle
from idbridge.collect.aws import trail as aws_trail
from idbridge.collect.aws.collectors import _group_row
from idbridge.collect.entra.app import app_tables
from idbridge.collect.entra.frames import frame
from idbridge.collect.entra.sync import jobs_frame, mapping_rows
from idbridge.runbooks.provisioning import on_demand_outcome
from tests.support.contract import load_fixture


def response(name: str, service: str = "graph"):
    return load_fixture(name, service)["response"]


def test_a_paused_job_never_run_reads_as_paused_with_no_execution():
    [row] = jobs_frame(response("synchronization_job_list")["value"]).to_dict("records")
    assert (row["statusCode"], row["scheduleState"], row["countSuccessiveCompleteFailures"]) == ("Paused", "Disabled", 0)
    assert row["lastExecutionState"] is None and row["quarantineReason"] is None


def test_the_schema_gives_one_mapping_row_per_attribute_mapping():
    [row] = mapping_rows("job1", response("synchronization_schema_get"))
    assert (row["targetAttributeName"], row["sourceExpression"], row["mappingType"]) == \
        ("userName", "[userPrincipalName]", "Attribute")
    assert row["matchingPriority"] == 1 and row["sourceObjectName"] == "User"


def test_provision_on_demand_reads_its_result_from_the_key_json():
    assert on_demand_outcome(response("synchronization_job_provisionondemand")) == ("Success", "")


def test_batch_items_are_followed_throttled_and_failed_as_documented():
    items = {r["id"]: r for r in response("batch_responses")["responses"]}
    ok, throttled, missing = (_Listing(k, "/groups/g/members", "/groups/g/members") for k in "123")
    _settle(ok, items["1"], now=100.0)
    assert len(ok.items) == 1 and not ok.done and ok.url.startswith("/groups/45b7d2e7")  # next page, relative
    _settle(throttled, items["2"], now=100.0)
    assert not throttled.done and throttled.not_before == 110.0  # Retry-After: 10
    _settle(missing, items["3"], now=100.0)
    assert missing.done and missing.error[:2] == (404, "Request_ResourceNotFound")


def test_app_role_assignments_read_their_principal():
    [row] = frame("entra_app_role_assignments", response("serviceprincipal_list_approleassignedto")["value"],
                  times=("createdDateTime",)).to_dict("records")
    assert (row["principalType"], row["principalDisplayName"]) == ("User", "MOD Administrator")
    assert row["createdDateTime"] == "2021-02-02T04:22:45Z"


def test_a_listed_service_principal_gets_its_thumbprint_from_the_sha1_identifier():
    [sp] = response("serviceprincipal_list_filter")["value"]
    tables = app_tables(sp, None, None)
    [key] = tables["entra_app_key_credentials"].to_dict("records")
    assert key["thumbprint"] == sp["preferredTokenSigningKeyThumbprint"]
    assert tables["entra_service_principal"].loc[0, "preferredSingleSignOnMode"] == "saml"


def test_an_identity_store_group_row():
    [group] = response("idstore_list_groups", "aws")["Groups"]
    row = _group_row(group)
    assert row["groupId"] == group["GroupId"] and row["externalIds"] == [group["ExternalIds"][0]["Id"]]


def test_a_looked_up_portal_sign_in_is_kept_with_its_user():
    [item] = response("cloudtrail_lookup_events", "aws")["Events"]
    assert aws_trail.keep(item)
    row = aws_trail.event_row(item)
    record = json.loads(item["CloudTrailEvent"])
    assert (row["eventName"], row["userName"], row["errorCode"]) == ("UserAuthentication", "alice@contoso.com", None)
    assert row["userId"] == record["userIdentity"]["onBehalfOf"]["userId"]


def test_console_bridge_events_are_read_by_name_and_time():
    for name in ("sso_directory_create_bearer_token", "sso_directory_update_externalidp_configuration"):
        record = response(name, "aws")
        item = {"EventId": record["eventID"], "EventName": record["eventName"], "EventSource": record["eventSource"],
                "EventTime": record["eventTime"], "CloudTrailEvent": json.dumps(record)}
        row = aws_trail.event_row(item)
        assert row["eventTime"] == "2026-02-10T14:20:00Z" and row["eventName"] == record["eventName"]
        assert row["eventName"] in aws_trail.BRIDGE_EVENTS and aws_trail.keep(item)
