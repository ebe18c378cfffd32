"""Who Entra's provisioning service would provision to the AWS app: the scope of one cycle.

- "Sync only assigned users and groups": users assigned directly, the assigned groups, and the *direct* user
  members of those groups. A group inside an assigned group is not provisioned and its members are not reached:
  Entra does not flatten nested groups (shared reference §1c), so a user who reaches the app only that way is
  never evaluated — and real Entra logs nothing for them either (there is no change to the app's scope to log).
- "Sync all users and groups" (secret SyncAll = true): every user and group of the tenant. Group membership is
  still exported for direct user members only; a group member of a group is left out of the PATCH, since
  Identity Center has no nested groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class Scope:
    users: dict[str, dict] = field(default_factory=dict)              # Entra user id -> Graph user JSON
    groups: dict[str, dict] = field(default_factory=dict)             # Entra group id -> Graph group JSON
    members: dict[str, list[str]] = field(default_factory=dict)       # group id -> direct member user ids
    assigned_directly: set[str] = field(default_factory=set)           # user ids with their own assignment
    nested_skipped: dict[str, list[str]] = field(default_factory=dict)  # group id -> member group ids left out


def assignments_of(app_role_assignments: dict[str, dict], sp_id: str) -> list[tuple[str, str]]:
    """(principalId, principalType) of every appRoleAssignment to the service principal."""
    return [(a["principalId"], a.get("principalType", "User")) for a in app_role_assignments.values()
            if a.get("resourceId") == sp_id]


def compute_scope(users: dict[str, dict], groups: dict[str, dict], direct_members: dict[str, list[str]],
                  assignments: Iterable[tuple[str, str]], *, sync_all: bool) -> Scope:
    scope = Scope()
    if sync_all:
        scope.users = dict(users)
        chosen = list(groups)
    else:
        chosen = []
        for principal_id, kind in assignments:
            if kind == "Group":
                if principal_id in groups:
                    chosen.append(principal_id)
            elif principal_id in users:
                scope.users[principal_id] = users[principal_id]
                scope.assigned_directly.add(principal_id)
    for group_id in dict.fromkeys(chosen):
        scope.groups[group_id] = groups[group_id]
        member_users: list[str] = []
        for member in direct_members.get(group_id, []):
            if member in users:
                member_users.append(member)
                scope.users.setdefault(member, users[member])
            elif member in groups:
                scope.nested_skipped.setdefault(group_id, []).append(member)
        scope.members[group_id] = member_users
    return scope
