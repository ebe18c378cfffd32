"""The access table and the findings as CSV and JSON, for SIEMs and spreadsheets.

JSON is one array of objects per file, like validate.write_findings' findings.json (one format across the run
folder); list columns stay lists, evidence stays an object. Each access object carries the engagement, snapshot
id and collection time, so records from several runs can share an index. CSV holds the same rows, lists joined by
"; " (tags are "key=value"), objects as JSON text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from idbridge.model.access_columns import ACCESS_COLUMNS

FINDING_COLUMNS = ["check_id", "severity", "area", "subject", "title", "detail", "evidence", "meaning", "fix",
                   "references"]


def write_tables(access: pd.DataFrame, findings: pd.DataFrame | None, out_dir: Path, meta: dict) -> list[Path]:
    findings = findings if findings is not None else pd.DataFrame(columns=FINDING_COLUMNS)
    stamp = {"engagement": meta.get("engagement"), "snapshot_id": meta.get("snapshot_id"),
             "collected_at": meta.get("collected_at")}
    columns = [c for c in ACCESS_COLUMNS if c in access.columns]
    access_records = [{**_plain(r), **stamp} for r in access[columns].to_dict("records")]
    finding_records = [_plain(r) for r in findings.to_dict("records")]
    paths = []
    for stem, records, frame in (("access", access_records, access[columns]), ("findings", finding_records, findings)):
        paths.append(_atomic(out_dir / f"{stem}.json", json.dumps(records, indent=1, default=str)))
        paths.append(_atomic(out_dir / f"{stem}.csv", _csv_frame(frame).to_csv(index=False)))
    return paths


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


def _atomic(path: Path, text: str) -> Path:
    """Write beside, then rename: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
