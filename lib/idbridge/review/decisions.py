"""Decisions back: read returned reviewer workbooks, verify them against what was sent, return the decisions.

Every workbook is checked before any decision is used: the right engagement and snapshot, the sheets and header
row as written, each row's path_id one of the workbook's own keys (kept in its hidden _meta sheet with their
checksum) and still describing the same user / account / permission set, no row deleted, added or copied, and
each Decision Keep, Remove or blank (= not reviewed; case and spaces do not matter). All problems of all files
are collected and raised together as one InputError naming file, cell and what is wrong; no decision is
returned while any problem remains.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.errors import InputError
from idbridge.review import layout
from idbridge.review.layout import ACCESS, META, clean

DECISION_COLUMNS = ["path_id", "decision", "comment", "workbook", "cell", "scope", "scope_key", "reviewer"]
_LISTED = 20  # missing keys named one by one, then counted


def read_decisions(paths, access: pd.DataFrame, meta: dict | None = None) -> pd.DataFrame:
    """One row per row of each returned workbook: decision is "Keep", "Remove" or "" (not reviewed).
    paths: files or folders (every *.xlsx in them). meta (snapshot_meta of the snapshot `access` was built
    from): the engagement and snapshot the workbooks must belong to; without it they must agree with each other."""
    files = _files(paths)
    if not files:
        raise InputError(str(paths), "no reviewer workbooks (.xlsx) found")
    table = access.set_index("path_id", drop=False)
    expected = _expected(access)
    found: dict[str, tuple[Path, str]] = {}   # path_id -> (file, cell), across files
    reference = dict(meta) if meta else None
    problems: dict[Path, list[str]] = {}
    rows: list[dict] = []
    for path in files:
        book_rows, book_problems, book_meta = _read_one(path, table, expected, reference)
        if book_meta and reference is None:
            reference = {**book_meta, "_from": path.name}
        twice: dict[Path, list[tuple[str, str]]] = {}  # other file -> (this cell, its cell), one line per file
        for row in book_rows:
            if row["path_id"] in found:
                other, cell = found[row["path_id"]]
                twice.setdefault(other, []).append((row["key_cell"], cell))
            else:
                found[row["path_id"]] = (path, row["key_cell"])
        for other, cells in twice.items():
            book_problems.append(f"{ACCESS}!{cells[0][0]}: {len(cells)} row(s) are also in {other.name} (first "
                                 f"{ACCESS}!{cells[0][1]}): the same rows were returned twice; send each pack once")
        if book_problems:
            problems[path] = book_problems
        rows += book_rows
    if problems:
        _raise(problems)
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS + ["key_cell"])
    return frame[DECISION_COLUMNS].reset_index(drop=True)


def review_status(decisions: pd.DataFrame, access: pd.DataFrame) -> pd.DataFrame:
    """Per workbook: rows, Keep, Remove, not reviewed; and the access rows in no returned workbook."""
    status = (decisions.assign(keep=decisions["decision"].eq("Keep"), remove=decisions["decision"].eq("Remove"),
                               not_reviewed=decisions["decision"].eq(""))
              .groupby(["workbook", "reviewer"], as_index=False)
              .agg(rows=("path_id", "size"), keep=("keep", "sum"), remove=("remove", "sum"),
                   not_reviewed=("not_reviewed", "sum")))
    missing = int((~access["path_id"].isin(decisions["path_id"])).sum())
    if missing:
        status.loc[len(status)] = ["(not returned)", "", missing, 0, 0, missing]
    return status


# ----------------------------------------------------------------------------------------------- one file


def _files(paths) -> list[Path]:
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():  # skip Excel's "~$name.xlsx" lock files
            files += sorted(p for p in item.glob("*.xlsx") if not p.name.startswith("~$"))
        else:
            files.append(item)
    return files


def _expected(access: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """path_id -> what its row must show in the CHECKED columns (built once: a lookup per row read)."""
    def text(column: str) -> list[str]:
        return access[column].map(clean).astype(object).tolist()

    users = [upn or idc for upn, idc in zip(text("user_principal_name"), text("idc_user_name"))]
    shown = {"user": users, **{c: text(c) for c in layout.CHECKED.values() if c != "user"}}
    return dict(zip(access["path_id"], zip(*(shown[c] for c in layout.CHECKED.values()))))


def _read_one(path: Path, table: pd.DataFrame, expected: dict,
              reference: dict | None) -> tuple[list[dict], list[str], dict | None]:
    if not path.is_file():
        return [], ["file not found"], None
    if path.suffix.lower() != ".xlsx":
        return [], [f"not an .xlsx workbook ({path.suffix or 'no extension'}): save it as Excel Workbook (.xlsx) "
                    "and send it again"], None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip, XML or openpyxl errors all mean the same thing to the reviewer
        return [], [f"cannot be opened as an Excel workbook: the file is damaged or not .xlsx "
                    f"({type(exc).__name__}: {exc})"], None
    try:
        missing = [name for name in (ACCESS, META) if name not in book.sheetnames]
        if missing:
            return [], [f"sheet {name!r} is missing (sheets: {', '.join(book.sheetnames)}): not a review pack as "
                        "sent, or a sheet was renamed or deleted" for name in missing], None
        info, keys, problems = _meta(book[META], table, reference)
        if problems:
            return [], problems, None
        rows, problems = _access(book[ACCESS], info, keys, table, expected)
        return [{**r, "workbook": path.name} for r in rows], problems, info
    finally:
        book.close()


def _meta(sheet, table: pd.DataFrame, reference: dict | None) -> tuple[dict, list[str], list[str]]:
    cells = list(sheet.iter_rows(min_row=1, max_col=layout.META_KEYS_COL, values_only=True))
    info = {clean(r[0]): clean(r[1]) for r in cells if r and clean(r[0])}
    keys = [clean(r[layout.META_KEYS_COL - 1]) for r in cells[1:]
            if len(r) >= layout.META_KEYS_COL and clean(r[layout.META_KEYS_COL - 1])]
    where = {key: f"{META}!B{n}" for n, key in enumerate(layout.META_KEYS, start=1)}
    if info.get("format") != layout.FORMAT:
        return info, keys, [f"{where['format']}: format {info.get('format')!r} is not {layout.FORMAT!r}: not a "
                            "review pack of this idbridge version"]
    if layout.keys_checksum(keys) != info.get("keys_sha256"):
        return info, keys, [f"{META}: the key list does not match its checksum: the hidden {META} sheet was edited"]
    problems = []
    if reference:
        source = f" (as {reference['_from']})" if "_from" in reference else ""
        for key in ("engagement", "snapshot_id"):
            if info.get(key) != clean(reference.get(key)):
                problems.append(f"{where[key]}: the workbook is for {key} {info.get(key)!r} (collected "
                                f"{info.get('collected_at') or '?'}), expected {clean(reference.get(key))!r}"
                                f"{source}: it belongs to another engagement or review round")
    if not problems:
        unknown = [k for k in keys if k not in table.index]
        if unknown:
            problems.append(f"{len(unknown)} of the workbook's {len(keys)} rows are not in the access table (e.g. "
                            f"{unknown[0]}): the access table was built from another snapshot than the workbook")
    return info, keys, problems


def _access(sheet, info: dict, keys: list[str], table: pd.DataFrame,
            expected: dict) -> tuple[list[dict], list[str]]:
    width = len(layout.HEADERS)
    lines = sheet.iter_rows(min_row=1, max_col=width, values_only=True)
    header = [clean(v) for v in next(lines, ())] + [""] * width
    for col, name in enumerate(layout.HEADERS, start=1):
        if header[col - 1] != name:
            return [], [f"{ACCESS}!{get_column_letter(col)}1: header is {header[col - 1]!r}, expected {name!r}: "
                        "columns must not be added, removed or renamed"]
    own, seen = set(keys), {}
    rows, problems = [], []
    key_letter, decision_letter = get_column_letter(layout.KEY_COL), get_column_letter(layout.DECISION_COL)
    for number, values in enumerate(lines, start=2):
        values = [clean(v) for v in values] + [""] * (width - len(values))
        if not any(values):
            continue
        key, at = values[layout.KEY_COL - 1], f"{ACCESS}!{key_letter}{number}"
        problem = _key_problem(key, own, seen, table)
        if problem:
            problems.append(f"{at}: {problem}")
            continue
        seen[key] = number
        mismatch = _mismatch(values, expected[key], number)
        if mismatch:
            problems.append(mismatch)
            continue
        raw = values[layout.DECISION_COL - 1]
        decision = next((d for d in layout.DECISIONS if d.casefold() == raw.casefold()), None if raw else "")
        if decision is None:
            problems.append(f"{ACCESS}!{decision_letter}{number}: decision {raw!r} is not Keep or Remove (leave it "
                            "blank if not reviewed)")
            continue
        rows.append({"path_id": key, "decision": decision, "comment": values[layout.COMMENT_COL - 1],
                     "cell": f"{ACCESS}!{decision_letter}{number}", "key_cell": f"{key_letter}{number}",
                     "scope": info.get("scope"), "scope_key": info.get("scope_key"),
                     "reviewer": info.get("reviewer")})
    if layout.keys_checksum(seen) != info.get("keys_sha256"):
        gone = [k for k in keys if k not in seen]
        if gone:
            problems.append(_missing(gone, len(keys), table))
    return rows, problems


def _key_problem(key: str, own: set, seen: dict, table: pd.DataFrame) -> str | None:
    if not key:
        return "row added: it has no path_id (rows cannot be added; write remarks in Comment)"
    if key in seen:
        return f"path_id {key} repeats row {seen[key]}: rows cannot be copied"
    if key not in own:
        if key in table.index:
            return f"row added: path_id {key} belongs to another review pack, not this one"
        return f"path_id {key!r} is not one of this workbook's keys: the path_id column was edited"
    return None


def _mismatch(values: list[str], expected: tuple[str, ...], number: int) -> str | None:
    """A key whose row no longer shows its own user / account / permission set: keys swapped or partly sorted."""
    for header, want in zip(layout.CHECKED, expected):
        col = layout.HEADERS.index(header) + 1
        if values[col - 1] != want:
            return (f"{ACCESS}!{get_column_letter(col)}{number}: {header} is {values[col - 1]!r} but path_id "
                    f"{values[layout.KEY_COL - 1]} is {want!r}: the row or its path_id was edited")
    return None


def _missing(gone: list[str], sent: int, table: pd.DataFrame) -> str:
    def name(key: str) -> str:
        row = table.loc[key]
        return (f"{key} ({layout.user_label(row) or clean(row.get('idc_principal_name'))}, "
                f"{clean(row.get('account_id'))} / {clean(row.get('permission_set_name'))})")

    listed = ", ".join(name(k) for k in gone[:_LISTED])
    more = f" and {len(gone) - _LISTED} more" if len(gone) > _LISTED else ""
    return (f"rows deleted: {len(gone)} of the {sent} rows sent are missing (the key checksum no longer "
            f"matches): {listed}{more}")


def _raise(problems: dict[Path, list[str]]) -> None:
    if len(problems) == 1:
        (path, lines), = problems.items()
        raise InputError(str(path), lines)
    raise InputError(f"{len(problems)} reviewer workbooks",
                     [f"{path.name}: {line}" for path, lines in problems.items() for line in lines])
