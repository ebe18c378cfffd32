"""Incremental vs full Entra collection after about 1% of the tenant changed. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/incremental.py [--users 10000] [--groups 1000] [--latency-ms 50] [--out DIR]

One generated organisation (idbridge.sandbox.generate, seed common.SEED) is served in this process (Graph emulator
and moto on 127.0.0.1, with latency). The Entra sources that change tracking covers and their dependencies
(entra.app, entra.users, entra.groups, entra.app_assignments, entra.group_members) are collected in full with
collection.incremental on (the base, which also takes the delta links); then 1% of users are renamed, added or
deleted, 1% of groups get a membership change and 1% of the app's group assignments are added or removed; then
one incremental and one full collection run on the same state, timed, and their tables are compared.

The servers share this interpreter (and its GIL) with the collector, so both walls include the emulator's own
work; the ratio is what matters.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import common  # noqa: F401  (puts lib/ on sys.path like the other benchmarks)

SOURCES = ["entra.app", "entra.users", "entra.groups", "entra.app_assignments", "entra.group_members"]
TABLES = ["entra_users", "entra_groups", "entra_app_role_assignments", "entra_group_members"]


def change_one_percent(store, rng: random.Random) -> dict[str, int]:
    users, groups = sorted(store.users), sorted(store.groups)
    done = {"users renamed": 0, "users added": 0, "users deleted": 0, "memberships changed": 0,
            "assignments changed": 0}
    for oid in rng.sample(users, max(1, len(users) // 100)):
        kind = rng.choice(["rename", "add", "delete"])
        if kind == "rename":
            store.users[oid]["displayName"] += " (renamed)"
            done["users renamed"] += 1
        elif kind == "add":
            new = copy.deepcopy(store.users[oid])
            new["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
            new["userPrincipalName"] = f"bench{new['id'][:8]}@example.com"
            store.users[new["id"]] = new
            store.direct_members.setdefault(rng.choice(groups), []).append(new["id"])
            done["users added"] += 1
        else:
            store.deleted_users[oid] = store.users.pop(oid)
            for members in store.direct_members.values():
                if oid in members:
                    members.remove(oid)
            for aid in [a for a, v in store.app_role_assignments.items() if v["principalId"] == oid]:
                del store.app_role_assignments[aid]
            done["users deleted"] += 1
    for gid in rng.sample(groups, max(1, len(groups) // 100)):
        store.direct_members.setdefault(gid, []).append(rng.choice(sorted(store.users)))
        done["memberships changed"] += 1
    assigned = [a for a in store.app_role_assignments.values()
                if a["resourceId"] == store.aws_sp_id and a["principalType"] == "Group"]
    for assignment in rng.sample(assigned, max(1, len(assigned) // 100)):
        del store.app_role_assignments[assignment["id"]]
        done["assignments changed"] += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    from idbridge.collect.run import collect
    from idbridge.core.parameters import Parameters
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.generate import generate_scenario
    from idbridge.sandbox.scenario import Scenario
    from idbridge.sandbox.server import Sandbox
    from idbridge.snapshot.store import Snapshot

    scenario = Scenario.model_validate(generate_scenario(args.users, args.groups, 50, 20, seed=common.SEED,
                                                         sign_ins=1_000))
    box = Sandbox(scenario, scenario_file="generated-incremental",
                  faults=parse_fault_spec(f"latency={args.latency_ms:g}"))
    box.start()
    root = Path(args.out or tempfile.mkdtemp(prefix="idbridge-incremental-"))
    clock = [box.now]

    def run(incremental: bool, label: str) -> tuple[float, Snapshot]:
        clock[0] += timedelta(hours=1)
        document = box.parameters(engagement="bench-inc" if incremental else "bench-full")
        document["run_root"] = str(root)
        document["collection"] = {**document.get("collection", {}), "incremental": incremental, "sources": SOURCES}
        params = Parameters.model_validate(document)
        started = time.perf_counter()
        path = collect(params, root / params.engagement / "snapshots" / label, now=clock[0])
        return time.perf_counter() - started, Snapshot(path)

    try:
        base_s, _ = run(True, "base")
        with box.world.lock:
            changes = change_one_percent(box.world.graph, random.Random(1))
        inc_s, inc = run(True, "incremental")
        full_s, full = run(False, "full")
    finally:
        box.stop()

    def rows(snapshot, table):
        frame = snapshot.table(table)
        return sorted(tuple(repr(v.tolist() if hasattr(v, "tolist") else v) for v in r)
                      for r in frame.itertuples(index=False))

    same = all(rows(inc, t) == rows(full, t) for t in TABLES)
    calls = lambda s: sum(s.manifest["api_calls"].values())  # noqa: E731
    print(f"organisation: {args.users:,} users, {args.groups:,} groups; Graph latency {args.latency_ms:g} ms; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("changes: " + ", ".join(f"{k} {v}" for k, v in changes.items()))
    print(f"{'collection':<28}{'wall':>10}{'Graph calls':>14}")
    print(f"{'base (full + delta links)':<28}{base_s:>9.2f}s")
    print(f"{'full':<28}{full_s:>9.2f}s{calls(full):>14,}")
    print(f"{'incremental':<28}{inc_s:>9.2f}s{calls(inc):>14,}")
    print(f"incremental / full wall: {inc_s / full_s:.3f}; tables identical: {same}")
    for source, note in sorted(inc.manifest["incremental"]["sources"].items()):
        print(f"  {source}: {note['mode']} ({note['why']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
