"""AWS collector pieces without a sandbox: real boto3 clients answered by botocore's Stubber, and pure helpers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from dateutil.tz import tzoffset

from idbridge.clients.aws.calls import fan_out
from idbridge.collect.aws import collectors as aws
from idbridge.collect.aws.tables import table, utc_iso
from idbridge.collect.aws.trail import LOOKUPS, event_row
from idbridge.collect.context import CollectContext, Partial
from idbridge.core.parameters import Parameters

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
OTHER = "arn:aws:sso:::instance/ssoins-2222222222222222"
PS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"


def _params(**aws_params) -> Parameters:
    return Parameters.model_validate({"engagement": "unit",
                                      "graph": {"tenant_id": "3c8e5b1a-7d2f-4e6a-9b1c-2d3e4f5a6b7c"},
                                      "aws": {"region": "eu-west-1", **aws_params}})


def _context(params: Parameters, stubbed: dict) -> CollectContext:
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    return CollectContext(params=params, window_start=now - timedelta(days=30), window_end=now,
                          aws_client_factory=lambda service, region=None: stubbed[service])


def _stubbed(service: str):
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def _instance(arn: str, owner: str) -> dict:
    return {"InstanceArn": arn, "IdentityStoreId": "d-1234567890", "OwnerAccountId": owner, "Status": "ACTIVE"}


def test_several_instances_without_a_choice_is_partial_and_names_the_fix():
    sso, stub = _stubbed("sso-admin")
    stub.add_response("list_instances", {"Instances": [_instance(INSTANCE, "111111111111"),
                                                       _instance(OTHER, "222222222222")]}, {"MaxResults": 100})
    with stub:
        result = aws.collect_instances(_context(_params(), {"sso-admin": sso}))
    assert isinstance(result, Partial) and "set aws.instance_arn" in result.error
    assert list(result.tables["idc_instances"]["region"]) == ["eu-west-1", "eu-west-1"]


def test_the_organisation_instance_goes_first_and_a_chosen_one_wins():
    rows = [{"instanceArn": OTHER, "ownerAccountId": "222222222222"},
            {"instanceArn": INSTANCE, "ownerAccountId": "111111111111"}]
    ordered, problem = aws._order_instances(rows, _params(management_account="111111111111"))
    assert [r["instanceArn"] for r in ordered] == [INSTANCE, OTHER] and problem is None
    ordered, problem = aws._order_instances(rows, _params(management_account="111111111111", instance_arn=OTHER))
    assert [r["instanceArn"] for r in ordered] == [OTHER, INSTANCE] and problem is None


def _ps_calls(stub: Stubber, boundary: dict | None = None, boundary_error: str | None = None) -> None:
    args = {"InstanceArn": INSTANCE, "PermissionSetArn": PS}
    stub.add_response("describe_permission_set", {"PermissionSet": {
        "Name": "Admin", "PermissionSetArn": PS, "SessionDuration": "PT4H",
        "CreatedDate": datetime(2025, 1, 2, 4, 5, 6, tzinfo=tzoffset(None, 7200))}}, args)
    # Two pages: the NextToken is followed.
    view, admin = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess"
    stub.add_response("list_managed_policies_in_permission_set", {
        "AttachedManagedPolicies": [{"Name": "ViewOnlyAccess", "Arn": view}], "NextToken": "t1"},
        {**args, "MaxResults": 100})
    stub.add_response("list_managed_policies_in_permission_set", {
        "AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": admin}]},
        {**args, "MaxResults": 100, "NextToken": "t1"})
    stub.add_response("list_customer_managed_policy_references_in_permission_set",
                      {"CustomerManagedPolicyReferences": [{"Name": "Extras"}]}, {**args, "MaxResults": 100})
    stub.add_response("get_inline_policy_for_permission_set", {}, args)  # AWS omits it when none
    if boundary_error:
        stub.add_client_error("get_permissions_boundary_for_permission_set", boundary_error, "no", 400,
                              expected_params=args)
    else:
        stub.add_response("get_permissions_boundary_for_permission_set", {"PermissionsBoundary": boundary}, args)


def test_a_permission_set_read_whole():
    sso, stub = _stubbed("sso-admin")
    _ps_calls(stub, boundary={"CustomerManagedPolicyReference": {"Name": "Edge", "Path": "/b/"}})
    with stub:
        row, policies = aws._read_permission_set(sso, INSTANCE, PS)
    assert row == {"permissionSetArn": PS, "name": "Admin", "description": None, "sessionDuration": "PT4H",
                   "relayState": None, "createdDate": "2025-01-02T02:05:06Z"}
    assert [(p["kind"], p["policyName"], p["policyPath"]) for p in policies] == [
        ("managed", "ViewOnlyAccess", "/job-function/"), ("managed", "AdministratorAccess", "/"),
        ("customer_managed", "Extras", "/"), ("boundary_customer_managed", "Edge", "/b/")]


def test_no_boundary_is_resource_not_found_but_other_errors_stop_the_source():
    sso, stub = _stubbed("sso-admin")
    _ps_calls(stub, boundary_error="ResourceNotFoundException")
    with stub:
        _, policies = aws._read_permission_set(sso, INSTANCE, PS)
    assert not [p for p in policies if p["kind"].startswith("boundary")]
    sso, stub = _stubbed("sso-admin")
    _ps_calls(stub, boundary_error="AccessDeniedException")
    with stub, pytest.raises(ClientError, match="AccessDenied"):
        aws._read_permission_set(sso, INSTANCE, PS)


def test_cloudtrail_lookups_use_one_attribute_each():
    assert all(set(a) == {"AttributeKey", "AttributeValue"} for a in LOOKUPS)
    values = [a["AttributeValue"] for a in LOOKUPS]
    assert len(values) == len(set(values))
    assert {"UserAuthentication", "ExternalIdPDirectoryLogin", "CreateBearerToken", "DeleteBearerToken",
            "UpdateExternalIdPConfigurationForDirectory", "CreateUser", "PatchUser", "PatchGroup"} <= set(values)
    # SCIM by the names of its writes, never by its source: that would page through every SCIM read
    assert all(a["AttributeKey"] == "EventName" for a in LOOKUPS)
    assert not {"GetUser", "ListUsers", "GetGroup", "ListGroups"} & set(values)


def test_scim_write_names_are_kept_only_from_the_scim_source_and_creations_by_hand():
    from idbridge.collect.aws.trail import keep

    assert keep({"EventName": "CreateUser", "EventSource": "identitystore-scim.amazonaws.com"})
    assert not keep({"EventName": "CreateUser", "EventSource": "iam.amazonaws.com"})
    assert not keep({"EventName": "DeleteGroup", "EventSource": "identitystore.amazonaws.com"})
    # creations by hand (API, console) are evidence of who made a principal (model/origin.py)
    assert keep({"EventName": "CreateGroup", "EventSource": "identitystore.amazonaws.com"})
    assert keep({"EventName": "CreateUser", "EventSource": "sso-directory.amazonaws.com"})
    assert keep({"EventName": "UserAuthentication", "EventSource": "signin.amazonaws.com"})


def test_event_row_reads_the_cloudtrail_record():
    record = {"eventID": "e1", "eventTime": "2026-04-30T10:00:00Z", "eventName": "UserAuthentication",
              "eventSource": "signin.amazonaws.com", "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.9",
              "userIdentity": {"type": "IdentityCenterUser", "onBehalfOf": {"userId": "u-1"}},
              "additionalEventData": {"UserName": "alice@contoso.com"}}
    event = {"EventId": "e1", "EventName": "UserAuthentication", "EventSource": "signin.amazonaws.com",
             "EventTime": datetime(2026, 4, 30, 12, 0, tzinfo=tzoffset(None, 7200)), "Username": "other",
             "CloudTrailEvent": json.dumps(record)}
    row = event_row(event)
    assert row["eventTime"] == "2026-04-30T10:00:00Z"
    assert (row["userName"], row["userId"], row["sourceIPAddress"]) == ("alice@contoso.com", "u-1", "203.0.113.9")
    assert row["errorCode"] is None and row["event_json"] == event["CloudTrailEvent"]
    scim = event_row({"EventId": "e2", "EventName": "CreateUser", "CloudTrailEvent": json.dumps(
        {"errorCode": "ValidationException", "errorMessage": "bad", "userIdentity": {"type": "Unknown"}})})
    assert (scim["errorCode"], scim["errorMessage"], scim["userName"], scim["userId"]) == \
        ("ValidationException", "bad", None, None)


def test_values_and_tables():
    assert utc_iso(datetime(2026, 1, 1, 1, 0, tzinfo=tzoffset(None, 3600))) == "2026-01-01T00:00:00Z"
    assert utc_iso(0) == "1970-01-01T00:00:00Z" and utc_iso(None) is None
    assert utc_iso("2026-01-01T00:00:00.123Z") == "2026-01-01T00:00:00Z"
    frame = table("idc_group_memberships", [{"userId": "u", "groupId": "g", "extra": 1}])
    assert list(frame.columns) == ["groupId", "userId", "membershipId"]
    assert frame.iloc[0].tolist() == ["g", "u", None]
    assert list(table("org_accounts", []).columns) == ["accountId", "name", "email", "status", "ouPath", "ouId",
                                                        "tags"]


def test_fan_out_keeps_order_and_raises_the_first_failure():
    assert fan_out(lambda x: x * 2, range(20), workers=4) == [x * 2 for x in range(20)]

    def boom(x):
        if x == 3:
            raise ValueError("three")
        return x

    with pytest.raises(ValueError, match="three"):
        fan_out(boom, range(10), workers=4)


def test_something_deleted_since_it_was_listed_reads_as_empty():
    def gone():
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no such group"}}, "ListX")

    def denied():
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListX")

    assert aws._unless_gone(gone) == []
    with pytest.raises(ClientError, match="AccessDenied"):
        aws._unless_gone(denied)
    sso, stub = _stubbed("sso-admin")
    stub.add_client_error("describe_permission_set", "ResourceNotFoundException", "gone", 400)
    with stub:
        assert aws._read_permission_set(sso, INSTANCE, PS) is None
