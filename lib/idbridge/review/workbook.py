"""Reviewer packs: one Excel workbook per review scope, plus the whole access table and the findings as CSV/JSON.

Scopes:
- account_owner: one workbook per owner of AWS accounts. The owner is `owners[account_id]` when given, else the
  account's `owner` tag (any case), else the account itself (one workbook per untagged account);
- group_owner: one workbook per Entra group assigned to the app (its group and nested-group paths), reviewer
  `owners[group_id]` or `owners[group_name]`; paths with no Entra group (direct assignments, Identity Center-only,
  orphaned) go to one more workbook, "no-entra-group", reviewer `owners["no-entra-group"]`.
Every access row lands in exactly one workbook.

Each workbook (sheets.py): Instructions, Access, Findings and a hidden _meta sheet that lets
decisions.read_decisions verify a returned workbook, signed with the engagement's key (signing.py). Each Access
row says what else its Remove would end (removals.removal_scope: for a group row, every access of the person
through that group), naming the workbook and reviewer of each, so an owner sees before deciding that a Remove
reaches accounts another owner reviews.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from idbridge.core.files import atomic_path
from idbridge.model.abac import ConditionalAccess
from idbridge.review import layout
from idbridge.review.export import write_tables
from idbridge.review.layout import NO_GROUP, clean
from idbridge.review.path_index import PathIndex
from idbridge.review.removals import removal_scope
from idbridge.review.sheets import build_workbook, risks_by_row
from idbridge.review.signals import SignIns
from idbridge.review.signing import SigningKey, signing_key

log = logging.getLogger(__name__)
EXCEL_ROWS = 1_048_575  # a sheet's rows below the header
ALSO_LISTED = 20  # other accesses named in a row's "Removing this also ends", then counted


def snapshot_meta(snapshot, **extra) -> dict:
    """meta for write_review_packs / read_decisions from a Snapshot: engagement, snapshot id, collection time.
    The id hashes the manifest's identity fields, so it survives the folder being moved or renamed."""
    manifest = snapshot.manifest
    identity = {k: manifest.get(k) for k in ("engagement", "collected_at", "finished_at", "tenant_id", "instance_arn")}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {"engagement": manifest.get("engagement"), "snapshot_id": digest,
            "collected_at": manifest.get("collected_at"), **extra}


def write_review_packs(access: pd.DataFrame, findings: pd.DataFrame | None, out_dir, scope: str,
                       owners: dict | None, meta: dict, *, key: SigningKey | str | bytes | None = None,
                       signins: SignIns | None = None, eligible: pd.DataFrame | None = None,
                       conditional: ConditionalAccess | None = None) -> list[Path]:
    """Write the packs and the access table as CSV + JSON into out_dir; returns the workbook paths.
    meta: engagement and snapshot_id (required), collected_at, deadline, requested_by, contact (optional). key:
    the engagement's review signing key (signing.from_parameters); without one the packs are written unsigned,
    with a warning. signins: the people's sign-ins (signals.sign_ins), for the last sign-in columns and the
    recommendations; without them the packs say "not looked up" and recommend no Keep. eligible: the eligible
    paths (model.access.build.eligible_access), each listed in the pack of its scope on a read-only sheet (a
    scope only eligible access reaches gets a pack with no row to decide). conditional: which paths depend on
    session tags (model/abac.py conditional_access), for the Conditional (ABAC) column; without it the column
    says "not looked up"."""
    if scope not in layout.SCOPES:
        raise ValueError(f"scope must be one of {layout.SCOPES}, not {scope!r}")
    missing = [k for k in ("engagement", "snapshot_id") if not meta.get(k)]
    if missing:
        raise ValueError(f"meta needs {missing} (see snapshot_meta)")
    if access["path_id"].duplicated().any():
        raise ValueError("access has duplicate path_id values: decisions could not tell the rows apart")
    key = signing_key(key)
    if key is None:
        log.warning("review packs are written UNSIGNED (no review.signing_key in the parameters): a reviewer could "
                    "forge decisions on rows of another pack, and reading them back needs review.allow_unsigned")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    risks = risks_by_row(access, findings)
    packs, names = [], set()
    eligible_by = {k: (reviewer, rows) for k, reviewer, rows in _packs(eligible, scope, owners or {})} \
        if eligible is not None and len(eligible) else {}
    scopes = list(_packs(access, scope, owners or {}))
    held = {k for k, _, _ in scopes}
    scopes += [(k, reviewer, access.iloc[0:0]) for k, (reviewer, _) in eligible_by.items() if k not in held]
    for scope_key, reviewer, rows in scopes:
        if len(rows) > EXCEL_ROWS:
            raise ValueError(f"{scope_key}: {len(rows)} rows, more than an Excel sheet holds ({EXCEL_ROWS}): "
                             "review by a narrower scope")
        packs.append((f"review-{_unique(_slug(scope_key), names)}.xlsx", scope_key, reviewer, rows))
    also = also_ends(access, {p: (file, reviewer) for file, _, reviewer, rows in packs for p in rows["path_id"]})
    written = []
    for file, scope_key, reviewer, rows in packs:
        book = build_workbook(rows, risks, findings, scope, scope_key, reviewer, meta, key, seen=signins,
                              also=also, eligible=eligible_by.get(scope_key, (None, None))[1],
                              conditional=conditional)
        written.append(_save(book, out_dir / file))
    write_tables(access, out_dir, meta)
    stale = sorted(set(out_dir.glob("review-*.xlsx")) - set(written))
    if stale:  # left from an earlier round or scope: read_decisions on this folder would read them too
        log.warning("%s also holds review packs not written now: %s", out_dir, ", ".join(p.name for p in stale))
    return written


def also_ends(access: pd.DataFrame, pack_of: dict[str, tuple[str, str]]) -> dict[str, str]:
    """path_id -> the other accesses a Remove of it would end, one a line, each with the workbook (and reviewer)
    that reviews it; rows whose removal ends nothing else are left out. pack_of: path_id -> (file, reviewer)."""
    index = PathIndex(access)
    out = {}
    for path_id in index.position:
        others = [p for p in removal_scope(index.row(path_id), index) if p != path_id]
        if not others:
            continue
        here = pack_of.get(path_id, ("", ""))[0]
        lines = []
        for other in others[:ALSO_LISTED]:
            file, reviewer = pack_of.get(other, ("", ""))
            where = ("this workbook" if file == here else
                     f"reviewed by {reviewer} in {file}" if reviewer else f"reviewed in {file}")
            lines.append(f"{index.describe(other)} [{where}]")
        if len(others) > ALSO_LISTED:
            lines.append(f"and {len(others) - ALSO_LISTED} more")
        out[path_id] = "\n".join(lines)
    return out


# ----------------------------------------------------------------------------------------------- scopes


def account_tags(value) -> dict[str, str]:
    """account_tags as a dict. The access model gives "k=v; k2=v2" text (split at the first '='); lists of
    "k=v", dicts and JSON text are read too."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        if value.lstrip()[:1] in ("{", "["):
            try:
                return account_tags(json.loads(value))
            except ValueError:
                pass
        value = [part for part in value.split(";") if part.strip()]
    if value is None or value is pd.NA or isinstance(value, float):
        return {}
    tags = {}
    for item in value:
        if isinstance(item, dict):  # {"Key": ..., "Value": ...}
            tags[str(item.get("Key", item.get("key")))] = str(item.get("Value", item.get("value")))
        elif isinstance(item, str) and "=" in item:
            key, _, val = item.partition("=")
            tags[key.strip()] = val.strip()
    return tags


def _owner_tag(value) -> str:
    return next((v for k, v in account_tags(value).items() if k.lower() == "owner" and v), "")


def _packs(access: pd.DataFrame, scope: str, owners: dict) -> Iterable[tuple[str, str, pd.DataFrame]]:
    """(scope key, reviewer, rows) per workbook, grouped by owner / account / Entra group id."""
    if scope == "account_owner":
        def key(row) -> tuple[str, str, str]:
            account = clean(row["account_id"])
            owner = clean(owners.get(account)) or _owner_tag(row.get("account_tags"))
            if owner:
                return owner, owner, owner
            return f"account:{account}", f"account-{account}-{clean(row.get('account_name'))}", ""
    else:
        def key(row) -> tuple[str, str, str]:
            group_id = clean(row.get("entra_group_id"))
            if not group_id:
                return NO_GROUP, NO_GROUP, clean(owners.get(NO_GROUP))
            name = clean(row.get("entra_group_name")) or group_id
            return group_id, f"group-{name}", clean(owners.get(group_id)) or clean(owners.get(name))
    keys = [key(row) for row in access.to_dict("records")]
    positions = pd.Series([k[0] for k in keys], dtype=object).groupby([k[0] for k in keys]).indices
    described = {k[0]: k[1:] for k in keys}
    for group in sorted(described, key=lambda g: described[g][0]):
        scope_key, reviewer = described[group]
        yield scope_key, reviewer, access.iloc[positions[group]]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._").lower()[:80] or "pack"


def _unique(name: str, taken: set) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _save(book: Workbook, path: Path) -> Path:
    with atomic_path(path) as partial:  # a full disk leaves no half workbook (nor its temporary file)
        book.save(partial)
    return path
