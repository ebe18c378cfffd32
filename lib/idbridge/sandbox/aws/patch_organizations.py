"""Patches to moto 5.2.5's Organizations. Installed once by patches.apply_patches().

Other Organizations gaps are avoided by the seeder rather than patched: moto pages list_accounts on
JoinedTimestamp (so every seeded account gets a distinct one) and creates an IAM role per account (skipped).
"""

from __future__ import annotations

from moto.organizations.models import FakeDelegatedAdministrator

IDENTITY_CENTER = "sso.amazonaws.com"


def install() -> list[str]:
    # Gap: moto refuses sso.amazonaws.com in register / list_delegated_administrators ("unrecognized service
    # principal"), though Identity Center is the service most often delegated — and the one an audit asks about.
    if IDENTITY_CENTER not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
        FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(IDENTITY_CENTER)
    # Gap: moto describes a delegated administrator without State, which ListDelegatedAdministrators documents
    # (Status's successor): served from Status (ACTIVE, SUSPENDED, PENDING_CLOSURE) when moto's account lacks it.
    original = getattr(FakeDelegatedAdministrator.describe, "__wrapped__", FakeDelegatedAdministrator.describe)

    def describe(self):
        admin = original(self)
        admin.setdefault("State", admin.get("Status"))
        return admin

    describe.__wrapped__ = original  # type: ignore[attr-defined]
    FakeDelegatedAdministrator.describe = describe  # type: ignore[method-assign]
    return ["FakeDelegatedAdministrator.SUPPORTED_SERVICES", "FakeDelegatedAdministrator.describe"]
