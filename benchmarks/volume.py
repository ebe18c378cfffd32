"""Sign-ins and CloudTrail at realistic volume: how long the collector takes to read 100,000 Entra sign-ins to the
AWS app and about 100,000 CloudTrail events in the collection window, how many calls it spends, how close that is
to the rate-limit floor, and how much memory it takes. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/volume.py [--sign-ins 100000] [--trail-events 100000] [--latency-ms 50]

The organisation is a small generated one (idbridge.sandbox.generate, seed 1: 2,000 users, 50 groups, 10
accounts, 12 permission sets) whose sign-ins are multiplied up to the volume asked (the generator gives each
signing-in user one sign-in; real people sign in many times a month), seed 7 for the times:

    Entra   --sign-ins sign-ins to the AWS app in the 30-day window (3 % failed), and 5 % more 31-60 days ago
            that the collector's $filter on createdDateTime must leave out.
    AWS     --trail-events CloudTrail events in the window, of the kinds the collector looks up
            (collect/aws/trail.py LOOKUPS): access-portal sign-ins (UserAuthentication, 3 % failed SAML
            federations as ExternalIdPDirectoryLogin) make up the bulk; CreateAccountAssignment,
            ProvisionPermissionSet, SCIM writes (PatchUser, PatchGroup, ...), the console's bridge events, and
            IAM / Identity Store CreateUser events that share a SCIM name (which keep() drops or keeps) the rest;
            5 % more 31-60 days ago, outside StartTime. What else the sandbox logs (its bridge set-up events,
            SCIM writes of the emulated provisioning) comes on top: the in-window total is printed as counted.

The sandbox is seeded and served in a child process (moto and the Graph emulator on 127.0.0.1 only, with
latency, aws_throttle and graph_reports_limit on), so the collector does not share its interpreter or GIL with
the servers. The collector runs in a process of its own (its max RSS is this collection's) with a real tenant's
pacing (pacing.PACE_SANDBOX_AS_AWS: the sandbox does not throttle CloudTrail, the collector paces it as AWS
would) and collects only entra.app, entra.sign_ins (which needs it) and aws.cloudtrail. The counts collected are
compared, event id by event id, with what the sandbox holds in the window (read from its stores, never through
the API; CloudTrail after keep()).

The rate-limit floor of a source is its calls / the allowed rate:
    entra.sign_ins  GET /auditLogs/signIns requests / (5 per 10 s): Graph's identity-and-access reports limit per
                    app per tenant; $top 1000, the largest page the endpoint serves
    aws.cloudtrail  LookupEvents calls / 2 TPS (clients/aws/pacing.py LIMITS_TPS["cloudtrail"], AWS's documented
                    2 per second per account per Region); 50 events a page, one lookup per event name
'at the minimum calls' is the same floor with the fewest pages that read everything (ceil(n / page size), one
call for an empty lookup). The two sources run concurrently; each ratio is the source's own wall / its floor (the
first 5 report requests may go at once, so at a few dozen requests the sign-in ratio can be under 1). The
pacing's own best ratio is printed beside it: the reports pacer sends 5 per 10.5 s (pacer.MARGIN_S), the AWS
pacer draws from a token bucket at PACE_SHARE of the rate and a strict window (WINDOWS) at once.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import Size, require_loopback, serve_sandbox, start_sandbox, stop_sandbox

# Never go through a proxy: every request of this script is for 127.0.0.1.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

FAULTS = "latency={latency},aws_throttle=on,graph_reports_limit=on"
BASE = Size(2_000, 50, 10, 12)
TIME_SEED = 7
SOURCES = ["entra.app", "entra.sign_ins", "aws.cloudtrail"]
AUDIT_PAGE = 1000        # /auditLogs/signIns $top maximum
TRAIL_PAGE = 50          # LookupEvents MaxResults maximum
REPORTS_RATE = 5 / 10    # Graph identity-and-access reports: 5 requests per 10 s per app per tenant
FAILED = 0.03            # share of failed sign-ins, both sides
OUTSIDE = 0.05           # share of extra events 31-60 days old, outside the window


# ============================================================================================ the scenario


def _other_trail_events(total: int) -> dict[tuple[str, str], int]:
    """(event name, event source) -> how many, for the CloudTrail events that are not sign-ins."""
    def share(fraction: float, least: int) -> int:
        return max(least, round(total * fraction))

    out = {("CreateAccountAssignment", "sso.amazonaws.com"): share(0.01, 5),
           ("ProvisionPermissionSet", "sso.amazonaws.com"): share(0.005, 3),
           ("PatchUser", "identitystore-scim.amazonaws.com"): share(0.005, 3),
           ("PatchGroup", "identitystore-scim.amazonaws.com"): share(0.005, 3),
           ("PutUser", "identitystore-scim.amazonaws.com"): share(0.0005, 1),
           ("DeleteUser", "identitystore-scim.amazonaws.com"): share(0.0005, 1),
           ("DeleteGroup", "identitystore-scim.amazonaws.com"): share(0.0002, 1),
           # the same names from other services: IAM's are dropped, the Identity Store API's CreateUser kept
           ("CreateUser", "iam.amazonaws.com"): share(0.0005, 1),
           ("CreateUser", "identitystore.amazonaws.com"): share(0.0001, 1),
           ("DeleteGroup", "identitystore.amazonaws.com"): share(0.0001, 1)}
    from idbridge.collect.aws import trail as aws_trail

    for name in aws_trail.BRIDGE_EVENTS:
        out[(name, "sso-directory.amazonaws.com")] = 2
    for name in aws_trail.IDENTITY_SOURCE_EVENTS:
        out[(name, "sso.amazonaws.com")] = 1
    return out


def volume_scenario(sign_ins: int, trail_events: int) -> dict:
    """The generated organisation with `sign_ins` Entra sign-ins and about `trail_events` CloudTrail events in the
    window (plus OUTSIDE more of each outside it)."""
    doc = BASE.scenario()
    rng = random.Random(TIME_SEED)
    pairs = list(zip(doc["entra"]["sign_ins"], doc["aws"]["sign_ins"]))  # the generator's: one per user, in step
    window_m, old_m = 30 * 1440, 60 * 1440

    def minutes(outside: bool) -> int:
        return rng.randint(window_m + 1440, old_m) if outside else rng.randint(30, window_m - 60)

    entra = []
    for n in range(sign_ins + round(sign_ins * OUTSIDE)):
        user = rng.choice(pairs)[0]["user"]
        event = {"user": user, "at": f"now-{minutes(n >= sign_ins)}m", "ip": f"203.0.113.{n % 200 + 20}"}
        if rng.random() < FAILED:
            event.update(status="failure", error_code=50126, mfa=False, conditional_access="notApplied")
        entra.append(event)
    others = _other_trail_events(trail_events)
    aws_sign_ins = max(0, trail_events - sum(others.values()))
    aws = []
    for n in range(aws_sign_ins + round(aws_sign_ins * OUTSIDE)):
        user = rng.choice(pairs)[1]["user"]
        event = {"user": user, "at": f"now-{minutes(n >= aws_sign_ins)}m", "ip": f"203.0.113.{n % 200 + 20}"}
        if rng.random() < FAILED:
            event.update(status="failure", failure_reason="Unable to validate the SAML response")
        aws.append(event)
    trail = []
    for (name, source), count in others.items():
        for n in range(count + round(count * OUTSIDE)):
            trail.append({"name": name, "source": source, "at": f"now-{minutes(n >= count)}m"})
    doc["entra"]["sign_ins"] = entra
    doc["aws"]["sign_ins"] = aws
    doc["aws"]["cloudtrail"] = doc["aws"].get("cloudtrail", []) + trail
    return doc


# ============================================================================================ sandbox process


def _ground_truth(box, window_start: datetime, window_end: datetime) -> dict:
    """What the sandbox holds in the window, read from its stores: Entra sign-in ids to the app, and per lookup
    the CloudTrail events found (for the minimum pages) and the event ids the collector keeps."""
    from idbridge.collect.aws import trail as aws_trail
    from idbridge.sandbox.aws import trail

    graph = box.world.graph
    app_id = graph.service_principals[graph.aws_sp_id]["appId"]
    start, end = window_start.timestamp(), window_end.timestamp()

    def when(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    sign_ins = [e["id"] for e in graph.sign_ins if e.get("appId") == app_id and when(e["createdDateTime"]) >= start]
    events = trail.store_for(box.world.aws.account_id, box.world.aws.region)
    per_lookup, kept = {}, set()
    for attribute in aws_trail.LOOKUPS:
        found = [trail.lookup_response(e) for e in events.lookup([attribute], start, end)]
        per_lookup[attribute["AttributeValue"]] = len(found)
        kept.update(e["EventId"] for e in found if aws_trail.keep(e))
    return {"sign_ins_stored": len(graph.sign_ins), "sign_in_ids": sign_ins, "trail_stored": len(events),
            "trail_lookups": per_lookup, "trail_ids": sorted(kept)}


def sandbox_process(conn, sign_ins: int, trail_events: int, latency_ms: float, now_iso: str, window_days: int,
                    lifetime_s: float) -> None:
    """Child process: generate, seed and serve the organisation until told to stop (or the parent is gone)."""
    import logging

    logging.disable(logging.WARNING)
    from collect import _answer_stats, _peak_rss

    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.scenario import Scenario
    from idbridge.sandbox.server import Sandbox

    now = datetime.fromisoformat(now_iso)
    took: dict[str, float] = {}

    def start():
        started = time.perf_counter()
        scenario = Scenario.model_validate(volume_scenario(sign_ins, trail_events))
        generated = time.perf_counter()
        box = Sandbox(scenario, scenario_file="generated-volume", now=now,
                      faults=parse_fault_spec(FAULTS.format(latency=latency_ms)))
        box.start()
        took.update(generate_s=generated - started, seed_s=time.perf_counter() - generated)
        return box

    def ready(box) -> dict:
        return {"parameters": box.parameters(engagement="bench-volume"), **took,
                "truth": _ground_truth(box, now - timedelta(days=window_days), now),
                "rss_seeded_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    serve_sandbox(conn, start, ready, _answer_stats, lifetime_s, last_words=_peak_rss)


# ============================================================================================ collector process


def _stats(conn) -> dict:
    conn.send("stats")
    if not conn.poll(60):
        raise TimeoutError("no server statistics from the sandbox")
    return conn.recv()


def run(conn, sign_ins: int, trail_events: int, latency_ms: float, out_root: str, timeout_s: float) -> None:
    """Worker process: start the sandbox child, collect the three sources once, measure; send results to `conn`."""
    import logging

    logging.disable(logging.WARNING)
    from collect import log

    result: dict = {}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    window_days = 30
    parent_end = box = None
    try:
        log(f"generating and seeding {sign_ins:,} sign-ins and about {trail_events:,} CloudTrail events ...")
        parent_end, box, ready = start_sandbox(sandbox_process, (sign_ins, trail_events, latency_ms, now.isoformat(),
                                                                 window_days, timeout_s), "sandbox-volume", timeout_s)
        truth = ready["truth"]
        result.update({k: ready[k] for k in ("generate_s", "seed_s", "rss_seeded_mb")})
        document = ready["parameters"]
        require_loopback(document)
        document["collection"] = {**document.get("collection", {}), "sources": SOURCES, "window_days": window_days}

        import boto3, pyarrow.parquet, msgraph  # noqa: E401,F401  start-up cost, not collection
        import idbridge.clients.factory, idbridge.collect.aws.collectors  # noqa: E401,F401
        import idbridge.collect.entra.collectors  # noqa: F401
        from idbridge.clients.aws import pacing
        from idbridge.collect.run import collect
        from idbridge.core.parameters import Parameters

        params = Parameters.model_validate(document)
        pacing.PACE_SANDBOX_AS_AWS = True  # a real tenant's pacing: CloudTrail's 2 TPS is AWS's, not the sandbox's
        log(f"seeded in {ready['seed_s']:.0f} s: {len(truth['sign_in_ids']):,} sign-ins and "
            f"{len(truth['trail_ids']):,} CloudTrail events in the window; collecting ...")
        result["server_before"] = _stats(parent_end)
        result["rss_before_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["load_before"] = os.getloadavg()
        cpu = time.process_time()
        started = time.perf_counter()
        path = Path(collect(params, Path(out_root) / "snapshot", now=now))
        result["wall_s"] = time.perf_counter() - started
        result["cpu_s"] = time.process_time() - cpu
        result["load_after"] = os.getloadavg()
        result["rss_after_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["server"] = _stats(parent_end)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        result["api_calls"] = manifest["api_calls"]
        result["api_retries"] = manifest.get("api_retries", {})
        result["sources"] = {k: {"status": v["status"], "seconds": v.get("seconds"), "error": v.get("error")}
                             for k, v in manifest["sources"].items()}

        def ids(table: str, column: str) -> set:
            file = path / f"{table}.parquet"
            return set(pyarrow.parquet.read_table(file, columns=[column]).column(column).to_pylist()) \
                if file.exists() else set()

        got_sign_ins, got_trail = ids("entra_sign_ins", "id"), ids("cloudtrail_events", "eventId")
        want_sign_ins, want_trail = set(truth["sign_in_ids"]), set(truth["trail_ids"])
        result["check"] = {
            "entra.sign_ins": (len(got_sign_ins), len(want_sign_ins), len(want_sign_ins - got_sign_ins),
                               len(got_sign_ins - want_sign_ins)),
            "aws.cloudtrail": (len(got_trail), len(want_trail), len(want_trail - got_trail),
                               len(got_trail - want_trail)),
        }
        result["truth"] = {k: v for k, v in truth.items() if not k.endswith("_ids")}
    except BaseException as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        result["sandbox_rss_mb"] = stop_sandbox(parent_end, box) if box is not None else None
        conn.send(result)


# ============================================================================================ printing


def report(r: dict, latency_ms: float) -> str:
    from collect import fmt_s, table

    from idbridge.clients.aws.pacing import LIMITS_TPS, RATES, WINDOWS
    from idbridge.clients.graph.pacer import REPORTS_LIMIT, REPORTS_WINDOW_S, MARGIN_S

    if "error" in r:
        return f"FAILED: {r['error']}\n"
    truth = r["truth"]
    calls = r["api_calls"]
    sign_in_calls = sum(v for k, v in calls.items() if "/auditLogs/signIns" in k)
    trail_calls = sum(v for k, v in calls.items() if k.startswith("cloudtrail:"))
    min_sign_in = max(1, math.ceil(r["check"]["entra.sign_ins"][1] / AUDIT_PAGE))
    min_trail = sum(max(1, math.ceil(n / TRAIL_PAGE)) for n in truth["trail_lookups"].values())
    trail_rate = LIMITS_TPS["cloudtrail"]
    count, window = WINDOWS["cloudtrail"]
    paced_trail = min(RATES["cloudtrail"], count / window)
    paced_reports = REPORTS_LIMIT / (REPORTS_WINDOW_S + MARGIN_S)
    spec = {
        "entra.sign_ins": (sign_in_calls, REPORTS_RATE, min_sign_in, paced_reports, "5 per 10 s"),
        "aws.cloudtrail": (trail_calls, trail_rate, min_trail, paced_trail, f"{trail_rate:g} TPS"),
    }
    rows = []
    for source, (made, rate, minimum, paced, limit) in spec.items():
        got, want, missing, extra = r["check"][source]
        wall = r["sources"].get(source, {}).get("seconds")
        floor = made / rate
        rows.append([
            source, f"{got:,}", f"{want:,}", "yes" if (missing, extra) == (0, 0) else f"NO ({missing} missing, "
                                                                                    f"{extra} extra)",
            f"{made:,} / {minimum:,}", limit, fmt_s(wall), fmt_s(floor), f"{wall / floor:.3f}" if wall else "-",
            f"{rate / paced:.3f}", r["sources"].get(source, {}).get("status", "-")])
    out = [table(
        f"Collection at volume (sandbox latency {latency_ms:g} ms, aws_throttle, graph_reports_limit; "
        "a real tenant's pacing)",
        ["source", "collected", "in window", "equal", "calls / minimum", "limit", "wall", "floor", "ratio",
         "pacing's best", "status"], rows,
        "   floor = calls made / the allowed rate; ratio = wall / floor; pacing's best = the ratio the pacer "
        "allows at most\n   (reports: 5 per "
        f"{REPORTS_WINDOW_S + MARGIN_S:g} s; CloudTrail: min(token bucket {RATES['cloudtrail']:.2f}/s, strict "
        f"window {count} per {window:g} s) = {paced_trail:.3f}/s).\n"
        f"   Calls at the minimum: sign-ins ceil(n/{AUDIT_PAGE}); CloudTrail sum over the {len(truth['trail_lookups'])}"
        f" lookups of ceil(n/{TRAIL_PAGE}).")]
    lookups = ", ".join(f"{name} {n:,}" for name, n in sorted(truth["trail_lookups"].items(), key=lambda kv: -kv[1])
                        if n)
    load_b, load_a = r["load_before"], r["load_after"]
    server = r["server"]
    throttles = sum(v for k, v in server["aws_refused"].items() if "Throttl" in k)
    lines = [
        ["stored: Entra sign-ins / CloudTrail events (window and outside)",
         f"{truth['sign_ins_stored']:,} / {truth['trail_stored']:,}"],
        ["CloudTrail events per lookup in the window", lookups],
        ["generate + seed (not in the wall time)", f"{r['generate_s']:.1f} + {r['seed_s']:.1f} s"],
        ["WALL TIME of collect() (sources run concurrently)", fmt_s(r["wall_s"])],
        ["CPU during collect(): collector / sandbox",
         f"{r['cpu_s']:,.1f} s / {server['cpu_s'] - r['server_before']['cpu_s']:,.1f} s"],
        ["collector max RSS: before collect() / after (peak)", f"{r['rss_before_mb']:,.0f} MB / "
                                                             f"{r['rss_after_mb']:,.0f} MB"],
        ["sandbox max RSS: seeded / at the end",
         f"{r['rss_seeded_mb']:,.0f} MB / {r.get('sandbox_rss_mb') or 0:,.0f} MB"],
        ["throttled: AWS ThrottlingException / Graph 429",
         f"{throttles:,} / {server['graph_statuses'].get('429', 0):,}"],
        ["retries (manifest api_retries)", json.dumps(r["api_retries"]) if r["api_retries"] else "none"],
        [f"load average (1/5/15 min) before, {os.cpu_count()} cores", " / ".join(f"{x:.2f}" for x in load_b)],
        ["load average (1/5/15 min) after", " / ".join(f"{x:.2f}" for x in load_a)],
    ]
    width = max(len(label) for label, _ in lines)
    out.append("\n".join(f"{label.ljust(width)}  {value}" for label, value in lines))
    return "\n".join(out)


# ============================================================================================ main


def main(argv: list[str] | None = None) -> int:
    from collect import log

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sign-ins", type=int, default=100_000, help="Entra sign-ins in the window (default 100000)")
    parser.add_argument("--trail-events", type=int, default=100_000,
                        help="CloudTrail events in the window, about (default 100000)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="sandbox latency per request (default 50)")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the snapshot and results.json here (default: a temporary folder, removed)")
    parser.add_argument("--timeout-min", type=float, default=60.0, help="give up after this many minutes")
    args = parser.parse_args(argv)
    if args.sign_ins < 1 or args.trail_events < 1:
        parser.error("--sign-ins and --trail-events must be at least 1")
    out_root = args.out or Path(tempfile.mkdtemp(prefix="idbridge-volume-"))
    out_root.mkdir(parents=True, exist_ok=True)
    if (out_root / "snapshot").exists():
        parser.error(f"{out_root / 'snapshot'} exists already: choose another --out")
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    timeout_s = args.timeout_min * 60
    try:
        receive, send = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=run, name="bench-volume",
                             args=(send, args.sign_ins, args.trail_events, args.latency_ms, str(out_root), timeout_s))
        worker.start()
        send.close()
        result = receive.recv() if receive.poll(timeout_s + 120) else \
            {"error": f"no result within {args.timeout_min:g} minutes"}
        worker.join(30)
        if worker.is_alive():
            worker.terminate()
            worker.join(10)
    finally:
        if args.out is None:
            shutil.rmtree(out_root, ignore_errors=True)
    if "error" in result:
        log(result["error"])
    print(report(result, args.latency_ms))
    print(f"total {time.perf_counter() - started:,.0f} s for --sign-ins {args.sign_ins} "
          f"--trail-events {args.trail_events}")
    if args.out is not None:
        (out_root / "results.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
