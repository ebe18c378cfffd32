"""Incremental collection (collection.incremental) against the sandbox: after random change sets, an incremental
snapshot holds the same tables as a full collection of the same tenant; and every case where completeness cannot be
shown (no previous snapshot, an old or expired link, a synchronization reset, an event not understood) is read in
full, the manifest saying why."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.snapshots import table_rows
from support.sandbox import sandbox_parameters

from idbridge.collect.run import collect
from idbridge.core.parameters import Parameters
from idbridge.sandbox.graph import routes_delta
from idbridge.snapshot.store import Snapshot

pytestmark = pytest.mark.integration
SOURCES = ["entra.app", "entra.users", "entra.groups", "entra.app_assignments", "entra.group_members"]
TABLES = ["entra_users", "entra_groups", "entra_app_role_assignments", "entra_group_members"]
TRACKED = ("entra.users", "entra.groups", "entra.group_members")


@pytest.fixture(scope="module")
def box(demo_sandbox):
    return demo_sandbox  # conftest's: one demo sandbox for the module


class Runs:
    """Collections of one sandbox: incremental ones in one engagement folder, full ones in another."""

    def __init__(self, box, root: Path):
        self.box, self.root, self.n = box, root, 0
        self.clock = box.world.now

    def collect(self, incremental: bool, after: timedelta = timedelta(hours=1)) -> Snapshot:
        self.n += 1
        self.clock += after
        name = "inc" if incremental else "full"
        params = sandbox_parameters(self.box, engagement=name, run_root=str(self.root),
                                    collection={"incremental": incremental, "sources": SOURCES})
        out = self.root / name / "snapshots" / f"{self.n:03d}"
        return Snapshot(collect(params, out, now=self.clock))


rows = table_rows


def parquet_type(snapshot: Snapshot, table: str):
    """The table's column types as written (a table with the same rows could be written with other types)."""
    return pq.read_schema(snapshot.directory / f"{table}.parquet").remove_metadata()


# ------------------------------------------------------------------------------------------------ random changes


def _sp_id(store) -> str:
    return store.aws_sp_id


def _drop_principal(store, oid: str) -> None:
    for members in store.direct_members.values():
        while oid in members:
            members.remove(oid)
    for aid in [a for a, v in store.app_role_assignments.items() if v["principalId"] == oid]:
        del store.app_role_assignments[aid]


def change(store, rng: random.Random) -> str:
    users, groups = list(store.users), list(store.groups)
    kind = rng.choice(["add_user", "delete_user", "rename_user", "rename_group", "add_member", "remove_member",
                       "nest_group", "delete_group", "new_group", "assign_group", "unassign"])
    if kind == "add_user":
        new = copy.deepcopy(store.users[rng.choice(users)])
        new["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        new["userPrincipalName"] = f"new{new['id'][:8]}@example.com"
        new["displayName"] = f"New {new['id'][:4]}"
        store.users[new["id"]] = new
        store.direct_members.setdefault(rng.choice(groups), []).append(new["id"])
    elif kind == "delete_user":
        oid = rng.choice(users)
        user = store.users.pop(oid)
        if rng.random() < 0.5:
            store.deleted_users[oid] = user  # restorable: @removed reason "changed"
        _drop_principal(store, oid)
    elif kind == "rename_user":
        user = store.users[rng.choice(users)]
        user["displayName"] = f"Renamed {rng.getrandbits(16)}"
        user["jobTitle"] = rng.choice([None, "Engineer", "Manager"])
        user["mobilePhone"] = None
    elif kind == "rename_group":
        store.groups[rng.choice(groups)]["displayName"] = f"Group {rng.getrandbits(16)}"
    elif kind == "add_member":
        store.direct_members.setdefault(rng.choice(groups), []).append(rng.choice(users))
    elif kind == "remove_member":
        full = [g for g in groups if store.direct_members.get(g)]
        if full:
            members = store.direct_members[rng.choice(full)]
            members.remove(rng.choice(members))
    elif kind == "nest_group":
        parent, child = rng.sample(groups, 2)
        store.direct_members.setdefault(parent, []).append(child)
    elif kind == "delete_group":
        oid = rng.choice(groups)
        del store.groups[oid]
        store.direct_members.pop(oid, None)
        _drop_principal(store, oid)
    elif kind == "new_group":
        new = copy.deepcopy(store.groups[rng.choice(groups)])
        new["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        new["displayName"] = f"AWS-New-{new['id'][:4]}"
        store.groups[new["id"]] = new
        store.direct_members[new["id"]] = rng.sample(users, 3)
    elif kind in ("assign_group", "unassign"):
        assigned = [a for a in store.app_role_assignments.values()
                    if a["resourceId"] == _sp_id(store) and a["principalType"] == "Group"]
        if kind == "unassign" and assigned:
            del store.app_role_assignments[rng.choice(assigned)["id"]]
        elif assigned:
            group = store.groups[rng.choice(groups)]
            new = {**copy.deepcopy(assigned[0]), "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                   "principalId": group["id"], "principalDisplayName": group["displayName"]}
            store.app_role_assignments[new["id"]] = new
    return kind


# ------------------------------------------------------------------------------------------------ tests


def test_incremental_snapshots_equal_full_ones_after_random_change_sets(box, tmp_path):
    runs = Runs(box, tmp_path)
    first = runs.collect(True)
    why = first.manifest["incremental"]["sources"]["entra.users"]
    assert why["mode"] == "full" and "no earlier snapshot" in why["why"]
    rng = random.Random(14)
    kinds = set()
    for round_ in range(12):
        with box.world.lock:
            kinds |= {change(box.world.graph, rng) for _ in range(rng.randint(1, 8))}
        incremental, full = runs.collect(True), runs.collect(False)
        modes = incremental.manifest["incremental"]["sources"]
        assert all(modes[s]["mode"] == "delta" for s in TRACKED), (round_, modes)
        for table in TABLES:
            assert rows(incremental, table) == rows(full, table), (round_, table, sorted(kinds))
            assert parquet_type(incremental, table).equals(parquet_type(full, table)), (round_, table)
    # the change sets covered every kind of change (else the equality above proved less than it says)
    assert len(kinds) == 11, kinds


def test_an_incremental_round_reads_much_less_than_a_full_one(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(True)
    with box.world.lock:
        box.world.graph.users[next(iter(box.world.graph.users))]["displayName"] = "Changed once"
    second = runs.collect(True)
    calls = second.manifest["api_calls"]
    assert "graph:GET /users" not in calls and "graph:GET /groups" not in calls
    assert calls["graph:GET /users/delta"] == 1
    assert second.manifest["incremental"]["sources"]["entra.users"]["changes"] == 1
    assert second.table("entra_users").set_index("id").loc[
        next(iter(box.world.graph.users)), "displayName"] == "Changed once"


def test_a_link_older_than_seven_days_is_not_even_tried(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(True)
    later = runs.collect(True, after=timedelta(days=8))
    for source in TRACKED:
        note = later.manifest["incremental"]["sources"][source]
        assert note["mode"] == "full" and "8 days old" in note["why"], note
    assert "graph:GET /users" in later.manifest["api_calls"]
    assert set(later.manifest["delta"]) == set(TRACKED)  # a new base for the next run


def test_an_expired_link_graph_refuses_means_a_full_read_saying_so(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(True)
    box.world.now += timedelta(days=8)  # the sandbox's clock: its tokens are now past Graph's seven days
    try:
        later = runs.collect(True)
    finally:
        box.world.now -= timedelta(days=8)
    note = later.manifest["incremental"]["sources"]["entra.users"]
    assert note["mode"] == "full" and "syncStateNotFound" in note["why"], note
    assert later.status("entra.users") == ("complete", None)


def test_a_synchronization_reset_means_a_full_read_saying_so(box, tmp_path):
    runs = Runs(box, tmp_path)
    runs.collect(True)
    box._graph_server.app.delta.reset()  # werkzeug server -> the GraphApp it serves
    later = runs.collect(True)
    note = later.manifest["incremental"]["sources"]["entra.groups"]
    assert note["mode"] == "full" and "410" in note["why"], note


def test_an_event_not_understood_means_a_full_read_saying_so(box, tmp_path, monkeypatch):
    runs = Runs(box, tmp_path)
    runs.collect(True)
    real = routes_delta._changed_items

    def odd(call, kind, old):
        some = next(iter(call.store.users if kind == "users" else call.store.groups))
        return [*real(call, kind, old), {"id": some, "@removed": {"reason": "moved"}}]

    monkeypatch.setattr(routes_delta, "_changed_items", odd)
    later = runs.collect(True)
    for source in TRACKED:
        note = later.manifest["incremental"]["sources"][source]
        assert note["mode"] == "full" and "'moved'" in note["why"], note
    assert rows(later, "entra_users") == rows(runs.collect(False), "entra_users")


def test_without_the_parameter_nothing_changes(box, tmp_path):
    runs = Runs(box, tmp_path)
    full = runs.collect(False)
    assert "incremental" not in full.manifest and "delta" not in full.manifest


def test_the_parameter_is_validated():
    with pytest.raises(Exception, match="incremental"):
        Parameters.model_validate({**_minimal(), "collection": {"incremental": "sometimes"}})


def _minimal() -> dict:
    box_params = Path(__file__).resolve().parents[2] / "parameters" / "engagement.template.yaml"
    import yaml

    return yaml.safe_load(box_params.read_text(encoding="utf-8"))


def test_a_change_inside_a_nested_group_reaches_the_assigned_group_above_it(box, tmp_path):
    """Only the nested group's own membership changes; the assigned group above it must still be read again."""
    runs = Runs(box, tmp_path)
    store = box.world.graph
    with box.world.lock:
        assigned = {a["principalId"] for a in store.app_role_assignments.values()
                    if a["resourceId"] == store.aws_sp_id and a["principalType"] == "Group"}
        parent = sorted(assigned)[0]
        child = sorted(set(store.groups) - assigned)[0]
        store.direct_members.setdefault(parent, []).append(child)
    runs.collect(True)
    with box.world.lock:
        newcomer = sorted(set(store.users) - set(store.direct_members.get(child, [])))[0]
        store.direct_members.setdefault(child, []).append(newcomer)
    incremental, full = runs.collect(True), runs.collect(False)
    assert incremental.manifest["incremental"]["sources"]["entra.group_members"]["mode"] == "delta"
    members = incremental.table("entra_group_members")
    assert ((members["groupId"] == parent) & (members["memberId"] == newcomer)
            & (members["relation"] == "transitive")).any()
    assert rows(incremental, "entra_group_members") == rows(full, "entra_group_members")
