"""Decisions back: read returned reviewer workbooks, verify them against what was sent, return the decisions.

A returned workbook is hostile input. Before openpyxl opens it, its size, its zip parts and the length of every
cell are checked (limits.py); while it is read, its rows are counted and each cell's length checked. Then every
workbook is checked before any decision is used: the right engagement and snapshot; its signature (signing.py):
the pack's round, reviewer and keys as sent, each key signed for this pack, so that a row copied in from another
pack is refused by its cell (an unsigned pack only with `allow_unsigned`, and then only its unkeyed checksum is
checked); the sheets and header row as written; each row's path_id one of the workbook's own keys and still
describing the same user / account / permission set; no row deleted, added or copied; no formula in a data row
(a formula in Decision has no value idbridge can trust); and each Decision Keep, Remove or blank (= not
reviewed; case and spaces do not matter). All problems of all files are collected and raised together as one
InputError naming file, cell and what is wrong; no decision is returned while any problem remains.

Decisions that contradict each other are not a problem of a file but of the review: a Remove ends every access
of the same write (removals.removal_scope: a person's membership of a group ends all their access through it,
possibly in accounts another owner reviews), so a Keep on one of those accesses and a Remove on another are one
membership decided both ways. Each such decision names the others in its `contradicts` column, and
contradictions() lists them, one line per write, for the person who settles them.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.errors import InputError
from idbridge.review import layout
from idbridge.review.layout import ACCESS, META, clean
from idbridge.review.limits import ReadLimits, check_archive
from idbridge.review.path_index import PathIndex
from idbridge.review.removals import removal_scope
from idbridge.review.signing import PARAMETER, SCHEME, SigningKey, signing_key

log = logging.getLogger(__name__)
DECISION_COLUMNS = ["path_id", "decision", "comment", "workbook", "cell", "scope", "scope_key", "reviewer",
                    "verified", "contradicts"]
CONTRADICTION_COLUMNS = ["access ended together", "Remove", "Keep"]
_LISTED = 20  # missing keys named one by one, then counted
_SHOWN = 60   # characters of a formula quoted in a problem


def read_decisions(paths, access: pd.DataFrame, meta: dict | None = None, *,
                   key: SigningKey | str | bytes | None = None, allow_unsigned: bool = False,
                   limits: ReadLimits | None = None) -> pd.DataFrame:
    """One row per row of each returned workbook: decision is "Keep", "Remove" or "" (not reviewed); verified
    is True when the pack's signature was verified with `key`.
    paths: files or folders (every *.xlsx in them). meta (snapshot_meta of the snapshot `access` was built
    from): the engagement and snapshot the workbooks must belong to; without it they must agree with each other.
    key: the engagement's review signing key (signing.from_parameters). allow_unsigned: accept packs that are
    unsigned, or signed but not verifiable without a key (logged). limits: ReadLimits (defaults hold any pack
    idbridge writes)."""
    key, limits = signing_key(key), limits or ReadLimits()
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
        book_rows, book_problems, book_meta = _read_one(path, table, expected, reference,
                                                        _Trust(key, allow_unsigned), limits)
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
    frame["contradicts"] = _contradicting(frame, access)
    unverified = sorted(set(frame.loc[~frame["verified"].astype(bool), "workbook"]))
    if unverified:
        log.warning("%d returned workbook(s) UNSIGNED or not verified, accepted because review.allow_unsigned is "
                    "true: their decisions could have been forged: %s", len(unverified), ", ".join(unverified))
    return frame[DECISION_COLUMNS].reset_index(drop=True)


def pack_info(path, *, key: SigningKey | str | bytes | None = None, allow_unsigned: bool = False,
              limits: ReadLimits | None = None) -> tuple[dict | None, list[str]]:
    """A returned pack's _meta fields, checked as read_decisions checks them but without an access table: a
    workbook idbridge can open, within the limits, of this format, its signature verified with `key` (unsigned
    only with allow_unsigned). (fields, with `verified`; problems). For checking a folder of returned packs
    before a run uses it (review/returned.py)."""
    _, problems, info = _read_one(Path(path), None, {}, None, _Trust(signing_key(key), allow_unsigned),
                                  limits or ReadLimits())
    return (None if problems else info), problems


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


def _label(decision: dict) -> str:
    """'Remove by data-team@contoso.com (review-data-team.xlsx Access!O3)'."""
    who = clean(decision.get("reviewer")) or "an unnamed reviewer"
    return f"{decision['decision']} by {who} ({decision['workbook']} {decision['cell']})"


def _writes(frame: pd.DataFrame, access: pd.DataFrame) -> dict[tuple, list[dict]]:
    """The decided rows (Keep or Remove) grouped by the write a Remove of them makes, for writes decided both
    ways only."""
    decided = frame[frame["decision"].isin(layout.DECISIONS)]
    if decided.empty or not decided["decision"].eq("Remove").any():
        return {}
    index = PathIndex(access)
    by_write: dict[tuple, list[dict]] = {}
    for decision in decided.to_dict("records"):
        scope = tuple(sorted(removal_scope(index.row(decision["path_id"]), index)))
        by_write.setdefault(scope, []).append(decision)
    return {scope: found for scope, found in by_write.items()
            if {d["decision"] for d in found} == set(layout.DECISIONS)}


def _contradicting(frame: pd.DataFrame, access: pd.DataFrame) -> list[str]:
    """Per decision: the opposite decisions on the same write, '; '-joined ('' when none)."""
    said: dict[tuple[str, str], str] = {}  # (workbook, cell): one decision
    for found in _writes(frame, access).values():
        for decision in found:
            others = [_label(d) for d in found if d["decision"] != decision["decision"]]
            said[decision["workbook"], decision["cell"]] = "; ".join(others)
    return [said.get((w, c), "") for w, c in zip(frame["workbook"], frame["cell"])]


def contradictions(decisions: pd.DataFrame, access: pd.DataFrame) -> pd.DataFrame:
    """One row per write decided both ways: the accesses it ends together, and who said Remove and who Keep
    (reviewer, workbook, cell). Empty when the decisions agree."""
    index = PathIndex(access)
    rows = []
    for scope, found in _writes(decisions, access).items():
        rows.append({"access ended together": "; ".join(index.describe(p) for p in scope),
                     "Remove": "; ".join(f"{_label(d)}: {index.describe(d['path_id'])}" for d in found
                                         if d["decision"] == "Remove"),
                     "Keep": "; ".join(f"{_label(d)}: {index.describe(d['path_id'])}" for d in found
                                       if d["decision"] == "Keep")})
    return pd.DataFrame(rows, columns=CONTRADICTION_COLUMNS)


# ----------------------------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class _Trust:
    """How signatures are checked: with the engagement's key, and whether unsigned packs are accepted."""

    key: SigningKey | None
    allow_unsigned: bool


class _Refused(Exception):
    """A sheet over the limits: reading it stops."""


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
    def text(column: str) -> list[str]:  # as the pack shows it (layout.cell_text) and gives it back (clean)
        return [clean(layout.cell_text(clean(v))) for v in access[column]]

    users = [upn or idc for upn, idc in zip(text("user_principal_name"), text("idc_user_name"))]
    shown = {"user": users, **{c: text(c) for c in layout.CHECKED.values() if c != "user"}}
    return dict(zip(access["path_id"], zip(*(shown[c] for c in layout.CHECKED.values()))))


def _read_one(path: Path, table: pd.DataFrame, expected: dict, reference: dict | None, trust: _Trust,
              limits: ReadLimits) -> tuple[list[dict], list[str], dict | None]:
    if not path.is_file():
        return [], ["file not found"], None
    if path.suffix.lower() != ".xlsx":
        return [], [f"not an .xlsx workbook ({path.suffix or 'no extension'}): save it as Excel Workbook (.xlsx) "
                    "and send it again"], None
    too_big = check_archive(path, limits)
    if too_big:
        return [], [too_big], None
    try:
        # data_only=False: a formula is seen as one (data_type "f"), not as a cached value it may not have
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zip, XML or openpyxl errors all mean the same thing to the reviewer
        return [], [f"cannot be opened as an Excel workbook: the file is damaged or not .xlsx "
                    f"({type(exc).__name__}: {exc})"], None
    try:
        missing = [name for name in (ACCESS, META) if name not in book.sheetnames]
        if missing:
            return [], [f"sheet {name!r} is missing (sheets: {', '.join(book.sheetnames)}): not a review pack as "
                        "sent, or a sheet was renamed or deleted" for name in missing], None
        info, sent, verified, problems = _meta(book[META], table, reference, trust, limits)
        if problems:
            return [], problems, None
        if table is None:  # pack_info: the pack's fields only
            return [], [], {**info, "verified": verified, "rows_signed": len(sent)}
        rows, problems = _access(book[ACCESS], info, sent, table, expected, limits)
        return [{**r, "workbook": path.name, "verified": verified} for r in rows], problems, info
    except _Refused as exc:
        return [], [str(exc)], None
    except (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError) as exc:
        # sheets are parsed as they are read: malformed XML (ParseError is a SyntaxError), a part missing
        return [], [f"cannot be read: the file is damaged ({type(exc).__name__}: {exc})"], None
    finally:
        book.close()


def _lines(sheet, name: str, width: int, limits: ReadLimits) -> Iterator[tuple[int, list, list[bool]]]:
    """(row number, values, is-formula) of each row of a sheet, `width` cells wide, within the limits. The
    sheet's declared dimension is ignored: rows past it are read, and a huge one yields no empty rows."""
    sheet.reset_dimensions()
    for number, cells in enumerate(sheet.iter_rows(min_row=1, max_col=width), start=1):
        if number > limits.rows:
            raise _Refused(f"{name}: more than {limits.rows:,} rows: not a review pack as sent")
        cells = list(cells[:width])
        values, formulas = [], []
        for col, cell in enumerate(cells, start=1):
            value = cell.value
            if isinstance(value, str) and len(value) > limits.cell_chars:
                raise _Refused(f"{name}!{get_column_letter(col)}{number}: {len(value):,} characters, more than a "
                               f"cell of Excel holds ({limits.cell_chars:,}): not a review pack as sent")
            values.append(value)
            formulas.append(getattr(cell, "data_type", None) == "f")
        pad = width - len(values)
        yield number, values + [None] * pad, formulas + [False] * pad


def _meta(sheet, table: pd.DataFrame, reference: dict | None, trust: _Trust,
          limits: ReadLimits) -> tuple[dict, list[str], bool, list[str]]:
    """The pack's _meta: (its fields, the keys it was sent with, whether its signature was verified,
    problems)."""
    cells = [[clean(v) for v in values] for _, values, _ in _lines(sheet, META, layout.META_TAGS_COL, limits)]
    key_at, tag_at = layout.META_KEYS_COL - 1, layout.META_TAGS_COL - 1
    info = {r[0]: r[1] for r in cells if r[0]}
    keys = [r[key_at] for r in cells[1:] if r[key_at]]
    tags = {r[key_at]: r[tag_at] for r in cells[1:] if r[key_at]}
    where = {name: f"{META}!B{n}" for n, name in enumerate(layout.META_KEYS, start=1)}
    if info.get("format") != layout.FORMAT:
        return info, keys, False, [f"{where['format']}: format {info.get('format')!r} is not {layout.FORMAT!r}: "
                                   "not a review pack of this idbridge version (format 3 since the Access sheet's columns "
                                   "changed: write the packs again and send them out)"]
    if reference:
        source = f" (as {reference['_from']})" if "_from" in reference else ""
        problems = [f"{where[name]}: the workbook is for {name} {info.get(name)!r} (collected "
                    f"{info.get('collected_at') or '?'}), expected {clean(reference.get(name))!r}{source}: it "
                    "belongs to another engagement or review round"
                    for name in ("engagement", "snapshot_id") if info.get(name) != clean(reference.get(name))]
        if problems:
            return info, keys, False, problems
    sent, verified, problem = _verify(info, keys, tags, where, trust)
    if problem:
        return info, keys, False, [problem]
    unknown = [k for k in sent if table is not None and k not in table.index]
    if unknown:
        return info, sent, verified, [
            f"{len(unknown)} of the workbook's {len(sent)} rows are not in the access table (e.g. {unknown[0]}): "
            "the access table was built from another snapshot than the workbook"]
    return info, sent, verified, []


def _verify(info: dict, keys: list[str], tags: dict, where: dict,
            trust: _Trust) -> tuple[list[str], bool, str | None]:
    """(the keys the pack was sent with, verified, problem). Signed and a key: the keys whose signature
    verifies (a key copied in from another pack does not), and the pack's signature over them and its fields.
    Otherwise only with allow_unsigned: the keys, checked against their unkeyed checksum."""
    signature, key = info.get("signature", ""), trust.key
    signed = signature.startswith(SCHEME)
    if signed and key is not None:
        if info.get("key_id") != key.id:
            return [], False, (f"{where['key_id']}: the pack was signed with another key (key id "
                               f"{info.get('key_id')!r}) than {PARAMETER} of the parameters (key id {key.id}): a "
                               "pack of another engagement, or the key was changed after the packs were written")
        own = [k for k in keys if key.verifies(key.row(info, k), tags.get(k, ""))]
        if not key.verifies(key.pack(info, own), signature):
            return [], False, (f"{where['signature']}: the signature does not match the pack: its hidden {META} "
                               "sheet was edited (round, scope, reviewer or list of keys): send the pack as it was "
                               "sent")
        return own, True, None
    if not trust.allow_unsigned:
        if signed:
            return [], False, (f"{where['signature']}: the pack is signed (key id {info.get('key_id')!r}) but the "
                               f"parameters have no {PARAMETER} to verify it with: set {PARAMETER} to the key the "
                               "packs were written with (or accept packs unverified with review.allow_unsigned: "
                               "true)")
        return [], False, (f"{where['signature']}: the pack is unsigned (written without {PARAMETER}), so its "
                           "decisions could be forged, e.g. by copying a row from another owner's pack: write the "
                           f"packs again with {PARAMETER} set, or accept unsigned packs with "
                           "review.allow_unsigned: true in the parameters")
    if layout.keys_checksum(keys) != info.get("keys_sha256"):
        return [], False, f"{META}: the key list does not match its checksum: the hidden {META} sheet was edited"
    return keys, False, None


def _access(sheet, info: dict, sent: list[str], table: pd.DataFrame, expected: dict,
            limits: ReadLimits) -> tuple[list[dict], list[str]]:
    width = len(layout.HEADERS)
    lines = _lines(sheet, ACCESS, width, limits)
    first = next(lines, None)
    header = [clean(v) for v in (first[1] if first else [None] * width)]
    for col, name in enumerate(layout.HEADERS, start=1):
        if header[col - 1] != name:
            return [], [f"{ACCESS}!{get_column_letter(col)}1: header is {header[col - 1]!r}, expected {name!r}: "
                        "columns must not be added, removed or renamed"]
    own, seen = set(sent), {}
    rows, problems = [], []
    key_letter, decision_letter = get_column_letter(layout.KEY_COL), get_column_letter(layout.DECISION_COL)
    for number, raw_values, formulas in lines:
        values = [clean(v) for v in raw_values]
        if not any(values):
            continue
        key, at = values[layout.KEY_COL - 1], f"{ACCESS}!{key_letter}{number}"
        if any(formulas):
            problems.append(_formula(number, formulas.index(True) + 1, values))
            if key in own and key not in seen and not formulas[layout.KEY_COL - 1]:
                seen[key] = number  # the row is there: not reported deleted too
            continue
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
    gone = [k for k in sent if k not in seen]
    if gone:
        problems.append(_missing(gone, len(sent), table))
    return rows, problems


def _formula(number: int, col: int, values: list[str]) -> str:
    """A data row holding a formula: idbridge reads no formula (its cached value may be missing or forged)."""
    text = values[col - 1]
    shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
    at = f"{ACCESS}!{get_column_letter(col)}{number}"
    if col == layout.DECISION_COL:
        return (f"{at}: the decision is a formula ({shown}), not Keep or Remove: type Keep or Remove, or pick it "
                "from the list")
    return (f"{at}: {layout.HEADERS[col - 1]} holds a formula ({shown}): cells of a pack hold values; type the "
            "text instead")


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
    return f"rows deleted: {len(gone)} of the {sent} rows sent are missing: {listed}{more}"


def _raise(problems: dict[Path, list[str]]) -> None:
    if len(problems) == 1:
        (path, lines), = problems.items()
        raise InputError(str(path), lines)
    raise InputError(f"{len(problems)} reviewer workbooks",
                     [f"{path.name}: {line}" for path, lines in problems.items() for line in lines])
