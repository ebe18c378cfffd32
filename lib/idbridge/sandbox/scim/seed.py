"""Seed-time provisioning: replay the cycles a scenario's job would already have run, through the real SCIM path,
then set the job status the scenario asks for and plant its Identity Center drift.

The history, relative to world.now:
1. the initial history, ending one cycle interval before `last_cycle`: each object is provisioned in the first
   40-minute cycle after it came into scope (created, assigned directly or through a group), counted from when
   provisioning was set up (`token_created`). Users the scenario has since disabled or deleted, and users whose
   `idc` block says Identity Center holds a copy, are provisioned as enabled users then. Calls older than
   CloudTrail's 90 days and log entries older than Entra's 30 (7 without P1/P2) days leave no record, as for real;
   then each of `restarts`, in time order: the service forgets what it exported and re-evaluates every object
   in scope at that moment (a SCIM read per object, logged in CloudTrail as AWS logs reads; writes only where
   Identity Center differs). Objects the history provisioned after a restart's moment are already there when it
   runs: the emulator replays the history at once, not interleaved;
2. the last cycle, at `last_cycle`, with the job's real credentials: it disables the users disabled in Entra
   (unless `idc.active: true` says that change never reached AWS), creates what appeared since and retries what
   failed. With a revoked token it fails and quarantines the job, writing nothing — so disabled users stay
   enabled, as they would.
Users deleted in Entra count as deleted after the last cycle: they stay provisioned (and enabled).
Then: status fields from the scenario, and `idc` / group `idc` overrides written straight into the identity store
(drift is by definition what SCIM did not write). `recreated` is left to the AWS seeder.
"""

from __future__ import annotations

from datetime import datetime

from idbridge.sandbox import derived
from idbridge.sandbox.graph import sync_shapes
from idbridge.sandbox.scim import jobstatus
from idbridge.sandbox.provisioning import (CREDENTIAL_ERROR, QUARANTINE_REASON, credential_message, execute,
                                           probe_user_name)
from idbridge.sandbox.scenario import SeedError
from idbridge.sandbox.scim.cycle import Population
from idbridge.sandbox.scim.scope import assignments_of, compute_scope
from idbridge.sandbox.scim.state import Connection, connection, forget_job, job_memory
from idbridge.sandbox.timeexpr import graph_time, parse_iso, resolve_time


def _created(obj: dict) -> datetime | None:
    value = obj.get("createdDateTime")
    return parse_iso(value) if value else None


def _before(objects: dict[str, dict], until: datetime) -> dict[str, dict]:
    return {i: o for i, o in objects.items() if (_created(o) or until) <= until}


def _schedule(world, sp_id: str, scope, users: dict, start: datetime, first: datetime) -> dict[str, datetime]:
    """When each object of the initial history first came into scope — created, and assigned directly or through
    a group — moved to the next 40-minute cycle after provisioning began (`start`), and no later than `first`."""
    assigned_at = {a["principalId"]: parse_iso(a["createdDateTime"])
                   for a in world.graph.app_role_assignments.values()
                   if a.get("resourceId") == sp_id and a.get("createdDateTime")}

    def cycle_after(moment: datetime) -> datetime:
        if moment <= start:
            return start
        return min(first, start + sync_shapes.CYCLE * -(-(moment - start) // sync_shapes.CYCLE))

    entered: dict[str, datetime] = {}
    for gid, group in scope.groups.items():
        since = max(_created(group) or start, assigned_at.get(gid, start))
        entered[gid] = since
        for uid in scope.members.get(gid, []):
            moment = max(_created(users[uid]) or start, since)
            entered[uid] = min(entered.get(uid, moment), moment)
    for uid, user in scope.users.items():
        if uid in scope.assigned_directly or uid not in entered:
            moment = max(_created(user) or start, assigned_at.get(uid, start))
            entered[uid] = min(entered.get(uid, moment), moment)
    return {key: cycle_after(moment) for key, moment in entered.items()}


def population(world, sp_id: str, sync_all: bool, *, until: datetime, initial: bool,
               start: datetime | None = None) -> Population:
    """Entra as the provisioning service saw it at `until`; `initial`: the history since `start`."""
    graph, scenario = world.graph, world.scenario
    app = scenario.entra.aws_app
    users = _before({**graph.users, **graph.deleted_users}, until)  # deleted ones were still there
    groups = _before(graph.groups, until)
    members = {g: list(m) for g, m in graph.direct_members.items()}
    assignments = assignments_of(graph.app_role_assignments, sp_id)
    by_upn = {u["userPrincipalName"].lower(): i for i, u in users.items()}
    group_ids = {g["displayName"]: i for i, g in graph.groups.items()}
    assigned_upns = {a.lower() for a in app.assignments.users}
    for entra_user in scenario.entra.users:
        uid = by_upn.get(entra_user.upn.lower())
        if uid is None:
            continue
        if entra_user.deleted:  # Entra dropped its assignments and memberships; the scenario remembers them
            if entra_user.upn.lower() in assigned_upns:
                assignments.append((uid, "User"))
            for group in scenario.entra.groups:
                if entra_user.upn.lower() in {m.lower() for m in group.members}:
                    members.setdefault(group_ids[group.display_name], []).append(uid)
        if entra_user.idc is not None and entra_user.idc.present:
            assignments.append((uid, "User"))  # Identity Center holds a copy: it was in scope back then
    scope = compute_scope(users, groups, members, assignments, sync_all=sync_all)
    schedule = None
    if initial:
        forced = set(scope.users)
        schedule = _schedule(world, sp_id, scope, users, start or until, until)
    else:
        forced = {by_upn[u.upn.lower()] for u in scenario.entra.users
                  if u.idc is not None and u.idc.active is True and u.upn.lower() in by_upn}
    return Population(scope=scope, user=users.get, group=groups.get, deleted=set(), force_enabled=forced,
                      schedule=schedule)


def _history(world, conn: Connection) -> Connection:
    """The credentials of the initial cycle: the endpoint and the token Identity Center issued, which were good
    then even if the scenario has since revoked or let them expire."""
    return Connection(world.aws.scim_endpoint, derived.scim_token(world.scenario), conn.sync_all)


def _apply_status(world, job: dict, conn: Connection, began: datetime, last: datetime) -> None:
    prov = world.scenario.entra.aws_app.provisioning
    status = job.setdefault("status", {})
    status["steadyStateFirstAchievedTime"] = graph_time(began + sync_shapes.CYCLE)  # after the initial cycle
    status["code"] = prov.status
    status["countSuccessiveCompleteFailures"] = prov.successive_failures
    failing = prov.status == "Quarantine" or prov.successive_failures > 0
    error = None
    if failing:
        reason = prov.quarantine_reason or QUARANTINE_REASON
        if reason == QUARANTINE_REASON:
            code, message = CREDENTIAL_ERROR, credential_message(conn.base_address, None, probe_user_name(world))
            ran = status.get("lastExecution") or {}
            if (ran.get("error") or {}).get("code") == CREDENTIAL_ERROR:
                message = ran["error"]["message"]  # the one the real path produced, with AWS's answer in it
        else:
            code, message = sync_shapes.QUARANTINE_ERRORS.get(reason, (reason, "The last cycle failed."))
        error = {"code": code, "message": message, "tenantActionable": True}
        if status.get("lastExecution"):
            status["lastExecution"] = {**status["lastExecution"], "state": "Failed", "error": error}
    if prov.status == "Quarantine":
        count = max(1, prov.successive_failures)
        status["quarantine"] = {
            "currentBegan": graph_time(last), "nextAttempt": graph_time(last + sync_shapes.CYCLE * 2 ** min(count, 5)),
            "reason": prov.quarantine_reason, "seriesBegan": graph_time(last - sync_shapes.CYCLE * (count - 1)),
            "seriesCount": count, "error": error}
    else:
        status["quarantine"] = None
    if not prov.steady_state_reached:
        status["steadyStateFirstAchievedTime"] = jobstatus.NEVER
        status["steadyStateLastAchievedTime"] = jobstatus.NEVER


def _exists(read, object_id: str) -> bool:
    try:
        read(object_id)
    except Exception:  # noqa: BLE001 - the store's NotFound
        return False
    return True


def _as_last_written(record: dict) -> dict:
    """Write drift as of the object's last SCIM write: the values are what SCIM wrote then (Entra changed since),
    so UpdatedAt / UpdatedBy must not move."""
    return {"at": record["UpdatedAt"], "updated_by": record.get("UpdatedBy", "SCIM")}


def _drift(world, sp_id: str, job_id: str) -> None:
    graph, scenario = world.graph, world.scenario
    store = world.aws.identity_store
    memory = job_memory(world, sp_id, job_id)
    by_upn = {u["userPrincipalName"].lower(): i for i, u in {**graph.users, **graph.deleted_users}.items()}
    for index, entra_user in enumerate(scenario.entra.users):
        idc = entra_user.idc
        if idc is None:
            continue
        uid = by_upn.get(entra_user.upn.lower())
        target = memory.user_anchors.get(uid) if uid else None
        target = target or store.find_user(user_name=entra_user.upn)
        if target is None or not _exists(store.user, target):
            continue  # never provisioned (it failed, or was out of scope): nothing to drift
        try:
            if not idc.present:
                store.delete_user(target)
                continue
            fields = {"user_name": idc.user_name, "display_name": idc.display_name, "given_name": idc.given_name,
                      "family_name": idc.family_name, "active": idc.active, "external_id": idc.external_id,
                      "emails": [{"value": idc.email, "type": "work", "primary": True}] if idc.email else None}
            fields = {k: v for k, v in fields.items() if v is not None}
            if fields:
                store.update_user(target, **_as_last_written(store.user(target)), **fields)
        except Exception as exc:  # noqa: BLE001 - the store's Conflict / Invalid, with AWS's message
            raise SeedError(("entra", "users", index, "idc"), str(getattr(exc, "message", exc))) from None
    for index, group in enumerate(scenario.entra.groups):
        idc = group.idc
        if idc is None:
            continue
        gid = next((i for i, g in graph.groups.items() if g["displayName"] == group.display_name), None)
        target = memory.group_anchors.get(gid) if gid else None
        target = target or store.find_group(display_name=group.display_name)
        if target is None or not _exists(store.group, target):
            continue
        try:
            if not idc.present:
                store.delete_group(target)
            elif idc.display_name:
                store.update_group(target, **_as_last_written(store.group(target)), display_name=idc.display_name)
        except Exception as exc:  # noqa: BLE001
            raise SeedError(("entra", "groups", index, "idc"), str(getattr(exc, "message", exc))) from None


def seed(world) -> None:
    app = world.scenario.entra.aws_app
    prov = app.provisioning if app else None
    sp_id = world.graph.aws_sp_id
    jobs = world.graph.sync_jobs.get(sp_id or "", {})
    if prov is None or prov.status == "NotConfigured" or not prov.initial_sync or not jobs:
        return
    job_id = next(iter(jobs))
    if prov.last_cycle is None:
        return  # the job never ran: Identity Center holds nothing from it
    last = resolve_time(prov.last_cycle, world.now)
    first = last - sync_shapes.CYCLE
    conn = connection(world, sp_id)
    # The cycles below write the execution history themselves (the Graph seeder's is a stand-in for when none run).
    jobs[job_id].setdefault("status", {}).update(
        lastExecution=None, lastSuccessfulExecution=None, lastSuccessfulExecutionWithExports=None,
        steadyStateFirstAchievedTime=jobstatus.NEVER, steadyStateLastAchievedTime=jobstatus.NEVER, quarantine=None)
    history = _history(world, conn)
    began = min(resolve_time(prov.token_created, world.now), first)  # provisioning was set up with the token
    execute(world, sp_id, job_id, population(world, sp_id, conn.sync_all, until=first, initial=True, start=began),
            history, at=first, end_by=last, also_accepted=frozenset({history.token}))
    for index, moment in sorted(enumerate(prov.restarts), key=lambda item: resolve_time(item[1], world.now)):
        at = resolve_time(moment, world.now)
        if not began < at < last:
            raise SeedError(("entra", "aws_app", "provisioning", "restarts", index),
                            "a restart lies between provisioning's set-up (token_created) and the last cycle")
        # Restart provisioning clears the service's memory (watermark, escrows): the cycle after it matches every
        # object in scope again (a SCIM read each) and writes only what differs.
        forget_job(world, sp_id, job_id)
        execute(world, sp_id, job_id, population(world, sp_id, conn.sync_all, until=at, initial=False),
                history, at=at, end_by=at + sync_shapes.CYCLE, also_accepted=frozenset({history.token}))
    execute(world, sp_id, job_id, population(world, sp_id, conn.sync_all, until=last, initial=False),
            conn, at=last, end_by=world.now)
    _apply_status(world, jobs[job_id], conn, began, last)
    _drift(world, sp_id, job_id)
