"""The access table as CSV and JSON, for SIEMs and spreadsheets (the findings are the run's one artifact:
checks/artifact.py).

JSON is one array of objects per file; list columns stay lists, evidence stays an object. Each access object carries the engagement, snapshot
id and collection time, so records from several runs can share an index. CSV holds the same rows, lists joined by
"; " (tags are "key=value"), objects as JSON text, and text a spreadsheet would evaluate as a formula prefixed with
a single quote (core/csvsafe.py): the JSON is the one for machines.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from idbridge.core.csvsafe import write_csv
from idbridge.core.files import write_text_atomic
from idbridge.model.access.columns import ACCESS_COLUMNS

def write_tables(access: pd.DataFrame, out_dir: Path, meta: dict) -> list[Path]:
    stamp = {"engagement": meta.get("engagement"), "snapshot_id": meta.get("snapshot_id"),
             "collected_at": meta.get("collected_at")}
    columns = [c for c in ACCESS_COLUMNS if c in access.columns]
    records = [{**_plain(r), **stamp} for r in access[columns].to_dict("records")]
    return [write_text_atomic(out_dir / "access.json", json.dumps(records, indent=1, default=str)),
            write_csv(out_dir / "access.csv", _csv_frame(access[columns]))]


def _plain(record: dict) -> dict:
    """JSON-ready values: arrays as lists, NaN / NA as null, numpy scalars as Python ones."""
    return {k: _value(v) for k, v in record.items()}


def _value(value):
    if isinstance(value, np.ndarray):
        return [_value(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(_csv_cell)
    return out


def _csv_cell(value):
    value = _value(value)
    if isinstance(value, list):
        return "; ".join(json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value
