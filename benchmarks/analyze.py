"""How fast the analysis runs on large organisations: the access model (`build_access`) and every registered
check (`run_checks`, all areas), with peak memory. Prints a table; asserts nothing.

    .venv/bin/python benchmarks/analyze.py [--sizes small,medium,large] [--no-tracemalloc]

Sizes (generated with idbridge.sandbox.generate, seed 1):

    small    1,000 users     100 groups     50 accounts    20 permission sets   the generator's 12 assignments/account
    medium  10,000 users   1,000 groups    300 accounts    60 permission sets   20,000 assignment rows
    large  100,000 users   5,000 groups  1,000 accounts   300 permission sets  100,000 assignment rows

The snapshot tables are built in memory straight from the generated scenario (`snapshot_tables`), not by seeding
the sandbox and collecting it: seeding moto and the Graph emulator with 100,000 users takes most of an hour, and
the analysis only reads tables. The tables have the catalogue's columns and what a collection of that scenario
holds: provisioning is simulated by the scenario's rules (scope = users assigned to the app and direct members of
assigned groups; users planted as refused by SCIM or `idc.present: false` are not in Identity Center; recreated
principals leave orphaned assignments; hand-made Identity Center principals), sign-in activity, AWS app sign-ins
and CloudTrail UserAuthentication events from the scenario's sign-ins, MFA registration, Conditional Access,
permission sets with their policies and provisioning status, Organizations accounts with tags.

Each size runs in a child process of its own (its max RSS is its own): first a timed run, then, unless
--no-tracemalloc, a second run in another child under tracemalloc for the Python-level peak (tracing slows
allocation-heavy code, so the timed run is never traced). Targets: build_access + all checks <= 30 s and <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

from common import Size

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
TARGET_S, TARGET_MB = 30.0, 3 * 1024
NS = uuid.UUID("6f1d2c1e-3b7a-4c55-9e2f-1a2b3c4d5e6f")


SIZES = {"small": Size(1_000, 100, 50, 20), "medium": Size(10_000, 1_000, 300, 60, 20_000),
         "large": Size(100_000, 5_000, 1_000, 300, 100_000)}


# --------------------------------------------------------------------------------------------- tables


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


def _when(expr: str | None) -> str | None:
    from idbridge.sandbox.timeexpr import resolve_time

    return resolve_time(expr, NOW).strftime("%Y-%m-%dT%H:%M:%SZ") if expr else None


def snapshot_tables(s: dict) -> dict:
    """The catalogue's tables for a generated scenario, as a collection of its sandbox would hold them."""
    import pandas as pd

    from idbridge.model.mapping import DEFAULT_USER_MAPPINGS
    from idbridge.snapshot.schema import SOURCES

    columns = {t: c for source in SOURCES for t, c in source.tables.items()}
    entra, aws, app = s["entra"], s["aws"], s["entra"]["aws_app"]
    tenant = s["tenant"]["id"]
    store = "d-" + _id(tenant, "store").replace("-", "")[:10]
    instance = "arn:aws:sso:::instance/ssoins-" + _id(tenant, "instance").replace("-", "")[:16]
    faults = s.get("faults", [])
    refused = {f["subject"][5:].lower() for f in faults if f["check"] == "provisioning.errors"}

    users = {u["upn"].lower(): u for u in entra["users"]}
    uid = {k: u.get("id") or _id("user", k) for k, u in users.items()}
    groups = {g["display_name"]: g for g in entra["groups"]}
    gid = {n: g.get("id") or _id("group", n) for n, g in groups.items()}
    app_id = app.get("app_id") or _id("app")
    assigned_groups = list(app["assignments"].get("groups", []))
    assigned_users = [u.lower() for u in app["assignments"].get("users", [])]
    prov = app.get("provisioning") or {}
    scope_all = prov.get("scope") == "all"

    t = {}
    live = [k for k, u in users.items() if not u.get("deleted")]
    t["entra_users"] = pd.DataFrame([{
        "id": uid[k], "userPrincipalName": u["upn"], "displayName": u.get("display_name"),
        "givenName": u.get("given_name"), "surname": u.get("surname"), "mail": u.get("mail"),
        "otherMails": [], "userType": u.get("user_type", "Member"), "accountEnabled": u.get("account_enabled", True),
        "createdDateTime": _when(u.get("created", "now-400d")), "department": u.get("department"),
        "jobTitle": u.get("job_title"), "companyName": u.get("company_name"), "employeeId": u.get("employee_id"),
        "mobilePhone": u.get("mobile_phone"), "businessPhones": u.get("business_phones", []),
        "mailNickname": u["upn"].split("@")[0]} for k, u in ((k, users[k]) for k in live)])
    t["entra_sign_in_activity"] = pd.DataFrame([{
        "id": uid[k], "lastSignInDateTime": _when(users[k].get("last_sign_in")),
        "lastNonInteractiveSignInDateTime": _when(users[k].get("last_non_interactive_sign_in")),
        "lastSuccessfulSignInDateTime": _when(users[k].get("last_sign_in"))} for k in live])
    t["entra_mfa_registration"] = pd.DataFrame([{
        "id": uid[k], "userPrincipalName": users[k]["upn"], "userType": users[k].get("user_type", "Member").lower(),
        "isMfaRegistered": users[k].get("mfa_registered", True),
        "isMfaCapable": users[k].get("mfa_registered", True),
        "methodsRegistered": users[k].get("mfa_methods", ["microsoftAuthenticatorPush"])} for k in live])
    t["entra_groups"] = pd.DataFrame([{
        "id": gid[n], "displayName": n, "description": g.get("description"),
        "groupTypes": ["DynamicMembership"] if g.get("dynamic_rule") else [], "membershipRule": g.get("dynamic_rule"),
        "securityEnabled": True, "mailEnabled": False, "mailNickname": n.replace(" ", ""),
        "createdDateTime": _when(g.get("created", "now-500d")), "isDynamic": bool(g.get("dynamic_rule"))}
        for n, g in groups.items()])
    t["entra_app_role_assignments"] = pd.DataFrame(
        [{"id": _id("ara", k), "principalId": uid[k], "principalType": "User",
          "principalDisplayName": users[k].get("display_name")} for k in assigned_users if k in uid]
        + [{"id": _id("ara", n), "principalId": gid[n], "principalType": "Group", "principalDisplayName": n}
           for n in assigned_groups])

    def transitive(name: str, seen: set) -> set:
        if name in seen:
            return set()
        seen.add(name)
        found = {m.lower() for m in groups[name].get("members", [])}
        for sub in groups[name].get("member_groups", []):
            found |= transitive(sub, seen)
        return found

    rows, live_set = [], set(live)
    for n in assigned_groups:
        g = groups[n]
        rows += [{"groupId": gid[n], "memberId": uid[m.lower()], "memberType": "user", "relation": "direct"}
                 for m in g.get("members", []) if m.lower() in live_set]
        rows += [{"groupId": gid[n], "memberId": gid[sub], "memberType": "group", "relation": "direct"}
                 for sub in g.get("member_groups", [])]
        rows += [{"groupId": gid[n], "memberId": uid[m], "memberType": "user", "relation": "transitive"}
                 for m in transitive(n, set()) if m in live_set]
    t["entra_group_members"] = pd.DataFrame(rows)
    t["entra_service_principal"] = pd.DataFrame([{
        "id": _id("sp"), "appId": app_id, "displayName": app.get("display_name", "AWS IAM Identity Center"),
        "preferredSingleSignOnMode": "saml", "appRoleAssignmentRequired": True}])
    job = f"aWSSingleSignon.{tenant.replace('-', '')}.{_id('job')}"
    t["entra_sync_jobs"] = pd.DataFrame([{
        "id": job, "templateId": "aWSSingleSignon", "statusCode": prov.get("status", "Active"),
        "scheduleState": "Active", "scheduleInterval": "PT40M", "lastExecutionState": "Succeeded",
        "lastExecutionEnded": _when(prov.get("last_cycle", "now-25m")),
        "lastSuccessfulExecutionEnded": _when(prov.get("last_cycle", "now-25m")),
        "countSuccessiveCompleteFailures": 0, "steadyStateFirstAchievedTime": _when("now-300d"),
        "steadyStateLastAchievedTime": _when("now-25m"),
        "status_json": json.dumps({"code": prov.get("status", "Active"), "synchronizedEntryCountByType": [
            {"key": "group to Group", "value": len(assigned_groups)}]})}])
    t["entra_sync_mappings"] = pd.DataFrame(
        [{"jobId": job, "objectMapping": "Provision Microsoft Entra ID Users", "sourceObjectName": "User",
          "targetObjectName": "User", "targetAttributeName": target, "sourceExpression": expression,
          "mappingType": "Attribute", "flowBehavior": "FlowWhenChanged", "matchingPriority": int(target == "userName")}
         for target, expression in DEFAULT_USER_MAPPINGS]
        + [{"jobId": job, "objectMapping": "Provision Microsoft Entra ID Groups", "sourceObjectName": "Group",
            "targetObjectName": "Group", "targetAttributeName": target, "sourceExpression": expression,
            "mappingType": "Attribute", "flowBehavior": "FlowWhenChanged",
            "matchingPriority": int(target == "displayName")}
           for target, expression in (("displayName", "[displayName]"), ("externalId", "[objectId]"),
                                      ("members", "[members]"))])
    t["entra_provisioning_logs"] = pd.DataFrame([{
        "id": _id("log", k), "activityDateTime": _when("now-30m"), "jobId": job, "action": "Create",
        "provisioningAction": "create", "status": "failure", "errorCode": "SystemForCrossDomainIdentity"
        "ManagementBadRequest", "errorReason": "refused by the SCIM endpoint", "sourceId": uid.get(k),
        "sourceDisplayName": users[k].get("display_name"), "sourceType": "User"} for k in refused if k in users])
    upn_of = {k: users[k]["upn"] for k in users}
    t["entra_sign_ins"] = pd.DataFrame([{
        "id": _id("signin", str(n)), "createdDateTime": _when(r["at"]), "userId": uid.get(r["user"].lower()),
        "userPrincipalName": upn_of.get(r["user"].lower(), r["user"]), "appId": app_id,
        "ipAddress": r.get("ip"), "clientAppUsed": "Browser", "conditionalAccessStatus": "success",
        "authenticationRequirement": "multiFactorAuthentication",
        "errorCode": 0 if r.get("status", "success") == "success" else int(r.get("error_code", 50126)),
        "isInteractive": True} for n, r in enumerate(entra.get("sign_ins", []))])
    t["entra_ca_policies"] = pd.DataFrame([{
        "id": _id("ca", p["display_name"]), "displayName": p["display_name"], "state": p.get("state", "enabled"),
        "includeApplications": [app_id if a == "aws" else a for a in p.get("include_applications", ["aws"])],
        "excludeApplications": [], "includeUsers": [uid.get(u.lower(), u) for u in p.get("include_users", [])],
        "excludeUsers": [uid.get(u.lower(), u) for u in p.get("exclude_users", [])],
        "includeGroups": [gid[g] for g in p.get("include_groups", [])],
        "excludeGroups": [gid[g] for g in p.get("exclude_groups", [])], "grantOperator": p.get("operator", "OR"),
        "builtInControls": p.get("grant_controls", ["mfa"])} for p in entra.get("conditional_access", [])])
    t["entra_tenant"] = pd.DataFrame([{"id": tenant, "displayName": s["tenant"]["display_name"],
                                       "verifiedDomains": s["tenant"].get("domains", [])}])
    region = aws.get("identity_center", {}).get("region", "us-east-1")
    t["entra_application"] = pd.DataFrame([{
        "id": _id("application"), "appId": app_id, "displayName": app.get("display_name", "AWS IAM Identity Center"),
        "identifierUris": [f"https://{region}.signin.aws.amazon.com/platform/saml/{store}"],
        "redirectUris": [f"https://{region}.signin.aws.amazon.com/platform/saml/acs/{_id(tenant, 'acs')}"]}])
    t["entra_app_claims"] = pd.DataFrame([{"nameIdFormat": "emailAddress", "nameIdSource": "user.userprincipalname",
                                           "guestNameIdSource": "user.mail", "claims_json": "[]"}])
    t["entra_app_key_credentials"] = pd.DataFrame(columns=columns["entra_app_key_credentials"])

    # Identity Center, as provisioning leaves it
    if scope_all:
        scope = list(users)
    else:
        scope = assigned_users + [m.lower() for n in assigned_groups for m in groups[n].get("members", [])]
    scope = [k for k in dict.fromkeys(scope) if k in users]
    in_idc = [k for k in scope if k not in refused and (users[k].get("idc") or {}).get("present", True)]
    idc_users, idc_user_id = [], {}
    for k in in_idc:
        u, state = users[k], users[k].get("idc") or {}
        enabled = u.get("account_enabled", True) and not u.get("deleted") or bool(state.get("active"))
        idc_user_id[k] = f"{store[2:]}-{_id('idc-user', k)}"
        external = state.get("external_id", uid[k])
        idc_users.append({"userId": idc_user_id[k], "userName": state.get("user_name") or u["upn"],
                          "displayName": state.get("display_name") or u.get("display_name"),
                          "givenName": u.get("given_name"), "familyName": u.get("surname"), "email": u.get("mail"),
                          "externalIds": [external] if external else [],
                          "userStatus": "ENABLED" if enabled else "DISABLED", "createdBy": "SCIM",
                          "createdAt": _when("now-300d"), "updatedAt": _when("now-20d")})
    ic = aws.get("identity_center", {})
    admin = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0/admin"
    for u in ic.get("users", []):
        k = u["user_name"].lower()
        idc_user_id[k] = f"{store[2:]}-{_id('idc-user', k)}"
        idc_users.append({"userId": idc_user_id[k], "userName": u["user_name"], "displayName": u.get("display_name"),
                          "givenName": u.get("given_name"), "familyName": u.get("family_name"),
                          "email": u.get("email"), "externalIds": [], "userStatus": "ENABLED", "createdBy": admin,
                          "createdAt": _when("now-700d"), "updatedAt": _when("now-700d")})
    t["idc_users"] = pd.DataFrame(idc_users)
    provisioned = list(groups) if scope_all else assigned_groups
    idc_groups, idc_group_id, old_group_id, memberships = [], {}, {}, []
    for n in provisioned:
        state = groups[n].get("idc") or {}
        if not state.get("present", True):
            continue
        idc_group_id[n] = f"{store[2:]}-{_id('idc-group', n, 'new' if state.get('recreated') else '')}"
        if state.get("recreated"):
            old_group_id[n] = f"{store[2:]}-{_id('idc-group', n)}"
        idc_groups.append({"groupId": idc_group_id[n], "displayName": n, "externalIds": [gid[n]],
                           "createdBy": "SCIM", "createdAt": _when("now-300d")})
        memberships += [{"groupId": idc_group_id[n], "userId": idc_user_id[m.lower()],
                         "membershipId": _id("m", n, m)} for m in groups[n].get("members", [])
                        if m.lower() in idc_user_id]
    for g in ic.get("groups", []):
        n = g["display_name"]
        idc_group_id[n] = f"{store[2:]}-{_id('idc-group', n)}"
        idc_groups.append({"groupId": idc_group_id[n], "displayName": n, "externalIds": [], "createdBy": admin,
                           "createdAt": _when("now-700d")})
        memberships += [{"groupId": idc_group_id[n], "userId": idc_user_id[m.lower()], "membershipId": _id("m", n, m)}
                        for m in g.get("members", []) if m.lower() in idc_user_id]
    t["idc_groups"] = pd.DataFrame(idc_groups)
    t["idc_group_memberships"] = pd.DataFrame(memberships)
    t["idc_instances"] = pd.DataFrame([{"instanceArn": instance, "identityStoreId": store,
                                        "ownerAccountId": aws.get("management_account"),
                                        "name": ic.get("instance_name"), "status": "ACTIVE",
                                        "region": ic.get("region", "us-east-1"),
                                        "regions": [ic.get("region", "us-east-1")]}])

    accounts = {a["id"]: a for a in aws["accounts"]}
    account_id = {**{a["name"]: a["id"] for a in aws["accounts"]}, **{a["id"]: a["id"] for a in aws["accounts"]}}
    t["org_accounts"] = pd.DataFrame([{
        "accountId": a["id"], "name": a["name"], "email": a.get("email"), "status": a.get("status", "ACTIVE"),
        "ouPath": a.get("ou", ""), "ouId": "ou-" + _id("ou", a.get("ou", ""))[:12],
        "tags": [f"{k}={v}" for k, v in a.get("tags", {}).items()]} for a in accounts.values()])
    ps_arn = {p["name"]: f"arn:aws:sso:::permissionSet/{instance.split('/')[-1]}/ps-{_id('ps', p['name'])[:16]}"
              for p in aws["permission_sets"]}
    t["idc_permission_sets"] = pd.DataFrame([{
        "permissionSetArn": ps_arn[p["name"]], "name": p["name"], "description": p.get("description"),
        "sessionDuration": p.get("session_duration", "PT1H"), "relayState": p.get("relay_state"),
        "createdDate": _when("now-400d")} for p in aws["permission_sets"]])
    policies = []
    for p in aws["permission_sets"]:
        arn = ps_arn[p["name"]]
        policies += [{"permissionSetArn": arn, "kind": "managed", "policyArn": m, "policyName": m.split("/")[-1],
                      "policyPath": "/" + "/".join(m.split(":policy/")[1].split("/")[:-1]) + "/"
                      if m.count("/") > 1 else "/"} for m in p.get("managed_policies", [])]
        policies += [{"permissionSetArn": arn, "kind": "customer_managed", "policyName": c["name"],
                      "policyPath": c.get("path", "/")} for c in p.get("customer_managed_policies", [])]
        if p.get("inline_policy"):
            policies.append({"permissionSetArn": arn, "kind": "inline", "document": json.dumps(p["inline_policy"])})
        boundary = p.get("boundary") or {}
        if boundary.get("customer_managed"):
            policies.append({"permissionSetArn": arn, "kind": "boundary_customer_managed",
                             "policyName": boundary["customer_managed"]["name"],
                             "policyPath": boundary["customer_managed"].get("path", "/")})
        elif boundary.get("managed_policy_arn"):
            policies.append({"permissionSetArn": arn, "kind": "boundary_managed",
                             "policyArn": boundary["managed_policy_arn"],
                             "policyName": boundary["managed_policy_arn"].split("/")[-1]})
    t["idc_permission_set_policies"] = pd.DataFrame(policies)
    stale_in = {p["name"]: {account_id[a] for a in p.get("not_reprovisioned_in", [])} for p in aws["permission_sets"]}
    assignments, provisioned_to = [], set()
    for entry in aws.get("account_assignments", []):
        if "group" in entry:
            n = entry["group"]
            kind, principal = "GROUP", old_group_id.get(n) or idc_group_id.get(n)
        elif "idc_group" in entry:
            kind, principal = "GROUP", idc_group_id.get(entry["idc_group"])
        else:
            k = (entry.get("user") or entry.get("idc_user")).lower()
            kind, principal = "USER", idc_user_id.get(k)
        if principal is None:  # the sandbox cannot seed an assignment to a principal never provisioned
            continue
        for ref in entry["accounts"]:
            assignments.append({"accountId": account_id[ref], "permissionSetArn": ps_arn[entry["permission_set"]],
                                "principalType": kind, "principalId": principal})
            provisioned_to.add((entry["permission_set"], account_id[ref]))
    t["idc_account_assignments"] = pd.DataFrame(assignments).drop_duplicates()
    t["idc_permission_set_provisioning"] = pd.DataFrame([{
        "permissionSetArn": ps_arn[name], "accountId": acc,
        "status": "LATEST_PERMISSION_SET_NOT_PROVISIONED" if acc in stale_in.get(name, ()) else
        "LATEST_PERMISSION_SET_PROVISIONED"} for name, acc in sorted(provisioned_to)])
    idc_name = {r["userName"].lower(): r for r in idc_users}
    events = []
    for n, r in enumerate(aws.get("sign_ins", [])):
        k = r["user"].lower()
        state = (users.get(k) or {}).get("idc") or {}
        name = state.get("user_name") or r["user"]
        row = idc_name.get(name.lower())
        ok = r.get("status", "success") == "success" and row is not None
        events.append({"eventId": _id("ct", str(n)), "eventTime": _when(r["at"]),
                       "eventName": "UserAuthentication" if ok else "ExternalIdPDirectoryLogin",
                       "eventSource": "signin.amazonaws.com" if ok else "sso-directory.amazonaws.com",
                       "userName": name, "userId": row["userId"] if ok else None, "sourceIPAddress": r.get("ip"),
                       "errorCode": None if ok else "AuthenticationFailed", "awsRegion": ic.get("region"),
                       "event_json": "{}"})
    t["cloudtrail_events"] = pd.DataFrame(events)

    out = {}
    for name, cols in columns.items():  # the catalogue's columns, in its order; absent values missing
        frame = t.get(name, pd.DataFrame())
        out[name] = frame.reindex(columns=list(cols))
    return out


# --------------------------------------------------------------------------------------------- one size


def _analyse(tables: dict, traced: bool) -> dict:
    import pandas as pd

    from idbridge.checks import load_all
    from idbridge.checks.base import REGISTRY
    from idbridge.checks.runner import MemoryTables, run_checks
    from idbridge.checks.settings import CheckSettings
    from idbridge.core.parameters import ChecksParams
    from idbridge.model.access.build import build_access

    load_all()
    data = MemoryTables(tables)
    settings = CheckSettings(now=NOW, checks=ChecksParams(sod_conflicts=[("AdministratorAccess", "SecurityAudit")],
                                                          scim_token_created=(NOW - timedelta(days=100)).date()))
    if traced:
        tracemalloc.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    access = build_access(data, settings)
    built, cpu_built = time.perf_counter(), time.process_time()
    by_area: dict[str, float] = {}
    outcomes, findings = [], []
    for area in sorted({check.meta.area for check in REGISTRY.values()}):  # one area at a time: a breakdown
        began = time.perf_counter()
        part = run_checks(data, settings, areas=[area])
        by_area[area] = time.perf_counter() - began
        outcomes.append(part.outcomes_frame())
        findings += part.findings
    done, cpu_done = time.perf_counter(), time.process_time()
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    if traced:
        tracemalloc.stop()
    outcomes = pd.concat(outcomes, ignore_index=True)
    return {"paths": len(access), "effective": int(access["effective"].sum()),
            "access_mb": access.memory_usage(deep=True).sum() / 2**20,
            "build_s": built - start, "checks_s": done - built, "total_s": done - start,
            "build_cpu_s": cpu_built - cpu_start, "checks_cpu_s": cpu_done - cpu_built,
            "total_cpu_s": cpu_done - cpu_start,
            "findings": len(findings), "checks": len(outcomes),
            "not_ok": outcomes[outcomes["status"].isin(["error", "not_checked"])][["check_id", "reason"]]
            .to_dict("records"), "tracemalloc_mb": peak, "by_area": by_area,
            "access_found": sorted({(f.check_id, f.subject) for f in findings
                                    if f.check_id.startswith("access.")})}


def run_size(name: str, traced: bool, conn) -> None:
    try:
        size = SIZES[name]
        t0 = time.perf_counter()
        scenario = size.scenario()
        t1 = time.perf_counter()
        tables = snapshot_tables(scenario)
        t2 = time.perf_counter()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = _analyse(tables, traced)
        result.update(generate_s=t1 - t0, tables_s=t2 - t1, rss_before_mb=rss_before,
                      max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      rows={k: len(v) for k, v in tables.items()},
                      planted={(f["check"], f["subject"]) for f in scenario["faults"]
                               if f["check"].startswith("access.")})
        conn.send(result)
    except BaseException as exc:  # report, never hang the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def _child(ctx, name: str, traced: bool, timeout: float) -> dict:
    parent, child = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=run_size, args=(name, traced, child), name=f"analyze-{name}")
    worker.start()
    child.close()
    try:
        if not parent.poll(timeout):
            worker.terminate()
            return {"error": f"no result within {timeout:.0f} s"}
        return parent.recv()
    finally:
        worker.join(10)


# --------------------------------------------------------------------------------------------- report


def _table(names: list[str], results: dict[str, dict]) -> str:
    def cell(name, key, fmt):
        r = results[name]
        return "-" if r.get(key) is None else fmt(r[key])

    n = lambda v: f"{v:,}"  # noqa: E731
    s = lambda v: f"{v:.1f} s"  # noqa: E731
    mb = lambda v: f"{v:,.0f} MB"  # noqa: E731
    lines = [
        ("Entra users", lambda r: n(r["rows"]["entra_users"])),
        ("Entra groups", lambda r: n(r["rows"]["entra_groups"])),
        ("AWS accounts", lambda r: n(r["rows"]["org_accounts"])),
        ("permission sets", lambda r: n(r["rows"]["idc_permission_sets"])),
        ("account assignment rows", lambda r: n(r["rows"]["idc_account_assignments"])),
        ("Identity Center users / memberships", lambda r: f"{r['rows']['idc_users']:,} / "
                                                         f"{r['rows']['idc_group_memberships']:,}"),
        ("Entra group member rows", lambda r: n(r["rows"]["entra_group_members"])),
        ("access paths (effective)", lambda r: f"{r['paths']:,} ({r['effective']:,})"),
        ("access table in memory", lambda r: mb(r["access_mb"])),
        ("generate scenario (not timed below)", lambda r: s(r["generate_s"])),
        ("build snapshot tables (not timed below)", lambda r: s(r["tables_s"])),
        ("build_access: wall / CPU", lambda r: f"{r['build_s']:.1f} / {r['build_cpu_s']:.1f} s"),
        ("run_checks, all areas: wall / CPU", lambda r: f"{r['checks_s']:.1f} / {r['checks_cpu_s']:.1f} s"),
        ("build_access + run_checks: wall / CPU", lambda r: f"{r['total_s']:.1f} / {r['total_cpu_s']:.1f} s"),
        *((f"  checks: {area} (wall)", (lambda a: lambda r: s(r["by_area"].get(a, 0.0)))(area))
          for area in ("access", "aws", "provisioning", "reconcile", "saml", "scim")),
        ("checks run / findings", lambda r: f"{r['checks']} / {r['findings']:,}"),
        ("max RSS (whole child process)", lambda r: mb(r["max_rss_mb"])),
        ("max RSS before the analysis", lambda r: mb(r["rss_before_mb"])),
        ("tracemalloc peak, analysis (2nd run)", lambda r: mb(r["tracemalloc_mb"]) if r.get("tracemalloc_mb")
         is not None else "-"),
    ]
    width = max(len(label) for label, _ in lines) + 2
    cols = [max(14, max(len(f(results[nm])) if "error" not in results[nm] else 5 for _, f in lines) + 2)
            for nm in names]
    out = ["".ljust(width) + "".join(nm.rjust(c) for nm, c in zip(names, cols))]
    for label, f in lines:
        out.append(label.ljust(width) + "".join(
            ("error" if "error" in results[nm] else f(results[nm])).rjust(c) for nm, c in zip(names, cols)))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.sizes.split(",") if n.strip()]
    ctx = mp.get_context("spawn")
    results: dict[str, dict] = {}
    for name in names:
        print(f"[{name}] generating, building tables, analysing ...", file=sys.stderr, flush=True)
        results[name] = _child(ctx, name, False, args.timeout)
        if "error" in results[name]:
            print(f"[{name}] {results[name]['error']}", file=sys.stderr)
            continue
        if not args.no_tracemalloc:
            print(f"[{name}] again under tracemalloc ...", file=sys.stderr, flush=True)
            traced = _child(ctx, name, True, args.timeout * 3)
            results[name]["tracemalloc_mb"] = traced.get("tracemalloc_mb")
    print("Snapshot tables built in memory from idbridge.sandbox.generate scenarios (seed 1), not by seeding the "
          "sandbox and collecting it; run_checks with every registered area.")
    print(f"Machine: {mp.cpu_count()} CPUs, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end "
          "(CPU time is the process's own, wall time includes waiting for a shared CPU).")
    print(_table(names, results))
    for name in names:
        r = results[name]
        if "error" in r:
            continue
        memory = "OK" if r["max_rss_mb"] <= TARGET_MB else "OVER"
        wall = "OK" if r["total_s"] <= TARGET_S else "OVER"
        cpu = "OK" if r["total_cpu_s"] <= TARGET_S else "OVER"
        print(f"\n[{name}] target <= {TARGET_S:.0f} s and <= {TARGET_MB / 1024:.0f} GB: memory {memory}, "
              f"wall time {wall} ({r['total_s']:.1f} s), CPU time {cpu} ({r['total_cpu_s']:.1f} s; single-threaded, "
              "so the wall time on an unshared CPU)")
        if r["not_ok"]:
            print(f"[{name}] checks not run: " + "; ".join(f"{x['check_id']} ({x['reason']})" for x in r["not_ok"]))
        found, planted = set(map(tuple, r["access_found"])), r["planted"]
        print(f"[{name}] access.* planted by the generator: {len(planted)}, found: {len(planted & found)}, "
              f"other access.* findings: {len(found - planted)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
