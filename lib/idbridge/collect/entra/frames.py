"""Graph JSON items -> catalogue tables: columns in the catalogue's order, one list per column, no per-row
objects beyond the dicts json.loads already made.

Conventions for every Entra table:
- date-times are ISO-8601 text in UTC, to the second, ending in Z ("2026-03-01T12:00:00Z"); None when Graph
  has none. Graph's "never" value 0001-01-01T00:00:00Z is kept as written (it has a meaning for sync status).
- multi-valued properties are Python lists (an empty list when Graph says []; None when Graph says null);
- a missing scalar is None going in; pandas 3 shows it as NaN in its string columns (so test with pd.isna);
- nested objects kept whole are JSON text in a column ending in _json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from idbridge.snapshot.schema import SOURCES_BY_NAME


def columns_of(table: str) -> tuple[str, ...]:
    for source in SOURCES_BY_NAME.values():
        if table in source.tables:
            return source.tables[table]
    raise KeyError(table)


def iso_utc(value: Any) -> str | None:
    """Graph's DateTimeOffset text -> 'YYYY-MM-DDTHH:MM:SSZ'. Graph writes UTC with a Z and 0-7 fraction
    digits; the fraction is dropped so that the text sorts like the time it stands for."""
    if value is None or value == "":
        return None
    text = str(value)
    if len(text) >= 20 and text[10] == "T" and text.endswith("Z") and text[19] in ".Z":
        return text[:19] + "Z"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # not a time Graph would send: keep it rather than lose it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def frame(table: str, items: list[dict], *, times: Iterable[str] = (),
          derived: dict[str, Callable[[dict], Any]] | None = None) -> pd.DataFrame:
    """A catalogue table from Graph items: each column is item[column] unless `derived` gives a function of
    the item; columns named in `times` are normalised with iso_utc."""
    derived = derived or {}
    time_columns = set(times)
    data: dict[str, list] = {}
    for column in columns_of(table):
        getter = derived.get(column)
        values = [getter(item) for item in items] if getter else [item.get(column) for item in items]
        if column in time_columns:
            values = [iso_utc(v) for v in values]
        data[column] = values
    return pd.DataFrame(data, columns=list(columns_of(table)))


def row_of(table: str, derived: dict[str, Callable[[dict], Any]] | None = None) -> Callable[[dict], dict]:
    """item -> just the table's columns (derived ones computed): frame(table, rows) of these equals
    frame(table, items, derived=derived), with the rest of each item dropped as soon as it is read."""
    derived = derived or {}
    getters = [(column, derived.get(column)) for column in columns_of(table)]
    return lambda item: {column: getter(item) if getter else item.get(column) for column, getter in getters}


def dig(item: dict | None, *path: str) -> Any:
    """item[a][b]... or None as soon as a step is missing or null."""
    for key in path:
        if not isinstance(item, dict):
            return None
        item = item.get(key)
    return item
