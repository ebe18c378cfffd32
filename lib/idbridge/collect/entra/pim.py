"""Privileged Identity Management (PIM) for Groups: the eligibility and assignment schedules, their instances, and
the assignment schedule requests, of the groups assigned to the AWS app and of the groups nested in them (source
entra.pim_groups).

Graph v1.0, /identityGovernance/privilegedAccess/group/{eligibilitySchedules, assignmentSchedules,
eligibilityScheduleInstances, assignmentScheduleInstances, assignmentScheduleRequests}. Each list *requires*
$filter (eq) on groupId or principalId (privilegedaccessgroup-list-*.md, "Query parameters"), so there is one
request per group and list. Least permissions (application): PrivilegedEligibilitySchedule.Read.AzureADGroup for
the eligibility lists, PrivilegedAssignmentSchedule.Read.AzureADGroup for the assignment lists and the requests.
PIM needs Entra ID P2 or ID Governance.

Why nested groups too: a PIM-managed group nested in an assigned group is a classic trap (its members are never
provisioned: Entra does not flatten nesting), and the check that says so needs to know the group is PIM-managed.

A schedule carries its window in scheduleInfo (startDateTime, expiration.type/endDateTime); an instance carries
startDateTime / endDateTime itself. Graph's examples write memberType and assignmentType capitalised ("Direct",
"Assigned") while the enums are lower camel case ("direct", "activated"): the tables keep the enum's spelling.

Schedules and instances list only what is in force or still to come: an activation that has ended is gone from
both. The assignment schedule requests are the record of activations (selfActivate), early ends (selfDeactivate,
adminRemove) and admin assignments, each with the scheduleInfo asked for (an activation usually as afterDuration,
"PT4H"); model/pim.py derives the activation windows from them. Graph documents no retention for these requests
(neither the resource page nor the list page says how long they are kept), so the table holds what Graph still
returns, cut to the collection window (collection.window_days): requests created in it, and older ones whose
schedule reaches into it or never ends.
"""

from __future__ import annotations

import asyncio

import pandas as pd

from idbridge.clients.graph.paging import GraphSourceError, read_all
from idbridge.clients.graph.raw import odata_error_code
from idbridge.collect.context import CollectContext, Partial
from idbridge.collect.entra.frames import columns_of, dig, frame

BASE = "/identityGovernance/privilegedAccess/group"
# list -> (kind, table, permission it needs)
LISTS = {
    "eligibilitySchedules": ("eligibility", "entra_pim_schedules", "PrivilegedEligibilitySchedule.Read.AzureADGroup"),
    "assignmentSchedules": ("assignment", "entra_pim_schedules", "PrivilegedAssignmentSchedule.Read.AzureADGroup"),
    "eligibilityScheduleInstances": ("eligibility", "entra_pim_instances",
                                     "PrivilegedEligibilitySchedule.Read.AzureADGroup"),
    "assignmentScheduleInstances": ("assignment", "entra_pim_instances",
                                    "PrivilegedAssignmentSchedule.Read.AzureADGroup"),
    "assignmentScheduleRequests": ("request", "entra_pim_requests", "PrivilegedAssignmentSchedule.Read.AzureADGroup"),
}
NOT_LICENSED_HINT = "PIM for Groups needs Entra ID P2 or Microsoft Entra ID Governance"


def _enum(value):
    """"Direct" -> "direct", "Activated" -> "activated" (the enum's own spelling); None stays None."""
    return value[:1].lower() + value[1:] if isinstance(value, str) and value else None


def pim_groups_in_scope(assignments: pd.DataFrame, members: pd.DataFrame | None) -> list[str]:
    """The groups assigned to the app, then the groups nested in them (transitive members of type group)."""
    groups = list(dict.fromkeys(assignments.loc[assignments["principalType"] == "Group", "principalId"]))
    if members is not None and len(members):
        nested = members[(members["memberType"] == "group") & (members["relation"] == "transitive")]
        groups += [g for g in dict.fromkeys(nested["memberId"]) if g not in groups]
    return [str(g) for g in groups]


def schedules_frame(items: list[tuple[str, dict]]) -> pd.DataFrame:
    """entra_pim_schedules from (kind, privilegedAccessGroup{Eligibility,Assignment}Schedule) pairs."""
    rows = [{**item, "_kind": kind} for kind, item in items]
    info = ("scheduleInfo",)
    return frame("entra_pim_schedules", rows, times=("startDateTime", "endDateTime", "createdDateTime"), derived={
        "kind": lambda i: i["_kind"],
        "memberType": lambda i: _enum(i.get("memberType")),
        "assignmentType": lambda i: _enum(i.get("assignmentType")),
        "startDateTime": lambda i: dig(i, *info, "startDateTime"),
        "endDateTime": lambda i: dig(i, *info, "expiration", "endDateTime"),
        "expirationType": lambda i: dig(i, *info, "expiration", "type"),
    })


def instances_frame(items: list[tuple[str, dict]]) -> pd.DataFrame:
    """entra_pim_instances from (kind, privilegedAccessGroup{Eligibility,Assignment}ScheduleInstance) pairs."""
    rows = [{**item, "_kind": kind} for kind, item in items]
    return frame("entra_pim_instances", rows, times=("startDateTime", "endDateTime"), derived={
        "kind": lambda i: i["_kind"],
        "memberType": lambda i: _enum(i.get("memberType")),
        "assignmentType": lambda i: _enum(i.get("assignmentType")),
        "scheduleId": lambda i: i.get("eligibilityScheduleId") or i.get("assignmentScheduleId"),
    })


def requests_frame(items: list[dict], since=None) -> pd.DataFrame:
    """entra_pim_requests from privilegedAccessGroupAssignmentScheduleRequest objects. With `since` (a UTC
    datetime), only the requests that matter from then on: created since, or whose schedule ends since or never."""
    info = ("scheduleInfo",)
    table = frame("entra_pim_requests", items,
                  times=("createdDateTime", "completedDateTime", "startDateTime", "endDateTime"), derived={
                      "startDateTime": lambda i: dig(i, *info, "startDateTime"),
                      "expirationType": lambda i: dig(i, *info, "expiration", "type"),
                      "endDateTime": lambda i: dig(i, *info, "expiration", "endDateTime"),
                      "duration": lambda i: dig(i, *info, "expiration", "duration"),
                  })
    if since is None or table.empty:
        return table
    created = pd.to_datetime(table["createdDateTime"], utc=True, errors="coerce")
    start = pd.to_datetime(table["startDateTime"], utc=True, errors="coerce")
    end = pd.to_datetime(table["endDateTime"], utc=True, errors="coerce")
    lasting = pd.to_timedelta(table["duration"], errors="coerce")  # ISO 8601 ("PT4H")
    end = end.fillna(start.fillna(created) + lasting)
    open_ended = table["expirationType"].eq("noExpiration").to_numpy()
    since_ts = pd.Timestamp(since)
    since_ts = since_ts.tz_localize("UTC") if since_ts.tzinfo is None else since_ts.tz_convert("UTC")
    keep = (created >= since_ts).to_numpy() | (end >= since_ts).to_numpy() | open_ended
    return table[keep].reset_index(drop=True)


async def collect_pim_groups(ctx: CollectContext):
    assignments = ctx.needs("entra.app_assignments")["entra_app_role_assignments"]
    members = ctx.needs("entra.group_members")["entra_group_members"]
    groups = pim_groups_in_scope(assignments, members)
    requests = [(group, name) for group in groups for name in LISTS]

    async def one(group: str, name: str):
        items = await read_all(ctx.graph_adapter, f"{BASE}/{name}", params={"$filter": f"groupId eq '{group}'"})
        ctx.progress("entra.pim_groups", len(items))
        return items

    results = await asyncio.gather(*(one(g, n) for g, n in requests), return_exceptions=True)
    collected: dict[str, list[tuple[str, dict]]] = {"entra_pim_schedules": [], "entra_pim_instances": [],
                                                    "entra_pim_requests": []}
    failed: list[tuple[str, str, tuple]] = []
    for (group, name), result in zip(requests, results):
        kind, table, _ = LISTS[name]
        if isinstance(result, BaseException):
            status, code, message = odata_error_code(result)
            if status == 404:  # the group was deleted since the assignments were read
                continue
            failed.append((group, name, (status, code, message)))
            continue
        collected[table] += [(kind, item) for item in result]
    tables = {"entra_pim_schedules": schedules_frame(collected["entra_pim_schedules"]),
              "entra_pim_instances": instances_frame(collected["entra_pim_instances"]),
              "entra_pim_requests": requests_frame([item for _, item in collected["entra_pim_requests"]],
                                                   since=ctx.window_start)}
    for name, table in tables.items():
        assert tuple(table.columns) == columns_of(name)
    if not failed:
        return tables
    group, name, (status, code, message) = failed[0]
    permission = LISTS[name][2]
    why = (f"{len(failed)} of {len(requests)} PIM reads failed, e.g. {name} of group {group}: {status} {code}: "
           f"{message} (needs {permission}; {NOT_LICENSED_HINT})")
    if len(failed) == len(requests):
        raise GraphSourceError(why, status, code)
    return Partial(tables, why)
