"""How fast a whole collection runs against its rate limits, how many API calls it spends, how fast users are
parsed raw vs through msgraph-sdk's typed models, and how much memory it takes. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/collect.py [--sizes small,medium,large] [--latency-ms 20] [--out DIR]

Sizes (generated in memory with idbridge.sandbox.generate, seed 1; groups and permission sets scaled with users):

    small   1,000 users    100 groups     50 accounts   20 permission sets
    medium  10,000 users   1,000 groups   300 accounts  60 permission sets
    large   100,000 users  5,000 groups   1,000 accounts 300 permission sets   (not in the default --sizes)

Assignment density is the generator's default, 12 (principal, account, permission set) assignments per account:
for the large organisation that is about 12,000 assignments on about 9,200 (account, permission set) pairs, an
sso-admin floor of about 9.5 minutes (the script computes it from the scenario, prints it before collecting and
in table 1). Every size gets the generator's sign-ins (users / 10, at least 1,000, on each side); sign-ins and
CloudTrail at 100,000 events in the window are benchmarks/volume.py's.

For each size: the sandbox is seeded and served in a child process (moto and the Graph emulator on 127.0.0.1, with
latency, aws_throttle and graph_reports_limit on), so the collector does not share its interpreter, its GIL or its
tracemalloc with the servers. This process then runs one whole timed `collect()`, reads the manifest's call counts,
runs a second whole `collect()` under tracemalloc for the memory peak (tracing slows the collector's CPU work, so
the timed run is never traced; --no-tracemalloc skips the second run), and times the users read two ways on the
same sandbox. Each size runs in a process of its own so its max RSS is its own. Nothing here talks to anything
but 127.0.0.1, and every step has a time limit.

The rate-limit floor of a family is calls / allowed rate (the collector's own calls, from the manifest):
    sso-admin      all operations together / 20 TPS (one collective limit)
    identitystore  max over its APIs of calls / 20 TPS (a limit per API)
    organizations  calls / LIMITS_TPS["organizations"], cloudtrail calls / LIMITS_TPS["cloudtrail"] (clients/aws/pacing.py)
    Graph reports  /auditLogs/* and /reports/* requests / (5 per 10 s)
Families run concurrently, so the floor of the run is the largest of them. The collector paces at PACE_SHARE of
each limit, so its best possible ratio is 1 / PACE_SHARE (plus the tail of the last family to finish).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import Size, require_loopback, serve_sandbox, start_sandbox, stop_sandbox

# Never go through a proxy: every request of this script is for 127.0.0.1.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

FAULTS = "latency={latency},aws_throttle=on,graph_reports_limit=on"
WALL_TARGET = 1.15     # wall time <= 1.15 x the floor
PARSE_TARGET = 100.0   # raw users/s >= 100 x typed users/s


SIZES: dict[str, Size] = {
    "small": Size(1_000, 100, 50, 20),
    "medium": Size(10_000, 1_000, 300, 60),
    "large": Size(100_000, 5_000, 1_000, 300),
}

# Largest page each API serves (documented maxima; the minimum-calls formulas below divide by these).
AWS_PAGE = 100          # sso-admin and identitystore MaxResults
ORG_PAGE = 20           # organizations ListAccountsForParent / ListOrganizationalUnitsForParent MaxResults
TRAIL_PAGE = 50         # cloudtrail LookupEvents MaxResults
GRAPH_PAGE = 999        # directory objects ($top)
AUDIT_PAGE = 1000       # sign-ins, provisioning logs, userRegistrationDetails
BATCH = 20              # requests per Graph $batch
REPORTS_RATE = 5 / 10   # Graph identity-and-access reports: 5 requests per 10 s per app per tenant


def pages(n: int, size: int) -> int:
    """Calls to read n items at `size` a page: an empty listing still costs one call."""
    return max(1, math.ceil(n / size))


# ============================================================================================ sandbox process


def _ground_truth(box, scenario, window_start: datetime, window_end: datetime) -> dict:
    """What the sandbox holds, read straight from its stores (never through the API): the inputs of the
    minimum-calls formulas. AWS assignments, provisioning and the OU tree come from the scenario itself; the
    identity store holds what the emulated SCIM provisioning made of it; Graph counts come from the emulator."""
    from idbridge.collect.aws import trail as aws_trail
    from idbridge.sandbox.aws import trail

    aws = scenario.aws
    account_id = {ref: a.id for a in aws.accounts for ref in (a.id, a.name)}
    # (account, permission set) -> distinct principals assigned there (the seeder drops duplicates the same way)
    per_pair: dict[tuple[str, str], set] = defaultdict(set)
    for item in aws.account_assignments:
        principal = ("group", item.group) if item.group else ("user", item.user) if item.user else \
            ("idc_user", item.idc_user) if item.idc_user else ("idc_group", item.idc_group)
        for ref in item.accounts:
            per_pair[(account_id[ref], item.permission_set)].add(principal)
    # Provisioning status: every pair with an assignment is provisioned; `not_reprovisioned_in` marks an account
    # as running an old version (LATEST_PERMISSION_SET_NOT_PROVISIONED).
    status_counts = []
    for ps in aws.permission_sets:
        provisioned = {acc for acc, name in per_pair if name == ps.name}
        stale = {account_id[ref] for ref in ps.not_reprovisioned_in}
        status_counts.append((len(provisioned - stale), len(stale)))
    policies = [(len(ps.managed_policies), len(ps.customer_managed_policies)) for ps in aws.permission_sets]

    # OU tree: every prefix of every account's OU path is an OU; the root and each OU are parents to list.
    ous = {""}
    for account in aws.accounts:
        parts = [p for p in account.ou.strip("/").split("/") if p]
        ous.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    accounts_in = Counter(a.ou.strip("/") for a in aws.accounts)
    child_ous = Counter(ou.rpartition("/")[0] for ou in ous if ou)
    parents = [(accounts_in.get(ou, 0), child_ous.get(ou, 0)) for ou in sorted(ous)]

    store = box.world.aws.identity_store
    groups = store.groups()
    members = [len(store.members(g["GroupId"])) for g in groups]

    events = trail.store_for(box.world.aws.account_id, box.world.aws.region)
    start, end = window_start.timestamp(), window_end.timestamp()
    lookups = [len(events.lookup([attribute], start, end)) if events is not None else 0
               for attribute in aws_trail.LOOKUPS]

    graph = box.world.graph
    sp = graph.aws_sp_id
    app_id = graph.service_principals[sp]["appId"] if sp else None
    assigned = [a for a in graph.app_role_assignments.values() if a.get("resourceId") == sp]
    assigned_groups = list(dict.fromkeys(a["principalId"] for a in assigned if a.get("principalType") == "Group"))

    def transitive(group_id: str) -> int:
        seen, todo = set(), list(graph.direct_members.get(group_id, []))
        while todo:
            member = todo.pop()
            if member not in seen:
                seen.add(member)
                todo.extend(graph.direct_members.get(member, []))  # a member that is a group brings its own
        return len(seen)

    def when(text: str | None) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else float("-inf")

    logs = [e for e in graph.provisioning_logs
            if (e.get("servicePrincipal") or {}).get("id") == sp and when(e.get("activityDateTime")) > start - 1]
    sign_ins = [e for e in graph.sign_ins if e.get("appId") == app_id and when(e.get("createdDateTime")) >= start]
    return {
        "pairs": {f"{a}|{p}": len(v) for (a, p), v in per_pair.items()},
        "assignments": sum(len(v) for v in per_pair.values()),
        "status_counts": status_counts,
        "policies": policies,
        "org_parents": parents,
        "accounts": len(aws.accounts),
        "permission_sets": len(aws.permission_sets),
        "idc_users": len(store.users()),
        "idc_groups": len(groups),
        "idc_members": members,
        "trail_lookups": lookups,
        # ListInstances is asked in aws.region and each of the parameters' aws.extra_regions (none for the sandbox)
        "regions": 1 + len(box.parameters()["aws"].get("extra_regions") or []),
        "users": len(graph.users),
        "groups": len(graph.groups),
        "app_assignments": len(assigned),
        "assigned_groups_direct": [len(graph.direct_members.get(g, [])) for g in assigned_groups],
        "assigned_groups_transitive": [transitive(g) for g in assigned_groups],
        "sync_jobs": len(graph.sync_jobs.get(sp, {})) if sp else 0,
        "provisioning_logs": len(logs),
        "sign_ins": len(sign_ins),
        "registration_details": len(graph.registration_details),
        "ca_policies": len(graph.ca_policies),
    }


def _server_stats(box) -> dict:
    aws = getattr(box, "_aws_server", None)
    graph_server = getattr(box, "_graph_server", None)
    graph_stats = getattr(getattr(graph_server, "app", None), "stats", None)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    graph_calls = list(graph_stats.calls) if graph_stats else []  # (method, path, status, in_batch)
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "aws_calls": box.aws_calls,
        "aws_refused": dict(aws.refused) if aws is not None else {},
        "graph_requests": len(graph_calls),
        "graph_statuses": {str(k): v for k, v in Counter(c[2] for c in graph_calls).items()},
        "graph_429_paths": dict(Counter(c[1] for c in graph_calls if c[2] == 429)),
    }


def sandbox_process(conn, name: str, size: Size, latency_ms: float, now_iso: str, window_days: int,
                    lifetime_s: float) -> None:
    """Child process: generate, seed and serve one organisation until told to stop (or the parent is gone)."""
    import logging

    logging.disable(logging.WARNING)
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.scenario import Scenario, check_references
    from idbridge.sandbox.server import Sandbox

    now = datetime.fromisoformat(now_iso)
    took: dict[str, float] = {}
    scenario_of: dict[str, Scenario] = {}

    def start():
        started = time.perf_counter()
        doc = size.scenario()
        generated = time.perf_counter()
        scenario = scenario_of["it"] = Scenario.model_validate(doc)
        problems = check_references(scenario)
        if problems:
            raise ValueError(f"generated scenario has dangling references, e.g. {problems[0]}")
        validated = time.perf_counter()
        box = Sandbox(scenario, scenario_file=f"generated-{name}", now=now,
                      faults=parse_fault_spec(FAULTS.format(latency=latency_ms)))
        box.start()
        took.update(generate_s=generated - started, validate_s=validated - generated,
                    seed_s=time.perf_counter() - validated)
        return box

    def ready(box) -> dict:
        truth = _ground_truth(box, scenario_of["it"], now - timedelta(days=window_days), now)
        return {"parameters": box.parameters(engagement=f"bench-{name}"), **took, "truth": truth}

    serve_sandbox(conn, start, ready, _answer_stats, lifetime_s, last_words=_peak_rss)


def _answer_stats(box, message: str) -> dict:
    if message != "stats":
        raise ValueError(f"unknown message {message!r}")
    return _server_stats(box)


def _peak_rss() -> dict:
    return {"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ============================================================================================ minimum calls


def minimum_calls(t: dict) -> dict[str, tuple[int, str]]:
    """Operation key (as the manifest's api_calls names it) -> (fewest calls that read everything, formula).

    Each formula counts pages at the API's largest page size; `pages(n, k)` = max(1, ceil(n / k))."""
    ps_count = t["permission_sets"]
    m: dict[str, tuple[int, str]] = {}

    def put(key: str, value: int, formula: str) -> None:
        m[key] = (int(value), formula)

    # ----------------------------------------------------------------- AWS
    put("sts:GetCallerIdentity", 2, "2 (may the caller use the principal-walk; the manifest's caller identity)")
    # One ListInstances per Region searched, one ListRegions per instance.
    put("sso-admin:ListInstances", t["regions"], "Regions searched")
    put("sso-admin:ListRegions", 1, "1 per instance")
    # The permission sets need listing once (the collector lists them in two sources).
    put("sso-admin:ListPermissionSets", pages(ps_count, AWS_PAGE), "ceil(P/100)")
    # No batch read exists: each permission set costs one call per part (description and 4 policy kinds).
    put("sso-admin:DescribePermissionSet", ps_count, "P")
    put("sso-admin:ListManagedPoliciesInPermissionSet",
        sum(pages(a, AWS_PAGE) for a, _ in t["policies"]), "sum over P of pages(managed policies)")
    put("sso-admin:ListCustomerManagedPolicyReferencesInPermissionSet",
        sum(pages(c, AWS_PAGE) for _, c in t["policies"]), "sum over P of pages(customer-managed refs)")
    put("sso-admin:GetInlinePolicyForPermissionSet", ps_count, "P")
    put("sso-admin:GetPermissionsBoundaryForPermissionSet", ps_count, "P")
    # Per permission set, one listing per provisioning status (the status is a filter of the call).
    put("sso-admin:ListAccountsForProvisionedPermissionSet",
        sum(pages(ok, AWS_PAGE) + pages(stale, AWS_PAGE) for ok, stale in t["status_counts"]),
        "sum over P and 2 statuses of pages(accounts)")
    # Pair-walk: one listing per (account, permission set) pair that has an assignment. (Where the collector
    # chooses the principal-walk instead, the manifest's collection_notes give its estimate and actual calls.)
    put("sso-admin:ListAccountAssignments", sum(pages(n, AWS_PAGE) for n in t["pairs"].values()),
        "pairs with an assignment (pages of 100)")
    put("identitystore:ListUsers", pages(t["idc_users"], AWS_PAGE), "ceil(IdC users/100)")
    put("identitystore:ListGroups", pages(t["idc_groups"], AWS_PAGE), "ceil(IdC groups/100)")
    put("identitystore:ListGroupMemberships", sum(pages(n, AWS_PAGE) for n in t["idc_members"]),
        "sum over IdC groups of ceil(members/100)")
    put("organizations:ListRoots", 1, "1")
    # The OU walk lists accounts and child OUs of the root and of every OU (20 a page).
    put("organizations:ListAccountsForParent", sum(pages(a, ORG_PAGE) for a, _ in t["org_parents"]),
        "sum over root+OUs of ceil(accounts/20)")
    put("organizations:ListOrganizationalUnitsForParent", sum(pages(o, ORG_PAGE) for _, o in t["org_parents"]),
        "sum over root+OUs of ceil(child OUs/20)")
    put("organizations:ListTagsForResource", t["accounts"], "A (one per account)")
    # One lookup per event name / source the audit reads (LookupEvents takes one attribute), 50 events a page.
    put("cloudtrail:LookupEvents", sum(pages(n, TRAIL_PAGE) for n in t["trail_lookups"]),
        "sum over lookups of ceil(events in window/50)")

    # ----------------------------------------------------------------- Graph
    users = t["users"]
    put("graph:GET /organization", 1, "1")
    # /users twice: the directory attributes (999 a page) and signInActivity (Graph serves 120 a page with it).
    from idbridge.sandbox.graph.resources import SIGN_IN_ACTIVITY_PAGE_CAP as activity_page

    put("graph:GET /users", pages(users, GRAPH_PAGE) + pages(users, activity_page),
        f"ceil(U/999) + ceil(U/{activity_page})")
    put("graph:GET /groups", pages(t["groups"], GRAPH_PAGE), "ceil(G/999)")
    put("graph:GET /servicePrincipals", 1, "1 (find the app)")
    put("graph:GET /applications", 1, "1")
    put("graph:GET /servicePrincipals/{id}/claimsPolicy", 1, "1")
    put("graph:GET /servicePrincipals/{id}/appRoleAssignedTo", pages(t["app_assignments"], GRAPH_PAGE),
        "ceil(app assignments/999)")
    direct = sum(pages(n, GRAPH_PAGE) for n in t["assigned_groups_direct"])
    trans = sum(pages(n, GRAPH_PAGE) for n in t["assigned_groups_transitive"])
    put("graph:GET /groups/{id}/members", direct, "sum over assigned groups of ceil(direct/999)")
    put("graph:GET /groups/{id}/transitiveMembers", trans, "sum over assigned groups of ceil(transitive/999)")
    put("graph:POST /$batch", math.ceil((direct + trans) / BATCH), "ceil(member listings/20)")
    put("graph:GET /servicePrincipals/{id}/synchronization/jobs", 1, "1")
    put("graph:GET /servicePrincipals/{id}/synchronization/jobs/{id}/schema", t["sync_jobs"], "jobs")
    put("graph:GET /auditLogs/provisioning", pages(t["provisioning_logs"], AUDIT_PAGE),
        "ceil(provisioning logs in window/1000)")
    put("graph:GET /auditLogs/signIns", pages(t["sign_ins"], AUDIT_PAGE), "ceil(app sign-ins in window/1000)")
    put("graph:GET /reports/authenticationMethods/userRegistrationDetails",
        pages(t["registration_details"], AUDIT_PAGE), "ceil(U/1000)")
    put("graph:GET /identity/conditionalAccess/policies", pages(t["ca_policies"], GRAPH_PAGE), "1")
    return m


# ============================================================================================ floors


def floors(calls: dict[str, int]) -> dict[str, tuple[float, str]]:
    """Rate-limit family -> (seconds at the allowed rate, what binds it)."""
    from idbridge.clients.aws.pacing import LIMITS_TPS

    by_service: dict[str, dict[str, int]] = defaultdict(dict)
    reports = 0
    for key, n in calls.items():
        service, _, operation = key.partition(":")
        if service == "graph":
            path = operation.split(" ", 1)[-1]
            if path.startswith(("/auditLogs/", "/reports/")):
                reports += n
        else:
            by_service[service][operation] = n
    out: dict[str, tuple[float, str]] = {}
    sso = sum(by_service["sso-admin"].values())
    out["sso-admin"] = (sso / LIMITS_TPS["sso-admin"], f"{sso:,} calls / {LIMITS_TPS['sso-admin']:g} TPS")
    ids = by_service["identitystore"]
    api, n = max(ids.items(), key=lambda kv: kv[1]) if ids else ("-", 0)
    out["identitystore"] = (n / LIMITS_TPS["identitystore"],
                            f"{api} {n:,} / {LIMITS_TPS['identitystore']:g} TPS")
    for service in ("organizations", "cloudtrail"):
        total = sum(by_service[service].values())
        out[service] = (total / LIMITS_TPS[service], f"{total:,} / {LIMITS_TPS[service]:g} TPS")
    out["graph reports"] = (reports / REPORTS_RATE, f"{reports:,} / (5 per 10 s)")
    return out


# ============================================================================================ parsing


async def parse_benchmark(params, typed_cap: int) -> dict:
    """Users per second: the Entra collector's raw path (read_all + frame, every user) against
    GraphServiceClient.users.get() + PageIterator with typed models (about `typed_cap` users, whole pages);
    then the same two parsers on the same page bytes with no HTTP at all."""
    import gc
    import json as jsonlib

    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph.generated.models.user_collection_response import UserCollectionResponse
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core.tasks.page_iterator import PageIterator

    from idbridge.clients.factory import graph_adapter, graph_credential
    from idbridge.clients.graph.adapter import make_graph_client
    from idbridge.clients.graph.raw import get_json, send_json
    from idbridge.collect.context import CollectContext
    from idbridge.collect.entra.collectors import PAGE, _select, collect_users
    from idbridge.collect.entra.frames import frame

    now = datetime.now(timezone.utc)
    ctx = CollectContext(params=params, window_start=now, window_end=now)
    ctx.graph_adapter = graph_adapter(params)
    await get_json(ctx.graph_adapter, "/users", params={"$top": "1"})  # token and connection, not timed

    gc.collect()
    started = time.perf_counter()
    tables = await collect_users(ctx)
    raw_s = time.perf_counter() - started
    raw_users = len(tables["entra_users"])

    select = _select("entra_users").split(",")
    client = make_graph_client(graph_credential(params), params.graph.base_url)

    def config(top: int) -> RequestConfiguration:
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=select, top=top)
        return RequestConfiguration(query_parameters=query)

    started = time.perf_counter()
    await client.users.get(request_configuration=config(1))  # msgraph-sdk's lazy model imports, token
    first_call_s = time.perf_counter() - started

    page_size = int(PAGE)
    wanted = min(raw_users, max(1, round(typed_cap / page_size)) * page_size)  # whole pages only
    seen = 0

    def take(_user) -> bool:
        nonlocal seen
        seen += 1
        return seen < wanted

    gc.collect()
    started = time.perf_counter()
    response = await client.users.get(request_configuration=config(page_size))
    iterator = PageIterator(response, client.request_adapter)
    await iterator.iterate(take)
    typed_s = time.perf_counter() - started
    del response, iterator, tables

    # Parsing alone: the same page bytes through json + the collector's frame, and through kiota's typed models.
    # Timed in CPU seconds of this process (nothing else runs in it now), so other load on the machine does not
    # count.
    body = await send_json(ctx.graph_adapter, "GET", "/users", params={"$select": ",".join(select), "$top": PAGE})
    raw_bytes = jsonlib.dumps(body).encode()
    page_users = len(body["value"])
    repeat = max(1, 2_000 // max(1, page_users))
    gc.collect()
    started = time.process_time()
    for _ in range(repeat * 5):
        frame("entra_users", jsonlib.loads(raw_bytes)["value"], times=("createdDateTime",))
    raw_parse_s = (time.process_time() - started) / 5
    factory = JsonParseNodeFactory()
    gc.collect()
    started = time.process_time()
    for _ in range(repeat):
        factory.get_root_parse_node("application/json", raw_bytes).get_object_value(UserCollectionResponse)
    typed_parse_s = time.process_time() - started
    return {
        "properties": len(select), "page": page_size, "raw_users": raw_users, "raw_s": raw_s,
        "typed_users": seen, "typed_s": typed_s, "typed_first_call_s": first_call_s,
        "parse_users": page_users * repeat, "raw_parse_s": raw_parse_s, "typed_parse_s": typed_parse_s,
    }


# ============================================================================================ one size


def _stats(conn) -> dict:
    conn.send("stats")
    if not conn.poll(60):
        raise TimeoutError("no server statistics from the sandbox")
    return conn.recv()


def run_size(conn, name: str, size: Size, latency_ms: float, out_root: str, typed_cap: int,
             trace_memory: bool, timeout_s: float) -> None:
    """Worker process for one size: start the sandbox child, collect, measure; send the results to `conn`."""
    import logging

    logging.disable(logging.WARNING)
    from idbridge.collect.run import collect
    from idbridge.core.parameters import CollectionParams, Parameters

    result: dict = {"name": name, "size": {**asdict(size), "assignments_per_account": size.assignments_per_account}}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    window_days = CollectionParams().window_days
    deadline = time.monotonic() + timeout_s
    parent_end = box = None
    try:
        log(f"[{name}] generating and seeding {size.users:,} users / {size.accounts:,} accounts ...")
        parent_end, box, ready = start_sandbox(sandbox_process, (name, size, latency_ms, now.isoformat(),
                                                                 window_days, timeout_s), f"sandbox-{name}", timeout_s)
        result.update({k: ready[k] for k in ("generate_s", "validate_s", "seed_s", "truth")})
        document = ready["parameters"]
        require_loopback(document)
        params = Parameters.model_validate(document)
        minimum = minimum_calls(result["truth"])
        predicted = max(f for f, _ in floors({k: v for k, (v, _) in minimum.items()}).values())
        log(f"[{name}] seeded in {ready['seed_s']:.0f} s; floor at the minimum calls {predicted:.0f} s; "
            f"collecting ...")

        started = time.perf_counter()
        import boto3, pyarrow.parquet, msgraph  # noqa: E401,F401  start-up cost, not collection
        import idbridge.clients.factory, idbridge.collect.aws.collectors, idbridge.collect.entra.collectors  # noqa: E401,F401
        result["imports_s"] = time.perf_counter() - started

        from idbridge.clients.aws import pacing

        pacing.PACE_SANDBOX_AS_AWS = True  # a real tenant's pacing, not only on the limits the sandbox enforces
        result["server_before"] = _stats(parent_end)
        result["load_before"] = os.getloadavg()[0]
        cpu = time.process_time()
        started = time.perf_counter()
        path = collect(params, Path(out_root) / name / "snapshot", now=now)
        result["wall_s"] = time.perf_counter() - started
        result["cpu_s"] = time.process_time() - cpu
        result["load_after"] = os.getloadavg()[0]
        result["rss_after_collect_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["server"] = _stats(parent_end)
        manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
        result["api_calls"] = manifest["api_calls"]
        result["sources"] = {k: {"status": v["status"], "seconds": v.get("seconds"), "error": v.get("error")}
                             for k, v in manifest["sources"].items()}
        result["tracemalloc_peak_mb"] = result["traced_wall_s"] = None
        if trace_memory:
            # A second whole collect() under tracemalloc: tracing slows allocation-heavy code (botocore, frames)
            # by a quarter or more, so the timed run above is never traced.
            log(f"[{name}] collected in {result['wall_s']:.0f} s; again under tracemalloc for the peak ...")
            tracemalloc.start()
            started = time.perf_counter()
            collect(params, Path(out_root) / name / "snapshot-traced", now=now)
            result["traced_wall_s"] = time.perf_counter() - started
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        log(f"[{name}] timing the users read raw and typed ...")
        result["parsing"] = asyncio.run(asyncio.wait_for(parse_benchmark(params, typed_cap),
                                                         max(60.0, deadline - time.monotonic())))
        result["rss_end_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        result["sandbox_rss_mb"] = stop_sandbox(parent_end, box) if box is not None else None
        conn.send(result)


# ============================================================================================ printing


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def table(title: str, header: list[str], rows: list[list[str]], note: str = "") -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [title, line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    if note:
        out.append(note)
    return "\n".join(out) + "\n"


def fmt_s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:,.1f} s"


def fmt_rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


def report(results: list[dict], latency_ms: float) -> str:
    from idbridge.clients.aws.pacing import LIMITS_TPS, PACE_SHARE

    ok = [r for r in results if "error" not in r]
    names = [r["name"] for r in results]
    out = []
    for r in results:
        if "error" in r:
            out.append(f"{r['name']}: FAILED: {r['error']}\n")
    if not ok:
        return "\n".join(out)
    cols = [r["name"] for r in ok]

    # ------------------------------------------------------------------ 1. wall time against the floor
    rows = []
    add = rows.append
    add(["users / groups", *(f"{r['truth']['users']:,} / {r['truth']['groups']:,}" for r in ok)])
    add(["accounts / permission sets",
         *(f"{r['truth']['accounts']:,} / {r['truth']['permission_sets']:,}" for r in ok)])
    add(["assignments / (account, PS) pairs",
         *(f"{r['truth']['assignments']:,} / {len(r['truth']['pairs']):,}" for r in ok)])
    add(["Entra sign-ins to the app (window)", *(f"{r['truth']['sign_ins']:,}" for r in ok)])
    add(["IdC users / groups (after SCIM)", *(f"{r['truth']['idc_users']:,} / {r['truth']['idc_groups']:,}"
                                              for r in ok)])
    add(["generate + validate + seed", *(f"{r['generate_s']:.1f} + {r['validate_s']:.1f} + {r['seed_s']:.1f} s"
                                         for r in ok)])
    floor_of = {r["name"]: floors(r["api_calls"]) for r in ok}
    min_floor_of = {r["name"]: floors({k: v for k, (v, _) in minimum_calls(r["truth"]).items()}) for r in ok}
    for family in ("sso-admin", "identitystore", "organizations", "cloudtrail", "graph reports"):
        add([f"floor {family}", *(f"{floor_of[c][family][0]:,.1f} s ({floor_of[c][family][1]})" for c in cols)])
    overall = {c: max(floor_of[c].items(), key=lambda kv: kv[1][0]) for c in cols}
    add(["FLOOR (max over families)", *(f"{overall[c][1][0]:,.1f} s ({overall[c][0]})" for c in cols)])
    add(["imports before collect() (not in wall time)", *(fmt_s(r["imports_s"]) for r in ok)])
    add(["WALL TIME of collect()", *(fmt_s(r["wall_s"]) for r in ok)])
    ratio = {r["name"]: r["wall_s"] / overall[r["name"]][1][0] for r in ok}
    add([f"ratio wall / floor (target <= {WALL_TARGET})",
         *(f"{ratio[c]:.3f} {'PASS' if ratio[c] <= WALL_TARGET else 'FAIL'}" for c in cols)])
    add(["floor at the minimum calls", *(f"{max(v[0] for v in min_floor_of[c].values()):,.1f} s" for c in cols)])
    add(["CPU during collect(): collector / sandbox",
         *(f"{r['cpu_s']:,.1f} s / {r['server']['cpu_s'] - r['server_before']['cpu_s']:,.1f} s" for r in ok)])
    add([f"machine load (1 min) before / after, {os.cpu_count()} cores",
         *(f"{r['load_before']:.1f} / {r['load_after']:.1f}" for r in ok)])
    add(["AWS calls: collector / sandbox received",
         *(f"{sum(v for k, v in r['api_calls'].items() if not k.startswith('graph:')):,} / "
           f"{sum(r['server']['aws_calls'].values()):,}" for r in ok)])
    add(["Graph requests: collector / emulator received",
         *(f"{sum(v for k, v in r['api_calls'].items() if k.startswith('graph:')):,} / "
           f"{r['server']['graph_requests'] - r['server_before']['graph_requests']:,}" for r in ok)])
    add(["throttled: AWS ThrottlingException / Graph 429",
         *(f"{sum(v for k, v in r['server']['aws_refused'].items() if 'Throttl' in k):,} / "
           f"{r['server']['graph_statuses'].get('429', 0):,}"
           + "".join(f" ({path} {n})" for path, n in r["server"]["graph_429_paths"].items()) for r in ok)])
    sources = sorted({s for r in ok for s in r["sources"]})
    for source in sources:
        cells = []
        for r in ok:
            rec = r["sources"].get(source)
            if rec is None:
                cells.append("-")
                continue
            text = f"{rec['status']} {fmt_s(rec['seconds'])}"
            cells.append(text if not rec["error"] else f"{text}: {rec['error'][:50]}")
        add([f"  {source}", *cells])
    out.append(table(
        f"1. Wall time against the rate-limit floor (sandbox latency {latency_ms:g} ms, aws_throttle, "
        "graph_reports_limit)", ["", *cols], rows,
        f"   floor = calls / allowed rate: sso-admin {LIMITS_TPS['sso-admin']:g} TPS for all operations; "
        f"identitystore {LIMITS_TPS['identitystore']:g} TPS per API (max over APIs);\n"
        f"   organizations {LIMITS_TPS['organizations']:g} TPS and cloudtrail {LIMITS_TPS['cloudtrail']:g} TPS "
        "(clients/aws/pacing.py LIMITS_TPS; the sandbox enforces neither, the collector paces them); Graph reports "
        "5 per 10 s.\n"
        f"   The collector paces at PACE_SHARE = {PACE_SHARE} of each limit: its best possible ratio is "
        f"{1 / PACE_SHARE:.3f}. Seeding is not part of the wall time.\n"
        "   'floor at the minimum calls' is the same floor computed with table 2's minimum calls instead of the "
        "calls made.\n"
        "   Assignment density: " + "; ".join(
            f"{r['name']} {r['size']['assignments_per_account']:g} per account" for r in ok)
        + " (the generator's default) -> the pairs above."))

    # ------------------------------------------------------------------ 2. calls per operation vs minimum
    minimum = {r["name"]: minimum_calls(r["truth"]) for r in ok}
    keys = sorted({k for r in ok for k in r["api_calls"]} | {k for m in minimum.values() for k in m},
                  key=lambda k: (k.startswith("graph:"), k))
    rows = []
    totals = {c: [0, 0] for c in cols}
    for key in keys:
        cells = []
        formula = ""
        for r in ok:
            made = r["api_calls"].get(key, 0)
            need, formula = minimum[r["name"]].get(key, (None, formula or "(no formula)"))
            totals[r["name"]][0] += made
            totals[r["name"]][1] += need or 0
            cells.append(f"{made:,} / {need:,}" if need is not None else f"{made:,} / ?")
        rows.append([key, *cells, formula])
    rows.append(["total", *(f"{totals[c][0]:,} / {totals[c][1]:,}" for c in cols), ""])
    out.append(table("2. API calls per operation: made / minimum needed",
                     ["operation", *cols, "minimum ="], rows,
                     "   Graph $batch sub-requests are counted per sub-request; the POST /$batch row counts "
                     "the batches themselves."))

    # ------------------------------------------------------------------ 3. parsing
    rows = []
    p = {r["name"]: r["parsing"] for r in ok}
    add = rows.append
    add(["raw path (collector: read_all + frame)",
         *(f"{p[c]['raw_users']:,} users in {p[c]['raw_s']:.2f} s = {fmt_rate(p[c]['raw_users'], p[c]['raw_s'])}"
           for c in cols)])
    add(["typed (GraphServiceClient + PageIterator)",
         *(f"{p[c]['typed_users']:,} users in {p[c]['typed_s']:.2f} s = "
           f"{fmt_rate(p[c]['typed_users'], p[c]['typed_s'])}" for c in cols)])
    e2e = {c: (p[c]["raw_users"] / p[c]["raw_s"]) / (p[c]["typed_users"] / p[c]["typed_s"]) for c in cols}
    add([f"ratio raw / typed (target >= {PARSE_TARGET:g}x)",
         *(f"{e2e[c]:,.0f}x {'PASS' if e2e[c] >= PARSE_TARGET else 'FAIL'}" for c in cols)])
    add(["parse only, raw (json.loads + frame), CPU time",
         *(fmt_rate(p[c]["parse_users"], p[c]["raw_parse_s"]) for c in cols)])
    add(["parse only, typed (kiota UserCollectionResponse), CPU",
         *(fmt_rate(p[c]["parse_users"], p[c]["typed_parse_s"]) for c in cols)])
    add(["parse-only ratio",
         *(f"{p[c]['typed_parse_s'] / p[c]['raw_parse_s']:,.0f}x" for c in cols)])
    add(["typed first call (lazy imports, not timed above)", *(fmt_s(p[c]["typed_first_call_s"]) for c in cols)])
    first = p[cols[0]]
    out.append(table(f"3. Users parsed per second, same sandbox, same $select ({first['properties']} properties), "
                     f"{first['page']} a page",
                     ["", *cols], rows,
                     "   The first two rows include the HTTP round trips and the emulator's serving time "
                     "(sandbox latency included), in wall time; 'parse only' parses the same page bytes with no HTTP, "
                     "in CPU time."))

    # ------------------------------------------------------------------ 4. memory
    rows = [
        ["tracemalloc peak during collect() (second run)",
         *(f"{r['tracemalloc_peak_mb']:,.0f} MB" if r["tracemalloc_peak_mb"] is not None else "-" for r in ok)],
        ["wall time of the traced run", *(fmt_s(r["traced_wall_s"]) for r in ok)],
        ["collector process max RSS after the timed collect()", *(f"{r['rss_after_collect_mb']:,.0f} MB" for r in ok)],
        ["collector process max RSS at the end (traced run, table 3)", *(f"{r['rss_end_mb']:,.0f} MB" for r in ok)],
        ["sandbox process max RSS", *(f"{r.get('sandbox_rss_mb') or 0:,.0f} MB" for r in ok)],
    ]
    out.append(table("4. Peak memory", ["", *cols], rows,
                     "   Each size runs in fresh processes (collector and sandbox), so each figure is that size's "
                     "own."))
    return "\n".join(out)


# ============================================================================================ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,medium",
                        help=f"comma-separated, from {', '.join(SIZES)} (default small,medium)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="sandbox latency per request (default 20)")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep each size's snapshot and results.json here (default: a temporary folder, removed)")
    parser.add_argument("--typed-users", type=int, default=2_000,
                        help="about this many users through the typed models, in whole pages (default 2000)")
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="collect without tracemalloc (no peak figure; tracing slows allocation-heavy code)")
    parser.add_argument("--timeout-min", type=float, default=60.0,
                        help="give up on a size after this many minutes (default 60)")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown or not names:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    out_root = args.out or Path(tempfile.mkdtemp(prefix="idbridge-bench-"))
    out_root.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (out_root / name).exists():
            parser.error(f"{out_root / name} exists already: choose another --out")

    ctx = mp.get_context("spawn")
    results = []
    started = time.perf_counter()
    try:
        for name in names:
            timeout_s = args.timeout_min * 60
            receive, send = ctx.Pipe(duplex=False)
            worker = ctx.Process(target=run_size, name=f"bench-{name}",
                                 args=(send, name, SIZES[name], args.latency_ms, str(out_root), args.typed_users,
                                       not args.no_tracemalloc, timeout_s))
            worker.start()
            send.close()
            if receive.poll(timeout_s + 120):
                results.append(receive.recv())
            else:
                results.append({"name": name, "error": f"no result within {args.timeout_min:g} minutes"})
            worker.join(30)
            if worker.is_alive():
                worker.terminate()
                worker.join(10)
            if "error" in results[-1]:
                log(f"[{name}] {results[-1]['error']}")
    finally:
        if args.out is None:
            shutil.rmtree(out_root, ignore_errors=True)
    print(report(results, args.latency_ms))
    print(f"total {time.perf_counter() - started:,.0f} s for --sizes {','.join(names)}"
          + ("" if "large" in names else "; large (100k users, 1,000 accounts) runs with --sizes large"))
    if args.out is not None:
        (out_root / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
