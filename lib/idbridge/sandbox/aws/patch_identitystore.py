"""Patches to moto 5.2.5's identitystore API. Installed once by patches.apply_patches().

Gap common to all of them: moto keeps users and groups as NamedTuples without ExternalIds, UserStatus,
CreatedAt/By, UpdatedAt/By, Revision or ARNs, answers describe_user with ExternalIds null, describe_group with
ExternalIds [], scans every object for each lookup or page, and accepts any identity store id. Every API that
reads or writes users, groups or memberships is therefore served from identity_store.py's records and indexes —
the same ones the IdentityStore facade writes — so API-made and facade-made objects look alike.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

from moto.identitystore import exceptions as moto_errors
from moto.identitystore.responses import IdentityStoreResponse

from idbridge.sandbox.aws import store_records as ids
from idbridge.sandbox.aws.naming import caller_arn
from idbridge.sandbox.aws.paging import page

Json = dict[str, Any]
_USER_INPUT_KEYS = ("UserName", "Name", "DisplayName", "NickName", "ProfileUrl", "Emails", "Addresses",
                    "PhoneNumbers", "UserType", "Title", "PreferredLanguage", "Locale", "Timezone", "Photos",
                    "Website", "Birthdate", "Roles")


def _aws_errors(method):
    """The store raises its own errors; the API answers with moto's identitystore exception shapes."""

    @functools.wraps(method)
    def wrapper(self: IdentityStoreResponse) -> str:
        try:
            return method(self)
        except ids.NotFound as exc:
            raise moto_errors.ResourceNotFoundException(message=exc.message, resource_type=exc.resource_type)
        except ids.Conflict as exc:
            raise moto_errors.ConflictException(message=exc.message, reason=exc.reason)
        except ids.Invalid as exc:
            raise moto_errors.ValidationException(message=exc.message)

    return wrapper


def _data(self: IdentityStoreResponse):
    return ids.store_data(self.current_account, self.region, self._get_param("IdentityStoreId") or "")


def _who(self: IdentityStoreResponse) -> str:
    return caller_arn(self.current_account)


def _path_key(path: str) -> list[str]:
    """'name.givenName' -> ['Name', 'GivenName'] (AttributePath is case-insensitive in practice)."""
    return [part[:1].upper() + part[1:] for part in path.split(".")]


def _apply_operations(record: Json, operations: list[Json]) -> Json:
    changes: Json = {}
    for op in operations:
        keys = _path_key(op["AttributePath"])
        value = op.get("AttributeValue")
        if len(keys) == 1:
            changes[keys[0]] = value
        elif len(keys) == 2:
            inner = dict(changes.get(keys[0]) or record.get(keys[0]) or {})
            if value is None:
                inner.pop(keys[1], None)
            else:
                inner[keys[1]] = value
            changes[keys[0]] = inner or None
        else:
            raise ids.Invalid(f"Invalid attribute path {op['AttributePath']}")
    return changes


# --------------------------------------------------------------------------------------------- users

@_aws_errors
def create_user(self: IdentityStoreResponse) -> str:
    data = _data(self)
    fields = {k: self._get_param(k) for k in _USER_INPUT_KEYS if self._get_param(k) is not None}
    user_id = ids.insert_user(data, fields, created_by=_who(self), at=time.time())
    return json.dumps({"UserId": user_id, "IdentityStoreId": data.idx.store_id})


@_aws_errors
def describe_user(self: IdentityStoreResponse) -> str:
    data = _data(self)
    return json.dumps(ids.user_json(data, ids.get_user(data, self._get_param("UserId"))))


@_aws_errors
def update_user(self: IdentityStoreResponse) -> str:
    # Gap: not implemented in moto.
    data = _data(self)
    user_id = self._get_param("UserId")
    changes = _apply_operations(ids.get_user(data, user_id), self._get_param("Operations") or [])
    if "Active" in changes:  # SCIM-style 'active' path
        active = changes.pop("Active")
        changes["UserStatus"] = "DISABLED" if active is False else "ENABLED"
    ids.replace_user(data, user_id, changes, updated_by=_who(self), at=time.time())
    record = ids.user_json(data, ids.get_user(data, user_id))
    return json.dumps({"IdentityStoreId": data.idx.store_id, "UserId": user_id, "UserArn": record["UserArn"],
                       "Revision": record["Revision"]})


@_aws_errors
def delete_user(self: IdentityStoreResponse) -> str:
    ids.remove_user(_data(self), self._get_param("UserId"))
    return "{}"


def _filter_value(self: IdentityStoreResponse, wanted_path: str) -> str | None:
    for item in self._get_param("Filters") or []:
        if item.get("AttributePath", "").lower() == wanted_path.lower():
            return item.get("AttributeValue")
    return None


@_aws_errors
def list_users(self: IdentityStoreResponse) -> str:
    data = _data(self)
    name = _filter_value(self, "UserName")
    if name is not None:
        uid = data.idx.user_by_name.get(name.lower())
        users = [data.users[uid]] if uid else []
    else:
        users = data.users.values()
    items, token = page(users, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"Users": [ids.user_json(data, u) for u in items], "NextToken": token})


@_aws_errors
def get_user_id(self: IdentityStoreResponse) -> str:
    # Gap: moto matches UserName case-sensitively and has no ExternalId alternate identifier.
    data = _data(self)
    ident = self._get_param("AlternateIdentifier") or {}
    uid = None
    if "ExternalId" in ident:
        uid = data.idx.user_by_external.get((ident["ExternalId"].get("Issuer"), ident["ExternalId"].get("Id")))
    elif "UniqueAttribute" in ident:
        path = (ident["UniqueAttribute"].get("AttributePath") or "").lower()
        value = ident["UniqueAttribute"].get("AttributeValue")
        if not value:
            raise ids.Invalid("attribute value cannot be empty or null for attribute path")
        if path == "username":
            uid = data.idx.user_by_name.get(str(value).lower())
        elif path == "emails.value":
            found = data.idx.users_by_email.get(str(value).lower())
            uid = found[0] if found else None
        else:
            raise ids.Invalid(f"The attribute {path} is not a unique attribute")
    if uid is None:
        raise ids.NotFound("USER not found.", resource_type="USER")
    return json.dumps({"UserId": uid, "IdentityStoreId": data.idx.store_id})


# --------------------------------------------------------------------------------------------- groups

@_aws_errors
def create_group(self: IdentityStoreResponse) -> str:
    data = _data(self)
    fields = {"DisplayName": self._get_param("DisplayName"), "Description": self._get_param("Description")}
    group_id = ids.insert_group(data, fields, created_by=_who(self), at=time.time())
    return json.dumps({"GroupId": group_id, "IdentityStoreId": data.idx.store_id})


@_aws_errors
def describe_group(self: IdentityStoreResponse) -> str:
    data = _data(self)
    return json.dumps(ids.group_json(data, ids.get_group(data, self._get_param("GroupId"))))


@_aws_errors
def update_group(self: IdentityStoreResponse) -> str:
    # Gap: not implemented in moto.
    data = _data(self)
    group_id = self._get_param("GroupId")
    changes = _apply_operations(ids.get_group(data, group_id), self._get_param("Operations") or [])
    ids.replace_group(data, group_id, changes, updated_by=_who(self), at=time.time())
    return "{}"


@_aws_errors
def delete_group(self: IdentityStoreResponse) -> str:
    ids.remove_group(_data(self), self._get_param("GroupId"))
    return "{}"


@_aws_errors
def list_groups(self: IdentityStoreResponse) -> str:
    data = _data(self)
    name = _filter_value(self, "DisplayName")
    if name is not None:
        gid = data.idx.group_by_name.get(name)
        groups = [data.groups[gid]] if gid else []
    else:
        groups = data.groups.values()
    items, token = page(groups, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"Groups": [ids.group_json(data, g) for g in items], "NextToken": token})


@_aws_errors
def get_group_id(self: IdentityStoreResponse) -> str:
    # Gap: moto has no ExternalId alternate identifier.
    data = _data(self)
    ident = self._get_param("AlternateIdentifier") or {}
    gid = None
    if "ExternalId" in ident:
        gid = data.idx.group_by_external.get((ident["ExternalId"].get("Issuer"), ident["ExternalId"].get("Id")))
    elif "UniqueAttribute" in ident:
        if (ident["UniqueAttribute"].get("AttributePath") or "").lower() != "displayname":
            raise ids.Invalid("The attribute is not a unique attribute")
        gid = data.idx.group_by_name.get(ident["UniqueAttribute"].get("AttributeValue"))
    if gid is None:
        raise ids.NotFound("GROUP not found.", resource_type="GROUP")
    return json.dumps({"GroupId": gid, "IdentityStoreId": data.idx.store_id})


# --------------------------------------------------------------------------------------------- memberships

def _member(self: IdentityStoreResponse) -> str:
    member = self._get_param("MemberId") or {}
    if "UserId" not in member:
        raise ids.Invalid("MemberId must name a UserId")
    return member["UserId"]


@_aws_errors
def create_group_membership(self: IdentityStoreResponse) -> str:
    # Gap: moto stores duplicate memberships; AWS refuses them.
    data = _data(self)
    mid, created = ids.insert_membership(data, self._get_param("GroupId"), _member(self), created_by=_who(self),
                                         at=time.time())
    if not created:
        raise ids.Conflict("Member is already in the group", reason="UNIQUENESS_CONSTRAINT_VIOLATION")
    return json.dumps({"MembershipId": mid, "IdentityStoreId": data.idx.store_id})


@_aws_errors
def delete_group_membership(self: IdentityStoreResponse) -> str:
    data = _data(self)
    group_id, user_id, _, _ = ids.get_membership(data, self._get_param("MembershipId"))
    ids.remove_membership(data, group_id, user_id)
    return "{}"


@_aws_errors
def describe_group_membership(self: IdentityStoreResponse) -> str:
    data = _data(self)
    return json.dumps(ids.membership_json(data, self._get_param("MembershipId")))


@_aws_errors
def get_group_membership_id(self: IdentityStoreResponse) -> str:
    data = _data(self)
    mid = data.idx.members.get(self._get_param("GroupId"), {}).get(_member(self))
    if mid is None:
        raise ids.NotFound("GROUP_MEMBERSHIP not found.", resource_type="GROUP_MEMBERSHIP")
    return json.dumps({"MembershipId": mid, "IdentityStoreId": data.idx.store_id})


@_aws_errors
def list_group_memberships(self: IdentityStoreResponse) -> str:
    data = _data(self)
    group_id = self._get_param("GroupId")
    ids.get_group(data, group_id)
    rows = ids.membership_ids_of_group(data, group_id)
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"GroupMemberships": [ids.membership_json(data, m) for m in items], "NextToken": token})


@_aws_errors
def list_group_memberships_for_member(self: IdentityStoreResponse) -> str:
    data = _data(self)
    rows = ids.membership_ids_of_user(data, _member(self))
    items, token = page(rows, self._get_param("MaxResults"), self._get_param("NextToken"))
    return json.dumps({"GroupMemberships": [ids.membership_json(data, m) for m in items], "NextToken": token})


@_aws_errors
def is_member_in_groups(self: IdentityStoreResponse) -> str:
    data = _data(self)
    user_id = _member(self)
    mine = data.idx.member_of.get(user_id, {})
    results = [{"GroupId": g, "MemberId": {"UserId": user_id}, "MembershipExists": g in mine}
               for g in self._get_param("GroupIds") or []]
    return json.dumps({"Results": results})


_RESPONSES = [
    create_user, describe_user, update_user, delete_user, list_users, get_user_id,
    create_group, describe_group, update_group, delete_group, list_groups, get_group_id,
    create_group_membership, delete_group_membership, describe_group_membership, get_group_membership_id,
    list_group_memberships, list_group_memberships_for_member, is_member_in_groups,
]


def install() -> list[str]:
    for func in _RESPONSES:
        setattr(IdentityStoreResponse, func.__name__, func)
    return [f"IdentityStoreResponse.{f.__name__}" for f in _RESPONSES]
