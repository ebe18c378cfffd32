"""PIM for Groups in the Graph emulator: the scenario's `entra.pim_groups` seeded as Graph's
privilegedAccessGroup{Eligibility,Assignment}Schedule(Instance) objects, and the four v1.0 list endpoints under
/identityGovernance/privilegedAccess/group.

Shapes follow the reference examples (tests/contract/fixtures/graph/pim_group_list_*.json): enums written as the
examples write them ("Direct", "Assigned", "Provisioned"), a permanent assignment instance with null start and end.
What Graph lists is what is in force or still to come: an activation that has ended is no longer served as a
schedule or an instance (the emulator drops it; the scenario may still say its membership lingers in Identity
Center). The assignment schedule requests keep the history: every `active` entry of the scenario, ended or not,
is served as the request that made it (selfActivate with the duration asked for, the create example's shape,
tests/contract/fixtures/graph/pim_group_list_assignmentschedulerequests_selfactivate.json; adminAssign for an
assigned one), and an entry with `deactivated` adds the selfDeactivate request that ended it early.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from idbridge.sandbox.graph.core import Call, Router, collection
from idbridge.sandbox.graph.errors import bad_request
from idbridge.sandbox.graph.odata import Resource
from idbridge.sandbox.graph.store import GraphStore, Json
from idbridge.sandbox.scenario import PimActive, PimMembership, Scenario, stable_id
from idbridge.sandbox.timeexpr import graph_time, resolve_time

LISTS = ("eligibilitySchedules", "assignmentSchedules", "eligibilityScheduleInstances", "assignmentScheduleInstances",
         "assignmentScheduleRequests")
_COMMON = {"id", "accessId", "groupId", "principalId", "memberType"}
_SCHEDULE = _COMMON | {"scheduleInfo", "createdUsing", "createdDateTime", "modifiedDateTime", "status"}
_INSTANCE = _COMMON | {"startDateTime", "endDateTime"}
RESOURCES = {
    "eligibilitySchedules": Resource("privilegedAccessGroupEligibilitySchedule", frozenset(_SCHEDULE),
                                     orderable=frozenset()),
    "assignmentSchedules": Resource("privilegedAccessGroupAssignmentSchedule",
                                    frozenset(_SCHEDULE | {"assignmentType"}), orderable=frozenset()),
    "eligibilityScheduleInstances": Resource("privilegedAccessGroupEligibilityScheduleInstance",
                                             frozenset(_INSTANCE | {"eligibilityScheduleId"}), orderable=frozenset()),
    "assignmentScheduleInstances": Resource("privilegedAccessGroupAssignmentScheduleInstance",
                                            frozenset(_INSTANCE | {"assignmentType", "assignmentScheduleId"}),
                                            orderable=frozenset()),
    "assignmentScheduleRequests": Resource(
        "privilegedAccessGroupAssignmentScheduleRequest",
        frozenset({"id", "status", "completedDateTime", "createdDateTime", "approvalId", "customData", "createdBy",
                   "action", "isValidationOnly", "justification", "scheduleInfo", "ticketInfo", "principalId",
                   "accessId", "groupId", "targetScheduleId"}), orderable=frozenset()),
}


def _window(item: PimMembership, now: datetime) -> tuple[datetime, datetime | None]:
    """When the membership began and ended (an early deactivation ends it then), None when it never ends."""
    deactivated = getattr(item, "deactivated", None)
    if deactivated:
        return resolve_time(item.start, now), resolve_time(deactivated, now)
    return resolve_time(item.start, now), (resolve_time(item.end, now) if item.end else None)


def iso_duration(length: timedelta) -> str:
    """ISO 8601 duration as Graph writes it in expiration.duration: PT4H, PT30M, PT1H30M."""
    minutes = int(length.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


def _requests(tid: str, gid: str, uid: str, entry: PimActive, schedule_id: str, now: datetime) -> list[Json]:
    """The requests that made (and ended early) one active entry, as the list serves them."""
    start = resolve_time(entry.start, now)
    end = resolve_time(entry.end, now) if entry.end else None
    activated = entry.type == "activated"
    if end is None:
        expiration = {"type": "noExpiration", "endDateTime": None, "duration": None}
    elif activated:
        expiration = {"type": "afterDuration", "endDateTime": None,
                      "duration": iso_duration(end - start)}
    else:
        expiration = {"type": "afterDateTime", "endDateTime": graph_time(end), "duration": None}

    def request(rid: str, action: str, at: datetime, status: str, info: Json | None, justification: str) -> Json:
        return {"id": rid, "status": status, "completedDateTime": graph_time(at + timedelta(seconds=2)),
                "createdDateTime": graph_time(at), "approvalId": None, "customData": None,
                "createdBy": {"user": {"id": uid}}, "action": action, "isValidationOnly": False,
                "justification": justification, "scheduleInfo": info,
                "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
                "principalId": uid, "accessId": "member", "groupId": gid, "targetScheduleId": schedule_id}

    made = request(stable_id(tid, "pim-request", schedule_id), "selfActivate" if activated else "adminAssign",
                   start, "Provisioned", {"startDateTime": graph_time(start), "recurrence": None,
                                          "expiration": expiration},
                   "Activate assignment." if activated else "Assign active member access.")
    if not entry.deactivated:
        return [made]
    # A deactivation is posted with no scheduleInfo (the create page marks it optional). Its status is not
    # documented (no example): "Revoked", one of the request statuses, is what the emulator answers.
    at = resolve_time(entry.deactivated, now)
    return [made, request(stable_id(tid, "pim-request-deactivate", schedule_id), "selfDeactivate", at, "Revoked",
                          None, "Done.")]


def is_current(item: PimMembership, now: datetime) -> bool:
    start, end = _window(item, now)
    return start <= now and (end is None or end > now)


def seed_pim(store: GraphStore, scenario: Scenario, now: datetime, user_ids: dict[str, str],
             group_ids: dict[str, str]) -> None:
    """Fill store.pim from the scenario and make every current active membership a direct member of its group
    (PIM adds and removes the membership in the directory; that is what provisioning sees)."""
    tid = scenario.tenant.id
    for pim in scenario.entra.pim_groups:
        gid = group_ids[pim.group]
        for kind, entries in (("eligibility", pim.eligible), ("assignment", pim.active)):
            for entry in entries:
                start, end = _window(entry, now)
                uid = user_ids[entry.user.lower()]
                schedule_id = f"{gid}_member_{stable_id(tid, 'pim', kind, gid, uid, entry.start)}"
                # A permanent assignment Graph shows with createdUsing null (the reference example): no request
                # made it. Every other active entry began with one.
                if kind == "assignment" and start <= now and not (entry.type == "assigned" and entry.end is None):
                    store.pim["assignmentScheduleRequests"] += _requests(tid, gid, uid, entry, schedule_id, now)
                if end is not None and end <= now:
                    continue  # ended: Graph lists its schedule and instance no more, only its requests
                common = {"accessId": "member", "principalId": uid, "groupId": gid,
                          "memberType": entry.member_type.capitalize()}
                extra = {"assignmentType": entry.type.capitalize()} if kind == "assignment" else {}
                permanent = end is None
                store.pim[f"{kind}Schedules"].append({
                    "id": schedule_id,
                    "scheduleInfo": {"startDateTime": graph_time(start), "recurrence": None,
                                     "expiration": {"type": "noExpiration" if permanent else "afterDateTime",
                                                    "endDateTime": None if permanent else graph_time(end),
                                                    "duration": None}},
                    "createdUsing": None if permanent else stable_id(tid, "pim-request", schedule_id),
                    "createdDateTime": graph_time(start), "modifiedDateTime": None, "status": "Provisioned",
                    **common, **extra})
                if start > now:
                    continue  # scheduled for later: a schedule, no instance yet
                instance = {"id": schedule_id, **common,
                            # Graph's example shows a permanent assignment instance with null start and end.
                            "startDateTime": None if permanent and kind == "assignment" else graph_time(start),
                            "endDateTime": None if permanent else graph_time(end), **extra,
                            f"{kind}ScheduleId": schedule_id}
                store.pim[f"{kind}ScheduleInstances"].append(instance)
                if kind == "assignment":
                    members = store.direct_members.setdefault(gid, [])
                    if uid in store.users and uid not in members:
                        members.append(uid)


def _list(call: Call, name: str) -> Json:
    # "This method requires the $filter (eq) query parameter to scope the request to a principalId or a groupId."
    text = call.args.get("$filter", "")
    if "groupid eq" not in text.lower() and "principalid eq" not in text.lower():
        raise bad_request(f"The request for {name} must have a $filter on groupId or principalId (eq).")
    return collection(call, list(call.store.pim[name]), RESOURCES[name],
                      f"identityGovernance/privilegedAccess/group/{name}")


def register(router: Router) -> None:
    for name in LISTS:
        router.add(rf"/identityGovernance/privilegedAccess/group/{name}",
                   GET=lambda call, name=name: _list(call, name))
