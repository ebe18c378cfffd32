"""The one place moto is patched. `apply_patches()` is idempotent and runs before seeding or serving.

moto 5.2.5 is pinned; every patch names the gap it closes in its module:
- patch_ssoadmin.py: permissions boundaries, per-account provisioning status and requests, account assignments
  (validation, provisioning, indexes, group-inherited rows), instances / Regions, tags, ARN shape, defaults.
- patch_identitystore.py: users / groups / memberships with ExternalIds, UserStatus, Created*/Updated*, O(1)
  lookups, update_user / update_group, ExternalId alternate identifiers, unknown stores refused.
- patch_cloudtrail.py: lookup_events from the sandbox's event store.
- patch_organizations.py: sso.amazonaws.com as a delegated-administrator service; State on delegated administrators.
- patch_securityhub.py: GetFindings applies its string filters (ProductArn, GeneratorId, RecordState, ...).
Each is exercised through boto3 over HTTP in tests/sandbox/test_aws_*.py.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_applied: list[str] = []


def apply_patches() -> list[str]:
    """Install every patch once; returns what was patched (Class.attribute names)."""
    with _lock:
        if not _applied:
            from idbridge.sandbox.aws import (patch_cloudtrail, patch_identitystore, patch_organizations,
                                              patch_securityhub, patch_ssoadmin)
            for module in (patch_ssoadmin, patch_identitystore, patch_cloudtrail, patch_organizations,
                           patch_securityhub):
                _applied.extend(module.install())
        return list(_applied)
