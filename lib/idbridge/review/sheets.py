"""The sheets of one review pack.

Instructions; Access (one row per path, riskiest first; only Decision and Comment editable; Decision is a Keep /
Remove dropdown; risk findings joined by subject: user, group, permission set, account); Findings (those joined
to the rows, with meaning and fix); a hidden _meta sheet with the engagement, snapshot, scope and the checksum and
list of the keys, and the pack's signature (review/signing.py). Sheet protection has no password: it prevents
accidents; the checks on return catch the rest.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from idbridge.checks.controls import labels
from idbridge.core.vocabulary import SEVERITY_ORDER
from idbridge.review import layout
from idbridge.review.layout import ACCESS, FINDINGS, INSTRUCTIONS, META, NO_GROUP, clean
from idbridge.review.signing import UNSIGNED, SigningKey

_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")     # the cells a reviewer fills
_UNLOCKED = Protection(locked=False)
_PRIVILEGE_FILL = {"admin": PatternFill("solid", fgColor="F8CBAD"), "power": PatternFill("solid", fgColor="FCE4D6")}


# ----------------------------------------------------------------------------------------------- rows


def _via(row) -> str:
    kind = row["path_kind"]
    if kind == "direct_user":
        return "direct assignment to the user"
    if kind == "group":
        return f"group {clean(row.get('entra_group_name'))}"
    if kind == "nested_group":
        return (f"{clean(row.get('nested_group_name'))}, nested in {clean(row.get('entra_group_name'))} "
                "(does not work in AWS: SCIM does not provision nested members)")
    if kind == "idc_only":
        return (f"Identity Center only: {clean(row.get('idc_principal_type')).lower()} "
                f"{clean(row.get('idc_principal_name'))} (not from Entra)")
    return f"orphaned assignment: principal {clean(row.get('idc_principal_id'))} no longer exists"


def _yes(value) -> str:
    text = clean(value).lower()
    return "yes" if text in ("true", "1", "yes") else "no" if text in ("false", "0", "no") else ""


def access_cells(row: dict, risk: str) -> list:
    """One Access-sheet row, in layout.HEADERS order (Decision and Comment blank)."""
    account = clean(row.get("account_name"))
    return [clean(row["path_id"]), layout.user_label(row), clean(row.get("user_display_name")),
            clean(row.get("entra_state")), _via(row), clean(row.get("path_kind")), account,
            clean(row.get("account_id")), clean(row.get("ou_path")), clean(row.get("permission_set_name")),
            clean(row.get("privilege")), _yes(row.get("is_production")), _yes(row.get("effective")), risk, None, None]


def _subjects(row: dict) -> list[str]:
    """The finding subjects a path touches (checks name users by UPN or Identity Center user name)."""
    subjects = [f"user:{clean(row.get('user_principal_name'))}", f"user:{clean(row.get('idc_user_name'))}",
                f"group:{clean(row.get('entra_group_name'))}", f"group:{clean(row.get('nested_group_name'))}",
                f"permission_set:{clean(row.get('permission_set_name'))}", f"account:{clean(row.get('account_id'))}"]
    if clean(row.get("idc_principal_type")).upper() == "GROUP":
        subjects.append(f"group:{clean(row.get('idc_principal_name'))}")
    return [s for s in dict.fromkeys(subjects) if not s.endswith(":")]


def risks_by_row(access: pd.DataFrame, findings: pd.DataFrame | None) -> dict[str, str]:
    """path_id -> 'high access.privileged_prod_access; medium access.stale_user', worst first."""
    if findings is None or findings.empty:
        return {}
    by_subject: dict[str, set] = {}
    for f in findings[["subject", "severity", "check_id"]].to_dict("records"):
        by_subject.setdefault(f["subject"], set()).add((f["severity"], f["check_id"]))
    risks = {}
    for row in access.to_dict("records"):
        hits = set().union(*(by_subject.get(s, set()) for s in _subjects(row)))
        if hits:
            ordered = sorted(hits, key=lambda h: (-SEVERITY_ORDER.get(h[0], 0), h[1]))
            risks[row["path_id"]] = "; ".join(f"{sev} {check}" for sev, check in ordered)
    return risks


def _order(rows: pd.DataFrame) -> pd.DataFrame:
    """Riskiest first: production, then privilege, then account / permission set / user."""
    keys = pd.DataFrame({"prod": rows["is_production"].map(_yes).eq("yes"),
                         "rank": pd.to_numeric(rows["privilege_rank"], errors="coerce").fillna(0),
                         "account": rows["account_name"].map(clean).astype(object),
                         "ps": rows["permission_set_name"].map(clean).astype(object),
                         "user": [layout.user_label(r) for r in rows.to_dict("records")]}, index=rows.index)
    order = keys.sort_values(["prod", "rank", "account", "ps", "user"], ascending=[False, False, True, True, True])
    return rows.loc[order.index]


# ----------------------------------------------------------------------------------------------- workbook


def build_workbook(rows, risks, findings, scope, scope_key, reviewer, meta, key: SigningKey | None = None) -> Workbook:
    """One pack; signed with `key` (review/signing.py), else marked unsigned in _meta."""
    book = Workbook()
    rows = _order(rows)
    _instructions(book.active, rows, scope, scope_key, reviewer, meta)
    _access_sheet(book.create_sheet(ACCESS), rows, risks)
    _findings_sheet(book.create_sheet(FINDINGS), rows, findings)
    _meta_sheet(book.create_sheet(META), rows, scope, scope_key, reviewer, meta, key)
    book.active = 1  # open on Access
    book.security = WorkbookProtection(lockStructure=True)  # no renaming, deleting or unhiding sheets
    return book


def _text(cell, value) -> None:
    """Write a value as data: openpyxl would turn text starting with '=' (e.g. a display name) into a formula, and
    refuse control characters (layout.cell_text)."""
    if isinstance(value, str):
        value = layout.cell_text(value)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _protect(sheet) -> None:
    sheet.protection.sheet = True
    # False = allowed while protected: filter, resize columns / rows.
    sheet.protection.autoFilter = False
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _instructions(sheet, rows, scope, scope_key, reviewer, meta) -> None:
    sheet.title = INSTRUCTIONS
    what = ("the AWS accounts " + ", ".join(sorted({f"{clean(a)} ({clean(i)})" for a, i in
                                                    zip(rows["account_name"], rows["account_id"])}))
            if scope == "account_owner" else
            ("access through the Entra group " + clean(rows["entra_group_name"].iloc[0])
             if scope_key != NO_GROUP else
             "access that comes from no Entra group: direct assignments to users, Identity Center-only principals "
             "and orphaned assignments"))
    lines = [
        ("Cross-cloud access review", True),
        (f"Engagement: {meta['engagement']}", False),
        (f"Reviewer: {reviewer or '(not named)'}", False),
        (f"Deadline: {meta.get('deadline') or '(see the request)'}", False),
        (f"Data as of: {meta.get('collected_at') or '(unknown)'} (snapshot {meta['snapshot_id']})", False),
        (f"Return to: {meta['contact']}" if meta.get("contact") else "", False),
        ("", False),
        ("What to review", True),
        (f"Each row of the Access sheet is one way a person reaches {what}: the person, how (a group, a nested "
         "group, a direct assignment), the account and the permission set, how privileged it is, whether the "
         "account is production, and the risk findings of the audit about that person, group, account or "
         f"permission set. {len(rows)} rows.", False),
        ("", False),
        ("How to decide", True),
        ("1. In the Decision column pick Keep or Remove from the dropdown. Leave it blank if you did not review "
         "the row: a blank is reported as not reviewed and nothing is changed for it.", False),
        ("2. Add a Comment when useful (why Keep despite a finding, who asked for the access...).", False),
        ("3. Remove on a group row takes the person out of that Entra group: every access they have through the "
         "group ends, in every account, not only on this row.", False),
        ("4. Save as Excel Workbook (.xlsx) and send the file back.", False),
        ("", False),
        ("Do not edit anything else", True),
        ("Do not add, delete, copy or re-type rows, do not change the path_id column, and do not copy rows "
         "between workbooks: each returned workbook is checked against what was sent and rejected if its rows "
         "or keys changed. Filters may be used freely.", False),
    ]
    for number, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=number, column=1)
        _text(cell, text)
        cell.font = Font(bold=bold, size=14 if number == 1 else 11)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 110
    _protect(sheet)


def _header(sheet, headers) -> None:
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
    sheet.freeze_panes = "A2"


def _access_sheet(sheet, rows, risks) -> None:
    _header(sheet, layout.HEADERS)
    for number, row in enumerate(rows.to_dict("records"), start=2):
        for col, value in enumerate(access_cells(row, risks.get(row["path_id"], "")), start=1):
            cell = sheet.cell(row=number, column=col)
            _text(cell, value)
            if col in (layout.DECISION_COL, layout.COMMENT_COL):
                cell.protection = _UNLOCKED
                cell.fill = _EDIT_FILL
        fill = _PRIVILEGE_FILL.get(clean(row.get("privilege")))
        if fill:
            sheet.cell(row=number, column=layout.HEADERS.index("Privilege") + 1).fill = fill
    last = len(rows) + 1
    decision = get_column_letter(layout.DECISION_COL)
    validation = DataValidation(type="list", formula1='"' + ",".join(layout.DECISIONS) + '"', allow_blank=True,
                                showDropDown=False, showErrorMessage=True, errorTitle="Keep or Remove",
                                error="Pick Keep or Remove, or leave the cell blank if not reviewed.",
                                promptTitle="Decision", prompt="Keep or Remove; blank = not reviewed",
                                showInputMessage=True)
    validation.add(f"{decision}2:{decision}{last}")
    sheet.add_data_validation(validation)
    for col, (_, width) in enumerate(layout.COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(layout.HEADERS))}{last}"
    _protect(sheet)


def _findings_sheet(sheet, rows, findings) -> None:
    # severity is the finding's; check_severity the catalogue's (docs/checks.md), as in findings.csv
    headers = ["severity", "check_id", "subject", "title", "detail", "meaning", "fix", "check_severity", "controls"]
    _header(sheet, headers)
    if findings is not None and not findings.empty:
        subjects = {s for row in rows.to_dict("records") for s in _subjects(row)}
        relevant = findings[findings["subject"].isin(subjects)]
        for number, finding in enumerate(relevant.to_dict("records"), start=2):
            for col, header in enumerate(headers, start=1):
                value = finding.get(header)
                value = labels(value) if header == "controls" and isinstance(value, tuple) else clean(value)
                _text(sheet.cell(row=number, column=col), value)
    for col, width in enumerate([10, 34, 40, 40, 60, 60, 60, 12, 50], start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _protect(sheet)


def _meta_sheet(sheet, rows, scope, scope_key, reviewer, meta, key: SigningKey | None) -> None:
    keys = [clean(k) for k in rows["path_id"]]
    values = {"format": layout.FORMAT, "engagement": meta["engagement"], "snapshot_id": meta["snapshot_id"],
              "collected_at": clean(meta.get("collected_at")), "scope": scope, "scope_key": scope_key,
              "reviewer": reviewer, "rows": str(len(keys)), "keys_sha256": layout.keys_checksum(keys),
              "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "deadline": clean(meta.get("deadline"))}
    if key:
        values.update(signature=key.pack(values, keys), key_id=key.id)
    else:
        values.update(signature=UNSIGNED, key_id="")
    for number, name in enumerate(layout.META_KEYS, start=1):
        sheet.cell(row=number, column=1, value=name)
        _text(sheet.cell(row=number, column=2), values[name])
    sheet.cell(row=1, column=layout.META_KEYS_COL, value="path_id")
    sheet.cell(row=1, column=layout.META_TAGS_COL, value="signature")
    for number, path_id in enumerate(keys, start=2):
        sheet.cell(row=number, column=layout.META_KEYS_COL, value=path_id)
        if key:
            sheet.cell(row=number, column=layout.META_TAGS_COL, value=key.row(values, path_id))
    sheet.sheet_state = "hidden"
    _protect(sheet)
