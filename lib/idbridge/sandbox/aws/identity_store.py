"""The identity-store facade: what the emulated SCIM provisioning (and the seeder) call to change Identity
Center's users and groups, written straight into moto's identitystore backend (~70x faster than HTTP).

Callers that may run while the server serves requests hold `world.lock` (the server's middleware does too).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from moto.identitystore.models import IdentityStoreData

from idbridge.sandbox.aws.naming import epoch
from idbridge.sandbox.aws.store_records import (SCIM, Conflict, IdentityStoreError, Invalid, Json, NotFound,
                                                StoreIndex, as_python, external_ids, get_group, get_user,
                                                group_json, insert_group, insert_membership, insert_user, prune,
                                                remove_group, remove_membership, remove_user, replace_group,
                                                replace_user, store_data, user_fields, user_json)

__all__ = ["IdentityStore", "IdentityStoreError", "Conflict", "Invalid", "NotFound", "SCIM"]


class IdentityStore:
    """What the emulated SCIM provisioning (and the seeder) call to change Identity Center's users and groups.

    Refusals are raised as `Conflict` (duplicate UserName / ExternalId / GroupDisplayName), `Invalid` (a required
    attribute missing, more than one email / phone / address) and `NotFound`, each with AWS's message.
    Emails / phone_numbers / addresses are lists of dicts with AWS keys (Value, Type, Primary, StreetAddress,
    Locality, Region, PostalCode, Country, Formatted) or SCIM's lower-camel keys.
    """

    def __init__(self, account_id: str, region: str, identity_store_id: str, scim_issuer: str,
                 default_time: datetime):
        self.account_id = account_id
        self.region = region
        self.identity_store_id = identity_store_id
        self.scim_issuer = scim_issuer  # ExternalIds[].Issuer of SCIM-provisioned objects
        self.default_time = default_time  # used when a write gives no `at`
        self._data = store_data(account_id, region, identity_store_id, create=True)

    @property
    def data(self) -> IdentityStoreData:
        return self._data

    @staticmethod
    @contextlib.contextmanager
    def bulk() -> Iterator[None]:
        """Wrap many writes (a seeding cycle): the cyclic GC is paused meanwhile. With 100k users it would
        otherwise rescan the growing store again and again — about half the time spent."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()

    def _at(self, at: datetime | None) -> float:
        return epoch(at or self.default_time)

    def _issuer(self, external_id: str | None, issuer: str | None) -> str | None:
        return issuer or (self.scim_issuer if external_id else None)

    # -- users

    def create_user(self, *, user_name: str, display_name: str, given_name: str, family_name: str,
                    emails: list[dict] | None, phone_numbers: list[dict] | None, addresses: list[dict] | None,
                    title: str | None = None, preferred_language: str | None = None, locale: str | None = None,
                    timezone: str | None = None, external_id: str | None, external_id_issuer: str | None,
                    active: bool = True, created_by: str = SCIM, at: datetime) -> str:
        fields = user_fields(user_name=user_name, display_name=display_name, emails=emails,
                             phone_numbers=phone_numbers, addresses=addresses, title=title,
                             preferred_language=preferred_language, locale=locale, timezone=timezone, active=active)
        fields["Name"] = prune({"GivenName": given_name, "FamilyName": family_name,
                                 "Formatted": f"{given_name or ''} {family_name or ''}".strip() or None})
        fields["ExternalIds"] = external_ids(external_id, self._issuer(external_id, external_id_issuer))
        return insert_user(self._data, fields, created_by=created_by, at=self._at(at))

    def update_user(self, user_id: str, *, at: datetime, updated_by: str = SCIM, **fields: Any) -> None:
        """Same keywords as create_user; a keyword left out or given as None leaves the attribute as it is."""
        changes = user_fields(**fields)
        record = get_user(self._data, user_id)
        given, family = fields.get("given_name"), fields.get("family_name")
        if given is not None or family is not None:
            name = dict(record.get("Name") or {})
            name.update(prune({"GivenName": given, "FamilyName": family}))
            name["Formatted"] = f"{name.get('GivenName', '')} {name.get('FamilyName', '')}".strip()
            changes["Name"] = name
        if fields.get("external_id") is not None:
            changes["ExternalIds"] = external_ids(
                fields["external_id"], self._issuer(fields["external_id"], fields.get("external_id_issuer")))
        replace_user(self._data, user_id, changes, updated_by=updated_by, at=self._at(at))

    def delete_user(self, user_id: str) -> None:
        remove_user(self._data, user_id)

    def find_user(self, *, user_name: str | None = None, external_id: str | None = None,
                  email: str | None = None, external_id_issuer: str | None = None) -> str | None:
        idx: StoreIndex = self._data.idx  # type: ignore[attr-defined]
        if user_name is not None:
            return idx.user_by_name.get(user_name.lower())
        if external_id is not None:
            return idx.user_by_external.get((external_id_issuer or self.scim_issuer, external_id))
        if email is not None:
            ids = idx.users_by_email.get(email.lower())
            return ids[0] if ids else None
        return None

    def user(self, user_id: str) -> Json:
        return as_python(user_json(self._data, get_user(self._data, user_id)))

    def users(self) -> list[Json]:
        """Every user as boto3's describe_user would return it (without ResponseMetadata)."""
        return [as_python(user_json(self._data, u)) for u in self._data.users.values()]

    # -- groups

    def create_group(self, *, display_name: str, description: str | None = None, external_id: str | None = None,
                     external_id_issuer: str | None = None, created_by: str = SCIM, at: datetime) -> str:
        fields = {"DisplayName": display_name, "Description": description,
                  "ExternalIds": external_ids(external_id, self._issuer(external_id, external_id_issuer))}
        return insert_group(self._data, fields, created_by=created_by, at=self._at(at))

    def update_group(self, group_id: str, *, at: datetime, display_name: str | None = None,
                     description: str | None = None, updated_by: str = SCIM) -> None:
        changes = prune({"DisplayName": display_name, "Description": description})
        replace_group(self._data, group_id, changes, updated_by=updated_by, at=self._at(at))

    def delete_group(self, group_id: str) -> None:
        remove_group(self._data, group_id)

    def find_group(self, *, display_name: str | None = None, external_id: str | None = None,
                   external_id_issuer: str | None = None) -> str | None:
        idx: StoreIndex = self._data.idx  # type: ignore[attr-defined]
        if display_name is not None:
            return idx.group_by_name.get(display_name)
        if external_id is not None:
            return idx.group_by_external.get((external_id_issuer or self.scim_issuer, external_id))
        return None

    def group(self, group_id: str) -> Json:
        return as_python(group_json(self._data, get_group(self._data, group_id)))

    def groups(self) -> list[Json]:
        return [as_python(group_json(self._data, g)) for g in self._data.groups.values()]

    # -- memberships

    def add_member(self, group_id: str, user_id: str, *, at: datetime | None = None,
                   created_by: str = SCIM) -> str:
        """Idempotent: adding an existing member returns its membership id."""
        mid, _ = insert_membership(self._data, group_id, user_id, created_by=created_by, at=self._at(at))
        return mid

    def remove_member(self, group_id: str, user_id: str) -> None:
        """Idempotent: removing a non-member does nothing."""
        remove_membership(self._data, group_id, user_id)

    def members(self, group_id: str) -> list[str]:
        get_group(self._data, group_id)
        return list(self._data.idx.members.get(group_id, {}))  # type: ignore[attr-defined]

    def groups_of(self, user_id: str) -> list[str]:
        return list(self._data.idx.member_of.get(user_id, {}))  # type: ignore[attr-defined]
