"""The Graph emulator's state: Entra objects held in Microsoft Graph's own JSON shapes (camelCase keys).

Everything here is what Graph would return for the object with no $select, so serving a request is a matter of
filtering, selecting and paging these dicts. Writes through the API change them in place (under world.lock).
Users, groups, service principals and direct memberships are kept in containers that journal every write
(graph/changes.py), which is what delta queries answer from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from idbridge.sandbox.graph.changes import ChangeLog, tracked

Json = dict[str, Any]


@dataclass
class SigningKey:
    """A token-signing certificate of a service principal, with its private key (for federation metadata)."""

    key_id: str
    thumbprint: str  # SHA-1 hex, upper case, as Graph reports it
    certificate_pem: bytes
    private_key_pem: bytes
    start: datetime
    end: datetime


@dataclass
class GraphStore:
    tenant: Json                                   # /organization entry
    users: dict[str, Json] = field(default_factory=dict)           # id -> user (incl. signInActivity)
    deleted_users: dict[str, Json] = field(default_factory=dict)   # id -> user deleted after provisioning
    groups: dict[str, Json] = field(default_factory=dict)          # id -> group
    direct_members: dict[str, list[str]] = field(default_factory=dict)  # group id -> member object ids
    applications: dict[str, Json] = field(default_factory=dict)    # object id -> application
    service_principals: dict[str, Json] = field(default_factory=dict)  # object id -> servicePrincipal
    application_templates: dict[str, Json] = field(default_factory=dict)
    app_role_assignments: dict[str, Json] = field(default_factory=dict)  # id -> appRoleAssignment
    signing_keys: dict[str, list[SigningKey]] = field(default_factory=dict)  # sp id -> keys
    claims_policies: dict[str, Json] = field(default_factory=dict)  # sp id -> customClaimsPolicy (beta)
    sync_jobs: dict[str, dict[str, Json]] = field(default_factory=dict)  # sp id -> job id -> synchronizationJob
    sync_secrets: dict[str, list[Json]] = field(default_factory=dict)   # sp id -> [{key, value}]
    sync_schemas: dict[str, Json] = field(default_factory=dict)  # job id -> synchronizationSchema
    provisioning_logs: list[Json] = field(default_factory=list)     # provisioningObjectSummary, newest last
    sign_ins: list[Json] = field(default_factory=list)             # signIn
    registration_details: dict[str, Json] = field(default_factory=dict)  # user id -> userRegistrationDetails
    ca_policies: dict[str, Json] = field(default_factory=dict)     # id -> conditionalAccessPolicy
    # PIM for Groups: list name (eligibilitySchedules, assignmentScheduleInstances, ...) -> objects (graph/pim.py)
    pim: dict[str, list[Json]] = field(default_factory=lambda: {name: [] for name in (
        "eligibilitySchedules", "assignmentSchedules", "eligibilityScheduleInstances", "assignmentScheduleInstances",
        "assignmentScheduleRequests")})
    aws_sp_id: str | None = None                   # the AWS IAM Identity Center service principal, once it exists
    # What the log routes worked out for one query, reused by its next pages (routes_reports.py); not state.
    views: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # Assigning a whole collection (the dataclass __init__ included) stores its journaling container.
        object.__setattr__(self, name, tracked(self.changes, name, value))

    @property
    def changes(self) -> ChangeLog:
        """The journal of writes to users, groups, service principals and direct memberships."""
        log = self.__dict__.get("_changes")
        if log is None:
            log = self.__dict__["_changes"] = ChangeLog()
        return log

    def user_by_upn(self, upn: str) -> Json | None:
        upn = upn.lower()
        return next((u for u in self.users.values() if u["userPrincipalName"].lower() == upn), None)

    def group_by_name(self, name: str) -> Json | None:
        return next((g for g in self.groups.values() if g["displayName"] == name), None)

