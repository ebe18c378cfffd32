"""Identity-store records kept in moto's identitystore backend, and the rules AWS applies to them.

Shared by the IdentityStore facade (identity_store.py) and the patched identitystore API (patch_identitystore.py),
so a user created either way reads back the same way through boto3.

Records are dicts already in the shape of botocore's DescribeUser / DescribeGroup output (timestamps as epoch
seconds, absent attributes left out; IdentityStoreId and ARNs are added on output), so serving a request is a dict
copy. moto's own User / Group NamedTuples lack ExternalIds, UserStatus, Created*/Updated* — see patches.py.
Memberships are (group id, user id, created at, created by) tuples.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.identitystore.models import IdentityStoreData, identitystore_backends

from idbridge.sandbox.aws.naming import from_epoch, store_object_arn, uuid_like

Json = dict[str, Any]

# CreatedBy / UpdatedBy of objects the SCIM endpoint wrote. AWS documents CreatedBy only as "the identifier of the
# user or system that created the user" (botocore's identitystore model, API reference) and publishes no value for
# SCIM-made objects: its console shows "Created by: SCIM", and no public issue, capture or code shows what the API
# returns (tests/contract/fixtures/aws/identitystore_list_users.json says where we looked). So the sandbox writes an
# opaque system identifier, on purpose neither "SCIM" nor an ARN, and idbridge must not depend on it: it decides who
# made a principal from CloudTrail and externalIds (model/origin.py). Hand-made and API-made objects carry the
# caller's role session ARN.
SCIM = "d6ebc75c-625b-5463-8ab4-ac24e2077b9d"

LIST_LIMIT_ATTRIBUTES = ("emails", "phone_numbers", "addresses")  # AWS accepts one value of each

# --------------------------------------------------------------------------------------------- errors


class IdentityStoreError(Exception):
    """Base of the store's refusals; `code` is the AWS error type the API answers with."""

    code = "ValidationException"

    def __init__(self, message: str, reason: str | None = None, resource_type: str | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.resource_type = resource_type


class Conflict(IdentityStoreError):
    code = "ConflictException"


class NotFound(IdentityStoreError):
    code = "ResourceNotFoundException"


class Invalid(IdentityStoreError):
    code = "ValidationException"


# --------------------------------------------------------------------------------------------- indexes


class StoreIndex:
    """Lookups moto does by scanning every object; kept beside moto's dicts so 100k users stay O(1)."""

    def __init__(self, store_id: str):
        self.store_id = store_id
        self.prefix = store_id.removeprefix("d-")[:10]  # object ids of external-IdP stores carry it
        self.user_by_name: dict[str, str] = {}           # lower(UserName) -> id
        self.user_by_external: dict[tuple[str, str], str] = {}
        self.users_by_email: dict[str, list[str]] = {}    # lower(email) -> ids
        self.group_by_name: dict[str, str] = {}          # DisplayName -> id
        self.group_by_external: dict[tuple[str, str], str] = {}
        self.members: dict[str, dict[str, str]] = {}     # group id -> user id -> membership id
        self.member_of: dict[str, dict[str, str]] = {}   # user id -> group id -> membership id
        self.deleted: dict[str, int] = {}                # id key -> times deleted (a recreation gets a new id)


def store_data(account_id: str, region: str, store_id: str, create: bool = False) -> IdentityStoreData:
    """moto's container for one identity store, with our index attached. Unknown stores are NotFound unless
    `create` (seeding): moto would silently create any store id it is asked about."""
    store_id = store_id.rsplit("/", 1)[-1]  # the API also accepts the identity store ARN
    backend = identitystore_backends[account_id][region]
    data = backend.identity_stores.get(store_id)
    if data is None or not hasattr(data, "idx"):
        if not create:
            raise NotFound(f"Identity store {store_id} not found.", resource_type="IDENTITY_STORE")
        data = IdentityStoreData()
        data.idx = StoreIndex(store_id)  # type: ignore[attr-defined]
        backend.identity_stores[store_id] = data
    return data


def _new_id(idx: StoreIndex, kind: str, key: str) -> str:
    """The same name gets the same id on every seeding; created again after a delete, a new one."""
    again = idx.deleted.get(f"{kind}:{key}", 0)
    # External-IdP stores prefix object ids with the store's 10 hex digits (ResourceId: ([0-9a-f]{10}-|)<uuid>).
    return f"{idx.prefix}-{uuid_like(idx.store_id, kind, key, str(again))}"


def _forget_id(idx: StoreIndex, kind: str, key: str) -> None:
    idx.deleted[f"{kind}:{key}"] = idx.deleted.get(f"{kind}:{key}", 0) + 1


def external_ids(external_id: str | None, issuer: str | None) -> list[Json] | None:
    return [{"Issuer": issuer, "Id": external_id}] if external_id else None


def _norm_list(values: list[dict] | None) -> list[Json] | None:
    """Accept AWS keys (Value, Type, Primary, StreetAddress...) or SCIM's (value, type, streetAddress...)."""
    if values is None:
        return None
    return [{k[:1].upper() + k[1:]: v for k, v in item.items() if v is not None} for item in values]


def prune(record: Json) -> Json:
    return {k: v for k, v in record.items() if v is not None}


# --------------------------------------------------------------------------------------------- users


_USER_FIELDS = {  # facade keyword -> DescribeUser key (None: handled specially)
    "user_name": "UserName", "display_name": "DisplayName", "title": "Title",
    "preferred_language": "PreferredLanguage", "locale": "Locale", "timezone": "Timezone",
    "nick_name": "NickName", "profile_url": "ProfileUrl", "user_type": "UserType",
    "emails": "Emails", "phone_numbers": "PhoneNumbers", "addresses": "Addresses",
    "given_name": None, "family_name": None, "formatted_name": None,
    "external_id": None, "external_id_issuer": None, "active": None,
}


def _check_user(record: Json) -> None:
    # AWS's required attributes, with the wording its SCIM endpoint and API use.
    name = record.get("Name") or {}
    for path, value in (("userName", record.get("UserName")), ("displayName", record.get("DisplayName")),
                        ("name.givenName", name.get("GivenName")), ("name.familyName", name.get("FamilyName"))):
        if not value:
            raise Invalid(f"Value at '{path}' failed to satisfy constraint: Member must have length greater "
                          "than or equal to 1")
    for key in ("Emails", "PhoneNumbers", "Addresses"):
        if len(record.get(key) or []) > 1:
            raise Invalid(f"List attribute {key[:1].lower() + key[1:]} exceeds allowed limit of 1")


def _index_user(idx: StoreIndex, record: Json, add: bool) -> None:
    uid = record["UserId"]
    name = record["UserName"].lower()
    ext = [(e["Issuer"], e["Id"]) for e in record.get("ExternalIds") or []]
    emails = [e["Value"].lower() for e in record.get("Emails") or [] if e.get("Value")]
    if add:
        idx.user_by_name[name] = uid
        for key in ext:
            idx.user_by_external[key] = uid
        for email in emails:
            idx.users_by_email.setdefault(email, []).append(uid)
        return
    if idx.user_by_name.get(name) == uid:
        del idx.user_by_name[name]
    for key in ext:
        if idx.user_by_external.get(key) == uid:
            del idx.user_by_external[key]
    for email in emails:
        ids = idx.users_by_email.get(email, [])
        if uid in ids:
            ids.remove(uid)
        if not ids:
            idx.users_by_email.pop(email, None)


def _check_unique_user(idx: StoreIndex, record: Json) -> None:
    other = idx.user_by_name.get(record["UserName"].lower())
    if other and other != record["UserId"]:
        raise Conflict("Duplicate UserName", reason="UNIQUENESS_CONSTRAINT_VIOLATION")
    for ext in record.get("ExternalIds") or []:
        other = idx.user_by_external.get((ext["Issuer"], ext["Id"]))
        if other and other != record["UserId"]:
            raise Conflict("Duplicate ExternalId", reason="UNIQUENESS_CONSTRAINT_VIOLATION")


def insert_user(data: IdentityStoreData, fields: Json, *, created_by: str, at: float) -> str:
    """Create a user from DescribeUser-shaped `fields` (no ids / timestamps). Returns the new UserId."""
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    record = prune(dict(fields))
    record.setdefault("UserStatus", "ENABLED")
    _check_user(record)
    record["UserId"] = "pending"
    _check_unique_user(idx, record)
    uid = _new_id(idx, "user", record["UserName"].lower())
    record.update(UserId=uid, Revision="1", CreatedAt=at, CreatedBy=created_by, UpdatedAt=at, UpdatedBy=created_by)
    data.users[uid] = record
    _index_user(idx, record, add=True)
    return uid


def replace_user(data: IdentityStoreData, user_id: str, changes: Json, *, updated_by: str, at: float) -> None:
    """Apply DescribeUser-shaped changes; a value of None removes that attribute."""
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    old = get_user(data, user_id)
    new = dict(old)
    for key, value in changes.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    _check_user(new)
    _check_unique_user(idx, new)
    _index_user(idx, old, add=False)
    new.update(UpdatedAt=at, UpdatedBy=updated_by, Revision=str(int(old.get("Revision", "1")) + 1))
    data.users[user_id] = new
    _index_user(idx, new, add=True)


def get_user(data: IdentityStoreData, user_id: str) -> Json:
    record = data.users.get(user_id)
    if record is None:
        raise NotFound("USER not found.", resource_type="USER")
    return record


def remove_user(data: IdentityStoreData, user_id: str) -> None:
    """AWS removes a deleted user's group memberships with it."""
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    record = get_user(data, user_id)
    for group_id in list(idx.member_of.get(user_id, {})):
        remove_membership(data, group_id, user_id)
    _index_user(idx, record, add=False)
    _forget_id(idx, "user", record["UserName"].lower())
    del data.users[user_id]


def user_fields(**kwargs: Any) -> Json:
    """Facade keywords (create_user / update_user) -> DescribeUser-shaped changes. None = not given."""
    unknown = set(kwargs) - set(_USER_FIELDS)
    if unknown:
        raise TypeError(f"unknown user field(s): {sorted(unknown)}")
    out: Json = {}
    for key, value in kwargs.items():
        target = _USER_FIELDS[key]
        if value is None or target is None:
            continue
        out[target] = _norm_list(value) if key in LIST_LIMIT_ATTRIBUTES else value
    if "active" in kwargs and kwargs["active"] is not None:
        out["UserStatus"] = "ENABLED" if kwargs["active"] else "DISABLED"
    return out


# --------------------------------------------------------------------------------------------- groups


def _index_group(idx: StoreIndex, record: Json, add: bool) -> None:
    gid = record["GroupId"]
    keys = [(e["Issuer"], e["Id"]) for e in record.get("ExternalIds") or []]
    if add:
        idx.group_by_name[record["DisplayName"]] = gid
        for key in keys:
            idx.group_by_external[key] = gid
        return
    if idx.group_by_name.get(record["DisplayName"]) == gid:
        del idx.group_by_name[record["DisplayName"]]
    for key in keys:
        if idx.group_by_external.get(key) == gid:
            del idx.group_by_external[key]


def _check_group(idx: StoreIndex, record: Json) -> None:
    if not record.get("DisplayName"):
        raise Invalid("Value at 'displayName' failed to satisfy constraint: Member must have length greater "
                      "than or equal to 1")
    other = idx.group_by_name.get(record["DisplayName"])
    if other and other != record.get("GroupId"):
        raise Conflict("Duplicate GroupDisplayName", reason="UNIQUENESS_CONSTRAINT_VIOLATION")
    for ext in record.get("ExternalIds") or []:
        other = idx.group_by_external.get((ext["Issuer"], ext["Id"]))
        if other and other != record.get("GroupId"):
            raise Conflict("Duplicate ExternalId", reason="UNIQUENESS_CONSTRAINT_VIOLATION")


def insert_group(data: IdentityStoreData, fields: Json, *, created_by: str, at: float) -> str:
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    record = prune(dict(fields))
    _check_group(idx, record)
    gid = _new_id(idx, "group", record["DisplayName"])
    record.update(GroupId=gid, Revision="1", CreatedAt=at, CreatedBy=created_by, UpdatedAt=at, UpdatedBy=created_by)
    data.groups[gid] = record
    _index_group(idx, record, add=True)
    return gid


def get_group(data: IdentityStoreData, group_id: str) -> Json:
    record = data.groups.get(group_id)
    if record is None:
        raise NotFound("GROUP not found.", resource_type="GROUP")
    return record


def replace_group(data: IdentityStoreData, group_id: str, changes: Json, *, updated_by: str, at: float) -> None:
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    old = get_group(data, group_id)
    new = {**old, **changes}
    new = {k: v for k, v in new.items() if v is not None}
    _check_group(idx, new)
    _index_group(idx, old, add=False)
    new.update(UpdatedAt=at, UpdatedBy=updated_by, Revision=str(int(old.get("Revision", "1")) + 1))
    data.groups[group_id] = new
    _index_group(idx, new, add=True)


def remove_group(data: IdentityStoreData, group_id: str) -> None:
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    record = get_group(data, group_id)
    for user_id in list(idx.members.get(group_id, {})):
        remove_membership(data, group_id, user_id)
    idx.members.pop(group_id, None)
    _index_group(idx, record, add=False)
    _forget_id(idx, "group", record["DisplayName"])
    del data.groups[group_id]


# --------------------------------------------------------------------------------------------- memberships


def insert_membership(data: IdentityStoreData, group_id: str, user_id: str, *, created_by: str,
                      at: float) -> tuple[str, bool]:
    """Returns (membership id, created). An existing membership is returned as is (created False).
    Memberships are stored as (group id, user id, created at, created by) tuples: 300k of them as dicts would
    cost ~300 MB."""
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    if user_id not in data.users:
        raise NotFound("Member does not exist", resource_type="USER")
    if group_id not in data.groups:
        raise NotFound("Group does not exist", resource_type="GROUP")
    members = idx.members.setdefault(group_id, {})
    existing = members.get(user_id)
    if existing:
        return existing, False
    mid = _new_id(idx, "membership", f"{group_id}/{user_id}")
    data.group_memberships[mid] = (group_id, user_id, at, created_by)
    members[user_id] = mid
    idx.member_of.setdefault(user_id, {})[group_id] = mid
    return mid, True


def remove_membership(data: IdentityStoreData, group_id: str, user_id: str) -> bool:
    idx: StoreIndex = data.idx  # type: ignore[attr-defined]
    mid = idx.members.get(group_id, {}).pop(user_id, None)
    if mid is None:
        return False
    idx.member_of.get(user_id, {}).pop(group_id, None)
    del data.group_memberships[mid]
    _forget_id(idx, "membership", f"{group_id}/{user_id}")
    return True


def get_membership(data: IdentityStoreData, membership_id: str) -> tuple[str, str, float, str]:
    found = data.group_memberships.get(membership_id)
    if found is None:
        raise NotFound("GROUP_MEMBERSHIP not found.", resource_type="GROUP_MEMBERSHIP")
    return found


def membership_ids_of_group(data: IdentityStoreData, group_id: str) -> list[str]:
    return list(data.idx.members.get(group_id, {}).values())  # type: ignore[attr-defined]


def membership_ids_of_user(data: IdentityStoreData, user_id: str) -> list[str]:
    return list(data.idx.member_of.get(user_id, {}).values())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------- output


def user_json(data: IdentityStoreData, record: Json) -> Json:
    """DescribeUser / ListUsers item: the stored record plus what is derived (store id, ARN)."""
    return {"IdentityStoreId": data.idx.store_id, "UserArn": store_object_arn("user", record["UserId"]),  # type: ignore[attr-defined]
            **record}


def group_json(data: IdentityStoreData, record: Json) -> Json:
    return {"IdentityStoreId": data.idx.store_id, "GroupArn": store_object_arn("group", record["GroupId"]),  # type: ignore[attr-defined]
            **record}


def membership_json(data: IdentityStoreData, membership_id: str) -> Json:
    group_id, user_id, at, by = get_membership(data, membership_id)
    return {"IdentityStoreId": data.idx.store_id, "MembershipId": membership_id,  # type: ignore[attr-defined]
            "MembershipArn": store_object_arn("membership", membership_id), "GroupId": group_id,
            "MemberId": {"UserId": user_id}, "CreatedAt": at, "CreatedBy": by, "UpdatedAt": at, "UpdatedBy": by}


def as_python(record: Json) -> Json:
    """A deep copy with CreatedAt / UpdatedAt as datetimes — what boto3 would hand back."""
    out = copy.deepcopy(record)
    for key in ("CreatedAt", "UpdatedAt"):
        if key in out:
            out[key] = from_epoch(out[key])
    return out


