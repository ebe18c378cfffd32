"""Incremental vs full collection after about 1% of the organisation changed, Entra and AWS. Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/incremental.py [--side entra|aws|both] [--users 10000] [--groups 1000]
        [--aws-users 2000] [--aws-groups 200] [--accounts 100] [--permission-sets 20] [--latency-ms 50] [--out DIR]

AWS (--side aws): a generated organisation served with latency and AWS throttling on. The AWS sources that
incremental runs cover, with their dependencies (aws.instances, aws.identity_store, aws.permission_sets,
aws.provisioning_status, aws.account_assignments, aws.organizations, aws.delegation), are collected in full with
collection.incremental on (the base); the sandbox's clock then moves past CloudTrail's delivery margin and 1% of
users (renamed, deleted, added), of groups (a membership added or removed) and of assignments (created or
deleted) change through boto3, with one permission set edited and one account moved and tagged, each logged in
the sandbox's CloudTrail; then one incremental and one full collection run on the same state, timed (wall and AWS
calls), and their tables compared.

Entra (--side entra):
One generated organisation (idbridge.sandbox.generate, seed common.SEED) is seeded and served in a child process
(Graph emulator and moto on 127.0.0.1, with latency), so the collector does not share its interpreter or its GIL
with the servers (as in benchmarks/collect.py). The Entra sources that change tracking covers and their
dependencies (entra.app, entra.users, entra.groups, entra.app_assignments, entra.group_members) are collected in
full with collection.incremental on (the base, which also takes the delta links); then, in the child, 1% of users
are renamed, added or deleted, 1% of groups get a membership change and 1% of the app's group assignments are
removed, written into the emulator's store (whose containers journal every write: the delta rounds see them, and
a full read sees the same state); then one incremental and one full collection run on the same state, timed, and
their tables are compared. Each wall is the collector's whole collect() (reading the previous snapshot, requests
and their latency, the emulator's answers, building and writing the snapshot); the emulator's CPU is spent in the
other process, on the same 2 cores when the machine has 2.

The AWS side (--side aws) still serves its sandbox in this process (its wall includes the servers' work).

A whole run (--side aws --whole): the AWS side's organisation, whose Entra half has the same users and groups,
collected with the Entra sources above as well as the AWS ones, and 1% of Entra changed too (in the emulator's
store, as --side entra does) before the incremental run: what a scheduled audit of both clouds costs, both sides
read at once as a real run reads them.
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


def rows(snapshot, table: str) -> list[tuple]:
    """A table as sorted tuples of reprs: an incremental and a full snapshot compare equal whatever the row order."""
    frame = snapshot.table(table)
    return sorted(tuple(repr(v.tolist() if hasattr(v, "tolist") else v) for v in r)
                  for r in frame.itertuples(index=False))


def same_table(a, b, table: str) -> bool:
    """Same rows, and the same column types as written to parquet."""
    import pyarrow.parquet as pq

    schema = lambda s: pq.read_schema(s.directory / f"{table}.parquet").remove_metadata()  # noqa: E731
    return rows(a, table) == rows(b, table) and schema(a).equals(schema(b))


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
    everyone = sorted(store.users)
    for gid in rng.sample(groups, max(1, len(groups) // 100)):
        members = store.direct_members.setdefault(gid, [])
        # someone not in the group yet: Graph refuses to add a member twice (a 400 naming the reference that
        # "already exists"), so a listed duplicate would be a state no tenant can be in
        newcomer = next(u for u in iter(lambda: rng.choice(everyone), None) if u not in members)
        members.append(newcomer)
        done["memberships changed"] += 1
    assigned = [a for a in store.app_role_assignments.values()
                if a["resourceId"] == store.aws_sp_id and a["principalType"] == "Group"]
    for assignment in rng.sample(assigned, max(1, len(assigned) // 100)):
        del store.app_role_assignments[assignment["id"]]
        done["assignments changed"] += 1
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=["entra", "aws", "both"], default="both")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--aws-users", type=int, default=2_000)
    parser.add_argument("--aws-groups", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--permission-sets", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--whole", action="store_true",
                        help="--side aws: collect the Entra sources too and change 1%% of Entra as well (a whole "
                             "scheduled run, both sides at once, on one organisation)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    if args.side in ("entra", "both"):
        entra_main(args)
    if args.side in ("aws", "both"):
        aws_main(args)
    return 0


def entra_sandbox(conn, users: int, groups: int, latency_ms: float) -> None:
    """Child process: generate, seed and serve the Entra organisation; make the changes when told to; stop when told
    to (or when the parent is gone)."""
    logging.disable(logging.WARNING)
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.generate import generate_scenario
    from idbridge.sandbox.scenario import Scenario
    from idbridge.sandbox.server import Sandbox

    def start():
        scenario = Scenario.model_validate(generate_scenario(users, groups, 50, 20, seed=common.SEED, sign_ins=1_000))
        box = Sandbox(scenario, scenario_file="generated-incremental",
                      faults=parse_fault_spec(f"latency={latency_ms:g}"))
        box.start()
        return box

    def ready(box) -> dict:
        return {"now": box.now.isoformat(),
                "parameters": {name: box.parameters(engagement=name) for name in ("bench-inc", "bench-full")}}

    def answer(box, message: str) -> dict:
        if message != "change":
            raise ValueError(f"unknown message {message!r}")
        started = time.perf_counter()
        with box.world.lock:
            changes = change_one_percent(box.world.graph, random.Random(1))
        return {"changes": changes, "seconds": time.perf_counter() - started}

    common.serve_sandbox(conn, start, ready, answer)


def _receive(conn, seconds: float):
    if not conn.poll(seconds):
        raise TimeoutError(f"no answer from the sandbox process in {seconds:.0f} s")
    message = conn.recv()
    if isinstance(message, dict) and message.get("ok") is False:
        raise RuntimeError(f"sandbox process failed: {message['error']}")
    return message


def entra_main(args) -> None:
    from datetime import datetime

    from idbridge.collect.run import collect
    from idbridge.core.parameters import Parameters
    from idbridge.snapshot.store import Snapshot

    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"  # every request is for 127.0.0.1
    parent_end, server, ready = common.start_sandbox(entra_sandbox, (args.users, args.groups, args.latency_ms),
                                                     "sandbox-entra", 1800)
    root = Path(args.out or tempfile.mkdtemp(prefix="idbridge-incremental-"))
    try:
        clock = [datetime.fromisoformat(ready["now"])]

        def run(incremental: bool, label: str) -> tuple[float, Snapshot]:
            clock[0] += timedelta(hours=1)
            document = copy.deepcopy(ready["parameters"]["bench-inc" if incremental else "bench-full"])
            document["run_root"] = str(root)
            document["collection"] = {**document.get("collection", {}), "incremental": incremental,
                                      "sources": SOURCES}
            params = Parameters.model_validate(document)
            started = time.perf_counter()
            path = collect(params, root / params.engagement / "snapshots" / label, now=clock[0])
            return time.perf_counter() - started, Snapshot(path)

        base_s, _ = run(True, "base")
        parent_end.send("change")
        changes = _receive(parent_end, 600)["changes"]
        inc_s, inc = run(True, "incremental")
        full_s, full = run(False, "full")
    finally:
        common.stop_sandbox(parent_end, server, join_s=60)

    same = all(same_table(inc, full, t) for t in TABLES)
    calls = lambda s: sum(s.manifest["api_calls"].values())  # noqa: E731
    print(f"organisation: {args.users:,} users, {args.groups:,} groups; Graph latency {args.latency_ms:g} ms; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("changes: " + ", ".join(f"{k} {v}" for k, v in changes.items()))
    print(f"{'collection':<28}{'wall':>10}{'Graph calls':>14}")
    print(f"{'base (full + delta links)':<28}{base_s:>9.2f}s")
    print(f"{'full':<28}{full_s:>9.2f}s{calls(full):>14,}")
    print(f"{'incremental':<28}{inc_s:>9.2f}s{calls(inc):>14,}")
    print(f"incremental / full wall: {inc_s / full_s:.3f}; tables identical (rows and parquet types): {same}")
    for source, note in sorted(inc.manifest["incremental"]["sources"].items()):
        print(f"  {source}: {note['mode']} ({note['why']})")


AWS_SOURCES = ["aws.instances", "aws.identity_store", "aws.permission_sets", "aws.provisioning_status",
               "aws.account_assignments", "aws.organizations", "aws.delegation"]
AWS_TABLES = ["idc_users", "idc_groups", "idc_group_memberships", "idc_permission_sets",
              "idc_permission_set_policies", "idc_permission_set_provisioning", "idc_account_assignments",
              "org_accounts"]


def aws_change_one_percent(box, rng: random.Random) -> dict[str, int]:
    """About 1% of users, groups and assignments changed through boto3 (each write logged in CloudTrail), plus
    one permission set edited and one account moved and tagged."""
    import boto3
    from botocore.config import Config

    from idbridge.core.parameters import SANDBOX_AWS_ACCESS_KEY_ID, SANDBOX_AWS_SECRET_ACCESS_KEY

    ep = box.endpoints
    kw = dict(endpoint_url=ep.aws_endpoint_url, aws_access_key_id=SANDBOX_AWS_ACCESS_KEY_ID,
              aws_secret_access_key=SANDBOX_AWS_SECRET_ACCESS_KEY,
              config=Config(retries={"mode": "adaptive", "max_attempts": 20}))
    sso = boto3.client("sso-admin", region_name=ep.region, **kw)
    ids = boto3.client("identitystore", region_name=ep.region, **kw)
    org = boto3.client("organizations", region_name="us-east-1", **kw)
    store, instance = ep.identity_store_id, ep.instance_arn
    users = [u for p in ids.get_paginator("list_users").paginate(IdentityStoreId=store) for u in p["Users"]]
    groups = [g for p in ids.get_paginator("list_groups").paginate(IdentityStoreId=store) for g in p["Groups"]]
    done = {"users renamed": 0, "users added": 0, "users deleted": 0, "memberships changed": 0,
            "assignments created": 0, "assignments deleted": 0, "permission sets edited": 0, "accounts moved": 0}
    for user in rng.sample(users, max(1, len(users) // 100)):
        kind = rng.choice(["rename", "add", "delete"])
        if kind == "rename":
            ids.update_user(IdentityStoreId=store, UserId=user["UserId"], Operations=[
                {"AttributePath": "displayName", "AttributeValue": user.get("DisplayName", "") + " (renamed)"}])
            done["users renamed"] += 1
        elif kind == "add":
            name = f"bench-{rng.getrandbits(40):x}"
            ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name,
                            Name={"GivenName": "Bench", "FamilyName": name})
            done["users added"] += 1
        else:
            ids.delete_user(IdentityStoreId=store, UserId=user["UserId"])
            users.remove(user)
            done["users deleted"] += 1
    for group in rng.sample(groups, max(1, len(groups) // 100)):
        found = ids.list_group_memberships(IdentityStoreId=store, GroupId=group["GroupId"])["GroupMemberships"]
        if found and rng.random() < 0.5:
            ids.delete_group_membership(IdentityStoreId=store, MembershipId=rng.choice(found)["MembershipId"])
        else:
            try:
                ids.create_group_membership(IdentityStoreId=store, GroupId=group["GroupId"],
                                            MemberId={"UserId": rng.choice(users)["UserId"]})
            except ids.exceptions.ConflictException:
                pass
        done["memberships changed"] += 1
    arns = [a for p in sso.get_paginator("list_permission_sets").paginate(InstanceArn=instance)
            for a in p["PermissionSets"]]
    accounts = [a["Id"] for p in org.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
    assignments = []
    for arn in arns:
        for account in sso.list_accounts_for_provisioned_permission_set(InstanceArn=instance,
                                                                         PermissionSetArn=arn)["AccountIds"]:
            assignments += sso.list_account_assignments(InstanceArn=instance, AccountId=account,
                                                        PermissionSetArn=arn)["AccountAssignments"]
    for a in rng.sample(assignments, max(1, len(assignments) // 200)):
        sso.delete_account_assignment(InstanceArn=instance, TargetId=a["AccountId"], TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=a["PermissionSetArn"], PrincipalType=a["PrincipalType"],
                                      PrincipalId=a["PrincipalId"])
        done["assignments deleted"] += 1
    for _ in range(max(1, len(assignments) // 200)):
        group = rng.choice(groups)
        try:
            sso.create_account_assignment(InstanceArn=instance, TargetId=rng.choice(accounts),
                                          TargetType="AWS_ACCOUNT", PermissionSetArn=rng.choice(arns),
                                          PrincipalType="GROUP", PrincipalId=group["GroupId"])
            done["assignments created"] += 1
        except sso.exceptions.ConflictException:
            pass
    sso.update_permission_set(InstanceArn=instance, PermissionSetArn=rng.choice(arns), Description="bench edit")
    done["permission sets edited"] += 1
    root = org.list_roots()["Roots"][0]["Id"]
    account = rng.choice(accounts)
    source = org.list_parents(ChildId=account)["Parents"][0]["Id"]
    targets = [root] + [ou["Id"] for ou in org.list_organizational_units_for_parent(ParentId=root)
                        ["OrganizationalUnits"]]
    org.move_account(AccountId=account, SourceParentId=source, DestinationParentId=rng.choice(
        [t for t in targets if t != source]))
    org.tag_resource(ResourceId=account, Tags=[{"Key": "environment", "Value": "bench"}])
    done["accounts moved"] += 1
    return done


def aws_main(args) -> None:
    from idbridge.collect.aws import changes as aws_changes
    from idbridge.collect.run import collect
    from idbridge.core.parameters import Parameters
    from idbridge.sandbox.faults import parse_fault_spec
    from idbridge.sandbox.generate import generate_scenario
    from idbridge.sandbox.scenario import Scenario
    from idbridge.sandbox.server import Sandbox
    from idbridge.snapshot.store import Snapshot

    scenario = Scenario.model_validate(generate_scenario(args.aws_users, args.aws_groups, args.accounts,
                                                         args.permission_sets, seed=common.SEED, sign_ins=100))
    box = Sandbox(scenario, scenario_file="generated-incremental-aws",
                  faults=parse_fault_spec(f"latency={args.latency_ms:g},aws_throttle=on"))
    box.start()
    root = Path(args.out or tempfile.mkdtemp(prefix="idbridge-incremental-aws-"))
    clock = [box.now.replace(microsecond=0)]

    def run(incremental: bool, label: str) -> tuple[float, Snapshot]:
        document = box.parameters(engagement="bench-aws-inc" if incremental else "bench-aws-full")
        document["run_root"] = str(root)
        document["collection"] = {**document.get("collection", {}), "incremental": incremental,
                                  "sources": AWS_SOURCES + (SOURCES if args.whole else [])}
        params = Parameters.model_validate(document)
        started = time.perf_counter()
        path = collect(params, root / params.engagement / "snapshots" / label, now=clock[0])
        return time.perf_counter() - started, Snapshot(path)

    try:
        base_s, _ = run(True, "base")
        # The world's clock moves past the delivery margin: the writes come after the base run, and the next
        # collections after them by more than the margin (changes.DELIVERY_MARGIN, 15 min).
        clock[0] += aws_changes.DELIVERY_MARGIN + timedelta(minutes=1)
        box.world.now = clock[0]
        started = time.perf_counter()
        changes = aws_change_one_percent(box, random.Random(1))
        if args.whole:
            with box.world.lock:
                changes.update({f"Entra {k}": v for k, v in
                                change_one_percent(box.world.graph, random.Random(2)).items()})
        change_s = time.perf_counter() - started
        clock[0] += aws_changes.DELIVERY_MARGIN + timedelta(minutes=1)
        inc_s, inc = run(True, "incremental")
        full_s, full = run(False, "full")
    finally:
        box.stop()

    differ = [t for t in AWS_TABLES if rows(inc, t) != rows(full, t)] + \
        [t for t in (TABLES if args.whole else []) if not same_table(inc, full, t)]
    same = not differ
    calls = lambda s: sum(s.manifest["api_calls"].values())  # noqa: E731
    pairs = full.manifest["collection_notes"].get("aws.account_assignments", {}).get("pairs")
    print(f"AWS organisation: {args.aws_users:,} users, {args.aws_groups:,} groups, {args.accounts:,} accounts, "
          f"{args.permission_sets} permission sets, {pairs} provisioned pairs; latency {args.latency_ms:g} ms, "
          f"throttling on; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("changes: " + ", ".join(f"{k} {v}" for k, v in changes.items()) + f" ({change_s:.1f} s of writes)")
    print(f"{'collection':<28}{'wall':>10}{'calls':>12}" + ("   (AWS and Entra: a whole run)" if args.whole else ""))
    print(f"{'base (full)':<28}{base_s:>9.2f}s")
    print(f"{'full':<28}{full_s:>9.2f}s{calls(full):>12,}")
    print(f"{'incremental':<28}{inc_s:>9.2f}s{calls(inc):>12,}")
    print(f"incremental / full: wall {inc_s / full_s:.3f}, calls {calls(inc) / calls(full):.3f}; "
          f"tables identical: {same}" + (f" (differ: {', '.join(differ)})" if differ else ""))
    for source, note in sorted(inc.manifest["incremental"]["sources"].items()):
        print(f"  {source}: {note['mode']}, {note.get('reread', '-')} re-read ({note['why']})")


if __name__ == "__main__":
    sys.exit(main())
