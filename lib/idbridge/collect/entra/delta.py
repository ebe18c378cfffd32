"""Entra sources read as changes (Graph delta queries) applied to the previous snapshot's tables.

- entra.users, entra.groups: /users/delta and /groups/delta with the table's $select; a changed object is merged
  over its previous row (Graph sends the selected properties, a property set to null as null: api/user-delta),
  a removed one (@removed, reason changed or deleted) is dropped.
- entra.group_members: /groups/delta?$select=members names the groups whose direct members changed (members@delta,
  a user deleted counting as a member removed: delta-query-groups) or that were removed. An assigned group's
  direct and transitive members can only have changed when the group itself or a group in its previous
  transitive members changed. A changed group that had no group among its members (its transitive members are its
  direct ones) and gained no group is patched from its members@delta, with no read; the other changed groups (and
  newly assigned ones) are read again; the rest keep their previous rows.
- entra.app_assignments: Graph has no delta query for appRoleAssignedTo (the overview's list of supported
  resources has servicePrincipal, whose delta tracks the principal's own properties, not who is assigned), so the
  app's assignment list, small and one paged call, is read whole every time.

Anything not understood in a round (an @removed reason, an annotation other than members@delta) stops the
incremental read: the source is read in full, the manifest saying why.

Cost: a round's pages come one after another (each names the next), so the previous table is read on a worker
thread meanwhile; only the rows a round names are turned into dicts and rebuilt, the others are kept as read; and
entra.group_members reads its round while the app and its assignments are collected (collectors' before_needs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pandas as pd

from idbridge.clients.graph.delta import DeltaUnavailable, latest_link, read_round
from idbridge.collect.context import CollectContext, Partial
from idbridge.collect.incremental import usable_link

REMOVED_REASONS = {"changed", "deleted"}
ANNOTATIONS = {"@removed", "@odata.type", "members@delta", "@odata.id"}


class NotUnderstood(Exception):
    """A delta item this code does not know how to apply."""


def previous_rows(frame: pd.DataFrame) -> dict[str, dict]:
    """A previous table as Graph-shaped dicts by id (lists as lists, missing as None). Column by column: a
    per-value conversion costs seconds at 100k users."""
    columns: dict[str, list] = {}
    for name in frame.columns:
        series = frame[name]
        values = series.tolist()
        if series.dtype == object:
            values = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
        elif series.dtype.kind == "f":
            values = [None if v != v else v for v in values]  # NaN: a missing value
        columns[name] = values
    names = list(columns)
    return {str(oid): {n: columns[n][i] for n in names} for i, oid in enumerate(columns["id"])}


def _check(item: dict) -> None:
    for key in item:
        if "@" in key and key not in ANNOTATIONS:
            raise NotUnderstood(f"a delta item carries {key!r}, which this idbridge does not apply")
    removed = item.get("@removed")
    if removed is not None and (not isinstance(removed, dict) or removed.get("reason") not in REMOVED_REASONS):
        raise NotUnderstood(f"an @removed reason not understood: {removed!r}")
    for member in item.get("members@delta") or ():
        gone = member.get("@removed")
        if gone is not None and (not isinstance(gone, dict) or gone.get("reason") not in REMOVED_REASONS):
            raise NotUnderstood(f"a members@delta @removed reason not understood: {gone!r}")


def touched_ids(items: list[dict]) -> set[str]:
    """Ids of the objects a round names (changed, added or removed)."""
    return {str(item["id"]) for item in items}


def apply_to_table(previous: pd.DataFrame, items: list[dict], columns, build) -> pd.DataFrame:
    """The previous table with a round applied: rows of objects the round does not name are kept as they are (no
    conversion to dicts and back), the named ones are rebuilt by `build` from their previous row merged with the
    change (or dropped when removed). Row order: the previous rows', changed and new ones last.

    Rows and column types are the ones a whole rebuild would give. pandas infers a column's type from its values,
    so a column stitched from two separately typed pieces (text kept, only nulls rebuilt) or left with only nulls
    could be typed, and written to parquet, differently from the same column built whole: such a column is
    typed again from all its values, the way a full read types it."""
    hit = previous["id"].isin(touched_ids(items)).to_numpy()  # ids are text already: no per-value conversion
    kept = previous[~hit]
    fresh = build(apply_objects(previous_rows(previous[hit]), items, columns))
    table = pd.concat([kept, fresh], ignore_index=True) if len(fresh) else kept.reset_index(drop=True)
    for name in table.columns:
        mixed = len(fresh) and len(kept) and kept[name].dtype != fresh[name].dtype
        if mixed or (table[name].dtype != object and len(table) and table[name].isna().all()):
            values = [v.tolist() if isinstance(v, np.ndarray) else None if v is None or v != v else v
                      for v in table[name].tolist()] if table[name].dtype != bool else table[name].tolist()
            table[name] = pd.DataFrame({name: values})[name]
    return table


def apply_objects(previous: dict[str, dict], items: list[dict], columns: tuple[str, ...]) -> list[dict]:
    """The objects after a delta round: removed ones dropped, changed ones merged over their previous state, new
    ones added. Items apply in order (the same object may come more than once)."""
    rows = {oid: dict(row) for oid, row in previous.items()}
    wanted = set(columns)
    for item in items:
        _check(item)
        oid = str(item["id"])
        if "@removed" in item:
            rows.pop(oid, None)
            continue
        row = rows.setdefault(oid, {"id": oid})
        row.update({k: v for k, v in item.items() if k in wanted})
    return list(rows.values())


def changed_groups(items: list[dict]) -> tuple[set[str], int]:
    """Ids of groups whose direct members changed or that were removed, and the number of membership events."""
    changed: set[str] = set()
    events = 0
    for item in items:
        _check(item)
        if "@removed" in item or item.get("members@delta"):
            changed.add(str(item["id"]))
            events += 1 + len(item.get("members@delta") or ())
    return changed, events


def member_changes(items: list[dict]) -> dict[str, list[dict]]:
    """members@delta entries of each changed (not removed) group, gathered over the group's occurrences: a group
    with many changes comes as several items, each with a slice of them."""
    entries: dict[str, list[dict]] = {}
    for item in items:
        if "@removed" not in item and item.get("members@delta"):
            entries.setdefault(str(item["id"]), []).extend(item["members@delta"])
    return entries


def patch_flat_group(members: list, positions: np.ndarray, group: str, entries: list[dict],
                     member_type) -> tuple[np.ndarray, list[dict]] | None:
    """A flat group's (no group among its members) rows with `entries` applied: the positions of its previous rows
    to keep (`members`: the member ids at `positions`) and the rows to add; or None when the entries cannot be
    applied without a read: a group added as member (nesting starts, its members become transitive ones) or an
    entry whose type is not given."""
    removed, added = set(), {}
    for entry in entries:
        kind = member_type(entry)
        if kind is None or kind == "group":
            return None
        if "@removed" in entry:
            removed.add(str(entry["id"]))
            added.pop(str(entry["id"]), None)
        else:
            removed.discard(str(entry["id"]))
            added[str(entry["id"])] = kind
    drop = removed | set(added)
    keep = positions[np.fromiter((str(m) not in drop for m in members), dtype=bool, count=len(members))]
    new = [{"groupId": group, "memberId": member, "memberType": kind, "relation": relation}
           for relation in ("direct", "transitive") for member, kind in added.items()]
    return keep, new


def note(ctx: CollectContext, source: str, mode: str, why: str, changes: int | None = None) -> None:
    ctx.incremental[source] = {"mode": mode, "why": why, **({"changes": changes} if changes is not None else {})}


async def tracked(ctx: CollectContext, source: str, path: str, query: str,
                  apply: Callable[..., Awaitable[Any]], full: Callable[[], Awaitable[Any]], *,
                  needs: tuple[str, ...] = (), previous_table: str | None = None) -> Any:
    """Read `source` through the previous snapshot's delta link when it may be used, else in full. Either way a
    new delta link is kept for the next run: the round's own, or one taken ("$deltatoken=latest") just before the
    full read, so a change made during the read is replayed next time rather than missed. With `previous_table`,
    that table of the previous snapshot is read on a worker thread while the round's pages arrive, and given to
    `apply` after the items."""
    if not ctx.params.collection.incremental:
        return await full()
    adapter = ctx.graph_adapter
    record, why = usable_link(ctx.previous, ctx.previous_why, source, query, ctx.window_end, needs)
    if record is not None:
        reading = asyncio.ensure_future(asyncio.to_thread(ctx.previous.table, previous_table)) \
            if previous_table else None
        applied = False
        early = ctx.early.get(source)
        try:
            round_ = await early if early is not None else None
            items, link = round_ if round_ is not None else await read_round(adapter, record["link"])
            result = await apply(items, await reading) if reading is not None else await apply(items)
            applied = True
        except DeltaUnavailable as exc:
            why = exc.why
        except NotUnderstood as exc:
            why = str(exc)
        finally:
            if not applied:
                await _settle(reading)
        if applied:
            keep(ctx, source, link, query)
            if source not in ctx.incremental:
                note(ctx, source, "delta", f"changes since {ctx.previous.manifest.get('collected_at')} applied to "
                                           f"{ctx.previous.directory.name}", len(items))
            return result
    link = await latest_link(adapter, path, query)
    result = await full()
    if not isinstance(result, Partial):  # a partial read is no base for the next run
        keep(ctx, source, link, query)
    note(ctx, source, "full", why)
    return result


async def _settle(reading) -> None:
    """A previous-table read not left running behind a full read, its error (if any) retrieved."""
    if reading is not None:
        await asyncio.wait([reading])
        if not reading.cancelled():
            reading.exception()


async def early_round(ctx: CollectContext, source: str, query: str, needs: tuple[str, ...] = ()):
    """A collector's `before_needs`: the delta round of `source` read while the sources it needs are collected
    (a round needs nothing of them), or None when no usable link (tracked() then decides, with the same inputs)."""
    if not ctx.params.collection.incremental:
        return None
    record, _why = usable_link(ctx.previous, ctx.previous_why, source, query, ctx.window_end, needs)
    return None if record is None else await read_round(ctx.graph_adapter, record["link"])


def keep(ctx: CollectContext, source: str, link: str, query: str) -> None:
    ctx.delta_links[source] = {"link": link, "query": query,
                               "taken_at": ctx.window_end.isoformat(timespec="seconds")}
