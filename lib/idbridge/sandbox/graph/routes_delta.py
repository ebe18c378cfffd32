"""Change tracking: GET /users/delta and /groups/delta, in the shape the Graph reference documents
(concepts/delta-query-overview, delta-query-users, delta-query-groups, api/user-delta):

- a round is one or more pages: every page but the last carries @odata.nextLink (…?$skiptoken=…), the last one
  @odata.deltaLink (…?$deltatoken=…); the query options of the first request are encoded in the tokens;
- the first round (no token) returns every current object; `$deltatoken=latest` returns no objects and a deltaLink
  for "sync from now";
- a deltaLink round returns the objects created or changed since, with the selected properties: changed ones with
  their new value (null included), unchanged ones with their old value, never-set ones left out; removed objects
  as {"id", "@removed": {"reason": "changed" (restorable, in deletedItems) | "deleted"}};
- with `members` selected, a group carries `members@delta`: every member in the first round (a large group split
  over several occurrences of the group), only added members and {"@removed": {"reason": "deleted"}} ones later;
  a member removed by deleting the user is reported the same way;
- a delta token older than seven days (the limit for directory objects) answers 400 syncStateNotFound; after a
  synchronization reset (`DeltaTracker.reset()`, a test hook) an older token answers 410 Gone with a Location header
  naming the initial query.

Change tracking as the service keeps it: the store journals every write to users, groups, service principals and
direct memberships (graph/changes.py), and a delta token names the journal's sequence number when its round ended
(with the round's query options and issue time). A round from a token reads only the journal's entries after it:
which objects were created, deleted or had a selected property set, and which groups gained or lost a direct
member (or had a member created or deleted), each object's earlier values taken from the journal. The cost of a
round is the number of changes since, not the size of the directory; only a first round reads every object.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from idbridge.sandbox.graph import resources as R
from idbridge.sandbox.graph.changes import MISSING, ChangeLog
from idbridge.sandbox.graph.core import Call, Result, Router
from idbridge.sandbox.graph.errors import GraphError, bad_request

TOKEN_LIFETIME = timedelta(days=7)   # directory objects (delta-query-overview, "Token duration")
PAGE = 100                           # objects (or group occurrences) a page; Graph documents no size
MEMBER_CHUNK = 50                    # members@delta entries per occurrence of a group in one response
KEPT_STATES = 256                    # delta states kept (oldest forgotten: "not found" like an expired one)
_STATE_ALLOWED = {"$select", "$deltatoken", "$skiptoken"}


def sync_state_not_found() -> GraphError:
    return GraphError(400, "syncStateNotFound", "The sync state generation is not found. The delta token is "
                                                "expired and data must be synchronized again.")


@dataclass
class _State:
    kind: str                        # "users" or "groups"
    select: tuple[str, ...]
    issued: datetime
    generation: int
    log: ChangeLog                   # the store's journal (a store replaced since answers like a reset)
    seq: int                         # the journal's length when the round ended


@dataclass
class _Round:
    pages: list[list[dict]]
    delta_token: str
    served: int = 0


@dataclass
class DeltaTracker:
    states: OrderedDict = field(default_factory=OrderedDict)
    rounds: OrderedDict = field(default_factory=OrderedDict)
    generation: int = 0

    def reset(self) -> None:
        """A synchronization reset: every earlier token now answers 410 Gone."""
        self.generation += 1

    def keep_state(self, state: _State) -> str:
        token = secrets.token_urlsafe(24)
        self.states[token] = state
        while len(self.states) > KEPT_STATES:
            self.states.popitem(last=False)
        return token

    def keep_round(self, pages: list[list[dict]], delta_token: str) -> str:
        token = secrets.token_urlsafe(24)
        self.rounds[token] = _Round(pages, delta_token)
        while len(self.rounds) > KEPT_STATES:
            self.rounds.popitem(last=False)
        return token


def tracker(call: Call) -> DeltaTracker:
    app = call.app
    if getattr(app, "delta", None) is None:
        app.delta = DeltaTracker()
    return app.delta


# ------------------------------------------------------------------------------------------------ state


def _member_type(call: Call, object_id: str) -> str | None:
    store = call.store
    if object_id in store.users:
        return "#microsoft.graph.user"
    if object_id in store.groups:
        return "#microsoft.graph.group"
    if object_id in store.service_principals:
        return "#microsoft.graph.servicePrincipal"
    return None


def _current(call: Call, kind: str, select: tuple[str, ...]) -> tuple[dict[str, dict], dict | None]:
    store = call.store
    source = store.users if kind == "users" else store.groups
    props = [p for p in select if p != "members"]
    objects = {oid: {p: item.get(p) for p in props} for oid, item in source.items()}
    members = None
    if kind == "groups" and "members" in select:
        members = {}
        for gid in store.groups:
            typed = {}
            for mid in store.direct_members.get(gid, []):
                odata_type = _member_type(call, mid)
                if odata_type:
                    typed[mid] = odata_type
            members[gid] = typed
    return objects, members


def _present(props: dict) -> dict:
    """Properties never set (null) are left out of a delta item."""
    return {k: v for k, v in props.items() if v is not None}


def _member_entries(added: dict[str, str], removed: dict[str, str]) -> list[dict]:
    # Removals first, as in the documented example (Graph promises no order).
    entries = [{"@odata.type": t, "id": mid, "@removed": {"reason": "deleted"}} for mid, t in removed.items()]
    return entries + [{"@odata.type": t, "id": mid} for mid, t in added.items()]


def _occurrences(item: dict, entries: list[dict] | None) -> list[dict]:
    """One group item, repeated with successive slices of its members@delta when they are many."""
    if entries is None:
        return [item]
    if not entries:
        return [item]
    return [{**item, "members@delta": entries[i:i + MEMBER_CHUNK]} for i in range(0, len(entries), MEMBER_CHUNK)]


def _initial_items(objects: dict[str, dict], members: dict | None) -> list[dict]:
    items = []
    for oid, props in objects.items():
        item = {**_present(props), "id": oid}
        entries = None
        if members is not None:
            entries = _member_entries(members.get(oid, {}), {}) or None
        items.extend(_occurrences(item, entries))
    return items


_KINDS = {"#microsoft.graph.user": "users", "#microsoft.graph.group": "groups",
          "#microsoft.graph.servicePrincipal": "servicePrincipals"}
_TYPES = {kind: odata_type for odata_type, kind in _KINDS.items()}


class _Since:
    """The journal's entries after a token, indexed: per object, its events in order; per group, its member events;
    per id, whether it existed when the token was issued (its first creation or deletion since says)."""

    def __init__(self, log: ChangeLog, seq: int):
        self.events: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        self.members: dict[str, dict[str, bool]] = defaultdict(dict)   # group -> member -> first event "added?"
        self.existed: dict[str, tuple[str, bool]] = {}                 # id -> (kind, existed then?)
        for kind, key, event in log.since(seq):
            if kind == "members":
                member, added = event
                self.members[key].setdefault(member, added)
                continue
            self.events[(kind, key)].append(event)
            if event[0] in ("created", "deleted") and key not in self.existed:
                self.existed[key] = (kind, event[0] == "deleted")

    def before(self, kind: str, oid: str, current: dict) -> dict:
        """An object's selected properties as they were at the token (`current`: as they are now)."""
        then = dict(current)
        known: set[str] = set()
        for event in self.events.get((kind, oid), ()):
            if event[0] == "set":
                name, old = event[1], event[2]
                if name in then and name not in known:
                    then[name] = None if old is MISSING else old
                    known.add(name)
            elif event[0] == "deleted":
                last = event[1] or {}
                for name in then:
                    if name not in known:
                        then[name] = last.get(name)
                break
        return then


def _type_then(call: Call, since: _Since, object_id: str) -> str | None:
    """A member's @odata.type when the token was issued, or None when it did not exist then."""
    if object_id in since.existed:
        kind, existed = since.existed[object_id]
        return _TYPES[kind] if existed else None
    return _member_type(call, object_id)


def _member_changes(call: Call, since: _Since, gid: str, appeared: set[str]) -> tuple[dict, dict]:
    """A group's members added and removed since the token (id -> @odata.type; a member counts while it exists).
    Only members with a journal entry since can differ: ones listed or unlisted since, or created or deleted."""
    listed = call.store.direct_members.get(gid, [])
    first = since.members.get(gid, {})
    touched = set(first) | appeared.intersection(listed)
    if not touched:
        return {}, {}
    now_listed = set(listed)
    added, gone = {}, {}
    for mid in [m for m in dict.fromkeys(listed) if m in touched] + sorted(touched - now_listed):
        in_now = mid in now_listed
        in_then = (first[mid] is False) if mid in first else in_now
        now_type = _member_type(call, mid) if in_now else None
        then_type = _type_then(call, since, mid) if in_then else None
        if now_type and not then_type:
            added[mid] = now_type
        elif then_type and not now_type:
            gone[mid] = then_type
    return added, gone


def _members_now(call: Call, gid: str) -> dict[str, str]:
    typed = {}
    for mid in call.store.direct_members.get(gid, []):
        odata_type = _member_type(call, mid)
        if odata_type:
            typed[mid] = odata_type
    return typed


def _changed_items(call: Call, kind: str, old: _State) -> list[dict]:
    store = call.store
    source = store.users if kind == "users" else store.groups
    props = [p for p in old.select if p != "members"]
    with_members = kind == "groups" and "members" in old.select
    since = _Since(old.log, old.seq)
    candidates = dict.fromkeys(key for (k, key) in since.events if k == kind)
    appeared = set(since.existed)  # members created or deleted since change their groups' members
    if with_members:
        candidates.update(dict.fromkeys(since.members))
        if appeared:
            candidates.update(dict.fromkeys(gid for gid, listed in store.direct_members.items()
                                            if not appeared.isdisjoint(listed)))
    items, removed = [], []
    for oid in candidates:
        now_item = source.get(oid)
        existed = since.existed[oid][1] if oid in since.existed else now_item is not None
        if now_item is None:
            if existed:
                reason = "changed" if kind == "users" and oid in store.deleted_users else "deleted"
                removed.append({"id": oid, "@removed": {"reason": reason}})
            continue
        props_now = {p: now_item.get(p) for p in props}
        before = since.before(kind, oid, props_now) if existed else None
        entries = None
        if with_members:
            if before is None:
                entries = _member_entries(_members_now(call, oid), {})
            else:
                entries = _member_entries(*_member_changes(call, since, oid, appeared))
        if before is not None and before == props_now and not entries:
            continue
        item = {"id": oid}
        for name, value in props_now.items():
            # Default behaviour (api/user-delta): changed and unchanged selected properties; a property set to null
            # since is sent as null, one never set is left out.
            if value is not None or (before is not None and before.get(name) is not None):
                item[name] = value
        items.extend(_occurrences(item, entries or None))
    return items + removed


# ------------------------------------------------------------------------------------------------ handler


def _select(call: Call, kind: str) -> tuple[str, ...]:
    raw = call.args.get("$select", "")
    resource = R.USER if kind == "users" else R.GROUP
    known = {p.lower(): p for p in resource.properties}
    if kind == "groups":
        known["members"] = "members"
    names = []
    for name in (s.strip() for s in raw.split(",") if s.strip()):
        if name.lower() not in known:
            raise bad_request(f"Could not find a property named '{name}' on type "
                              f"'microsoft.graph.{resource.type_name}'.")
        names.append(known[name.lower()])
    if not names:  # no $select: the documented default set (users), every stored property and members (groups)
        names = list(R.USER_DEFAULT_SELECT) if kind == "users" else sorted(R.GROUP_PROPERTIES) + ["members"]
    if "id" not in names:
        names.append("id")
    return tuple(dict.fromkeys(names))


def _page(call: Call, kind: str, rounds: DeltaTracker, round_token: str) -> dict:
    current = rounds.rounds.get(round_token)
    if current is None:
        raise GraphError(400, "Directory_InvalidPageToken",
                         "The specified page token value is invalid or belongs to another query.")
    index = current.served
    current.served += 1
    page = current.pages[index] if index < len(current.pages) else []
    body = {"@odata.context": f"{call.service_root}/$metadata#{kind}", "value": page}
    if index + 1 < len(current.pages):
        body["@odata.nextLink"] = f"{call.url()}?$skiptoken={quote(round_token)}"
    else:
        body["@odata.deltaLink"] = f"{call.url()}?$deltatoken={quote(current.delta_token)}"
        rounds.rounds.pop(round_token, None)
    return body


def delta(call: Call, kind: str) -> Result:
    for key in call.args:
        if key.startswith("$") and key not in _STATE_ALLOWED:
            # $top, $orderby, $expand… are not supported on user and group delta (delta-query-overview).
            raise bad_request(f"Query option '{key}' is not supported with delta.", "Request_BadRequest")
    state = tracker(call)
    skiptoken, deltatoken = call.args.get("$skiptoken"), call.args.get("$deltatoken")
    if skiptoken:
        return Result(200, _page(call, kind, state, skiptoken))
    now = call.now()
    if deltatoken and deltatoken != "latest":
        old = state.states.get(deltatoken)
        if old is None or old.kind != kind:
            raise sync_state_not_found()
        if old.generation != state.generation or old.log is not call.store.changes:
            raise GraphError(410, "resyncRequired", "The delta token is no longer valid; synchronize again.",
                             headers={"Location": call.url()})
        if now - old.issued > TOKEN_LIFETIME:
            raise sync_state_not_found()
        select = old.select
    else:
        select = _select(call, kind)
    log = call.store.changes
    if deltatoken == "latest":
        items = []
    elif deltatoken:
        items = _changed_items(call, kind, old)
    else:
        items = _initial_items(*_current(call, kind, select))
    new_token = state.keep_state(_State(kind, select, now, state.generation, log, log.seq))
    pages = [items[i:i + PAGE] for i in range(0, len(items), PAGE)] or [[]]
    return Result(200, _page(call, kind, state, state.keep_round(pages, new_token)))


def register(router: Router) -> None:
    for kind in ("users", "groups"):
        handler = (lambda call, kind=kind: delta(call, kind))
        router.add(rf"/{kind}/(?:microsoft\.graph\.)?delta(?:\(\))?", GET=handler)
