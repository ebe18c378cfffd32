"""Each sso-admin patch, driven through boto3 over HTTP."""

from __future__ import annotations

import pytest

from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import build_aws_world, client, small_scenario

PROVISIONED = "LATEST_PERMISSION_SET_PROVISIONED"
NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"
PROD, DEV, MGMT = "222222222222", "333333333333", "111111111111"


@pytest.fixture
def world():
    return build_aws_world(small_scenario())


@pytest.fixture
def sso(world):
    handle = start_moto_server(world)
    yield client(handle, "sso-admin", "eu-west-1")
    handle.stop()


@pytest.fixture
def arn(world):
    return world.aws.instance_arn


def _accounts(sso, arn, ps, status=None):
    extra = {"ProvisioningStatus": status} if status else {}
    return sso.list_accounts_for_provisioned_permission_set(InstanceArn=arn, PermissionSetArn=ps, **extra)[
        "AccountIds"]


def test_created_permission_set_has_aws_shape_and_defaults(sso, arn):
    created = sso.create_permission_set(Name="Billing", InstanceArn=arn, Tags=[{"Key": "k", "Value": "v"}])[
        "PermissionSet"]
    assert created["SessionDuration"] == "PT1H"  # moto: 3600
    assert created["PermissionSetArn"].startswith(f"arn:aws:sso:::permissionSet/{arn.rsplit('/', 1)[1]}/ps-")
    ps = created["PermissionSetArn"]
    assert sso.list_tags_for_resource(InstanceArn=arn, ResourceArn=ps)["Tags"] == [{"Key": "k", "Value": "v"}]
    sso.tag_resource(InstanceArn=arn, ResourceArn=ps, Tags=[{"Key": "k", "Value": "w"}, {"Key": "x", "Value": "y"}])
    sso.untag_resource(InstanceArn=arn, ResourceArn=ps, TagKeys=["x"])
    assert sso.list_tags_for_resource(InstanceArn=arn, ResourceArn=ps)["Tags"] == [{"Key": "k", "Value": "w"}]
    sso.tag_resource(InstanceArn=arn, ResourceArn=arn, Tags=[{"Key": "owner", "Value": "iam-team"}])
    assert sso.list_tags_for_resource(InstanceArn=arn, ResourceArn=arn)["Tags"] == [
        {"Key": "owner", "Value": "iam-team"}]
    assert _accounts(sso, arn, ps) == []  # created, assigned nowhere, provisioned nowhere


def test_update_keeps_what_is_not_given_and_marks_accounts_outdated(world, sso, arn):
    ps = world.aws.permission_sets["ReadOnly"]
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == []
    sso.update_permission_set(InstanceArn=arn, PermissionSetArn=ps, Description="read things")
    described = sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=ps)["PermissionSet"]
    assert described["Description"] == "read things" and described["SessionDuration"] == "PT8H"
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == [PROD, DEV, "444444444444"]
    assert _accounts(sso, arn, ps, PROVISIONED) == []


@pytest.mark.parametrize("change", ["attach_managed", "detach_managed", "attach_customer", "detach_customer",
                                    "put_inline", "delete_inline", "put_boundary", "delete_boundary"])
def test_every_policy_change_marks_accounts_outdated(world, sso, arn, change):
    ps = world.aws.permission_sets["AdministratorAccess"]
    common = {"InstanceArn": arn, "PermissionSetArn": ps}
    calls = {
        "attach_managed": lambda: sso.attach_managed_policy_to_permission_set(
            **common, ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"),
        "detach_managed": lambda: sso.detach_managed_policy_from_permission_set(
            **common, ManagedPolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
        "attach_customer": lambda: sso.attach_customer_managed_policy_reference_to_permission_set(
            **common, CustomerManagedPolicyReference={"Name": "More"}),
        "detach_customer": lambda: sso.detach_customer_managed_policy_reference_from_permission_set(
            **common, CustomerManagedPolicyReference={"Name": "AuditExtras", "Path": "/idbridge/"}),
        "put_inline": lambda: sso.put_inline_policy_to_permission_set(**common, InlinePolicy='{"Statement": []}'),
        "delete_inline": lambda: sso.delete_inline_policy_from_permission_set(**common),
        "put_boundary": lambda: sso.put_permissions_boundary_to_permission_set(
            **common, PermissionsBoundary={"ManagedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        "delete_boundary": lambda: sso.delete_permissions_boundary_from_permission_set(**common),
    }
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == [DEV]  # planted by the scenario
    calls[change]()
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == [MGMT, PROD, DEV]


def test_permissions_boundary_put_get_delete(world, sso, arn):
    ps = sso.create_permission_set(Name="Bounded", InstanceArn=arn)["PermissionSet"]["PermissionSetArn"]
    common = {"InstanceArn": arn, "PermissionSetArn": ps}
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.get_permissions_boundary_for_permission_set(**common)
    sso.put_permissions_boundary_to_permission_set(
        **common, PermissionsBoundary={"CustomerManagedPolicyReference": {"Name": "Fence"}})
    assert sso.get_permissions_boundary_for_permission_set(**common)["PermissionsBoundary"] == {
        "CustomerManagedPolicyReference": {"Name": "Fence", "Path": "/"}}
    sso.delete_permissions_boundary_from_permission_set(**common)
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.get_permissions_boundary_for_permission_set(**common)


def test_provision_to_one_account_or_all_provisioned_accounts(world, sso, arn):
    ps = world.aws.permission_sets["AdministratorAccess"]
    status = sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps, TargetType="AWS_ACCOUNT",
                                          TargetId=DEV)["PermissionSetProvisioningStatus"]
    assert status["Status"] == "SUCCEEDED" and status["AccountId"] == DEV
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == []
    described = sso.describe_permission_set_provisioning_status(
        InstanceArn=arn, ProvisionPermissionSetRequestId=status["RequestId"])["PermissionSetProvisioningStatus"]
    assert described == status

    sso.update_permission_set(InstanceArn=arn, PermissionSetArn=ps, SessionDuration="PT4H")
    assert _accounts(sso, arn, ps, NOT_PROVISIONED) == [MGMT, PROD, DEV]
    sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps, TargetType="ALL_PROVISIONED_ACCOUNTS")
    assert _accounts(sso, arn, ps, PROVISIONED) == [MGMT, PROD, DEV]
    assert sso.list_permission_sets_provisioned_to_account(
        InstanceArn=arn, AccountId=DEV, ProvisioningStatus=NOT_PROVISIONED)["PermissionSets"] == []
    listed = sso.list_permission_set_provisioning_status(InstanceArn=arn, Filter={"Status": "SUCCEEDED"})
    assert status["RequestId"] in {r["RequestId"] for r in listed["PermissionSetsProvisioningStatus"]}
    failed = sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps, TargetType="AWS_ACCOUNT",
                                          TargetId="999999999999")["PermissionSetProvisioningStatus"]
    assert failed["Status"] == "FAILED" and "not part of the organization" in failed["FailureReason"]


def test_create_assignment_provisions_to_the_target_account(world, sso, arn):
    aws = world.aws
    ps = sso.create_permission_set(Name="Support", InstanceArn=arn)["PermissionSet"]["PermissionSetArn"]
    alice = aws.identity_store.find_user(user_name="alice@contoso.com")
    request = {"InstanceArn": arn, "TargetId": PROD, "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps,
               "PrincipalType": "USER", "PrincipalId": alice}
    status = sso.create_account_assignment(**request)["AccountAssignmentCreationStatus"]
    assert status["Status"] == "SUCCEEDED"
    assert sso.describe_account_assignment_creation_status(
        InstanceArn=arn, AccountAssignmentCreationRequestId=status["RequestId"])[
        "AccountAssignmentCreationStatus"]["PrincipalId"] == alice
    assert _accounts(sso, arn, ps, PROVISIONED) == [PROD]
    sso.create_account_assignment(**request)  # a duplicate changes nothing
    rows = sso.list_account_assignments(InstanceArn=arn, AccountId=PROD, PermissionSetArn=ps)["AccountAssignments"]
    assert rows == [{"AccountId": PROD, "PermissionSetArn": ps, "PrincipalType": "USER", "PrincipalId": alice}]
    listed = sso.list_account_assignment_creation_status(InstanceArn=arn)["AccountAssignmentsCreationStatus"]
    assert len(listed) == 2

    deleted = sso.delete_account_assignment(**request)["AccountAssignmentDeletionStatus"]
    assert sso.describe_account_assignment_deletion_status(
        InstanceArn=arn, AccountAssignmentDeletionRequestId=deleted["RequestId"])[
        "AccountAssignmentDeletionStatus"]["Status"] == "SUCCEEDED"
    assert _accounts(sso, arn, ps) == []  # last assignment gone: deprovisioned
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.delete_account_assignment(**request)


def test_create_assignment_validates_account_principal_and_permission_set(world, sso, arn):
    ps = world.aws.permission_sets["ReadOnly"]
    base = {"InstanceArn": arn, "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps, "PrincipalType": "GROUP"}
    group = world.aws.identity_store.find_group(display_name="AWS-Admins")
    unknown_account = sso.create_account_assignment(**base, TargetId="999999999999", PrincipalId=group)
    assert unknown_account["AccountAssignmentCreationStatus"]["Status"] == "FAILED"
    unknown_group = sso.create_account_assignment(**base, TargetId=PROD,
                                                  PrincipalId="00000000-0000-0000-0000-000000000000")
    status = unknown_group["AccountAssignmentCreationStatus"]
    assert status["Status"] == "FAILED" and "does not exist" in status["FailureReason"]
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.create_account_assignment(**{**base, "PermissionSetArn": ps[:-4] + "0000"}, TargetId=PROD,
                                      PrincipalId=group)


def test_assignment_listings_page(world, sso, arn):
    ps = world.aws.permission_sets["ReadOnly"]
    first = sso.list_account_assignments(InstanceArn=arn, AccountId=PROD, PermissionSetArn=ps, MaxResults=1)
    assert len(first["AccountAssignments"]) == 1 and first["NextToken"]
    second = sso.list_account_assignments(InstanceArn=arn, AccountId=PROD, PermissionSetArn=ps, MaxResults=1,
                                          NextToken=first["NextToken"])
    assert len(second["AccountAssignments"]) == 1 and "NextToken" not in second
    assert first["AccountAssignments"] != second["AccountAssignments"]
    paginator = sso.get_paginator("list_account_assignments")
    rows = [r for p in paginator.paginate(InstanceArn=arn, AccountId=PROD, PermissionSetArn=ps,
                                          PaginationConfig={"PageSize": 1}) for r in p["AccountAssignments"]]
    assert len(rows) == 2


def test_assignments_for_a_user_include_those_through_groups(world, sso, arn):
    store = world.aws.identity_store
    alice = store.find_user(user_name="alice@contoso.com")
    admins = store.find_group(display_name="AWS-Admins")
    rows = sso.list_account_assignments_for_principal(InstanceArn=arn, PrincipalId=alice, PrincipalType="USER")
    assert {(r["PrincipalType"], r["PrincipalId"], r["AccountId"]) for r in rows["AccountAssignments"]} == {
        ("GROUP", admins, PROD), ("GROUP", admins, DEV)}
    paged = sso.list_account_assignments_for_principal(InstanceArn=arn, PrincipalId=alice, PrincipalType="USER",
                                                       MaxResults=1)
    assert len(paged["AccountAssignments"]) == 1 and paged["NextToken"]
    group_rows = sso.list_account_assignments_for_principal(InstanceArn=arn, PrincipalId=admins,
                                                            PrincipalType="GROUP", Filter={"AccountId": DEV})
    assert [r["AccountId"] for r in group_rows["AccountAssignments"]] == [DEV]


def test_describe_instance_and_region(world, sso, arn):
    described = sso.describe_instance(InstanceArn=arn)
    assert described["IdentityStoreId"] == world.aws.identity_store_id
    assert described["IdentityStoreArn"].endswith(f":identitystore/{world.aws.identity_store_id}")
    region = sso.describe_region(InstanceArn=arn, RegionName="eu-central-1")
    assert region["Status"] == "ACTIVE" and region["IsPrimaryRegion"] is False
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.describe_region(InstanceArn=arn, RegionName="ap-south-1")
    with pytest.raises(sso.exceptions.ResourceNotFoundException):
        sso.list_permission_sets_provisioned_to_account(InstanceArn=arn[:-4] + "0000", AccountId=PROD)
