"""Entra ID collectors: one async function per Entra source of catalogue.SOURCES, and ENTRA_COLLECTORS, the
registry the collection runner reads (source -> (function, sources it needs)).

Every read is raw JSON through msgraph-sdk's request adapter (clients.graph_raw): typed models cost milliseconds
an object, json.loads microseconds. Requests $select only what the tables need and ask for the largest page
Graph allows, where the Graph reference documents those options for the endpoint (the audit-log and
registration-details endpoints document no $select, so none is sent there).

Graph versions: everything is read from v1.0 except two things Graph serves only on /beta: the app's SAML
claims policy (customClaimsPolicy) and sign-ins (for authenticationRequirement, absent from v1.0 signIn).

Table conventions (see entra_frames): date-times are ISO-8601 UTC text to the second ("2026-03-01T12:00:00Z"),
multi-valued properties are Python lists, nested objects kept whole are JSON text in `_json` columns.

Call counting: the runner counts top-level HTTP requests; sub-requests inside a $batch are counted here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from idbridge.clients.graph.batch import list_in_batches
from idbridge.clients.graph.pacer import reports_pacer
from idbridge.clients.graph.paging import GraphSourceError, get_with_retries, read_all
from idbridge.clients.graph.raw import odata_error_code
from idbridge.collect.context import CollectContext, Partial
from idbridge.collect.entra import delta
from idbridge.collect.entra.app import app_tables, find_application, find_service_principal, read_key_credentials
from idbridge.collect.entra.frames import columns_of, dig, frame, row_of
from idbridge.collect.entra.pim import collect_pim_groups
from idbridge.collect.entra.sync import (jobs_frame, mapping_rows, mappings_frame, object_mapping_rows,
                                        object_mappings_frame)

PAGE = "999"                   # directory objects: Graph's largest page
MEMBER_PAGE = "999"            # group members and transitive members (a constant of its own for tests)
SIGN_IN_ACTIVITY_PAGE = "120"  # /users with signInActivity: Graph serves at most 120 a page (user-list docs)
AUDIT_PAGE = "1000"            # sign-in and provisioning logs: largest page
LICENCE_ERROR = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def _progress(ctx: CollectContext, source: str) -> Callable[[int], None]:
    return lambda n: ctx.progress(source, n)


def _select(table: str, *, drop: tuple[str, ...] = ()) -> str:
    return ",".join(c for c in columns_of(table) if c not in drop)


def _graph_time(moment: datetime) -> str:
    """A DateTimeOffset literal for $filter (no quotes in OData)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _beta(adapter, path: str) -> str:
    """An absolute /beta URL on the adapter's Graph host (the adapter is aimed at /v1.0)."""
    base = adapter.base_url.rstrip("/")
    root = base.rsplit("/", 1)[0] if base.endswith(("/v1.0", "/beta")) else base
    return f"{root}/beta/{path.lstrip('/')}"


def _sp(ctx: CollectContext) -> dict:
    """id and appId of the app's service principal, from the entra.app tables."""
    row = ctx.needs("entra.app")["entra_service_principal"].iloc[0]
    return {"id": str(row["id"]), "appId": str(row["appId"])}


def _licence_error(exc: BaseException) -> bool:
    status, code, message = odata_error_code(exc)
    return code == LICENCE_ERROR or (status == 403 and "premium" in message.lower())


async def _licensed(what: str, read):
    """Await `read`; Graph's licence error (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant, which a
    tenant without Entra ID P1/P2 gets for signInActivity, sign-in logs and the registration report) becomes a
    source error that says which licence is missing, so the run reports "not collected: needs P1/P2"."""
    try:
        return await read
    except Exception as exc:
        if not _licence_error(exc):
            raise
        status, code, message = odata_error_code(exc)
        raise GraphSourceError(f"{what} needs an Entra ID P1/P2 licence; Graph answered: {message}",
                               status, code) from exc


# ------------------------------------------------------------------------------------------------ directory


async def collect_tenant(ctx: CollectContext):
    items = await read_all(ctx.graph_adapter, "/organization", params={"$select": "id,displayName,verifiedDomains"},
                           progress=_progress(ctx, "entra.tenant"))
    return {"entra_tenant": frame("entra_tenant", items, derived={
        "verifiedDomains": lambda i: [d.get("name") for d in i.get("verifiedDomains") or []],
    })}


def users_frame(items: list[dict]):
    return frame("entra_users", items, times=("createdDateTime",))


async def _objects(ctx: CollectContext, source: str, table: str, path: str, delta_path: str, select: str, build,
                   columns):
    """A directory list read whole, or (collection.incremental, a usable delta link) as its delta query's changes
    applied to the previous snapshot's rows: either way `build` makes the table. Both paths are given as written
    (tests/contract/test_inventory.py finds every Graph path in the code's literals)."""
    async def full():
        return {table: build(await read_all(ctx.graph_adapter, path, params={"$select": select, "$top": PAGE},
                                            progress=_progress(ctx, source)))}

    async def apply(items, previous):
        return {table: delta.apply_to_table(previous, items, columns, build)}

    return await delta.tracked(ctx, source, delta_path, select, apply, full, previous_table=table)


async def collect_users(ctx: CollectContext):
    return await _objects(ctx, "entra.users", "entra_users", "/users", "/users/delta", _select("entra_users"),
                          users_frame, columns_of("entra_users"))


async def collect_sign_in_activity(ctx: CollectContext):
    """Last sign-ins per user. A source of its own: signInActivity needs Entra ID P1/P2 (and AuditLog.Read.All),
    and a tenant without them must still get its users collected."""
    items = await _licensed("signInActivity", read_all(
        ctx.graph_adapter, "/users", params={"$select": "id,signInActivity", "$top": SIGN_IN_ACTIVITY_PAGE},
        progress=_progress(ctx, "entra.sign_in_activity")))
    return {"entra_sign_in_activity": sign_in_activity_frame(items)}


def sign_in_activity_frame(items: list[dict]):
    """entra_sign_in_activity from /users?$select=id,signInActivity items. "No such sign-in" arrives as
    0001-01-01T00:00:00Z (kept; the model reads it as none) or "" (read as missing)."""
    names = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime")
    return frame("entra_sign_in_activity", items, times=names, derived={
        name: (lambda i, name=name: dig(i, "signInActivity", name)) for name in names
    })


def groups_frame(items: list[dict]):
    return frame("entra_groups", items, times=("createdDateTime",), derived={
        "isDynamic": lambda i: "DynamicMembership" in (i.get("groupTypes") or []),
    })


async def collect_groups(ctx: CollectContext):
    select = _select("entra_groups", drop=("isDynamic",))  # isDynamic is derived from groupTypes
    return await _objects(ctx, "entra.groups", "entra_groups", "/groups", "/groups/delta", select, groups_frame,
                          select.split(","))


# ------------------------------------------------------------------------------------------------ the app


async def collect_app(ctx: CollectContext):
    adapter = ctx.graph_adapter
    app = ctx.params.app
    sp = await find_service_principal(adapter, app.app_id, app.display_name)
    ctx.progress("entra.app", 1)
    application, claims, keys = await asyncio.gather(find_application(adapter, sp["appId"]),
                                                     _read_claims(adapter, sp["id"]),
                                                     read_key_credentials(adapter, sp["id"]), return_exceptions=True)
    if isinstance(application, BaseException):
        raise application
    errors = []
    if isinstance(claims, BaseException):
        status, code, message = odata_error_code(claims)
        if status != 404:
            errors.append(f"claims policy not read: {' '.join(str(p) for p in (status, code) if p)}: {message}")
        claims = None
    if isinstance(keys, BaseException):
        # The list read's keyCredentials stay (without certificates): thumbprints only where customKeyIdentifier
        # holds one.
        status, code, message = odata_error_code(keys)
        errors.append("signing certificates not read ($select=keyCredentials): "
                      f"{' '.join(str(p) for p in (status, code) if p)}: {message}")
    else:
        sp = {**sp, "keyCredentials": keys}
    tables = app_tables(sp, application, claims)
    return Partial(tables, "; ".join(errors)) if errors else tables


async def _read_claims(adapter, sp_id: str) -> dict:
    """The SAML claims (NameID and the rest) as the portal configures them: Graph serves this customClaimsPolicy
    on /beta only. An app without one answers 404."""
    return await get_with_retries(adapter, _beta(adapter, f"/servicePrincipals/{sp_id}/claimsPolicy"))


async def collect_app_assignments(ctx: CollectContext):
    sp = _sp(ctx)
    if ctx.params.collection.incremental:
        delta.note(ctx, "entra.app_assignments", "full", "Graph has no delta query for appRoleAssignedTo: the "
                                                         "app's assignments are read whole")
    items = await read_all(ctx.graph_adapter, f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                           params={"$select": _select("entra_app_role_assignments"), "$top": PAGE},
                           progress=_progress(ctx, "entra.app_assignments"))
    return {"entra_app_role_assignments": frame("entra_app_role_assignments", items, times=("createdDateTime",))}


def _member_type(item: dict) -> str | None:
    odata_type = item.get("@odata.type")
    return odata_type.rsplit(".", 1)[-1] if odata_type else None


def _assigned_groups(assignments) -> list[str]:
    return list(dict.fromkeys(assignments.loc[assignments["principalType"] == "Group", "principalId"]))


async def _read_members(ctx: CollectContext, groups: list[str]) -> tuple[dict[str, list], dict, int]:
    """Direct and transitive members of `groups` through $batch: table rows, failed listings (404s left out: a
    group deleted since the assignments were read is simply gone) and the number of listings."""
    urls = {}
    for group in groups:
        urls[(group, "direct")] = f"/groups/{group}/members?$select=id&$top={MEMBER_PAGE}"
        urls[(group, "transitive")] = f"/groups/{group}/transitiveMembers?$select=id&$top={MEMBER_PAGE}"
    result = await list_in_batches(ctx.graph_adapter, urls, count=ctx.calls.add_graph,
                                   progress=_progress(ctx, "entra.group_members"))
    rows = {"groupId": [], "memberId": [], "memberType": [], "relation": []}
    for (group, relation), items in result.items.items():
        for item in items:
            rows["groupId"].append(group)
            rows["memberId"].append(item.get("id"))
            rows["memberType"].append(_member_type(item))
            rows["relation"].append(relation)
    failed = {key: error for key, error in result.errors.items() if error[0] != 404}
    return rows, failed, len(urls)


def _members_result(rows, failed: dict, listings: int):
    """rows: a frame, or column -> values."""
    if not isinstance(rows, pd.DataFrame):
        rows = pd.DataFrame(rows, columns=list(columns_of("entra_group_members")))
    tables = {"entra_group_members": rows}
    if not failed:
        return tables
    (group, relation), (status, code, message) = next(iter(failed.items()))
    summary = f"{len(failed)} of {listings} member listings failed, e.g. {relation} members of group {group}: " \
              f"{status} {code}: {message}"
    if len(failed) == listings:
        raise GraphSourceError(summary, status, code)
    return Partial(tables, summary)


async def collect_group_members(ctx: CollectContext):
    """Direct and transitive members of every group assigned to the app, through $batch. A direct member is in
    both relations, so "transitive minus direct" (who Entra will not provision) is a set difference."""
    groups = _assigned_groups(ctx.needs("entra.app_assignments")["entra_app_role_assignments"])

    async def full():
        return _members_result(*await _read_members(ctx, groups))

    async def apply(items, rows):
        changed, events = delta.changed_groups(items)
        previous = ctx.previous
        if str(previous.table("entra_service_principal")["id"].iloc[0]) != _sp(ctx)["id"]:
            raise delta.NotUnderstood("the app's service principal is not the previous snapshot's")
        before = set(_assigned_groups(previous.table("entra_app_role_assignments")))
        nested = rows[(rows["relation"] == "transitive") & (rows["memberType"] == "group")]
        closure = {group: {group} for group in before}
        for group, member in zip(nested["groupId"], nested["memberId"]):
            closure.setdefault(group, {group}).add(str(member))
        entries = delta.member_changes(items)
        # Each group's previous rows by position, found once (not one scan of the table per group).
        positions = rows.groupby(rows["groupId"], sort=False).indices if len(rows) else {}
        member_ids = rows["memberId"].to_numpy()
        none = np.empty(0, dtype=np.int64)
        patched = {}
        for group in groups:
            if group in before and closure.get(group, {group}) == {group} and group in entries:
                mine = positions.get(group, none)
                result = delta.patch_flat_group(member_ids[mine].tolist(), mine, group, entries[group], _member_type)
                if result is not None:
                    patched[group] = result
        again = [g for g in groups if g not in patched and (g not in before or closure.get(g, {g}) & changed)]
        keep = [positions[g] for g in groups if g in before and g not in again and g not in patched and g in positions]
        keep += [kept_of for kept_of, _ in patched.values()]
        kept = rows.iloc[np.sort(np.concatenate(keep))] if keep else rows.iloc[none]
        fresh, failed, listings = await _read_members(ctx, again) if again else ({}, {}, 0)
        columns = list(columns_of("entra_group_members"))
        added = [row for _, new in patched.values() for row in new]
        extra = {c: [row[c] for row in added] + list(fresh.get(c, ())) for c in columns}
        merged = pd.concat([kept, pd.DataFrame(extra, columns=columns)], ignore_index=True) if extra["groupId"] \
            else kept.reset_index(drop=True)
        delta.note(ctx, "entra.group_members", "delta",
                   f"{len(changed)} groups changed membership since {previous.manifest.get('collected_at')}: "
                   f"{len(patched)} of {len(groups)} assigned groups patched from the changes, {len(again)} read "
                   "again", events)
        return _members_result(merged, failed, listings)

    return await delta.tracked(ctx, "entra.group_members", "/groups/delta", "members", apply, full,
                               needs=MEMBERS_NEEDS, previous_table="entra_group_members")


MEMBERS_NEEDS = ("entra.app_assignments", "entra.app")
# The membership round needs nothing of the app or its assignments (only applying it does): read while they are.
collect_group_members.before_needs = lambda ctx: delta.early_round(ctx, "entra.group_members", "members",
                                                                   needs=MEMBERS_NEEDS)


# ------------------------------------------------------------------------------------------------ provisioning


async def collect_provisioning(ctx: CollectContext):
    adapter = ctx.graph_adapter
    base = f"/servicePrincipals/{_sp(ctx)['id']}/synchronization/jobs"
    jobs = await read_all(adapter, base)
    ctx.progress("entra.provisioning", len(jobs))
    schemas = await asyncio.gather(*(get_with_retries(adapter, f"{base}/{job['id']}/schema") for job in jobs))
    rows = [row for job, schema in zip(jobs, schemas) for row in mapping_rows(job["id"], schema or {})]
    objects = [row for job, schema in zip(jobs, schemas) for row in object_mapping_rows(job["id"], schema or {})]
    return {"entra_sync_jobs": jobs_frame(jobs), "entra_sync_mappings": mappings_frame(rows),
            "entra_sync_object_mappings": object_mappings_frame(objects)}


def provisioning_action(item: dict) -> str | None:
    """A provisioning log entry's action: v1.0's provisioningAction, else beta's deprecated `action` ("Create")
    in provisioningAction's spelling ("create")."""
    value = item.get("provisioningAction") or item.get("action")
    if not isinstance(value, str) or not value:
        return None
    return value[0].lower() + value[1:]


def provisioning_frame(items: list[dict]):
    """entra_provisioning_logs from /auditLogs/provisioning items (v1.0 or beta)."""
    error = ("provisioningStatusInfo", "errorInformation")
    return frame("entra_provisioning_logs", items, times=("activityDateTime",), derived={
        # v1.0 names the action provisioningAction (create|update|delete|disable|stagedDelete|other); `action` is
        # beta's old name and v1.0 does not send it. Both columns hold the same word, provisioningAction's first.
        "provisioningAction": provisioning_action,
        "action": provisioning_action,
        "status": lambda i: dig(i, "provisioningStatusInfo", "status"),
        "errorCode": lambda i: dig(i, *error, "errorCode"),
        "errorReason": lambda i: dig(i, *error, "reason"),
        "errorCategory": lambda i: dig(i, *error, "errorCategory"),
        "sourceId": lambda i: dig(i, "sourceIdentity", "id"),
        "sourceDisplayName": lambda i: dig(i, "sourceIdentity", "displayName"),
        "sourceType": lambda i: dig(i, "sourceIdentity", "identityType"),
        "targetId": lambda i: dig(i, "targetIdentity", "id"),
        "targetDisplayName": lambda i: dig(i, "targetIdentity", "displayName"),
        "targetType": lambda i: dig(i, "targetIdentity", "identityType"),
    })


async def collect_provisioning_logs(ctx: CollectContext):
    """The app's provisioning log in the window. Paced: /auditLogs is limited to 5 requests / 10 s per app.
    The endpoint documents eq, contains, gt and lt (no ge): "gt a second before the start" includes the start."""
    adapter = ctx.graph_adapter
    since = _graph_time(ctx.window_start - timedelta(seconds=1))
    query = f"servicePrincipal/id eq '{_sp(ctx)['id']}' and activityDateTime gt {since}"
    items = await read_all(adapter, "/auditLogs/provisioning", params={"$filter": query, "$top": AUDIT_PAGE},
                           before=reports_pacer(adapter).wait, progress=_progress(ctx, "entra.provisioning_logs"))
    return {"entra_provisioning_logs": provisioning_frame(items)}


# ------------------------------------------------------------------------------------------------ sign-ins, policy


async def collect_sign_ins(ctx: CollectContext):
    """Sign-ins to the AWS app in the window, from /beta: authenticationRequirement (single- or multi-factor)
    exists only there. Paced like every /auditLogs read."""
    adapter = ctx.graph_adapter
    query = f"appId eq '{_sp(ctx)['appId']}' and createdDateTime ge {_graph_time(ctx.window_start)}"
    # $select is refused here, so each sign-in arrives whole (about 4 KB parsed): keep only the table's columns
    # as each page arrives (100,000 sign-ins held whole were about 400 MB).
    rows = await _licensed("The sign-in log", read_all(
        adapter, _beta(adapter, "/auditLogs/signIns"), params={"$filter": query, "$top": AUDIT_PAGE},
        before=reports_pacer(adapter).wait, progress=_progress(ctx, "entra.sign_ins"), each=row_of(
            "entra_sign_ins", {"errorCode": lambda i: dig(i, "status", "errorCode"),
                               "failureReason": lambda i: dig(i, "status", "failureReason")})))
    return {"entra_sign_ins": frame("entra_sign_ins", rows, times=("createdDateTime",))}


async def collect_conditional_access(ctx: CollectContext):
    items = await read_all(ctx.graph_adapter, "/identity/conditionalAccess/policies",
                           params={"$select": CA_SELECT}, progress=_progress(ctx, "entra.conditional_access"))
    return {"entra_ca_policies": ca_policies_frame(items)}


CA_SELECT = "id,displayName,state,conditions,grantControls"


def ca_policies_frame(items: list[dict]) -> pd.DataFrame:
    """entra_ca_policies from conditionalAccessPolicy objects as Graph returns them."""
    apps, users = ("conditions", "applications"), ("conditions", "users")
    return frame("entra_ca_policies", items, derived={
        "includeApplications": lambda i: dig(i, *apps, "includeApplications"),
        "excludeApplications": lambda i: dig(i, *apps, "excludeApplications"),
        "includeUsers": lambda i: dig(i, *users, "includeUsers"),
        "excludeUsers": lambda i: dig(i, *users, "excludeUsers"),
        "includeGroups": lambda i: dig(i, *users, "includeGroups"),
        "excludeGroups": lambda i: dig(i, *users, "excludeGroups"),
        "grantOperator": lambda i: dig(i, "grantControls", "operator"),
        "builtInControls": lambda i: dig(i, "grantControls", "builtInControls"),
        # Role-targeted policies (includeUsers may then be empty) and MFA through an authentication strength
        # (builtInControls then empty; requirementsSatisfied "mfa"). grantControls itself may be null.
        "includeRoles": lambda i: dig(i, *users, "includeRoles"),
        "excludeRoles": lambda i: dig(i, *users, "excludeRoles"),
        "authenticationStrength": lambda i: dig(i, "grantControls", "authenticationStrength", "displayName"),
        "authenticationStrengthRequirements":
            lambda i: dig(i, "grantControls", "authenticationStrength", "requirementsSatisfied"),
    })


async def collect_mfa_registration(ctx: CollectContext):
    """userRegistrationDetails documents $filter and $orderby only, so no $select / $top here. v1.0 has no
    defaultMfaMethod (beta's name); its successor is userPreferredMethodForSecondaryAuthentication."""
    adapter = ctx.graph_adapter
    items = await _licensed("The authentication-methods registration report", read_all(
        adapter, "/reports/authenticationMethods/userRegistrationDetails",
        before=reports_pacer(adapter).wait, progress=_progress(ctx, "entra.mfa_registration")))
    return {"entra_mfa_registration": mfa_registration_frame(items)}


def mfa_registration_frame(items: list[dict]):
    """entra_mfa_registration from userRegistrationDetails items. Nothing registered: v1.0 says "" (the list
    example), the enum also has "none"; both are kept as given."""
    return frame("entra_mfa_registration", items, derived={
        "defaultMfaMethod": lambda i: i.get("defaultMfaMethod") or i.get("userPreferredMethodForSecondaryAuthentication"),
    })


ENTRA_COLLECTORS: dict[str, tuple[Callable, tuple[str, ...]]] = {
    "entra.tenant": (collect_tenant, ()),
    "entra.users": (collect_users, ()),
    "entra.sign_in_activity": (collect_sign_in_activity, ()),
    "entra.groups": (collect_groups, ()),
    "entra.app": (collect_app, ()),
    "entra.app_assignments": (collect_app_assignments, ("entra.app",)),
    "entra.group_members": (collect_group_members, ("entra.app_assignments",)),
    "entra.provisioning": (collect_provisioning, ("entra.app",)),
    "entra.provisioning_logs": (collect_provisioning_logs, ("entra.app",)),
    "entra.sign_ins": (collect_sign_ins, ("entra.app",)),
    "entra.conditional_access": (collect_conditional_access, ()),
    "entra.mfa_registration": (collect_mfa_registration, ()),
    "entra.pim_groups": (collect_pim_groups, ("entra.app_assignments", "entra.group_members")),
}
