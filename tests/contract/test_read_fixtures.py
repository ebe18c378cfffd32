"""The documented answers of the inventory read through the same code a real collection or runbook uses, with
what a person reading the fixture would conclude."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from idbridge.clients.graph.batch import _Listing, _settle
from idbridge.collect.aws import trail as aws_trail
from idbridge.clients.graph.paging import read_all
from idbridge.collect.aws.collectors import _group_row
from idbridge.collect.entra.app import app_tables
from idbridge.collect.entra.collectors import _licensed
from idbridge.collect.entra.frames import frame
from idbridge.collect.entra.sync import jobs_frame, mapping_rows
from idbridge.collect.run import describe_error
from idbridge.runbooks.provisioning import _validate, on_demand_outcome
from idbridge.saml.compare import compare_idp_metadata_with_app
from idbridge.saml.metadata import parse_idp_metadata
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
    # The key holds the outcome, the value the step-by-step report: a user already in AWS is Skipped, and why.
    assert on_demand_outcome(response("synchronization_job_provisionondemand")) == \
        ("Skipped", "The state of the user in both the source and target systems already match.")


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


# ------------------------------------------------------------------------------------------ Graph errors


def graph_error(name: str) -> ODataError:
    """The fixture's error answer parsed the way msgraph-sdk parses a 4xx body (kiota's JSON parse node into
    ODataError), with its HTTP status."""
    documented = response(name)
    error = JsonParseNodeFactory().get_root_parse_node(
        "application/json", json.dumps(documented["body"]).encode()).get_object_value(ODataError)
    error.response_status_code = documented["status"]
    return error


class ScriptedAdapter:
    """Stands in for msgraph-sdk's request adapter at the byte level: each request takes the next scripted
    answer (a JSON body, or an exception to raise). The kit's own paging and error handling run unchanged."""

    base_url = "https://graph.microsoft.com/v1.0"

    def __init__(self, *answers):
        self.answers, self.urls = list(answers), []

    async def send_primitive_async(self, info, _type, _errors):
        self.urls.append(info.url)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return json.dumps(answer).encode()


def test_a_denied_source_says_which_permission_is_missing_in_graphs_words():
    assert describe_error(graph_error("error_authorization_denied")) == \
        "403 Authorization_RequestDenied: Insufficient privileges to complete the operation."


@pytest.mark.parametrize("what", ["signInActivity", "The sign-in log",
                                  "The authentication-methods registration report"])
def test_the_licence_error_is_read_as_a_missing_p1_p2_licence(what):
    async def unlicensed():
        raise graph_error("error_licence_required")

    with pytest.raises(Exception) as caught:
        asyncio.run(_licensed(what, unlicensed()))
    assert describe_error(caught.value) == (
        f"403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: {what} needs an Entra ID P1/P2 licence; "
        "Graph answered: Neither tenant is B2C or tenant doesn't have premium license")


def test_an_expired_page_token_restarts_the_listing_from_page_one():
    first = {"value": [{"id": "a"}], "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=X"}
    adapter = ScriptedAdapter(first, graph_error("error_expired_page_token"), first, {"value": [{"id": "b"}]})
    items = asyncio.run(read_all(adapter, "/users", params={"$select": "id"}))
    assert [i["id"] for i in items] == ["a", "b"]  # nothing twice, nothing lost
    assert "$skiptoken" not in adapter.urls[2]      # the restart asks for page 1 again


def test_a_refused_test_connection_gives_the_runbook_entras_message():
    adapter = ScriptedAdapter(graph_error("error_validate_credentials"))
    creds = SimpleNamespace(as_graph=lambda: [{"key": "BaseAddress", "value": "https://scim.example"},
                                              {"key": "SecretToken", "value": "t"}])
    problem = asyncio.run(_validate(SimpleNamespace(graph=adapter), "sp", "aWSSingleSignon", creds))
    assert problem.startswith("While attempting to validate our authorization") and "Unauthorized" in problem


# ------------------------------------------------------------------------------------------ federation metadata


FEDERATION_TENANT = "11bb11bb-cc22-dd33-ee44-55ff55ff55ff"


def federation_metadata():
    return parse_idp_metadata(load_fixture("federationmetadata", "login")["response"].encode(),
                              name="federationmetadata.xml", now=datetime(2026, 3, 1, tzinfo=timezone.utc))


def test_federation_metadata_reads_the_saml_section_not_the_ws_federation_one():
    meta = federation_metadata()
    assert meta.entity_id == f"https://sts.windows.net/{FEDERATION_TENANT}/" and meta.tenant_id == FEDERATION_TENANT
    # The RoleDescriptor carries the same certificate: it is read once, from the IDPSSODescriptor.
    [cert] = meta.signing_certificates
    assert cert.subject == "CN=accounts.accesscontrol.windows.net" and cert.expired
    assert [(e.binding.rsplit(":", 1)[1], e.location) for e in meta.sso_services] == \
        [("HTTP-Redirect", f"https://login.microsoftonline.com/{FEDERATION_TENANT}/saml2")]
    assert meta.name_id_formats == ()  # Entra's metadata names none
    assert meta.warnings == (f"the Entra signing certificate {cert.describe()} has expired",)


def test_federation_metadata_is_matched_against_the_apps_active_certificate():
    meta = federation_metadata()
    thumbprint = meta.signing_certificate.thumbprint
    # The app signs with this certificate: the only difference is that it has expired (the page's sample is old).
    [expired] = compare_idp_metadata_with_app(meta, [{"thumbprint": thumbprint}], thumbprint, FEDERATION_TENANT)
    assert "has expired" in expired
    other = "0" * 40
    mismatch = compare_idp_metadata_with_app(meta, [{"thumbprint": other}], other, FEDERATION_TENANT)
    assert len(mismatch) == 2 and any(thumbprint in d and "has expired" not in d for d in mismatch)
