"""idbridge's AWS collection next to `aws-sso-util admin assignments` (PyPI: aws-sso-util, the tool people use to
list Identity Center assignments today) on the same sandbox organisation. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/peer.py [--users 1000 --groups 200 --accounts 300 --permission-sets 20]
                                        [--latency-ms 50] [--shapes bucket,window] [--venv DIR]

aws-sso-util is installed with pip into a throwaway virtual environment (a temporary folder, or --venv to keep
one between runs); nothing of it enters idbridge's environment. The organisation is generated in memory
(idbridge.sandbox.generate, seed 1) and served by the sandbox in a child process with the given latency and AWS
throttling on, once per limiter shape:

    bucket  a token bucket of 20 refilled at 20 per second (AWS's documented 20 TPS, bursts allowed)
    window  at most 20 requests in any one-second window (a stricter limiter)

For each shape both tools read the same organisation: idbridge's AWS sources except CloudTrail (aws-sso-util
reads no events), aws-sso-util with its defaults and --no-lookup-names. Both must give the same set of
(account, permission set, principal type, principal id) assignments. Calls are counted by the sandbox, so both
tools are counted the same way; throttled answers are counted apart ("refused"). The floor is idbridge's own
calls at the documented rates (sso-admin 20 TPS for all its APIs, identitystore 20 TPS per API, organizations at
the rate idbridge assumes): the collection cannot end sooner. Nothing talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from common import Size, require_loopback, serve_sandbox, start_sandbox, stop_sandbox

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
SOURCES = ["aws.instances", "aws.identity_store", "aws.permission_sets", "aws.provisioning_status",
           "aws.account_assignments", "aws.organizations"]
SERVICES = ("sso-admin", "identitystore", "organizations", "sts")


def sandbox_process(conn, size: Size, latency_ms: float, lifetime_s: float) -> None:
    """Child: seed and serve one organisation; answers "faults <spec>", "reset", "stats", "stop"."""
    import logging

    logging.disable(logging.WARNING)
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.scenario import Scenario
    from idbridge.sandbox.server import Sandbox

    def start():
        scenario = Scenario.model_validate(size.scenario())
        box = Sandbox(scenario, scenario_file="generated-peer", now=datetime.now(timezone.utc),
                      faults=parse_fault_spec(f"latency={latency_ms},aws_throttle=on"))
        box.start()
        return box

    def answer(box, message: str):
        if message.startswith("faults "):
            box.world.faults = parse_fault_spec(message.split(" ", 1)[1])
            return "ok"
        if message == "reset":
            box._aws_server.reset_calls()
            box._aws_server.refused.clear()
            return "ok"
        if message == "stats":
            return {"calls": dict(box.aws_calls), "refused": dict(box._aws_server.refused)}
        raise ValueError(f"unknown message {message!r}")

    serve_sandbox(conn, start, lambda box: {"parameters": box.parameters(engagement="bench-peer")}, answer,
                  lifetime_s)


def ask(conn, message: str, timeout_s: float = 60.0):
    conn.send(message)
    if not conn.poll(timeout_s):
        raise TimeoutError(f"no answer from the sandbox to {message!r}")
    return conn.recv()


def install_peer(venv: Path) -> Path:
    exe = venv / "bin" / "aws-sso-util"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "aws-sso-util"], check=True, timeout=900)
    return exe


def service_calls(stats: dict) -> Counter:
    return Counter({k: v for k, v in stats["calls"].items() if k.split(":")[0] in SERVICES})


def floors(calls: Counter) -> dict[str, float]:
    """Seconds each limit needs for these calls at its documented (or assumed) rate."""
    from idbridge.clients.aws.pacing import LIMITS_TPS

    sso = sum(n for k, n in calls.items() if k.startswith("sso-admin:")) / LIMITS_TPS["sso-admin"]
    store = max([n for k, n in calls.items() if k.startswith("identitystore:")] or [0]) / LIMITS_TPS["identitystore"]
    org = sum(n for k, n in calls.items() if k.startswith("organizations:")) / LIMITS_TPS["organizations"]
    return {"sso-admin": sso, "identitystore": store, "organizations": org}


def run_idbridge(document: dict, out: Path) -> dict:
    from idbridge.clients.aws import pacing
    from idbridge.collect.run import collect
    from idbridge.core.parameters import Parameters
    from idbridge.snapshot.store import Snapshot

    params = Parameters.model_validate({**document, "collection": {**document.get("collection", {}),
                                                                    "sources": SOURCES}})
    pacing.PACE_SANDBOX_AS_AWS = True  # a real tenant's pacing, not only on the limits the sandbox enforces
    started = time.perf_counter()
    path = collect(params, out)
    wall = time.perf_counter() - started
    manifest = json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))
    # The principal-walk reports itself partial (it cannot see orphaned assignments): that is expected here.
    bad = {k: v.get("error") for k, v in manifest["sources"].items()
           if v["status"] != "complete" and not (k == "aws.account_assignments" and v["status"] == "partial")}
    if bad:
        raise RuntimeError(f"idbridge did not collect everything: {bad}")
    frame = Snapshot(path).table("idc_account_assignments")
    rows = {(r.accountId, r.permissionSetArn, r.principalType, r.principalId) for r in frame.itertuples()}
    return {"wall_s": wall, "rows": rows, "walk": manifest.get("collection_notes", {}).get("aws.account_assignments"),
            "retries": manifest.get("api_retries", {})}


def run_peer(exe: Path, document: dict, instance_arn: str, store_id: str, timeout_s: float) -> dict:
    aws = document["aws"]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.mkdtemp(prefix="peer-home-"),
           "AWS_ENDPOINT_URL": aws["endpoint_url"], "AWS_DEFAULT_REGION": aws["region"],
           "AWS_REGION": aws["region"], "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY

    env.update({"AWS_ACCESS_KEY_ID": SANDBOX_AWS_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SANDBOX_AWS_SECRET_ACCESS_KEY})
    started = time.perf_counter()
    done = subprocess.run([str(exe), "admin", "assignments", "--instance-arn", instance_arn, "--identity-store-id",
                           store_id, "--no-lookup-names", "--arn-style", "arn", "--sep", ","],
                          env=env, capture_output=True, text=True, timeout=timeout_s)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"wall_s": wall, "rows": None, "error": done.stderr.strip().splitlines()[-1:] or ["?"]}
    reader = csv.DictReader(io.StringIO(done.stdout))
    rows = set()
    for r in reader:
        rows.add((r["target_id"], r["permission_set_arn"], r["principal_type"], r["principal_id"]))
    return {"wall_s": wall, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--permission-sets", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--shapes", default="bucket,window")
    parser.add_argument("--venv", help="where to install aws-sso-util (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--walk", default="auto", choices=("auto", "pair-walk", "principal-walk"),
                        help="idbridge's aws.assignment_walk (default auto: what a user gets, the complete "
                             "pair-walk; the principal-walk is cheaper here but misses assignments of deleted "
                             "principals)")
    args = parser.parse_args(argv)
    from idbridge.clients.aws.pacing import PACE_SHARE

    size = Size(args.users, args.groups, args.accounts, args.permission_sets)

    with tempfile.TemporaryDirectory(prefix="idbridge-peer-") as tmp:
        venv = Path(args.venv) if args.venv else Path(tmp) / "venv"
        print(f"installing aws-sso-util into {venv} ...", flush=True)
        exe = install_peer(venv)
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"seeding {size.users:,} users, {size.groups:,} groups, {size.accounts:,} accounts, "
              f"{size.permission_sets} permission sets ...", flush=True)
        parent, proc, ready = start_sandbox(sandbox_process, (size, args.latency_ms, args.timeout), "sandbox-peer",
                                            args.timeout)
        try:
            document = ready["parameters"]
            require_loopback(document)
            document["aws"] = {**document["aws"], "assignment_walk": args.walk}
            results = []
            for shape in [s for s in args.shapes.split(",") if s]:
                ask(parent, f"faults latency={args.latency_ms},aws_throttle=on,limiter={shape}")
                ask(parent, "reset")
                ours = run_idbridge(document, Path(tmp) / f"snap-{shape}")
                ours_stats = ask(parent, "stats")
                import pyarrow.parquet  # noqa: F401  (already loaded: keeps the peer's timing clean)

                from idbridge.snapshot.store import Snapshot  # noqa: F401
                instances = [p for p in Path(tmp).glob(f"snap-{shape}*/**/idc_instances.parquet")]
                instance = _instance(instances[0])
                ask(parent, "reset")
                peer = run_peer(exe, document, instance["instanceArn"], instance["identityStoreId"], args.timeout)
                peer_stats = ask(parent, "stats")
                results.append((shape, ours, ours_stats, peer, peer_stats))
        finally:
            stop_sandbox(parent, proc)

    print(f"\naws-sso-util {version}; organisation {size.users:,} users / {size.groups:,} groups / "
          f"{size.accounts:,} accounts / {size.permission_sets} permission sets; latency {args.latency_ms:g} ms; "
          f"load {os.getloadavg()[0]:.2f}")
    header = f"{'limiter':<8} {'tool':<14} {'wall s':>8} {'calls':>7} {'refused':>8} {'rows':>7}  notes"
    print(header + "\n" + "-" * len(header))
    for shape, ours, ours_stats, peer, peer_stats in results:
        calls, peer_calls = service_calls(ours_stats), service_calls(peer_stats)
        per_limit = floors(calls)
        floor = max(per_limit.values())
        walk = ours["walk"] or {}
        print(f"{shape:<8} {'idbridge':<14} {ours['wall_s']:8.1f} {sum(calls.values()):7,} "
              f"{sum(ours_stats['refused'].values()):8,} {len(ours['rows']):7,}  floor {floor:.1f} s "
              f"({ours['wall_s'] / floor:.2f}x; " + ", ".join(f"{k} {v:.1f} s" for k, v in per_limit.items())
              + f"); {walk.get('chosen')} (estimates {walk.get('estimated_calls')}, spent {walk.get('actual_calls')})")
        if ours_stats["refused"]:
            print(f"{'':<8} {'':<14} refused: {ours_stats['refused']}; retries: {ours['retries']}")
        rows = "-" if peer["rows"] is None else f"{len(peer['rows']):,}"
        note = f"failed: {peer['error'][0]}" if peer["rows"] is None else (
            "same assignments" if peer["rows"] == ours["rows"] else
            f"DIFFERENT: {len(peer['rows'] - ours['rows'])} only here, {len(ours['rows'] - peer['rows'])} only in idbridge")
        print(f"{'':<8} {'aws-sso-util':<14} {peer['wall_s']:8.1f} {sum(peer_calls.values()):7,} "
              f"{sum(peer_stats['refused'].values()):8,} {rows:>7}  {note}")
        print(f"{'':<8} {'ratio':<14} {ours['wall_s'] / peer['wall_s']:8.2f}x  (target <= 0.5x, and <= 1.1x the floor; "
              f"pacing at {PACE_SHARE:.0%} of each limit makes {1 / PACE_SHARE:.2f}x the best)")
    return 0


def _instance(path: Path) -> dict:
    import pandas as pd

    return pd.read_parquet(path).iloc[0].to_dict()


if __name__ == "__main__":
    sys.exit(main())
