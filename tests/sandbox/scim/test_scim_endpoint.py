"""The emulated AWS SCIM endpoint over the real identity store facade (no HTTP): statuses, bodies, CloudTrail."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

pytest.importorskip("idbridge.sandbox.aws.identity_store")

from idbridge.sandbox.aws.store_records import SCIM as SCIM_BY
from idbridge.sandbox.aws.identity_store import IdentityStore  # noqa: E402
from idbridge.sandbox.scim import endpoint as scim  # noqa: E402
from idbridge.sandbox.scim import rules  # noqa: E402

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TOKEN = "sbx-scim-good"
PATTERN = r"[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r ]+"


@pytest.fixture
def ep():
    store_id = "d-" + uuid.uuid4().hex[:10]
    store = IdentityStore("123456789012", "eu-west-1", store_id, scim_issuer="https://scim.eu-west-1.amazonaws.com/t",
                          default_time=AT)
    trail: list[dict] = []
    endpoint = scim.ScimEndpoint(store=store, tenant_id="tenant-1", tokens={TOKEN}, region="eu-west-1",
                                 account_id="123456789012", trail=trail.append, seed=store_id)
    endpoint.events = trail  # type: ignore[attr-defined]
    return endpoint


def user(who="adele", **overrides) -> dict:
    base = {"schemas": [rules.USER_SCHEMA], "userName": f"{who}@contoso.com", "displayName": who.title(),
            "name": {"givenName": who.title(), "familyName": "Vance"},
            "emails": [{"value": f"{who}@contoso.com", "type": "work", "primary": True}],
            "externalId": f"ext-{who}", "active": True}
    base.update(overrides)
    return base


def patch(*ops) -> dict:
    return {"schemas": [rules.PATCH_SCHEMA], "Operations": list(ops)}


def created(ep, payload) -> str:
    result = scim.create_user(ep, payload, AT, bearer=TOKEN)
    assert result.status == 201, result.body
    return result.resource_id


# --------------------------------------------------------------------------------------------- authentication


def test_wrong_token_is_401_and_not_logged(ep):
    result = scim.create_user(ep, user(), AT, bearer="sbx-scim-revoked")
    assert result.status == 401
    assert result.body["detail"] == "Authorization header is invalid or missing." and result.body["status"] == "401"
    assert scim.list_users(ep, 'userName eq "x"', AT, bearer="").status == 401
    assert ep.events == [] and ep.store.find_user(user_name="adele@contoso.com") is None


# --------------------------------------------------------------------------------------------- users


def test_create_user(ep):
    result = scim.create_user(ep, user(), AT, bearer=TOKEN)
    assert result.status == 201
    body = result.body
    assert body["userName"] == "adele@contoso.com" and body["active"] is True and body["externalId"] == "ext-adele"
    assert body["meta"] == {"resourceType": "User", "created": "2026-03-01T12:00:00Z",
                            "lastModified": "2026-03-01T12:00:00Z"}
    record = ep.store.user(result.resource_id)
    assert record["CreatedBy"] == SCIM_BY and record["UserStatus"] == "ENABLED"
    event = ep.events[-1]
    assert (event["eventSource"], event["eventName"], event["eventTime"]) == \
        ("identitystore-scim.amazonaws.com", "CreateUser", AT)  # the trail store formats the time
    assert "errorCode" not in event
    assert event["requestParameters"]["httpBody"]["userName"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert event["requestParameters"]["httpBody"]["active"] is True
    assert event["responseElements"]["id"] == result.resource_id


def test_required_attribute_refused_with_aws_text(ep):
    payload = user(name={"familyName": "Vance"})
    result = scim.create_user(ep, payload, AT, bearer=TOKEN)
    text = ("1 validation errors detected: Value at 'name.givenName' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1")
    assert result.status == 400 and result.body["detail"] == text
    assert (ep.events[-1]["errorCode"], ep.events[-1]["errorMessage"]) == ("ValidationException", text)
    assert ep.events[-1]["responseElements"] is None and ep.events[-1]["userIdentity"]["type"] == "Unknown"


def test_second_phone_refused_generic_to_caller_specific_in_cloudtrail(ep):
    result = scim.create_user(ep, user(phoneNumbers=[{"type": "work", "value": "1"},
                                                     {"type": "mobile", "value": "2"}]), AT, bearer=TOKEN)
    assert result.status == 400
    assert result.body["detail"] == "Request is unparsable, syntactically incorrect, or violates schema."
    assert ep.events[-1]["errorMessage"] == "List attribute phoneNumbers exceeds allowed limit of 1"


def test_forbidden_character_refused(ep):
    result = scim.create_user(ep, user(displayName='Robert "Bob" Lindqvist'), AT, bearer=TOKEN)
    assert result.status == 400
    assert result.body["detail"] == ("1 validation errors detected: Value at 'displayName' failed to satisfy "
                                     f"constraint: Member must satisfy regular expression pattern: {PATTERN}")


@pytest.mark.parametrize("clash, message", [
    ({"userName": "ADELE@contoso.com"}, "Duplicate UserName"),  # user names are unique whatever their case
    ({"emails": [{"value": "adele@contoso.com", "type": "work", "primary": True}]}, "Duplicate Email"),
    ({"externalId": "ext-adele"}, "Duplicate ExternalId"),
])
def test_uniqueness(ep, clash, message):
    created(ep, user())
    result = scim.create_user(ep, user("bob", **clash), AT, bearer=TOKEN)
    assert result.status == 409
    assert result.body["detail"] == "Refused to create a new, duplicate resource"
    assert result.body["scimType"] == "uniqueness"
    assert (ep.events[-1]["errorCode"], ep.events[-1]["errorMessage"]) == ("ConflictException", message)


def test_list_users_filter(ep):
    uid = created(ep, user())
    found = scim.list_users(ep, 'userName eq "adele@contoso.com"', AT, bearer=TOKEN)
    assert found.status == 200 and found.body["totalResults"] == 1 and found.body["Resources"][0]["id"] == uid
    assert scim.list_users(ep, 'externalId eq "ext-adele"', AT, bearer=TOKEN).body["totalResults"] == 1
    assert scim.list_users(ep, 'userName eq "nobody"', AT, bearer=TOKEN).body["Resources"] == []
    bad = scim.list_users(ep, 'displayName co "A"', AT, bearer=TOKEN)
    assert bad.status == 400 and bad.violation.message == "Invalid Filter format"


def test_patch_user_disables_and_renames(ep):
    uid = created(ep, user())
    result = scim.patch_user(ep, uid, patch({"op": "Replace", "path": "active", "value": "False"},
                                            {"op": "Replace", "path": "displayName", "value": "Adele V."}),
                             AT, bearer=TOKEN)
    assert result.status == 204 and result.body is None
    record = ep.store.user(uid)
    assert record["UserStatus"] == "DISABLED" and record["DisplayName"] == "Adele V."
    assert ep.events[-1]["eventName"] == "PatchUser" and ep.events[-1]["requestParameters"]["id"] == uid
    assert ep.events[-1]["requestParameters"]["httpBody"]["Operations"][0]["path"] == "active"


def test_patch_adding_a_second_phone_is_refused(ep):
    uid = created(ep, user(phoneNumbers=[{"type": "work", "value": "+31 20 555 0100"}]))
    result = scim.patch_user(ep, uid, patch({"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value',
                                             "value": "+31 6 5550 0101"}), AT, bearer=TOKEN)
    assert result.status == 400
    assert ep.events[-1]["errorMessage"] == "List attribute phoneNumbers exceeds allowed limit of 1"
    assert len(ep.store.user(uid)["PhoneNumbers"]) == 1


def test_patch_into_a_taken_user_name(ep):
    created(ep, user())
    bob = created(ep, user("bob"))
    result = scim.patch_user(ep, bob, patch({"op": "Replace", "path": "userName", "value": "adele@contoso.com"}),
                             AT, bearer=TOKEN)
    assert result.status == 409 and ep.events[-1]["errorMessage"] == "Duplicate UserName"


def test_patch_unknown_user_is_404(ep):
    result = scim.patch_user(ep, "nope", patch({"op": "Replace", "path": "displayName", "value": "x"}), AT,
                             bearer=TOKEN)
    assert result.status == 404 and ep.events[-1]["errorCode"] == "ResourceNotFoundException"


def test_put_user(ep):
    uid = created(ep, user())
    result = scim.replace_user(ep, uid, user(displayName="Adele Vance-Smit", title="CFO"), AT, bearer=TOKEN)
    assert result.status == 200 and result.body["displayName"] == "Adele Vance-Smit" and result.body["title"] == "CFO"
    assert ep.events[-1]["eventName"] == "PutUser"
    assert scim.replace_user(ep, uid, user(emails=[]), AT, bearer=TOKEN).status == 200
    refused = scim.replace_user(ep, uid, user(name={"givenName": "Adele"}), AT, bearer=TOKEN)
    assert refused.status == 400 and "name.familyName" in refused.body["detail"]


def test_delete_user(ep):
    uid = created(ep, user())
    assert scim.delete_user(ep, uid, AT, bearer=TOKEN).status == 204
    assert ep.events[-1]["eventName"] == "DeleteUser"
    assert scim.get_user(ep, uid, AT, bearer=TOKEN).status == 404
    read = ep.events[-1]  # reads are logged too, as AWS logs them: readOnly, no body, the refusal's code
    assert (read["eventName"], read["readOnly"], read["requestParameters"]) == \
        ("GetUser", True, {"tenantId": ep.tenant_id, "id": uid})
    assert read["errorCode"] and read["responseElements"] is None


# --------------------------------------------------------------------------------------------- groups


def test_groups_and_members(ep):
    uid = created(ep, user())
    result = scim.create_group(ep, {"schemas": [rules.GROUP_SCHEMA], "displayName": "AWS-Admins",
                                    "externalId": "g-1"}, AT, bearer=TOKEN)
    assert result.status == 201 and "members" not in result.body  # AWS's GET /Groups leaves members out
    gid = result.resource_id
    added = scim.patch_group(ep, gid, patch({"op": "Add", "path": "members", "value": [{"value": uid}]}), AT,
                             bearer=TOKEN)
    assert added.status == 204 and ep.store.members(gid) == [uid]
    removed = scim.patch_group(ep, gid, patch({"op": "Remove", "path": f'members[value eq "{uid}"]'}), AT,
                               bearer=TOKEN)
    assert removed.status == 204 and ep.store.members(gid) == []
    renamed = scim.patch_group(ep, gid, patch({"op": "Replace", "path": "displayName", "value": "AWS-Admins-2"}), AT,
                               bearer=TOKEN)
    assert renamed.status == 204 and ep.store.group(gid)["DisplayName"] == "AWS-Admins-2"
    assert [e["eventName"] for e in ep.events[-4:]] == ["CreateGroup", "PatchGroup", "PatchGroup", "PatchGroup"]


def test_duplicate_group_name(ep):
    assert scim.create_group(ep, {"displayName": "AWS-Admins"}, AT, bearer=TOKEN).status == 201
    result = scim.create_group(ep, {"displayName": "AWS-Admins"}, AT, bearer=TOKEN)
    assert result.status == 409 and result.body["detail"] == "Refused to create a new, duplicate resource"
    assert (ep.events[-1]["eventName"], ep.events[-1]["errorCode"], ep.events[-1]["errorMessage"]) == \
        ("CreateGroup", "ConflictException", "Duplicate GroupDisplayName")


def test_duplicate_group_external_id(ep):
    assert scim.create_group(ep, {"displayName": "A", "externalId": "g-1"}, AT, bearer=TOKEN).status == 201
    result = scim.create_group(ep, {"displayName": "B", "externalId": "g-1"}, AT, bearer=TOKEN)
    assert result.status == 409 and ep.events[-1]["errorMessage"] == "Duplicate ExternalId"


def test_a_group_cannot_be_a_member(ep):
    outer = scim.create_group(ep, {"displayName": "Outer"}, AT, bearer=TOKEN).resource_id
    inner = scim.create_group(ep, {"displayName": "Inner"}, AT, bearer=TOKEN).resource_id
    result = scim.patch_group(ep, outer, patch({"op": "Add", "path": "members", "value": [{"value": inner}]}), AT,
                              bearer=TOKEN)
    assert result.status == 400
    assert result.body["detail"] == "IAM Identity Center doesn't support nested groups: a group member must be a user"
    assert ep.store.members(outer) == []


def test_unknown_member_and_missing_path(ep):
    gid = scim.create_group(ep, {"displayName": "G"}, AT, bearer=TOKEN).resource_id
    unknown = scim.patch_group(ep, gid, patch({"op": "Add", "path": "members", "value": [{"value": "ghost"}]}), AT,
                               bearer=TOKEN)
    assert unknown.status == 400 and unknown.body["detail"] == "Member does not exist"
    missing = scim.patch_group(ep, gid, patch({"op": "Remove", "value": [{"value": "x"}]}), AT, bearer=TOKEN)
    assert missing.status == 400
    assert (ep.events[-1]["errorCode"], ep.events[-1]["errorMessage"]) == ("ValidationException",
                                                                           "Missing path in PATCH request")


def test_list_and_delete_groups(ep):
    gid = scim.create_group(ep, {"displayName": "AWS-Admins", "externalId": "g-1"}, AT, bearer=TOKEN).resource_id
    assert scim.list_groups(ep, 'displayName eq "AWS-Admins"', AT, bearer=TOKEN).body["Resources"][0]["id"] == gid
    assert scim.delete_group(ep, gid, AT, bearer=TOKEN).status == 204
    assert scim.get_group(ep, gid, AT, bearer=TOKEN).status == 404


def test_ids_are_the_same_each_run(ep):
    first = scim.stable_ids("seed")
    again = scim.stable_ids("seed")
    assert [next(first) for _ in range(3)] == [next(again) for _ in range(3)]
    assert uuid.UUID(next(scim.stable_ids("x"))).version == 5
