"""The identity-store facade (what the emulated SCIM provisioning calls) and the patched identitystore API agree:
what one writes, boto3 reads back over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idbridge.sandbox.aws.store_records import SCIM as SCIM_BY
from idbridge.sandbox.aws import identity_store as ids
from idbridge.sandbox.aws.server import start_moto_server
from idbridge.sandbox.aws.testkit import NOW, build_aws_world, client, small_scenario

LATER = NOW + timedelta(hours=2)


@pytest.fixture
def world():
    # Nothing provisioned from Entra: only the hand-made breakglass user and Local-Ops group are in the store.
    return build_aws_world(small_scenario(lambda doc: doc["aws"].update(account_assignments=[])), provision=False)


@pytest.fixture
def store(world):
    return world.aws.identity_store


@pytest.fixture
def api(world):
    handle = start_moto_server(world)
    yield client(handle, "identitystore", "eu-west-1")
    handle.stop()


@pytest.fixture
def sid(world):
    return world.aws.identity_store_id


def _erin(store, **overrides):
    fields = dict(user_name="Erin@Contoso.com", display_name="Erin Evans", given_name="Erin", family_name="Evans",
                  emails=[{"value": "erin@contoso.com", "type": "work", "primary": True}],
                  phone_numbers=[{"Value": "+44 20 7946 0000", "Type": "work"}],
                  addresses=[{"streetAddress": "1 Main St", "locality": "London", "country": "GB", "type": "work"}],
                  title="Engineer", preferred_language="en-GB", locale="en-GB", timezone="Europe/London",
                  external_id="2f9c6a4e-0000-4000-8000-000000000001", external_id_issuer=None, at=NOW)
    fields.update(overrides)
    return store.create_user(**fields)


def test_facade_user_reads_back_through_describe_user(store, api, sid):
    uid = _erin(store, active=False)
    user = api.describe_user(IdentityStoreId=sid, UserId=uid)
    assert user["UserId"] == uid and uid.startswith(sid.removeprefix("d-") + "-")
    assert user["UserArn"] == f"arn:aws:identitystore:::user/{uid}"
    assert user["UserName"] == "Erin@Contoso.com" and user["DisplayName"] == "Erin Evans"
    assert user["Name"] == {"GivenName": "Erin", "FamilyName": "Evans", "Formatted": "Erin Evans"}
    assert user["UserStatus"] == "DISABLED"
    assert user["ExternalIds"] == [{"Issuer": store.scim_issuer, "Id": "2f9c6a4e-0000-4000-8000-000000000001"}]
    assert store.scim_issuer.startswith("https://scim.eu-west-1.amazonaws.com/")
    assert user["Emails"] == [{"Value": "erin@contoso.com", "Type": "work", "Primary": True}]
    assert user["PhoneNumbers"] == [{"Value": "+44 20 7946 0000", "Type": "work"}]
    assert user["Addresses"] == [{"StreetAddress": "1 Main St", "Locality": "London", "Country": "GB",
                                  "Type": "work"}]
    assert (user["Title"], user["PreferredLanguage"], user["Locale"], user["Timezone"]) == \
        ("Engineer", "en-GB", "en-GB", "Europe/London")
    assert user["CreatedAt"] == NOW and user["UpdatedAt"] == NOW
    assert user["CreatedBy"] == user["UpdatedBy"] == SCIM_BY
    # AWS publishes no value for SCIM-made users: the sandbox's is neither the console's word nor an ARN
    assert SCIM_BY.casefold() != "scim" and not SCIM_BY.startswith("arn:")
    assert store.user(uid)["UserStatus"] == "DISABLED" and store.user(uid)["CreatedAt"] == NOW


def test_update_user_changes_only_what_is_given(store, api, sid):
    uid = _erin(store)
    store.update_user(uid, at=LATER, display_name="Erin E.", active=False, title=None, family_name="Ellis")
    user = api.describe_user(IdentityStoreId=sid, UserId=uid)
    assert user["DisplayName"] == "Erin E." and user["Title"] == "Engineer"
    assert user["Name"]["FamilyName"] == "Ellis" and user["Name"]["GivenName"] == "Erin"
    assert user["UserStatus"] == "DISABLED"
    assert user["UpdatedAt"] == LATER and user["CreatedAt"] == NOW and user["Revision"] == "2"
    with pytest.raises(TypeError):
        store.update_user(uid, at=LATER, department="R&D")


def test_lookups_are_case_insensitive_on_user_name(store, api, sid):
    uid = _erin(store)
    assert store.find_user(user_name="erin@contoso.COM") == uid
    assert store.find_user(external_id="2f9c6a4e-0000-4000-8000-000000000001") == uid
    assert store.find_user(email="ERIN@contoso.com") == uid
    assert store.find_user(user_name="nobody@contoso.com") is None
    by_name = api.get_user_id(IdentityStoreId=sid, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "erin@contoso.com"}})
    by_external = api.get_user_id(IdentityStoreId=sid, AlternateIdentifier={
        "ExternalId": {"Issuer": store.scim_issuer, "Id": "2f9c6a4e-0000-4000-8000-000000000001"}})
    by_email = api.get_user_id(IdentityStoreId=sid, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "erin@contoso.com"}})
    assert by_name["UserId"] == by_external["UserId"] == by_email["UserId"] == uid
    filtered = api.list_users(IdentityStoreId=sid, Filters=[{"AttributePath": "UserName",
                                                             "AttributeValue": "ERIN@contoso.com"}])
    assert [u["UserId"] for u in filtered["Users"]] == [uid]


def test_aws_refusals(store, api, sid):
    _erin(store)
    with pytest.raises(ids.Conflict, match="Duplicate UserName"):
        _erin(store, user_name="erin@contoso.com", external_id="other")
    with pytest.raises(ids.Conflict, match="Duplicate ExternalId"):
        _erin(store, user_name="erin2@contoso.com")
    with pytest.raises(ids.Invalid, match=r"Value at 'name.givenName' failed to satisfy constraint"):
        _erin(store, user_name="x@contoso.com", given_name="", external_id=None)
    with pytest.raises(ids.Invalid, match="List attribute emails exceeds allowed limit of 1"):
        _erin(store, user_name="y@contoso.com", external_id=None,
              emails=[{"value": "a@contoso.com"}, {"value": "b@contoso.com"}])
    with pytest.raises(api.exceptions.ConflictException):
        api.create_user(IdentityStoreId=sid, UserName="ERIN@contoso.com", DisplayName="E",
                        Name={"GivenName": "E", "FamilyName": "E"})
    with pytest.raises(api.exceptions.ValidationException):
        api.create_user(IdentityStoreId=sid, UserName="z@contoso.com", DisplayName="Z", Name={"GivenName": "Z"})
    with pytest.raises(api.exceptions.ResourceNotFoundException):
        api.list_users(IdentityStoreId="d-0000000000")
    with pytest.raises(api.exceptions.ResourceNotFoundException):
        api.delete_user(IdentityStoreId=sid, UserId="no-such-user")


def test_api_made_objects_carry_the_caller_and_update_through_operations(world, store, api, sid):
    uid = api.create_user(IdentityStoreId=sid, UserName="frank@contoso.com", DisplayName="Frank",
                          Name={"GivenName": "Frank", "FamilyName": "Fox"})["UserId"]
    user = api.describe_user(IdentityStoreId=sid, UserId=uid)
    assert user["CreatedBy"].startswith("arn:aws:sts::111111111111:assumed-role/")
    assert "ExternalIds" not in user and user["UserStatus"] == "ENABLED"
    revision = api.update_user(IdentityStoreId=sid, UserId=uid, Operations=[
        {"AttributePath": "displayName", "AttributeValue": "Frank Fox"},
        {"AttributePath": "name.givenName", "AttributeValue": "Franklin"},
        {"AttributePath": "title", "AttributeValue": None}])["Revision"]
    assert revision == "2"
    user = api.describe_user(IdentityStoreId=sid, UserId=uid)
    assert user["DisplayName"] == "Frank Fox" and user["Name"] == {"GivenName": "Franklin", "FamilyName": "Fox"}
    assert store.find_user(user_name="FRANK@contoso.com") == uid  # the facade sees API writes


def test_groups_and_memberships(store, api, sid):
    erin = _erin(store)
    gid = store.create_group(display_name="AWS-Ops", description="ops", external_id="g-1", at=NOW)
    mid = store.add_member(gid, erin, at=NOW)
    assert store.add_member(gid, erin) == mid  # idempotent for the provisioning engine
    group = api.describe_group(IdentityStoreId=sid, GroupId=gid)
    assert group["DisplayName"] == "AWS-Ops" and group["Description"] == "ops"
    assert group["ExternalIds"] == [{"Issuer": store.scim_issuer, "Id": "g-1"}]
    assert group["CreatedBy"] == SCIM_BY and group["CreatedAt"] == NOW
    assert api.get_group_id(IdentityStoreId=sid, AlternateIdentifier={
        "ExternalId": {"Issuer": store.scim_issuer, "Id": "g-1"}})["GroupId"] == gid
    [membership] = api.list_group_memberships(IdentityStoreId=sid, GroupId=gid)["GroupMemberships"]
    assert membership["MembershipId"] == mid and membership["MemberId"] == {"UserId": erin}
    assert membership["CreatedBy"] == SCIM_BY
    assert api.list_group_memberships_for_member(IdentityStoreId=sid, MemberId={"UserId": erin})[
        "GroupMemberships"][0]["GroupId"] == gid
    assert api.describe_group_membership(IdentityStoreId=sid, MembershipId=mid)["GroupId"] == gid
    assert api.get_group_membership_id(IdentityStoreId=sid, GroupId=gid, MemberId={"UserId": erin})[
        "MembershipId"] == mid
    assert api.is_member_in_groups(IdentityStoreId=sid, MemberId={"UserId": erin}, GroupIds=[gid])["Results"][0][
        "MembershipExists"] is True
    with pytest.raises(api.exceptions.ConflictException):
        api.create_group_membership(IdentityStoreId=sid, GroupId=gid, MemberId={"UserId": erin})
    with pytest.raises(api.exceptions.ConflictException):
        api.create_group(IdentityStoreId=sid, DisplayName="AWS-Ops")
    assert store.members(gid) == [erin] and store.groups_of(erin) == [gid]
    store.remove_member(gid, erin)
    store.remove_member(gid, erin)  # idempotent
    assert api.list_group_memberships(IdentityStoreId=sid, GroupId=gid)["GroupMemberships"] == []


def test_deleting_a_user_or_group_removes_its_memberships(store, api, sid):
    erin = _erin(store)
    gid = store.create_group(display_name="AWS-Ops", at=NOW)
    store.add_member(gid, erin)
    store.delete_user(erin)
    assert api.list_group_memberships(IdentityStoreId=sid, GroupId=gid)["GroupMemberships"] == []
    erin_again = _erin(store)
    assert erin_again != erin  # recreated: a new id
    store.add_member(gid, erin_again)
    api.delete_group(IdentityStoreId=sid, GroupId=gid)
    assert api.list_group_memberships_for_member(IdentityStoreId=sid, MemberId={"UserId": erin_again})[
        "GroupMemberships"] == []
    assert store.find_group(display_name="AWS-Ops") is None


def test_list_users_and_groups_page(store, api, sid):
    with store.bulk():
        for i in range(25):
            store.create_user(user_name=f"u{i}@contoso.com", display_name=f"U {i}", given_name="U",
                              family_name=str(i), emails=None, phone_numbers=None, addresses=None,
                              external_id=f"x{i}", external_id_issuer=None, at=NOW)
    pages = list(api.get_paginator("list_users").paginate(IdentityStoreId=sid, PaginationConfig={"PageSize": 10}))
    assert [len(p["Users"]) for p in pages] == [10, 10, 6]  # 25 + breakglass
    assert len({u["UserId"] for p in pages for u in p["Users"]}) == 26
    assert len(store.users()) == 26 and {g["DisplayName"] for g in store.groups()} == {"Local-Ops"}
    groups = api.list_groups(IdentityStoreId=sid, Filters=[{"AttributePath": "DisplayName",
                                                            "AttributeValue": "Local-Ops"}])["Groups"]
    assert [g["DisplayName"] for g in groups] == ["Local-Ops"]


def test_extra_region_serves_the_same_store(world, store, sid):
    uid = _erin(store)
    handle = start_moto_server(world)
    try:
        replica = client(handle, "identitystore", "eu-central-1")
        assert replica.describe_user(IdentityStoreId=sid, UserId=uid)["UserName"] == "Erin@Contoso.com"
    finally:
        handle.stop()
