"""Entra's provisioning service for the AWS IAM Identity Center app, emulated: the functions the Graph emulator's
synchronization routes call (validateCredentials, start/restart, provisionOnDemand) and the seeding step that
fills Identity Center the way past cycles would have.

Everything goes through the emulated SCIM endpoint (scim_endpoint.py), so a refusal shows up as it does for real:
as a failure in Entra's provisioning log (world.graph.provisioning_logs) and as an errorCode in CloudTrail.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from idbridge.sandbox.scenario import stable_id
from idbridge.sandbox.scim import endpoint as scim
from idbridge.sandbox.scim import jobstatus
from idbridge.sandbox.scim import logs
from idbridge.sandbox.scim.clock import Clock
from idbridge.sandbox.scim.cycle import CredentialsRefused, Cycle, Population
from idbridge.sandbox.scim.mapping import Mappings, job_mappings, rule_ids
from idbridge.sandbox.scim.scope import assignments_of, compute_scope
from idbridge.sandbox.scim.state import Connection, connection, endpoint, forget_job, job_memory, log_retention, reach
from idbridge.sandbox.timeexpr import graph_time, utc_now

CREDENTIAL_ERROR = logs.CREDENTIAL_ERROR
UNREACHABLE_ERROR = f"{logs.CONNECTOR}CredentialValidationUnavailable"
QUARANTINE_REASON = "EncounteredQuarantineException"
LIVE_CYCLE_SPAN = timedelta(minutes=5)


class OnDemandError(ValueError):
    """A provisionOnDemand request Graph refuses before anything is provisioned (HTTP status, Graph code)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --------------------------------------------------------------------------------------------- helpers


def _now(world) -> datetime:
    return max(world.now, utc_now())


def _job(world, sp_id: str, job_id: str) -> dict:
    job = world.graph.sync_jobs.get(sp_id, {}).get(job_id)
    if job is None:
        raise KeyError(f"no synchronization job {job_id!r} on service principal {sp_id!r}")
    return job


def _schema(world, job_id: str, job: dict) -> dict | None:
    schemas = getattr(world.graph, "sync_schemas", {}) or {}
    return schemas.get(job_id) or job.get("schema")


def mappings_of(world, job_id: str, job: dict) -> Mappings:
    prov = world.scenario.entra.aws_app.provisioning if world.scenario.entra.aws_app else None
    extra = [(m.source, m.target) for m in prov.extra_mappings] if prov else []
    return job_mappings(_schema(world, job_id, job), prov.external_id_source if prov else "objectId", extra)


def live_population(world, sp_id: str, sync_all: bool) -> Population:
    graph = world.graph
    scope = compute_scope(graph.users, graph.groups, graph.direct_members,
                          assignments_of(graph.app_role_assignments, sp_id), sync_all=sync_all)
    return Population(scope=scope, user=lambda i: graph.users.get(i) or graph.deleted_users.get(i),
                      group=graph.groups.get, deleted=set(graph.deleted_users))


def credential_message(base_address: str, body: dict | None, probe: str) -> str:
    """Entra's words when the SCIM endpoint refuses its token (the Test Connection / quarantine message)."""
    return ("While attempting to validate our authorization to access your application, we received this "
            "unexpected response:\n\nReceived response from Web resource.\n"
            f"   Resource: {base_address.rstrip('/')}/Users?filter=userName+eq+\"{probe}\"\n"
            "   Operation: GET\n   Response Status Code: Unauthorized\n"
            f"   Response Content: {json.dumps(body, separators=(',', ':')) if body else ''}")


def unreachable_message(base_address: str) -> str:
    return (f"We were unable to reach the application at {base_address}: the host did not answer as an AWS IAM "
            "Identity Center SCIM endpoint. Check the Tenant URL.")


def probe_user_name(world) -> str:
    return stable_id(world.scenario.tenant.id, "scim-probe")


def _refusal(world, base_address: str, token: str, at: datetime,
             also_accepted: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """(error code, message) when these credentials cannot be used, else None. Probes like Entra's Test
    Connection: GET /Users?filter=userName eq "<random id>"."""
    where = reach(world, base_address)
    if where == "unreachable":
        return UNREACHABLE_ERROR, unreachable_message(base_address)
    ep = endpoint(world, seed=f"probe:{graph_time(at)}", also_accepted=also_accepted)
    tokens = ep.tokens if where == "ok" else frozenset()  # a wrong tenant id is answered 401 as well
    ep.tokens = tokens
    answer = scim.list_users(ep, f'userName eq "{probe_user_name(world)}"', at, bearer=token)
    if answer.status == 401:
        return CREDENTIAL_ERROR, credential_message(base_address, answer.body, probe_user_name(world))
    return None


def new_cycle(world, sp_id: str, job_id: str, job: dict, *, bearer: str, at: datetime,
              end_by: datetime | None, expected: int, on_demand: bool = False,
              also_accepted: frozenset[str] = frozenset(), schedule: dict | None = None) -> Cycle:
    cycle_id = stable_id(job_id, "cycle", graph_time(at), "demand" if on_demand else "")
    sp = world.graph.service_principals.get(sp_id, {"id": sp_id})
    tenant = world.scenario.tenant.id
    info = logs.cycle_info(tenant_id=tenant, job_id=job_id, cycle_id=cycle_id, sp=sp,
                           source_id=stable_id(tenant, "provisioning-source"),
                           target_id=stable_id(tenant, "provisioning-target", sp_id), on_demand=on_demand)
    return Cycle(ep=endpoint(world, seed=cycle_id, also_accepted=also_accepted), bearer=bearer, info=info,
                 memory=job_memory(world, sp_id, job_id), maps=mappings_of(world, job_id, job),
                 clock=Clock(at, end_by, expected, schedule), sink=world.graph.provisioning_logs,
                 log_since=world.now - log_retention(world))


def execute(world, sp_id: str, job_id: str, people: Population, conn: Connection, *, at: datetime,
            end_by: datetime | None = None, also_accepted: frozenset[str] = frozenset()) -> Cycle:
    """Run one cycle over `people` with the saved credentials and record it in the job's status.
    `also_accepted`: a token the endpoint accepted at `at` (seeding replays cycles from before it expired)."""
    job = _job(world, sp_id, job_id)
    expected = len(people.scope.users) + len(people.scope.groups) + len(job_memory(world, sp_id, job_id).exported)
    cycle = new_cycle(world, sp_id, job_id, job, bearer=conn.token, at=at, end_by=end_by, expected=expected,
                      also_accepted=also_accepted, schedule=people.schedule)
    refused = _refusal(world, conn.base_address, conn.token, at, also_accepted)
    if refused is None:
        try:
            cycle.run(people)
        except CredentialsRefused as exc:
            refused = CREDENTIAL_ERROR, credential_message(conn.base_address, exc.body, probe_user_name(world))
    ended = cycle.clock.tick()
    cycle.flush()
    if refused:
        jobstatus.record_failed_cycle(job, activity=cycle.info.cycle_id, began=at, ended=ended,
                                      stats=cycle.stats, reason=QUARANTINE_REASON, code=refused[0],
                                      message=refused[1])
    else:
        jobstatus.record_cycle(job, activity=cycle.info.cycle_id, began=at, ended=ended, stats=cycle.stats,
                               entry_counts=cycle.entry_counts(people.scope))
    return cycle


# --------------------------------------------------------------------------------------------- the API


def check_credentials(world, base_address: str, secret_token: str) -> str | None:
    """validateCredentials: None when Entra could use these credentials, else the message Graph returns.
    The error code that goes with it is CREDENTIAL_ERROR (or UNREACHABLE_ERROR for a host that is not AWS's)."""
    with world.lock:
        refused = _refusal(world, base_address or "", secret_token or "", _now(world))
    return refused[1] if refused else None


def run_cycle(world, sp_id: str, job_id: str, *, at: datetime | None = None) -> None:
    """One provisioning cycle now (the job's start / the 40-minute schedule). A Paused or NotConfigured job does
    not run; a quarantined one runs as its retry (and leaves quarantine if the cause is gone)."""
    with world.lock:
        job = _job(world, sp_id, job_id)
        status = job.get("status") or {}
        if status.get("code") in ("Paused", "NotConfigured") or (job.get("schedule") or {}).get("state") == "Paused":
            return
        conn = connection(world, sp_id)
        start = at or _now(world)
        # The emulator does a cycle's work at once; its activity times are squeezed into a few minutes so that a
        # large cycle (a restart over 100k users) does not log hours into the future.
        execute(world, sp_id, job_id, live_population(world, sp_id, conn.sync_all), conn, at=start,
                end_by=start + LIVE_CYCLE_SPAN)


def restart_job(world, sp_id: str, job_id: str) -> None:
    """Graph's restart: the service forgets what it exported, so the next cycle re-evaluates every object."""
    with world.lock:
        forget_job(world, sp_id, job_id)


def _subjects(world, job_id: str, job: dict, body: dict) -> list[tuple[str, str]]:
    parameters = body.get("parameters") if isinstance(body, dict) else None
    if not isinstance(parameters, list) or not parameters or not isinstance(parameters[0], dict):
        raise OnDemandError(400, "BadRequest", "The request must have parameters with a ruleId and subjects.")
    first = parameters[0]
    known_rules = rule_ids(_schema(world, job_id, job))
    if known_rules and first.get("ruleId") not in known_rules:
        raise OnDemandError(400, "BadRequest", f"The rule {first.get('ruleId')!r} is not a synchronization rule "
                                               "of this job.")
    subjects = []
    for subject in first.get("subjects") or []:
        kind = str(subject.get("objectTypeName", "")).lower()
        oid = str(subject.get("objectId", "")).lower()
        if kind not in ("user", "group") or not oid:
            raise OnDemandError(400, "BadRequest", "Each subject needs an objectId and objectTypeName User or Group.")
        subjects.append((kind, oid))
    if not subjects:
        raise OnDemandError(400, "BadRequest", "No subject to provision.")
    return subjects


_SKIP_TEXTS = {"RedundantExport": "The state of the user in both the source and target systems already match.",
               "NotEffectivelyEntitled": "The user is not in scope for provisioning: not assigned to the "
                                         "application, or not active."}


def provision_on_demand(world, sp_id: str, job_id: str, body: dict, *, at: datetime | None = None) -> dict:
    """provisionOnDemand: provision one user (or one group, with the member users named after it) now and return
    Graph's stringKeyStringValuePair. It runs whatever the job's state (paused included), like Entra's."""
    with world.lock:
        job = _job(world, sp_id, job_id)
        subjects = _subjects(world, job_id, job, body)
        graph = world.graph
        for kind, oid in subjects:
            found = (graph.users.get(oid) or graph.deleted_users.get(oid)) if kind == "user" else graph.groups.get(oid)
            if found is None:
                raise OnDemandError(404, "Request_ResourceNotFound", f"Resource '{oid}' does not exist.")
        start = at or _now(world)
        conn = connection(world, sp_id)
        people = live_population(world, sp_id, conn.sync_all)
        cycle = new_cycle(world, sp_id, job_id, job, bearer=conn.token, at=start, end_by=None, expected=0,
                          on_demand=True)
        refused = _refusal(world, conn.base_address, conn.token, start)
        kind, oid = subjects[0]
        subject = (people.user(oid) if kind == "user" else people.group(oid)) or {}
        reportable = subject.get("userPrincipalName") or subject.get("displayName") or oid
        try:
            log = None if refused else _demand(cycle, people, subjects)
        except CredentialsRefused as exc:
            refused = CREDENTIAL_ERROR, credential_message(conn.base_address, exc.body, probe_user_name(world))
        if refused:
            result = _refused_result(cycle, kind, oid, reportable, refused, start)
            cycle.flush()
            return result
        cycle.flush()
        skip_step = next((s for s in log["provisioningSteps"] if s["name"] == "EntrySynchronizationSkip"), None)
        skip = None
        if skip_step:
            reason = skip_step["details"].get("SkipReason", "")
            skip = (reason, _SKIP_TEXTS.get(reason, skip_step["description"]))
        return logs.on_demand_result(log, started=start, ended=cycle.clock.now, reportable=reportable, skip=skip)


def _demand(cycle: Cycle, people: Population, subjects: list[tuple[str, str]]) -> dict:
    scope = people.scope
    kind, oid = subjects[0]
    if kind == "user":
        user = people.user(oid)
        enabled = bool(user and user.get("accountEnabled", True) is not False)
        return cycle.sync_user(oid, user, in_scope=oid in scope.users, deleted=oid in people.deleted,
                               enabled=enabled, force=True)
    # A group: the member users named after it first (Entra provisions up to five with the group), then the group.
    members = scope.members.get(oid, [])
    for member_kind, member in subjects[1:]:
        if member_kind == "user" and member in members:
            user = people.user(member)
            cycle.sync_user(member, user, in_scope=True, deleted=member in people.deleted,
                            enabled=bool(user and user.get("accountEnabled", True) is not False), force=True)
    log = cycle.sync_group(oid, people.group(oid), members, in_scope=oid in scope.groups, force=True)
    if log is None:  # neither in scope nor ever provisioned: nothing to do, say so
        group = people.group(oid) or {}
        rid = group.get("displayName") or oid
        at = cycle.clock.tick()
        steps = [logs.import_step("Group", rid, "Add"), logs.scoping_step("Group", active=True, assigned=False),
                 logs.skip_step("Group", rid, "NotEffectivelyEntitled", "it is not assigned to the application")]
        log = cycle.log(at, "Group", {"id": oid, "displayName": group.get("displayName") or ""}, None, None,
                        "other", "skipped", steps, [], None)
    return log


def _refused_result(cycle: Cycle, kind: str, oid: str, reportable: str, refused: tuple[str, str],
                    at: datetime) -> dict:
    label = "User" if kind == "user" else "Group"
    steps = [logs.import_step(label, reportable, "Add"),
             logs.step("EntryExportAdd", "export", "failure", f"Failed to reach {cycle.info.target_name}")]
    error = {"errorCode": refused[0], "reason": refused[1], "additionalDetails": None,
             "errorCategory": "nonServiceFailure", "recommendedAction": None}
    log = cycle.log(at, label, {"id": oid, "displayName": ""}, None, None, "other", "failure", steps, [], error)
    return logs.on_demand_result(log, started=at, ended=at, reportable=reportable)

