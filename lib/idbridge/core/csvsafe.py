"""Every CSV idbridge writes, written here: safe to open in a spreadsheet.

Tenant data is hostile: an account, group, user or permission-set name or a tag value such as
`=cmd|' /C calc'!A0`, `=HYPERLINK(…)`, `+1+1`, `@SUM(1)` or `-2+3` is a formula to Excel, LibreOffice and Google
Sheets when a CSV is opened there ("CSV injection", OWASP). As OWASP recommends, a text cell that starts with
=, +, -, @, a tab (0x09) or a carriage return (0x0D) — also after leading spaces or line feeds, which the
spreadsheets skip — is prefixed with a single quote, and every field is quoted.

Only text is changed: numbers, booleans and dates idbridge computed (counts, a negative number it worked out) are
written as they are. A tag value "-5" is text and becomes "'-5". Machines should read the JSON twin of a CSV
(access.json, findings.json, review-removals.json), which is never altered.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from idbridge.core.files import write_text_atomic

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SKIPPED = " \n"  # a spreadsheet may skip these before a formula's first character


def neutralise(value):
    """A cell value safe for a spreadsheet: text that a spreadsheet would evaluate gets a leading single quote;
    anything that is not text is returned as it is."""
    if isinstance(value, str) and (value.startswith(TRIGGERS) or value.lstrip(_SKIPPED).startswith(TRIGGERS)):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell (and header) neutralised; numeric, boolean and date columns as they
    are."""
    out = frame.copy()
    for position, column in enumerate(out.columns):
        series = out.iloc[:, position]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)):
            out.isetitem(position, series.astype(object).map(neutralise))
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text: neutralised (safe_frame), every field quoted, no index."""
    return safe_frame(frame).to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\n")


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write the frame as a spreadsheet-safe CSV (csv_text), atomically."""
    return write_text_atomic(path, csv_text(frame))
