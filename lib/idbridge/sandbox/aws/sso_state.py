"""What moto's sso-admin backend does not keep: assignments indexed by (account, permission set) and by principal,
provisioning status per account, request statuses, tags of the instance, enabled Regions.

One `SsoState` per Identity Center instance, attached to moto's SSOAdminBackend as `backend.idbridge`
(dict instance ARN -> state); moto's reset() drops it with the rest of the backend. Used by the seeder and by the
patched API (patch_ssoadmin.py).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.ssoadmin.models import SSOAdminBackend, ssoadmin_backends

Json = dict[str, Any]
AssignmentKey = tuple[str, str, str, str]  # (account id, permission set ARN, principal type, principal id)

PROVISIONED = "LATEST_PERMISSION_SET_PROVISIONED"
NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


@dataclass(slots=True)
class Assignment:
    account_id: str
    permission_set_arn: str
    principal_type: str
    principal_id: str
    created: float

    @property
    def key(self) -> AssignmentKey:
        return (self.account_id, self.permission_set_arn, self.principal_type, self.principal_id)

    def listing(self) -> Json:
        return {"AccountId": self.account_id, "PermissionSetArn": self.permission_set_arn,
                "PrincipalType": self.principal_type, "PrincipalId": self.principal_id}


@dataclass
class SsoState:
    instance_arn: str
    assignments: dict[AssignmentKey, Assignment] = field(default_factory=dict)
    by_pair: dict[tuple[str, str], dict[AssignmentKey, Assignment]] = field(default_factory=dict)
    by_principal: dict[tuple[str, str], dict[AssignmentKey, Assignment]] = field(default_factory=dict)
    # permission set ARN -> account id -> True if the latest version is provisioned there
    provisioned: dict[str, dict[str, bool]] = field(default_factory=dict)
    ps_requests: dict[str, Json] = field(default_factory=dict)      # request id -> PermissionSetProvisioningStatus
    creations: dict[str, Json] = field(default_factory=dict)        # request id -> AccountAssignmentOperationStatus
    deletions: dict[str, Json] = field(default_factory=dict)
    tags: dict[str, list[Json]] = field(default_factory=dict)       # resource ARN -> tags (the instance's)
    regions: list[Json] = field(default_factory=list)               # RegionMetadata
    valid_accounts: set[str] | None = None                          # the organisation's accounts, once seeded
    # Attributes for access control: {"Status", "StatusReason"?, "InstanceAccessControlAttributeConfiguration"}
    # as DescribeInstanceAccessControlAttributeConfiguration answers; None = never created (ABAC not enabled).
    abac: Json | None = None


def states(backend: SSOAdminBackend) -> dict[str, SsoState]:
    if not hasattr(backend, "idbridge"):
        backend.idbridge = {}  # type: ignore[attr-defined]
    return backend.idbridge  # type: ignore[attr-defined]


def state_for(backend: SSOAdminBackend, instance_arn: str) -> SsoState | None:
    return states(backend).get(instance_arn)


def backend_for(account_id: str, region: str) -> SSOAdminBackend:
    return ssoadmin_backends[account_id][region]


def new_request_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------- assignments


def add_assignment(state: SsoState, account_id: str, ps_arn: str, principal_type: str, principal_id: str,
                   at: float | None = None) -> tuple[Assignment, bool]:
    """Returns (assignment, created). Creating an assignment provisions the permission set to the account if it
    is not there yet, as AWS does; an outdated provisioned copy stays outdated until ProvisionPermissionSet."""
    key = (account_id, ps_arn, principal_type, principal_id)
    existing = state.assignments.get(key)
    if existing is not None:
        return existing, False
    item = Assignment(account_id, ps_arn, principal_type, principal_id, at if at is not None else time.time())
    state.assignments[key] = item
    state.by_pair.setdefault((account_id, ps_arn), {})[key] = item
    state.by_principal.setdefault((principal_type, principal_id), {})[key] = item
    state.provisioned.setdefault(ps_arn, {}).setdefault(account_id, True)
    return item, True


def remove_assignment(state: SsoState, key: AssignmentKey) -> Assignment | None:
    """Removing the last assignment of a permission set in an account deprovisions it there (AWS deletes the
    AWSReservedSSO_ role with it)."""
    item = state.assignments.pop(key, None)
    if item is None:
        return None
    pair = (item.account_id, item.permission_set_arn)
    state.by_pair.get(pair, {}).pop(key, None)
    state.by_principal.get((item.principal_type, item.principal_id), {}).pop(key, None)
    if not state.by_pair.get(pair):
        state.by_pair.pop(pair, None)
        state.provisioned.get(item.permission_set_arn, {}).pop(item.account_id, None)
    return item


# --------------------------------------------------------------------------------------------- provisioning


def mark_provisioned(state: SsoState, ps_arn: str, account_id: str) -> None:
    state.provisioned.setdefault(ps_arn, {})[account_id] = True


def mark_outdated(state: SsoState, ps_arn: str, accounts: list[str] | None = None) -> None:
    """A permission set changed: every account it is provisioned to now runs an old version."""
    provisioned = state.provisioned.setdefault(ps_arn, {})
    for account_id in accounts if accounts is not None else list(provisioned):
        provisioned[account_id] = False


def forget_permission_set(state: SsoState, ps_arn: str) -> None:
    state.provisioned.pop(ps_arn, None)


def accounts_for(state: SsoState, ps_arn: str, status: str | None) -> list[str]:
    return sorted(a for a, latest in state.provisioned.get(ps_arn, {}).items() if _matches(latest, status))


def permission_sets_for(state: SsoState, account_id: str, status: str | None) -> list[str]:
    out = []
    for ps_arn, accounts in state.provisioned.items():
        if account_id in accounts and _matches(accounts[account_id], status):
            out.append(ps_arn)
    return out


def _matches(latest: bool, status: str | None) -> bool:
    return status is None or (status == PROVISIONED) == latest


def record_ps_request(state: SsoState, ps_arn: str, account_id: str | None, at: float | None = None,
                      failure: str | None = None) -> Json:
    status = {"Status": "FAILED" if failure else "SUCCEEDED", "RequestId": new_request_id(),
              "PermissionSetArn": ps_arn, "CreatedDate": at if at is not None else time.time()}
    if account_id:
        status["AccountId"] = account_id
    if failure:
        status["FailureReason"] = failure
    state.ps_requests[status["RequestId"]] = status
    return status
