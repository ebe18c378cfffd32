"""ARNs, ids and principals of the emulated AWS side, in the shapes real AWS uses.

Ids are derived from names (not random) so that two seedings of one scenario give the same ids, which keeps
snapshots and reports comparable between runs.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone

SANDBOX_ROLE = "IdbridgeSandbox"  # role name the sandbox pretends every API caller assumed
ADMIN_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"  # who did the "hand-made" console work
ADMIN_SESSION = "idc-admin"


def digest(*parts: str, length: int) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "idbridge-aws:" + ":".join(parts)))


def uuid_like(*parts: str) -> str:
    """A name-based id in UUID form (version 5 layout), ~5x cheaper than uuid.uuid5 for 100k objects."""
    h = hashlib.sha1(":".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def permission_set_arn(instance_arn: str, name: str) -> str:
    # Real shape: arn:aws:sso:::permissionSet/ssoins-<16>/ps-<16> (moto builds instance/.../ps-...).
    instance_id = instance_arn.rsplit("/", 1)[-1]
    return f"arn:aws:sso:::permissionSet/{instance_id}/ps-{digest(instance_arn, name, length=16)}"


def identity_store_arn(account_id: str, store_id: str) -> str:
    return f"arn:aws:identitystore::{account_id}:identitystore/{store_id}"


def store_object_arn(kind: str, object_id: str) -> str:
    """kind: user | group | membership — the ARN shape botocore's model documents."""
    return f"arn:aws:identitystore:::{kind}/{object_id}"


def caller_arn(account_id: str, session: str = "sandbox") -> str:
    """The principal the sandbox says made an API call (deny messages, CreatedBy of API-made objects)."""
    return f"arn:aws:sts::{account_id}:assumed-role/{SANDBOX_ROLE}/{session}"


def admin_arn(account_id: str) -> str:
    """The administrator who created Identity Center objects by hand in the console."""
    return f"arn:aws:sts::{account_id}:assumed-role/{ADMIN_ROLE}/{ADMIN_SESSION}"


def epoch(moment: datetime) -> float:
    """Seconds since the epoch: what AWS JSON protocols put on the wire for timestamps."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=timezone.utc)


def naive_utc(moment: datetime) -> datetime:
    """moto keeps some timestamps as naive UTC datetimes."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
