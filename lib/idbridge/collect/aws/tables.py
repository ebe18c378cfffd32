"""AWS answers as the catalogue's tables: values and frames the AWS collectors share.

Conventions of every AWS table (see collect/aws/collectors.py):
- datetimes are ISO-8601 strings in UTC to the second, "2026-05-01T12:00:00Z" (Graph's own form, so Entra and
  AWS times compare as text and parse the same way);
- lists are Python lists of strings; a missing value is None.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pandas as pd

from idbridge.snapshot.schema import SOURCES

COLUMNS: dict[str, tuple[str, ...]] = {t: cols for s in SOURCES if s.side == "aws" for t, cols in s.tables.items()}


def utc_iso(value: Any) -> str | None:
    """A botocore datetime (tz-aware, often local time) or epoch seconds -> '2026-05-01T12:00:00Z'."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts keyed by column name) -> a frame with exactly the catalogue's columns, in order."""
    columns = COLUMNS[name]
    return pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=list(columns), dtype=object)
