"""Change tracking in the Graph emulator's store, the way the directory keeps it for delta queries: every write to
users, groups, service principals and direct memberships is appended to one journal with a sequence number, and a
delta token only needs to remember the sequence it was issued at (routes_delta answers a round from the journal's
entries after it, never by comparing the whole directory).

The store's maps record their own writes, so code and tests keep writing plain Python
(`store.users[id]["displayName"] = ...`, `store.users.pop(id)`, `store.direct_members[g].append(m)`) and nothing
can bypass the journal:
- `TrackedMap` (users, groups, servicePrincipals): an id -> object dict that journals creations and deletions
  (with the object's last state, so a later round can tell what it was) and, for users and groups, wraps each
  object in a `TrackedObject`, which journals each property set or removed with its previous value;
- `TrackedMembers` / `TrackedList` (direct_members): journals each member id added to or removed from a group's set
  of direct members.
What is not seen: a value mutated in place inside a property (`user["businessPhones"].append(...)`); the emulator
replaces property values instead (nothing in it writes a nested value of a user or group after seeding).

An object stored in a map is a copy when it arrives as a plain dict (the map holds the tracked one): keep writing
through the map (`store.users[id]`), not through the dict that was put in.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MISSING = object()   # a property an object did not have


@dataclass
class ChangeLog:
    """journal[i] is the change with sequence number i + 1: (kind, key, event). kind is "users", "groups",
    "servicePrincipals" (key an object id; event ("created",), ("deleted", last state) or ("set", property,
    previous value or MISSING)) or "members" (key a group id; event (member id, added?))."""

    journal: list[tuple[str, str, tuple]] = field(default_factory=list)
    paused: int = 0

    @property
    def seq(self) -> int:
        return len(self.journal)

    def since(self, seq: int) -> list[tuple[str, str, tuple]]:
        return self.journal[seq:]

    def record(self, kind: str, key: str, event: tuple) -> None:
        if not self.paused:
            self.journal.append((kind, key, event))

    @contextmanager
    def pause(self):
        """Writes not journaled: seeding, before any delta token exists (no round can start before it)."""
        self.paused += 1
        try:
            yield
        finally:
            self.paused -= 1


class _WritesThrough(dict):
    """A dict whose every write goes through __setitem__ / __delitem__ (where the subclasses journal it): dict's
    own pop, update, setdefault... would change the dict without calling them. Copies are plain: a copy is not the
    stored object and must not journal anything."""

    __slots__ = ()

    def pop(self, key, *default):
        if key not in self:
            return super().pop(key, *default)
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self))
        return key, self.pop(key)

    def setdefault(self, key, value=None):
        if key not in self:
            self[key] = self._default() if value is None else value
        return self[key]

    def _default(self):
        return None

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def clear(self):
        for key in list(self):
            del self[key]

    def _plain(self) -> dict:
        return dict(self)

    def __copy__(self):
        return dict(self)

    def copy(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return copy.deepcopy(self._plain(), memo)

    def __reduce__(self):
        return dict, (self._plain(),)


class TrackedObject(_WritesThrough):
    """A user or group: each property write is journaled with the value it replaces."""

    __slots__ = ("_owner",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner: tuple[ChangeLog, str, str] | None = None

    def _set(self, name, old) -> None:
        if self._owner is not None:
            log, kind, oid = self._owner
            log.record(kind, oid, ("set", name, old))

    def __setitem__(self, name, value):
        old = self.get(name, MISSING)
        super().__setitem__(name, value)
        if old is MISSING or old != value:
            self._set(name, old)

    def __delitem__(self, name):
        old = self[name]
        super().__delitem__(name)
        self._set(name, old)


class TrackedMap(_WritesThrough):
    """id -> object, journaling creations and deletions; with `objects`, the stored objects journal their writes."""

    def __init__(self, log: ChangeLog, kind: str, items=(), *, objects: bool = True):
        super().__init__()
        self._log, self._kind, self._objects = log, kind, objects
        for key, value in dict(items).items():
            self[key] = value

    def _adopt(self, key, value):
        if not self._objects or not isinstance(value, dict):
            return value
        if not isinstance(value, TrackedObject) or value._owner is not None:
            value = TrackedObject(value)
        value._owner = (self._log, self._kind, key)
        return value

    def _release(self, value) -> None:
        if isinstance(value, TrackedObject):
            value._owner = None

    def __setitem__(self, key, value):
        old = self.get(key, MISSING)
        if old is value:
            return
        value = self._adopt(key, value)
        super().__setitem__(key, value)
        if old is MISSING:
            self._log.record(self._kind, key, ("created",))
            return
        self._release(old)
        if isinstance(old, dict) and isinstance(value, dict):  # a replacement: the properties that differ
            for name in old.keys() | value.keys():
                before = old.get(name, MISSING)
                if before is MISSING or before != value.get(name, MISSING):
                    self._log.record(self._kind, key, ("set", name, before))

    def __delitem__(self, key):
        old = self[key]
        super().__delitem__(key)
        self._gone(key, old)

    def _gone(self, key, old) -> None:
        self._release(old)
        self._log.record(self._kind, key, ("deleted", dict(old) if isinstance(old, dict) else None))


class TrackedList(list):
    """A group's direct member ids: each id entering or leaving the set of members is journaled."""

    def __init__(self, items=()):
        super().__init__(items)
        self._owner: tuple[ChangeLog, str] | None = None

    def _changed(self, before: set) -> None:
        if self._owner is None:
            return
        log, group = self._owner
        after = set(self)
        for member in before - after:
            log.record("members", group, (member, False))
        for member in after - before:
            log.record("members", group, (member, True))

    def _around(self, method, *args):
        before = set(self)
        try:
            return method(self, *args)
        finally:
            self._changed(before)

    def append(self, member):
        new = self._owner is not None and member not in self
        super().append(member)
        if new:
            self._owner[0].record("members", self._owner[1], (member, True))

    def remove(self, member):
        super().remove(member)
        if self._owner is not None and member not in self:
            self._owner[0].record("members", self._owner[1], (member, False))

    def extend(self, items):
        return self._around(list.extend, list(items))

    def insert(self, index, member):
        return self._around(list.insert, index, member)

    def pop(self, *index):
        return self._around(list.pop, *index)

    def clear(self):
        return self._around(list.clear)

    def __setitem__(self, index, value):
        return self._around(list.__setitem__, index, value)

    def __delitem__(self, index):
        return self._around(list.__delitem__, index)

    def __iadd__(self, items):
        self._around(list.extend, list(items))
        return self

    def __imul__(self, n):
        self._around(list.__imul__, n)
        return self

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return copy.deepcopy(list(self), memo)

    def __reduce__(self):
        return list, (list(self),)

    def copy(self):
        return list(self)


class TrackedMembers(_WritesThrough):
    """group id -> TrackedList of direct member ids."""

    def __init__(self, log: ChangeLog, items=()):
        super().__init__()
        self._log = log
        for key, value in dict(items).items():
            self[key] = value

    def _record(self, group, before, after) -> None:
        for member in set(before) - set(after):
            self._log.record("members", group, (member, False))
        for member in set(after) - set(before):
            self._log.record("members", group, (member, True))

    def __setitem__(self, group, members):
        old = self.get(group, ())
        if old is members:
            return
        if not isinstance(members, TrackedList) or members._owner is not None:
            members = TrackedList(members)
        members._owner = (self._log, group)
        if isinstance(old, TrackedList):
            old._owner = None
        super().__setitem__(group, members)
        self._record(group, old, members)

    def __delitem__(self, group):
        old = self[group]
        super().__delitem__(group)
        self._gone(group, old)

    def _gone(self, group, old) -> None:
        if isinstance(old, TrackedList):
            old._owner = None
        self._record(group, old, ())

    def _default(self):
        return []

    def _plain(self) -> dict:
        return {g: list(m) for g, m in self.items()}


def tracked(log: ChangeLog, name: str, value: Any) -> Any:
    """`value` as the tracked container the store keeps under attribute `name` (others returned as they are)."""
    if name == "users" and not isinstance(value, TrackedMap):
        return TrackedMap(log, "users", value)
    if name == "groups" and not isinstance(value, TrackedMap):
        return TrackedMap(log, "groups", value)
    if name == "service_principals" and not isinstance(value, TrackedMap):
        return TrackedMap(log, "servicePrincipals", value, objects=False)
    if name == "direct_members" and not isinstance(value, TrackedMembers):
        return TrackedMembers(log, value)
    return value
