"""Small helpers the check modules share: a table cell as evidence (JSON-friendly), a moment read from a cell, a
moment written as text. Not a check module (listed in checks/__init__.py's _FRAMEWORK)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

GRAPH_NEVER = "0001-01-01"  # Graph's DateTimeOffset for "never" (steadyStateFirstAchievedTime, ...)


def plain(value: Any) -> Any:
    """A cell as a JSON-friendly value: missing (None, NaN, NA, NaT) -> None, timestamps -> ISO text, numpy
    scalars -> Python ones, arrays (list cells read back from Parquet) -> lists of text."""
    if isinstance(value, np.ndarray):
        return [str(v) for v in value]
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return iso(value)
    return value.item() if hasattr(value, "item") else value


def when(value: Any) -> datetime | None:
    """A moment from a cell (ISO text, datetime or Timestamp) as an aware UTC datetime, naive ones taken as UTC;
    None for missing, empty or unreadable, and for Graph's "never" (0001-01-01)."""
    if isinstance(value, str):
        value = value.strip()
        if not value or value.startswith(GRAPH_NEVER):
            return None
    elif not isinstance(value, datetime):
        return None
    stamp = pd.to_datetime(value, utc=True, errors="coerce")
    return None if pd.isna(stamp) else stamp.to_pydatetime(warn=False)


def iso(moment: datetime | date | None) -> str | None:
    """A moment as text: a datetime in UTC to the second with a Z (naive ones taken as UTC), a date as
    YYYY-MM-DD; None for missing (None, NaT)."""
    if moment is None or pd.isna(moment):
        return None
    if isinstance(moment, datetime):
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()
