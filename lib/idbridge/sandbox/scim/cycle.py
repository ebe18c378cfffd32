"""One provisioning cycle of Entra's provisioning service against the SCIM endpoint (the real request path: GET
to match, POST / PATCH / DELETE to export), producing one provisioning-log entry per object it acted on.

Per object, like Entra: import from Entra, evaluate scope, match in the target (remembered anchor first, then
the matching attribute), then create, update (only the attributes that differ; an attribute emptied in Entra is
not removed — the known limitation), disable (active=false: disabled, soft-deleted or out-of-scope users, the
IsSoftDeleted rule of the AWS mappings) or delete (groups out of scope, users gone from Entra for good). Users
before groups, so that memberships can name provisioned users. Unchanged objects cost nothing and log nothing.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from idbridge.sandbox.scim import endpoint as scim
from idbridge.sandbox.scim import logs
from idbridge.sandbox.scim.clock import Clock
from idbridge.sandbox.scim.jobstatus import CycleStats
from idbridge.sandbox.scim.mapping import Mappings, build_group, build_user, group_getter, source_values, user_getter
from idbridge.sandbox.scim.resources import FACADE_KEYWORDS
from idbridge.sandbox.scim.scope import Scope
from idbridge.sandbox.scim.state import JobMemory

# Targets the identity store keeps and a PATCH can change (name.formatted is derived, the enterprise extension
# and manager are not stored): only these are compared, else an unstorable value would be re-sent every cycle.
_WRITABLE_SIMPLE = set(FACADE_KEYWORDS) | {"name.givenName", "name.familyName"}
_WRITABLE_LISTS = ("emails[", "phoneNumbers[", "addresses[")


class CredentialsRefused(Exception):
    """The endpoint answered 401: the cycle stops and the job goes to quarantine."""

    def __init__(self, body: dict | None):
        super().__init__("401 Unauthorized")
        self.body = body


@dataclass
class Population:
    """Who the cycle looks at and how to read them."""

    scope: Scope
    user: Callable[[str], dict | None]     # any Entra user by id (live or soft-deleted), None if gone for good
    group: Callable[[str], dict | None]
    deleted: set[str] = field(default_factory=set)        # soft-deleted in Entra
    force_enabled: set[str] = field(default_factory=set)  # treated as enabled whatever accountEnabled says
    schedule: dict[str, datetime] | None = None           # Entra id -> when it is processed (seed history)


@dataclass
class Cycle:
    ep: scim.ScimEndpoint
    bearer: str
    info: logs.CycleInfo
    memory: JobMemory
    maps: Mappings
    clock: Clock
    sink: list[dict]                  # where log entries go (world.graph.provisioning_logs), on flush()
    stats: CycleStats = field(default_factory=CycleStats)
    entries: list[dict] = field(default_factory=list)
    log_since: datetime | None = None  # entries older than this are past the log's retention: not kept
    _ids: Any = None

    def new_id(self) -> str:
        if self._ids is None:
            self._ids = scim.stable_ids(f"idbridge-prov:{self.info.cycle_id}")
        return next(self._ids)

    # ---------------------------------------------------------------- plumbing

    def _checked(self, result: scim.ScimResult) -> scim.ScimResult:
        if result.status == 401:
            raise CredentialsRefused(result.body)
        return result

    def keeps(self, at: datetime) -> bool:
        return self.log_since is None or at >= self.log_since

    def log(self, at: datetime, kind: str, source: dict, target_id: str | None, target_name: str | None,
            action: str, status: str, steps: list[dict], modified: list[dict], error: dict | None) -> dict:
        if not self.keeps(at):  # seeding's history older than the log keeps: only the outcome is needed
            return {"provisioningStatusInfo": {"status": status}}
        item = logs.entry(self.info, entry_id=self.new_id(), change_id=self.new_id(), at=at,
                          duration_ms=self.clock.duration_ms(source["id"]), kind=kind, source=source,
                          target_id=target_id or "", target_name=target_name or "", action=action, status=status,
                          steps=steps, modified=modified, error=error)
        self.entries.append(item)
        return item

    def flush(self) -> None:
        """Hand the cycle's entries to the log, oldest first (the log is kept newest last)."""
        self.entries.sort(key=lambda e: e["activityDateTime"])
        self.sink.extend(self.entries)
        self.entries = []

    def _failed(self, entra_id: str, result: scim.ScimResult, at: datetime) -> dict:
        self.stats.escrowed += 1
        retried = self.memory.failures.get(entra_id, 0)
        self.memory.failures[entra_id] = retried + 1
        return logs.error_information(result.status, result.body, at=at, retried=retried)

    def _succeeded(self, entra_id: str, fingerprint: Any) -> None:
        self.stats.exported += 1
        self.memory.exported[entra_id] = fingerprint
        self.memory.failures.pop(entra_id, None)

    def _match(self, anchor: str | None, desired: dict, attribute: str, get: Callable, find: Callable,
               at: datetime) -> dict | None:
        """The target object: by its anchor (the id it was given) while that still finds it, else by the matching
        attribute (GET ?filter=<attribute> eq "value"), as Entra matches."""
        if anchor:
            found = self._checked(get(self.ep, anchor, at, bearer=self.bearer))
            if found.ok:
                return found.body
        value = desired.get(attribute)
        if not value:
            return None
        escaped = str(value).replace('"', '\\"')
        listed = self._checked(find(self.ep, f'{attribute} eq "{escaped}"', at, bearer=self.bearer))
        resources = (listed.body or {}).get("Resources") or []
        return resources[0] if resources else None

    # ---------------------------------------------------------------- users

    def sync_user(self, entra_id: str, user: dict | None, *, in_scope: bool, deleted: bool, enabled: bool,
                  force: bool = False) -> dict | None:
        """Bring one user to its state; returns the log entry written (None when nothing was to be done).
        The fingerprint is the user's value of every source the mappings read: a user whose sources are as last
        exported is skipped before being mapped (Entra's incremental cycles only see changed objects)."""
        if user is None:
            return self._delete_user(entra_id, force)
        soft = deleted or not enabled or not in_scope
        fingerprint = hash((self.maps.key, soft, repr(source_values(user, self.maps.user_sources))))
        if not force and self.memory.exported.get(entra_id) == fingerprint:
            return None
        desired = build_user(self.maps.user, user_getter(user, soft_deleted=soft), user)
        self.stats.deltas += 1
        at = self.clock.tick(entra_id)
        rid = str(desired.get("userName") or user.get("userPrincipalName") or entra_id)
        source = {"id": entra_id, "displayName": user.get("displayName") or ""}
        known = entra_id in self.memory.user_anchors or entra_id in self.memory.exported
        change = "Delete" if deleted else ("Update" if known else "Add")
        steps = [logs.import_step("User", rid, change),
                 logs.scoping_step("User", active=not deleted and enabled, assigned=in_scope)]
        target = self._match(self.memory.user_anchors.get(entra_id), desired, self.maps.user_match, scim.get_user,
                             scim.list_users, at)
        if target is None:
            if soft:
                return self._skip_user(entra_id, fingerprint, source, rid, at, steps, force)
            return self._create_user(entra_id, desired, fingerprint, source, rid, at, steps)
        self.memory.user_anchors[entra_id] = target["id"]
        steps.append(logs.matched_step(self.info, rid))
        if soft:  # a deprovisioned user is only disabled, its attributes are left alone
            ops = [{"op": "Replace", "path": "active", "value": "False"}] \
                if target.get("active", True) and self.maps.deprovisions else []
        else:  # Update off in the mapping's target actions: nothing changes in Identity Center
            ops = diff_operations(desired, target) if self.maps.updates else []
        if not ops:
            self.memory.exported[entra_id] = fingerprint
            if force:
                steps.append(logs.skip_step("User", rid, "RedundantExport", "the state of the user in both the "
                                            "source and target systems already match"))
                return self.log(at, "User", source, target["id"], target.get("userName"), "other", "skipped",
                                steps, [], None)
            return None
        disabling = any(op["path"] == "active" and op["value"] == "False" for op in ops)
        action = "disable" if disabling else "update"
        self.stats.exports += 1
        result = scim.patch_user(self.ep, target["id"], {"schemas": [scim.rules.PATCH_SCHEMA], "Operations": ops},
                                 at, bearer=self.bearer)
        self._checked(result)
        modified = [{"displayName": op["path"], "oldValue": _old(target, op["path"]), "newValue": _text(op["value"])}
                    for op in ops]
        if not result.ok:
            error = self._failed(entra_id, result, at)
            steps.append(logs.export_step(self.info, "User", rid, action, ok=False))
            return self.log(at, "User", source, target["id"], target.get("userName"), action, "failure", steps,
                            modified, error)
        self._succeeded(entra_id, fingerprint)
        steps.append(logs.export_step(self.info, "User", rid, action, ok=True))
        return self.log(at, "User", source, target["id"], target.get("userName"), action, "success", steps,
                        modified, None)

    def _create_user(self, entra_id: str, desired: dict, fingerprint: Any, source: dict, rid: str,
                     at: datetime, steps: list[dict]) -> dict:
        steps.append(logs.not_matched_step(self.info, "User", rid))
        self.stats.exports += 1
        result = self._checked(scim.create_user(self.ep, desired, at, bearer=self.bearer))
        modified = logs.modified_properties(desired) if self.keeps(at) else []
        if not result.ok:
            error = self._failed(entra_id, result, at)
            steps.append(logs.export_step(self.info, "User", rid, "create", ok=False))
            return self.log(at, "User", source, None, None, "create", "failure", steps, modified, error)
        self.memory.user_anchors[entra_id] = result.resource_id
        self._succeeded(entra_id, fingerprint)
        steps.append(logs.export_step(self.info, "User", rid, "create", ok=True))
        return self.log(at, "User", source, result.resource_id, desired.get("userName"), "create", "success",
                        steps, modified, None)

    def _skip_user(self, entra_id: str, fingerprint: Any, source: dict, rid: str, at: datetime,
                   steps: list[dict], force: bool) -> dict | None:
        # Not entitled (disabled, deleted or unassigned) and not in the target: Entra creates nothing and says so
        # once ("NotEffectivelyEntitled").
        self.memory.exported[entra_id] = fingerprint
        if entra_id in self.memory.skipped and not force:
            return None
        self.memory.skipped.add(entra_id)
        steps.append(logs.skip_step("User", rid, "NotEffectivelyEntitled",
                                    "it is not active or not assigned to the application in Azure Active Directory"))
        return self.log(at, "User", source, None, None, "other", "skipped", steps, [], None)

    def _delete_user(self, entra_id: str, force: bool) -> dict | None:
        """A user gone from Entra for good (hard-deleted): Entra deletes the target user."""
        if not self.maps.deletes:
            return None  # Delete off in the mapping's target actions: the target user stays
        anchor = self.memory.user_anchors.get(entra_id)
        if anchor is None or (self.memory.exported.get(entra_id) == "deleted" and not force):
            return None
        self.stats.deltas += 1
        at = self.clock.tick(entra_id)
        source = {"id": entra_id, "displayName": ""}
        steps = [logs.import_step("User", entra_id, "Delete")]
        self.stats.exports += 1
        result = self._checked(scim.delete_user(self.ep, anchor, at, bearer=self.bearer))
        if not result.ok and result.status != 404:
            error = self._failed(entra_id, result, at)
            steps.append(logs.export_step(self.info, "User", entra_id, "delete", ok=False))
            return self.log(at, "User", source, anchor, None, "delete", "failure", steps, [], error)
        self._succeeded(entra_id, "deleted")
        self.memory.user_anchors.pop(entra_id, None)
        steps.append(logs.export_step(self.info, "User", entra_id, "delete", ok=True))
        return self.log(at, "User", source, anchor, None, "delete", "success", steps, [], None)

    # ---------------------------------------------------------------- groups

    def sync_group(self, entra_id: str, group: dict | None, member_ids: list[str], *, in_scope: bool,
                   force: bool = False) -> dict | None:
        if group is None or not in_scope:
            return self._delete_group(entra_id, group, force)
        desired = build_group(self.maps.group, group_getter(group))
        wanted = sorted({a for a in (self.memory.user_anchors.get(m) for m in member_ids) if a}) \
            if self.maps.members else []
        fingerprint = hash((repr(desired), tuple(wanted)))
        if not force and self.memory.exported.get(entra_id) == fingerprint:
            return None
        self.stats.deltas += 1
        at = self.clock.tick(entra_id)
        rid = str(desired.get("displayName") or group.get("displayName") or entra_id)
        source = {"id": entra_id, "displayName": group.get("displayName") or ""}
        known = entra_id in self.memory.group_anchors or entra_id in self.memory.exported
        steps = [logs.import_step("Group", rid, "Update" if known else "Add"),
                 logs.scoping_step("Group", active=True, assigned=True)]
        target = self._match(self.memory.group_anchors.get(entra_id), desired, self.maps.group_match, scim.get_group,
                             scim.list_groups, at)
        modified: list[dict] = []
        action = "update"
        if target is None:
            steps.append(logs.not_matched_step(self.info, "Group", rid))
            action = "create"
            self.stats.exports += 1
            created = self._checked(scim.create_group(self.ep, desired, at, bearer=self.bearer))
            modified = logs.modified_properties(desired) if self.keeps(at) else []
            if not created.ok:
                error = self._failed(entra_id, created, at)
                steps.append(logs.export_step(self.info, "Group", rid, "create", ok=False))
                return self.log(at, "Group", source, None, None, "create", "failure", steps, modified, error)
            target = created.body
            self.memory.members[entra_id] = set()
        else:
            steps.append(logs.matched_step(self.info, rid))
        self.memory.group_anchors[entra_id] = target["id"]
        ops = [op for op in diff_operations(desired, target) if op["path"] in ("displayName", "externalId")]
        before = self.memory.members.get(entra_id, set())
        adds, removes = sorted(set(wanted) - before), sorted(before - set(wanted))
        if adds:
            ops.append({"op": "Add", "path": "members", "value": [{"value": a} for a in adds]})
        ops += [{"op": "Remove", "path": f'members[value eq "{r}"]'} for r in removes]
        if action == "update":
            modified = [{"displayName": op["path"], "oldValue": _old(target, op["path"]),
                         "newValue": _text(op["value"])} for op in ops if op["path"] != "members"
                        and not op["path"].startswith("members[")]
        if adds or removes:
            modified.append({"displayName": "members", "oldValue": ",".join(removes) or None,
                             "newValue": ",".join(adds) or None})
        if not ops:
            self.memory.exported[entra_id] = fingerprint
            if action == "create":
                self._succeeded(entra_id, fingerprint)
                steps.append(logs.export_step(self.info, "Group", rid, "create", ok=True))
                return self.log(at, "Group", source, target["id"], rid, "create", "success", steps, modified, None)
            if force:
                steps.append(logs.skip_step("Group", rid, "RedundantExport", "the state of the group in both the "
                                            "source and target systems already match"))
                return self.log(at, "Group", source, target["id"], rid, "other", "skipped", steps, [], None)
            return None
        if action == "update":
            self.stats.exports += 1
        self.stats.reference_deltas += len(adds) + len(removes)
        result = self._checked(scim.patch_group(self.ep, target["id"], {"schemas": [scim.rules.PATCH_SCHEMA],
                                                                        "Operations": ops}, at, bearer=self.bearer))
        if not result.ok:
            error = self._failed(entra_id, result, at)
            steps.append(logs.export_step(self.info, "Group", rid, action, ok=False))
            return self.log(at, "Group", source, target["id"], rid, action, "failure", steps, modified, error)
        self.memory.members[entra_id] = set(wanted)
        self._succeeded(entra_id, fingerprint)
        steps.append(logs.export_step(self.info, "Group", rid, action, ok=True))
        return self.log(at, "Group", source, target["id"], rid, action, "success", steps, modified, None)

    def _delete_group(self, entra_id: str, group: dict | None, force: bool) -> dict | None:
        """A group no longer assigned (or deleted in Entra): Entra deletes it in the target."""
        anchor = self.memory.group_anchors.get(entra_id)
        if anchor is None or (self.memory.exported.get(entra_id) == "deleted" and not force):
            return None
        self.stats.deltas += 1
        at = self.clock.tick(entra_id)
        name = (group or {}).get("displayName") or entra_id
        source = {"id": entra_id, "displayName": (group or {}).get("displayName") or ""}
        steps = [logs.import_step("Group", name, "Delete"),
                 logs.scoping_step("Group", active=group is not None, assigned=False)]
        self.stats.exports += 1
        result = self._checked(scim.delete_group(self.ep, anchor, at, bearer=self.bearer))
        if not result.ok and result.status != 404:
            error = self._failed(entra_id, result, at)
            steps.append(logs.export_step(self.info, "Group", name, "delete", ok=False))
            return self.log(at, "Group", source, anchor, name, "delete", "failure", steps, [], error)
        self._succeeded(entra_id, "deleted")
        self.memory.group_anchors.pop(entra_id, None)
        self.memory.members.pop(entra_id, None)
        steps.append(logs.export_step(self.info, "Group", name, "delete", ok=True))
        return self.log(at, "Group", source, anchor, name, "delete", "success", steps, [], None)

    # ---------------------------------------------------------------- the whole population

    def run(self, people: Population) -> None:
        # A cycle allocates millions of small acyclic dicts; the cyclic collector would rescan them over and over.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run(people)
        finally:
            if collecting:
                gc.enable()

    def _run(self, people: Population) -> None:
        scope = people.scope
        self.stats.imported = len(scope.users) + len(scope.groups)
        self.stats.entitled = self.stats.imported
        for entra_id, user in scope.users.items():
            enabled = entra_id in people.force_enabled or user.get("accountEnabled", True) is not False
            self.sync_user(entra_id, user, in_scope=True, deleted=entra_id in people.deleted, enabled=enabled)
        for entra_id in [u for u in self.memory.user_anchors if u not in scope.users]:
            user = people.user(entra_id)
            self.sync_user(entra_id, user, in_scope=False, deleted=entra_id in people.deleted,
                           enabled=bool(user and user.get("accountEnabled", True) is not False))
        if self.maps.group:
            for entra_id, group in scope.groups.items():
                self.sync_group(entra_id, group, scope.members.get(entra_id, []), in_scope=True)
        for entra_id in [g for g in self.memory.group_anchors if g not in scope.groups]:
            self.sync_group(entra_id, people.group(entra_id), [], in_scope=False)

    def entry_counts(self, scope: Scope) -> list[dict]:
        users = sum(1 for u in scope.users if u in self.memory.user_anchors)
        groups = sum(1 for g in scope.groups if g in self.memory.group_anchors)
        return [{"key": self.maps.count_keys[0], "value": users}, {"key": self.maps.count_keys[1], "value": groups}]


# --------------------------------------------------------------------------------------------- diffs


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return ("True" if value else "False") if isinstance(value, bool) else str(value)


def _old(target: dict, path: str) -> str | None:
    return _text(dict(logs.flatten(target)).get(path))


def diff_operations(desired: dict, target: dict) -> list[dict]:
    """The PATCH operations Entra sends: Replace what differs, Add what the target lacks, never Remove (an
    attribute emptied in Entra is not removed in the target — shared reference §1c)."""
    current = dict(logs.flatten(target))
    ops = []
    for path, value in logs.flatten(desired):
        if path not in _WRITABLE_SIMPLE and not path.startswith(_WRITABLE_LISTS):
            continue
        have = current.get(path)
        if have != value:
            ops.append({"op": "Replace" if have is not None else "Add", "path": path,
                        "value": _text(value) if isinstance(value, bool) else value})
    return ops
