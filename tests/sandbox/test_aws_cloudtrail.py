"""CloudTrail LookupEvents served from the sandbox's event store: the scenario's events in AWS's record shape,
lookup attributes, time windows and paging, and events the provisioning engine records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import NOW, build_aws_world, client, small_scenario


@pytest.fixture
def world():
    return build_aws_world(small_scenario())


@pytest.fixture
def trail(world):
    handle = start_moto_server(world)
    yield client(handle, "cloudtrail", "eu-west-1")
    handle.stop()


def _lookup(trail, **kwargs):
    events, token = [], None
    while True:
        page = trail.lookup_events(**kwargs, **({"NextToken": token} if token else {}))
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def test_every_scenario_event_newest_first(trail):
    events = _lookup(trail)
    # 3 sign-ins, 3 listed events, the SCIM token, 2 certificate uploads
    assert len(events) == 9
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    names = {e["EventName"] for e in events}
    assert names >= {"UserAuthentication", "ExternalIdPDirectoryLogin", "CreateBearerToken",
                     "UpdateExternalIdPConfigurationForDirectory", "CreatePermissionSet", "Federate", "DeleteUser"}


def test_successful_sign_in_has_the_real_record_shape(world, trail):
    [latest, older] = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "UserAuthentication"}])["Events"]
    assert latest["Username"] == "alice@contoso.com" and latest["EventSource"] == "signin.amazonaws.com"
    assert latest["EventTime"] == NOW - timedelta(hours=1)
    record = json.loads(latest["CloudTrailEvent"])
    for key in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                "sourceIPAddress", "userAgent", "requestParameters", "responseElements", "additionalEventData",
                "eventID", "readOnly", "eventType", "recipientAccountId", "serviceEventDetails"):
        assert key in record, key
    assert record["eventID"] == latest["EventId"]
    assert record["userIdentity"]["type"] == "IdentityCenterUser"
    alice = world.aws.identity_store.find_user(user_name="alice@contoso.com")
    assert record["userIdentity"]["onBehalfOf"]["userId"] == alice
    assert record["userIdentity"]["onBehalfOf"]["identityStoreArn"].endswith(world.aws.identity_store_id)
    assert record["additionalEventData"]["CredentialType"] == "EXTERNAL_IDP"
    assert record["awsRegion"] == "eu-west-1" and record["recipientAccountId"] == "111111111111"
    assert record["eventTime"] == (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["eventType"] == "AwsServiceEvent" and record["readOnly"] is False
    assert record["serviceEventDetails"] == {"UserAuthentication": "Success"}
    assert older["Username"] == "carol.cook@contoso.com"  # the Identity Center user name, not the UPN


def test_failed_sign_in_and_listed_events_keep_their_errors(trail):
    [failure] = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "ExternalIdPDirectoryLogin"}])["Events"]
    record = json.loads(failure["CloudTrailEvent"])
    # A real refusal carries no errorCode: responseElements says Failure (AWS troubleshooting page).
    assert record["errorMessage"] == "InvalidSignature" and "errorCode" not in record
    assert record["responseElements"] == {"ExternalIdPDirectoryLogin": "Failure"}
    assert (record["eventSource"], record["eventType"]) == ("signin.amazonaws.com", "AwsConsoleSignIn")
    assert failure["Username"] == "alice@contoso.com"
    [denied] = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "DeleteUser"}])["Events"]
    record = json.loads(denied["CloudTrailEvent"])
    assert (record["errorCode"], record["errorMessage"]) == ("AccessDenied", "not allowed")
    [federate] = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "Federate"}])["Events"]
    assert json.loads(federate["CloudTrailEvent"])["additionalEventData"]["role"] == "Admin"


def test_lookup_by_source_user_and_time_window(trail):
    directory = _lookup(trail, LookupAttributes=[{"AttributeKey": "EventSource",
                                                  "AttributeValue": "sso-directory.amazonaws.com"}])
    assert sorted(e["EventName"] for e in directory) == ["CreateBearerToken",
                                                         "UpdateExternalIdPConfigurationForDirectory",
                                                         "UpdateExternalIdPConfigurationForDirectory"]
    token = next(e for e in directory if e["EventName"] == "CreateBearerToken")
    assert token["EventTime"] == NOW - timedelta(days=30)
    by_admin = _lookup(trail, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "admin-jane"}])
    assert [e["EventName"] for e in by_admin] == ["CreatePermissionSet"]
    recent = _lookup(trail, StartTime=NOW - timedelta(days=2, minutes=1), EndTime=NOW)
    assert sorted(e["EventName"] for e in recent) == ["Federate", "UserAuthentication", "UserAuthentication"]
    assert recent[-1]["EventTime"] == NOW - timedelta(days=2)
    with pytest.raises(trail.exceptions.InvalidLookupAttributesException):
        trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                                              {"AttributeKey": "Username", "AttributeValue": "B"}])


def test_paging_at_most_50(world, trail):
    store = world.aws.cloudtrail
    for i in range(60):
        store.record({"eventName": "PatchUser", "eventSource": "identitystore-scim.amazonaws.com",
                      "eventTime": NOW - timedelta(minutes=i + 1)})
    first = trail.lookup_events()
    assert len(first["Events"]) == 50 and first["NextToken"]
    rest = trail.lookup_events(NextToken=first["NextToken"])
    assert len(rest["Events"]) == 69 - 50 and "NextToken" not in rest
    small = trail.lookup_events(MaxResults=7)
    assert len(small["Events"]) == 7
    ids = [e["EventId"] for e in _lookup(trail, MaxResults=7)]
    assert len(ids) == len(set(ids)) == 69


def test_provisioning_engine_records_scim_events(world, trail):
    user_id = world.aws.identity_store.find_user(user_name="alice@contoso.com")
    stored = world.aws.cloudtrail.record({
        "eventName": "CreateUser", "eventSource": "identitystore-scim.amazonaws.com", "eventTime": NOW.isoformat(),
        "errorCode": "ConflictException", "errorMessage": "Duplicate UserName",
        "requestParameters": {"httpMethod": "POST", "path": "/Users"},
        "resources": [{"ARN": f"arn:aws:identitystore:::user/{user_id}", "type": "AWS::IdentityStore::User"}]})
    assert stored["awsRegion"] == "eu-west-1" and stored["eventType"] == "AwsApiCall"
    [event] = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource",
                                                     "AttributeValue": "identitystore-scim.amazonaws.com"}])["Events"]
    record = json.loads(event["CloudTrailEvent"])
    assert record["errorCode"] == "ConflictException" and record["errorMessage"] == "Duplicate UserName"
    assert event["Resources"] == [{"ResourceType": "AWS::IdentityStore::User",
                                   "ResourceName": f"arn:aws:identitystore:::user/{user_id}"}]
    by_resource = trail.lookup_events(LookupAttributes=[
        {"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:identitystore:::user/{user_id}"}])["Events"]
    assert [e["EventName"] for e in by_resource] == ["CreateUser"]
    with pytest.raises(ValueError):
        world.aws.cloudtrail.record({"eventName": "X", "eventSource": "y"})


def test_other_regions_have_no_history(world):
    with start_moto_server(world) as handle:
        assert client(handle, "cloudtrail", "us-east-1").lookup_events()["Events"] == []
