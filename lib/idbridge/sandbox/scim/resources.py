"""Identity Center records (DescribeUser / DescribeGroup shape, as the identity store facade keeps them) to SCIM
resources and back. The SCIM endpoint answers with the first and writes with the second.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from idbridge.sandbox.scim.rules import GROUP_SCHEMA, USER_SCHEMA

_SIMPLE = (("userName", "UserName"), ("displayName", "DisplayName"), ("title", "Title"),
           ("preferredLanguage", "PreferredLanguage"), ("locale", "Locale"), ("timezone", "Timezone"),
           ("nickName", "NickName"), ("profileUrl", "ProfileUrl"), ("userType", "UserType"))
_LISTS = (("emails", "Emails"), ("phoneNumbers", "PhoneNumbers"), ("addresses", "Addresses"))

# SCIM attribute -> facade keyword (create_user / update_user). The enterprise extension and name.formatted
# have no place in the identity store's API model (the facade derives Formatted itself), so they are not written.
FACADE_KEYWORDS = {"userName": "user_name", "displayName": "display_name", "title": "title",
                   "preferredLanguage": "preferred_language", "locale": "locale", "timezone": "timezone",
                   "emails": "emails", "phoneNumbers": "phone_numbers", "addresses": "addresses",
                   "externalId": "external_id", "active": "active"}


def _time(value: Any) -> str | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        return value
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lower_keys(item: dict) -> dict:
    return {k[:1].lower() + k[1:]: v for k, v in item.items()}


def user_resource(record: dict) -> dict:
    """A DescribeUser-shaped record as AWS's SCIM GET /Users/{id} shows it."""
    out: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": record["UserId"]}
    external = record.get("ExternalIds") or []
    if external:
        out["externalId"] = external[0].get("Id")
    created = _time(record.get("CreatedAt"))
    updated = created if record.get("UpdatedAt") == record.get("CreatedAt") else _time(record.get("UpdatedAt"))
    out["meta"] = {"resourceType": "User", "created": created, "lastModified": updated}
    for scim, aws in _SIMPLE:
        if record.get(aws) is not None:
            out[scim] = record[aws]
    name = record.get("Name") or {}
    if name:
        out["name"] = {k: v for k, v in (("familyName", name.get("FamilyName")),
                                         ("givenName", name.get("GivenName")),
                                         ("formatted", name.get("Formatted"))) if v is not None}
    out["active"] = record.get("UserStatus", "ENABLED") != "DISABLED"
    for scim, aws in _LISTS:
        if record.get(aws):
            out[scim] = [_lower_keys(item) for item in record[aws]]
    return out


def group_resource(record: dict) -> dict:
    """AWS's GET /Groups/{id} leaves members out (they are read through the identitystore API)."""
    out: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": record["GroupId"]}
    external = record.get("ExternalIds") or []
    if external:
        out["externalId"] = external[0].get("Id")
    out["meta"] = {"resourceType": "Group", "created": _time(record.get("CreatedAt")),
                   "lastModified": _time(record.get("UpdatedAt"))}
    out["displayName"] = record.get("DisplayName")
    return out


def facade_user_fields(resource: dict) -> dict:
    """SCIM user resource -> keyword arguments of the facade's create_user / update_user."""
    name = resource.get("name") or {}
    fields: dict[str, Any] = {"given_name": name.get("givenName"), "family_name": name.get("familyName")}
    for scim, keyword in FACADE_KEYWORDS.items():
        fields[keyword] = resource.get(scim)
    for key in ("emails", "phone_numbers", "addresses"):
        if fields[key] is not None:
            fields[key] = [{k: v for k, v in item.items() if k != "display"} for item in fields[key]]
    if fields["active"] is None:
        fields["active"] = True
    fields["external_id_issuer"] = None  # the store stamps its own SCIM issuer
    return fields


def changed_user_fields(before: dict, after: dict) -> dict:
    """Facade keywords whose value differs between two SCIM user resources (None-valued ones left out: the
    facade cannot remove attributes, nor does Entra ask it to)."""
    old, new = facade_user_fields(before), facade_user_fields(after)
    return {k: v for k, v in new.items() if v is not None and v != old.get(k)}
