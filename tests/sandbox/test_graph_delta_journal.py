"""The emulator answers delta rounds from its change journal (graph/changes.py), not by comparing the directory
with a copy of it. Its answers must be what a comparison of the directory before and after gives: random write
sequences of every kind (properties set, cleared and set back, users deleted to deletedItems and restored, objects
replaced whole, groups created and deleted, members added, removed, listed again, a member deleted) are applied to
a store, and each round's items are checked against a diff of the two states computed here."""

from __future__ import annotations

import copy
import random
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

from idbridge.sandbox.graph import routes_delta
from idbridge.sandbox.graph.changes import TrackedList, TrackedObject
from idbridge.sandbox.graph.core import Call
from idbridge.sandbox.graph.store import GraphStore

USER_SELECT = ("displayName", "jobTitle", "mobilePhone", "id")
GROUP_SELECT = ("displayName", "description", "members", "id")
USER = "#microsoft.graph.user"
GROUP = "#microsoft.graph.group"
SP = "#microsoft.graph.servicePrincipal"


def store_of(rng: random.Random) -> GraphStore:
    store = GraphStore(tenant={"id": "t"})
    for i in range(40):
        store.users[f"u{i}"] = {"id": f"u{i}", "displayName": f"User {i}", "jobTitle": rng.choice([None, "Dev"]),
                                "mobilePhone": None, "department": "R&D"}
    for i in range(8):
        store.groups[f"g{i}"] = {"id": f"g{i}", "displayName": f"Group {i}", "description": None}
        store.direct_members[f"g{i}"] = rng.sample(sorted(store.users), 6)
    store.service_principals["sp0"] = {"id": "sp0", "appId": "a"}
    store.direct_members["g0"].append("sp0")
    store.direct_members["g1"].append("g2")
    return store


def state(store: GraphStore, kind: str) -> tuple[dict, dict | None]:
    """What a comparing emulator would keep: selected properties of each object, typed members of each group."""
    select = USER_SELECT if kind == "users" else GROUP_SELECT
    source = store.users if kind == "users" else store.groups
    objects = {oid: {p: o.get(p) for p in select if p != "members"} for oid, o in source.items()}
    if kind == "users":
        return objects, None
    types = {**{u: USER for u in store.users}, **{g: GROUP for g in store.groups},
             **{s: SP for s in store.service_principals}}
    return objects, {g: {m: types[m] for m in store.direct_members.get(g, []) if m in types} for g in store.groups}


def expected(store: GraphStore, kind: str, then: tuple, now: tuple) -> dict[str, dict]:
    """The documented answer, from two states: id -> item (members@delta as a set of (id, removed?))."""
    (old_objects, old_members), (objects, members) = then, now
    out = {}
    for oid, props in objects.items():
        before = old_objects.get(oid)
        entries = set()
        if members is not None:
            now_m, then_m = members.get(oid, {}), (old_members.get(oid, {}) if before is not None else {})
            entries = {(m, False) for m in now_m if m not in then_m} | {(m, True) for m in then_m if m not in now_m}
        if before == props and not entries:
            continue
        item = {k: v for k, v in props.items() if v is not None or (before or {}).get(k) is not None}
        out[oid] = {**item, "members": entries} if members is not None else item
    for oid in old_objects.keys() - objects.keys():
        reason = "changed" if kind == "users" and oid in store.deleted_users else "deleted"
        out[oid] = {"id": oid, "@removed": {"reason": reason}}
    return out


class App:
    def __init__(self, store: GraphStore):
        self.world = SimpleNamespace(graph=store)
        self.delta = None

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc)


def served(app: App, kind: str, args: dict) -> tuple[dict[str, dict], str]:
    """One whole round (every page) as id -> item, occurrences merged, and the round's delta token."""
    out: dict[str, dict] = {}
    while True:
        call = Call("GET", "v1.0", f"/{kind}/delta", args, {}, None, "http://x/v1.0", app)
        page = routes_delta.delta(call, kind).body
        for item in page["value"]:
            entries = {(m["id"], "@removed" in m) for m in item.get("members@delta", ())}
            plain = {k: v for k, v in item.items() if k != "members@delta"}
            if kind == "groups" and "@removed" not in item:
                plain["members"] = out.get(item["id"], {}).get("members", set()) | entries
            out[item["id"]] = plain
        link = page.get("@odata.nextLink") or page["@odata.deltaLink"]
        query = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
        if "@odata.deltaLink" in page:
            return out, query["$deltatoken"]
        args = query


def change(store: GraphStore, rng: random.Random, serial: list[int]) -> None:
    users, groups = sorted(store.users), sorted(store.groups)
    kind = rng.randrange(13)
    user, group = store.users[rng.choice(users)], rng.choice(groups)
    if kind == 0:
        user[rng.choice(["displayName", "jobTitle", "mobilePhone", "department"])] = rng.choice([None, "x", "y"])
    elif kind == 1:  # set and set back: no change to report
        old = user["displayName"]
        user["displayName"] = "temporary"
        user["displayName"] = old
    elif kind == 2:
        user.pop("jobTitle", None)
    elif kind == 3:
        store.deleted_users[user["id"]] = store.users.pop(user["id"])
    elif kind == 4 and store.deleted_users:
        oid = rng.choice(sorted(store.deleted_users))
        store.users[oid] = store.deleted_users.pop(oid)
    elif kind == 5:
        serial[0] += 1
        new = {**copy.deepcopy(user), "id": f"n{serial[0]}", "displayName": f"New {serial[0]}"}
        store.users[new["id"]] = new
        store.direct_members.setdefault(group, []).append(new["id"])
    elif kind == 6:  # replaced whole
        store.users[user["id"]] = {**user, "jobTitle": rng.choice([None, "Ops"])}
    elif kind == 7:
        store.groups[group]["description"] = rng.choice([None, "about"])
    elif kind == 8:
        listed = store.direct_members.setdefault(group, [])
        if listed:
            listed.remove(rng.choice(listed))
        listed.append(rng.choice(sorted(store.users)))
    elif kind == 9 and len(groups) > 3:
        del store.groups[group]
        store.direct_members.pop(group, None)
    elif kind == 10:
        serial[0] += 1
        store.groups[f"ng{serial[0]}"] = {"id": f"ng{serial[0]}", "displayName": "New group", "description": None}
        store.direct_members[f"ng{serial[0]}"] = rng.sample(sorted(store.users), 3) + [group]
    elif kind == 11:
        store.direct_members[group] = rng.sample(sorted(store.users), 4)
    elif kind == 12:
        store.direct_members.setdefault(group, []).extend(rng.sample(sorted(store.users), 2))
        store.service_principals.pop("sp0", None) if rng.random() < 0.5 else \
            store.service_principals.setdefault("sp0", {"id": "sp0", "appId": "a"})


def test_rounds_from_the_journal_equal_a_comparison_of_the_states():
    rng = random.Random(7)
    store = store_of(rng)
    app = App(store)
    tokens = {kind: served(app, kind, {"$select": ",".join(s for s in select if s != "id"),
                                       "$deltatoken": "latest"})[1]
              for kind, select in (("users", USER_SELECT), ("groups", GROUP_SELECT))}
    states = {kind: state(store, kind) for kind in tokens}
    serial, nonempty = [0], 0
    for round_ in range(150):
        for _ in range(rng.randint(0, 6)):
            change(store, rng, serial)
        for kind in tokens:
            now = state(store, kind)
            items, tokens[kind] = served(app, kind, {"$deltatoken": tokens[kind]})
            assert items == expected(store, kind, states[kind], now), (round_, kind)
            nonempty += bool(items)
            states[kind] = now
    assert nonempty > 150  # the rounds had something to report


def test_an_old_token_replays_every_change_since_it():
    rng = random.Random(3)
    store = store_of(rng)
    app = App(store)
    _, token = served(app, "users", {"$select": "displayName,jobTitle,mobilePhone", "$deltatoken": "latest"})
    then = state(store, "users")
    serial = [0]
    for _ in range(60):
        change(store, rng, serial)
    items, _ = served(app, "users", {"$deltatoken": token})
    assert items == expected(store, "users", then, state(store, "users")) and items
    again, _ = served(app, "users", {"$deltatoken": token})  # a token can be used more than once
    assert again == items


def test_the_store_journals_writes_and_copies_do_not():
    store = GraphStore(tenant={"id": "t"})
    store.users["a"] = {"id": "a", "displayName": "A"}
    assert isinstance(store.users["a"], TrackedObject) and isinstance(store.direct_members.setdefault("g", []),
                                                                      TrackedList)
    mark = store.changes.seq
    plain = copy.deepcopy(store.users["a"])
    plain["displayName"] = "not in the store"
    assert type(plain) is dict and store.changes.seq == mark
    store.users["a"]["displayName"] = "A"  # the same value: nothing changed
    assert store.changes.seq == mark
    store.users["a"]["displayName"] = "B"
    store.direct_members["g"] += ["a"]
    assert store.changes.since(mark) == [("users", "a", ("set", "displayName", "A")), ("members", "g", ("a", True))]
    gone = store.users.pop("a")
    gone["displayName"] = "after deletion"  # no longer the store's: not journaled
    assert store.changes.since(mark)[-1] == ("users", "a", ("deleted", {"id": "a", "displayName": "B"}))


def test_every_dict_write_of_the_store_is_journaled():
    """update, popitem, clear and |= change the maps without __setitem__ / __delitem__ in a plain dict: each one
    must still reach the journal (a write that bypassed it would be missing from every later delta round)."""
    store = GraphStore(tenant={"id": "t"})
    mark = store.changes.seq
    store.users.update({"a": {"id": "a", "displayName": "A"}}, b={"id": "b", "displayName": "B"})
    store.users["a"].update(jobTitle="Engineer")
    store.users |= {"c": {"id": "c"}}
    last, _ = store.users.popitem()
    store.direct_members.update(g=["a", "b"])
    store.direct_members.popitem()
    store.users["a"].clear()
    store.users.clear()
    journal = store.changes.since(mark)
    users = [(key, event[0]) for kind, key, event in journal if kind == "users"]
    assert users == [("a", "created"), ("b", "created"), ("a", "set"), ("c", "created"), (last, "deleted"),
                     *[("a", "set")] * 3,  # id, displayName and jobTitle cleared
                     ("a", "deleted"), ("b", "deleted")]
    members = sorted(event for kind, key, event in journal if kind == "members")  # a set's order within a write
    assert members == [("a", False), ("a", True), ("b", False), ("b", True)]
    assert last == "c" and dict(store.users) == {} and dict(store.direct_members) == {}
