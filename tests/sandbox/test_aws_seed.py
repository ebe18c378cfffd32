"""The seeded AWS side reads back through unmodified boto3 over HTTP exactly as the scenario describes it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from idbridge.sandbox.aws.store_records import SCIM as SCIM_BY
from idbridge.sandbox import derived
from idbridge.sandbox.aws.seed import seed_aws
from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import NOW, build_aws_world, client, small_scenario
from idbridge.sandbox.world import SeedError

NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


# moto's backends are process-wide and seeding resets them, so every test seeds its own world (a few ms).
@pytest.fixture
def world():
    return build_aws_world(small_scenario())


@pytest.fixture
def server(world):
    handle = start_moto_server(world)
    yield handle
    handle.stop()


@pytest.fixture
def sso(server):
    return client(server, "sso-admin", "eu-west-1")


@pytest.fixture
def idstore(server):
    return client(server, "identitystore", "eu-west-1")


@pytest.fixture
def org(server):
    return client(server, "organizations", "us-east-1")


def _all(method, key, **kwargs):
    out, token = [], None
    while True:
        page = method(**kwargs, **({"NextToken": token} if token else {}))
        out += page[key]
        token = page.get("NextToken")
        if not token:
            return out


def test_instance_uses_the_derived_ids_in_every_enabled_region(world, server, sso):
    scenario = world.scenario
    [instance] = sso.list_instances()["Instances"]
    assert instance["InstanceArn"] == derived.instance_arn(scenario) == world.aws.instance_arn
    assert instance["IdentityStoreId"] == derived.identity_store_id(scenario)
    assert instance["OwnerAccountId"] == "111111111111"
    assert instance["Name"] == "contoso" and instance["Status"] == "ACTIVE"
    assert instance["PrimaryRegion"] == "eu-west-1"
    regions = sso.list_regions(InstanceArn=instance["InstanceArn"])["Regions"]
    assert [(r["RegionName"], r["IsPrimaryRegion"]) for r in regions] == [("eu-west-1", True),
                                                                        ("eu-central-1", False)]
    replica = client(server, "sso-admin", "eu-central-1")
    assert replica.list_instances()["Instances"][0]["InstanceArn"] == instance["InstanceArn"]
    assert client(server, "sso-admin", "us-west-2").list_instances()["Instances"] == []
    assert world.aws.scim_endpoint == derived.scim_endpoint(scenario)
    assert world.aws.scim_tokens == [derived.scim_token(scenario)]


def test_organization_accounts_ous_and_tags(world, org):
    assert org.describe_organization()["Organization"]["MasterAccountId"] == "111111111111"
    accounts = {a["Id"]: a for a in _all(org.list_accounts, "Accounts")}
    assert set(accounts) == {"111111111111", "222222222222", "333333333333", "444444444444"}
    assert accounts["111111111111"]["Email"] == "aws-root@contoso.com"
    assert accounts["222222222222"]["Name"] == "Prod"
    assert accounts["222222222222"]["Email"] == "aws+prod@contoso.com"  # derived from the tenant's domain
    assert accounts["444444444444"]["Status"] == "SUSPENDED"
    assert {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId="222222222222")["Tags"]} == \
        {"env": "prod", "owner": "platform"}

    def path(account_id):
        names, child = [], account_id
        while True:
            [parent] = org.list_parents(ChildId=child)["Parents"]
            if parent["Type"] == "ROOT":
                return "/".join(reversed(names))
            names.append(org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])
                         ["OrganizationalUnit"]["Name"])
            child = parent["Id"]

    assert path("222222222222") == "Workloads/Prod"
    assert path("333333333333") == "Workloads/Dev"
    assert path("444444444444") == "Sandbox"
    assert path("111111111111") == ""
    [root] = org.list_roots()["Roots"]
    top = {ou["Name"] for ou in org.list_organizational_units_for_parent(ParentId=root["Id"])["OrganizationalUnits"]}
    assert top == {"Workloads", "Sandbox"}
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=root["Id"])["Accounts"]] == ["111111111111"]
    assert org.list_delegated_administrators(ServicePrincipal="sso.amazonaws.com")["DelegatedAdministrators"] == []


def test_delegated_administrator_when_the_instance_lives_in_a_member_account():
    scenario = small_scenario(lambda d: d["aws"]["identity_center"].update(account="333333333333"))
    world = build_aws_world(scenario)
    with start_moto_server(world) as handle:
        org = client(handle, "organizations", "us-east-1")
        admins = org.list_delegated_administrators(ServicePrincipal="sso.amazonaws.com")["DelegatedAdministrators"]
        assert [a["Id"] for a in admins] == ["333333333333"]
        [instance] = client(handle, "sso-admin", "eu-west-1").list_instances()["Instances"]
        assert instance["OwnerAccountId"] == "333333333333"


def test_permission_sets_with_every_policy_kind(world, sso):
    arn = world.aws.instance_arn
    arns = _all(sso.list_permission_sets, "PermissionSets", InstanceArn=arn)
    assert sorted(arns) == sorted(world.aws.permission_sets.values())
    admin = world.aws.permission_sets["AdministratorAccess"]
    assert admin.startswith("arn:aws:sso:::permissionSet/ssoins-") and "/ps-" in admin
    described = sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=admin)["PermissionSet"]
    assert described["Name"] == "AdministratorAccess" and described["Description"] == "full admin"
    assert described["SessionDuration"] == "PT2H" and described["RelayState"] == "https://console.aws.amazon.com/"
    managed = sso.list_managed_policies_in_permission_set(InstanceArn=arn, PermissionSetArn=admin)
    assert managed["AttachedManagedPolicies"] == [{"Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                                                   "Name": "AdministratorAccess"}]
    customer = sso.list_customer_managed_policy_references_in_permission_set(InstanceArn=arn,
                                                                              PermissionSetArn=admin)
    assert customer["CustomerManagedPolicyReferences"] == [{"Name": "AuditExtras", "Path": "/idbridge/"}]
    inline = json.loads(sso.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=admin)
                        ["InlinePolicy"])
    assert inline["Statement"][0]["Action"] == "iam:CreateUser"
    assert sso.get_permissions_boundary_for_permission_set(InstanceArn=arn, PermissionSetArn=admin)[
        "PermissionsBoundary"] == {"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}
    read_only = world.aws.permission_sets["ReadOnly"]
    assert sso.get_permissions_boundary_for_permission_set(InstanceArn=arn, PermissionSetArn=read_only)[
        "PermissionsBoundary"] == {"CustomerManagedPolicyReference": {"Name": "ReadBoundary", "Path": "/"}}
    assert "RelayState" not in sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=read_only)[
        "PermissionSet"]
    assert sso.list_tags_for_resource(InstanceArn=arn, ResourceArn=admin)["Tags"] == [
        {"Key": "tier", "Value": "privileged"}]


def test_hand_made_identity_center_principals(world, idstore):
    store_id = world.aws.identity_store_id
    users = {u["UserName"]: u for u in _all(idstore.list_users, "Users", IdentityStoreId=store_id)}
    # alice, bob, carol (as carol.cook@), breakglass — dave was never provisioned
    assert set(users) == {"alice@contoso.com", "bob@contoso.com", "carol.cook@contoso.com", "breakglass"}
    glass = users["breakglass"]
    assert glass["CreatedBy"].startswith("arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_")
    assert "ExternalIds" not in glass
    assert glass["Name"]["GivenName"] == "Break" and glass["DisplayName"] == "Break Glass"
    assert glass["Emails"] == [{"Value": "breakglass@contoso.com", "Type": "work", "Primary": True}]
    assert users["alice@contoso.com"]["CreatedBy"] == SCIM_BY
    groups = {g["DisplayName"]: g for g in _all(idstore.list_groups, "Groups", IdentityStoreId=store_id)}
    local = groups["Local-Ops"]
    assert local["Description"] == "made by hand" and "ExternalIds" not in local
    members = idstore.list_group_memberships(IdentityStoreId=store_id, GroupId=local["GroupId"])["GroupMemberships"]
    assert [m["MemberId"]["UserId"] for m in members] == [glass["UserId"]]


def test_assignments_read_back(world, sso, idstore):
    aws, arn = world.aws, world.aws.instance_arn
    store_id = aws.identity_store_id
    readers = idstore.get_group_id(IdentityStoreId=store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "DisplayName", "AttributeValue": "AWS-Admins"}})["GroupId"]
    rows = sso.list_account_assignments(InstanceArn=arn, AccountId="333333333333",
                                        PermissionSetArn=aws.permission_sets["AdministratorAccess"])
    assert [(r["PrincipalType"], r["PrincipalId"]) for r in rows["AccountAssignments"]] == [("GROUP", readers)]
    carol = idstore.get_user_id(IdentityStoreId=store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "UserName", "AttributeValue": "carol.cook@contoso.com"}})["UserId"]
    direct = sso.list_account_assignments_for_principal(InstanceArn=arn, PrincipalId=carol, PrincipalType="USER",
                                                        Filter={"AccountId": "333333333333"})
    assert {(r["PrincipalType"], r["AccountId"]) for r in direct["AccountAssignments"]} == {("USER", "333333333333")}
    total = sum(len(sso.list_account_assignments(InstanceArn=arn, AccountId=a, PermissionSetArn=p)
                    ["AccountAssignments"])
                for a in ("111111111111", "222222222222", "333333333333", "444444444444")
                for p in aws.permission_sets.values())
    assert total == 8  # as listed: 2 (AWS-Admins) + 2 (AWS-Readers) + bob + carol + breakglass + Local-Ops


def test_provisioned_to_accounts_and_planted_drift(world, sso):
    aws, arn = world.aws, world.aws.instance_arn
    admin, read_only = aws.permission_sets["AdministratorAccess"], aws.permission_sets["ReadOnly"]
    assert sso.list_accounts_for_provisioned_permission_set(InstanceArn=arn, PermissionSetArn=admin)[
        "AccountIds"] == ["111111111111", "222222222222", "333333333333"]
    assert sso.list_accounts_for_provisioned_permission_set(
        InstanceArn=arn, PermissionSetArn=admin, ProvisioningStatus=NOT_PROVISIONED)["AccountIds"] == ["333333333333"]
    stale = sso.list_permission_sets_provisioned_to_account(InstanceArn=arn, AccountId="333333333333",
                                                            ProvisioningStatus=NOT_PROVISIONED)
    assert stale["PermissionSets"] == [admin]
    current = sso.list_permission_sets_provisioned_to_account(
        InstanceArn=arn, AccountId="333333333333", ProvisioningStatus="LATEST_PERMISSION_SET_PROVISIONED")
    assert current["PermissionSets"] == [read_only]
    assert sso.list_permission_sets_provisioned_to_account(InstanceArn=arn, AccountId="444444444444")[
        "PermissionSets"] == [read_only]


def test_recreated_principals_leave_dangling_assignments(world, sso, idstore):
    aws, arn = world.aws, world.aws.instance_arn
    store_id = aws.identity_store_id
    bob = idstore.get_user_id(IdentityStoreId=store_id, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "UserName", "AttributeValue": "bob@contoso.com"}})["UserId"]
    rows = sso.list_account_assignments(InstanceArn=arn, AccountId="222222222222",
                                        PermissionSetArn=aws.permission_sets["ReadOnly"])["AccountAssignments"]
    users = [r["PrincipalId"] for r in rows if r["PrincipalType"] == "USER"]
    groups = [r["PrincipalId"] for r in rows if r["PrincipalType"] == "GROUP"]
    assert len(users) == 1 and users[0] != bob  # the old bob
    with pytest.raises(idstore.exceptions.ResourceNotFoundException):
        idstore.describe_user(IdentityStoreId=store_id, UserId=users[0])
    described = idstore.describe_user(IdentityStoreId=store_id, UserId=bob)
    assert described["CreatedAt"] == NOW - timedelta(days=1)
    # the recreated group kept its members under a new id; the assignment points at the old one
    readers = aws.identity_store.find_group(display_name="AWS-Readers")
    assert groups and groups[0] != readers
    assert len(idstore.list_group_memberships(IdentityStoreId=store_id, GroupId=readers)["GroupMemberships"]) == 1
    # bob is still in AWS-Admins under his new id
    admins = aws.identity_store.find_group(display_name="AWS-Admins")
    assert bob in aws.identity_store.members(admins)


def test_assignment_to_a_never_provisioned_group_is_a_seed_error():
    def plant(doc):
        doc["aws"]["account_assignments"].append({"group": "AWS-Ghosts", "accounts": ["Prod"],
                                                  "permission_set": "ReadOnly"})

    with pytest.raises(SeedError, match=r"aws.account_assignments\[6\].group: group 'AWS-Ghosts' is not in Identity "
                                        r"Center \(never provisioned\)"):
        build_aws_world(small_scenario(plant))

    def plant_user(doc):
        doc["aws"]["account_assignments"].append({"user": "dave@contoso.com", "accounts": ["Prod"],
                                                  "permission_set": "ReadOnly"})

    with pytest.raises(SeedError, match=r"user 'dave@contoso.com' is not in Identity Center"):
        build_aws_world(small_scenario(plant_user))


def test_seeding_twice_in_one_process_starts_clean():
    scenario = small_scenario()
    first = seed_aws(scenario, NOW)
    first.identity_store.create_group(display_name="Leftover", at=NOW)
    second = seed_aws(scenario, NOW)
    assert second.identity_store.find_group(display_name="Leftover") is None
    assert [g["DisplayName"] for g in second.identity_store.groups()] == ["Local-Ops"]
    assert second.permission_sets == first.permission_sets  # deterministic ARNs
    assert len(second.sso.assignments) == 0


def test_expired_scim_token_is_not_accepted():
    scenario = small_scenario(lambda d: d["entra"]["aws_app"]["provisioning"].update(token_created="now-400d"))
    assert seed_aws(scenario, NOW).scim_tokens == []
    scenario = small_scenario(lambda d: d["entra"]["aws_app"]["provisioning"].update(token_valid=False))
    assert seed_aws(scenario, NOW).scim_tokens == []
