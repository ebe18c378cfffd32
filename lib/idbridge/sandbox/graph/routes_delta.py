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

Tokens are opaque ids of state kept here (what each tracked round last saw), not encodings of it: the emulator
diffs the state a token names against the store, so every way the store is changed is tracked.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from idbridge.sandbox.graph import resources as R
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
    objects: dict[str, dict]         # id -> selected properties (None for unset)
    members: dict[str, dict[str, str]] | None  # group id -> member id -> @odata.type (when members selected)


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


def _changed_items(call: Call, kind: str, old: _State, objects: dict[str, dict], members: dict | None) -> list[dict]:
    items = []
    for oid, props in objects.items():
        before = old.objects.get(oid)
        entries = None
        if members is not None and old.members is not None:
            now_members, then_members = members.get(oid, {}), old.members.get(oid, {})
            added = {m: t for m, t in now_members.items() if m not in then_members}
            removed = {m: t for m, t in then_members.items() if m not in now_members}
            entries = _member_entries(added, removed) if before is not None else _member_entries(now_members, {})
        if before is not None and before == props and not entries:
            continue
        item = {"id": oid}
        for name, value in props.items():
            # Default behaviour (api/user-delta): changed and unchanged selected properties; a property set to null
            # since is sent as null, one never set is left out.
            if value is not None or (before is not None and before.get(name) is not None):
                item[name] = value
        items.extend(_occurrences(item, entries or None))
    deleted_users = call.store.deleted_users if kind == "users" else {}
    for oid in old.objects:
        if oid not in objects:
            reason = "changed" if oid in deleted_users else "deleted"
            items.append({"id": oid, "@removed": {"reason": reason}})
    return items


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
        if old.generation != state.generation:
            raise GraphError(410, "resyncRequired", "The delta token is no longer valid; synchronize again.",
                             headers={"Location": call.url()})
        if now - old.issued > TOKEN_LIFETIME:
            raise sync_state_not_found()
        select = old.select
    else:
        select = _select(call, kind)
    objects, members = _current(call, kind, select)
    new_token = state.keep_state(_State(kind, select, now, state.generation, objects, members))
    if deltatoken == "latest":
        items = []
    elif deltatoken:
        items = _changed_items(call, kind, old, objects, members)
    else:
        items = _initial_items(objects, members)
    pages = [items[i:i + PAGE] for i in range(0, len(items), PAGE)] or [[]]
    return Result(200, _page(call, kind, state, state.keep_round(pages, new_token)))


def register(router: Router) -> None:
    for kind in ("users", "groups"):
        handler = (lambda call, kind=kind: delta(call, kind))
        router.add(rf"/{kind}/(?:microsoft\.graph\.)?delta(?:\(\))?", GET=handler)
