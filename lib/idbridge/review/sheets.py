"""The sheets of one review pack.

Instructions (the sheet it opens on: who asks, by when, a live progress counter, how to decide); Access (one row
per path, riskiest first: who reaches what through which group first, then privilege, production, whether it
works in AWS, the risks in words, the person's last sign-ins, a recommendation with its reason (signals.py) and
every other access the same removal ends; then Decision, a Keep / Remove dropdown, and Comment; details; path_id
last and hidden); Findings (those joined to the rows, with meaning and fix); when the pack's scope has any,
Eligible (PIM): access people could activate through PIM for Groups, listed to read, never decided nor read back
(a removal plan cannot end an eligibility); a hidden _meta sheet with the
engagement, snapshot, scope and the checksum and list of the keys, and the pack's signature (review/signing.py).

Protection has no password: it prevents accidents; the checks on return catch the rest. Sorting and filtering
stay allowed, and the data rows are unlocked because Excel refuses to sort a range holding locked cells on a
protected sheet, whatever the sheet allows: a sorted pack verifies (keys are checked as a set, each row against
its own key), and an edited Person, Account id, Permission set or path_id is refused on return. Only Decision and
Comment are read back. Row colours are conditional formatting (admin, production, disabled or deleted person,
path that does not work in AWS), so they follow the rows when sorted.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from idbridge.checks.controls import labels
from idbridge.core.vocabulary import SEVERITY_ORDER
from idbridge.model.abac import ConditionalAccess
from idbridge.review import layout
from idbridge.review.layout import ACCESS, ELIGIBLE, FINDINGS, INSTRUCTIONS, META, NO_GROUP, clean
from idbridge.review.signals import SignIns, last_sign_in_cells, recommend
from idbridge.review.signing import UNSIGNED, SigningKey

_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")     # the cells a reviewer fills
_UNLOCKED = Protection(locked=False)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_WRAPPED = {"Risks", "Recommendation", "Removing this also ends", "Comment", "Conditional (ABAC)", "How"}
# Severity is the finding's; "Catalogue severity" the check's (docs/checks.md), as in findings.csv.
FINDING_HEADERS = ("Severity", "Finding", "About", "Detail", "What it means", "How to fix", "Check",
                   "Catalogue severity", "Controls")
_FINDING_FIELDS = ("severity", "title", "subject", "detail", "meaning", "fix", "check_id", "check_severity", "controls")


# ----------------------------------------------------------------------------------------------- rows


def held_through_pim(row) -> str:
    """How a PIM-held membership is held, in a reviewer's words; "" for every other (standing, not collected)."""
    held = clean(row.get("membership"))
    if held.startswith("active (PIM) until "):
        return "active through PIM until " + held.removeprefix("active (PIM) until ")
    if held == "permanent (PIM)":
        return "permanent member through PIM (no end)"
    if held.startswith("PIM activation ended"):
        return held + "; Identity Center still holds the membership"
    return ""


def _pim(text: str, row) -> str:
    held = held_through_pim(row)
    return f"{text} ({held})" if held else text


def _via(row) -> str:
    return _pim(_via_hops(row), row)


def _via_hops(row) -> str:
    kind = row["path_kind"]
    if kind == "direct_user":
        return "direct assignment to the user"
    if kind in ("group", "eligible"):
        return f"group {clean(row.get('entra_group_name'))}"
    if kind == "nested_group":
        return (f"{clean(row.get('nested_group_name'))}, nested in {clean(row.get('entra_group_name'))} "
                "(does not work in AWS: SCIM does not provision nested members)")
    if kind == "idc_only":
        return (f"Identity Center only: {clean(row.get('idc_principal_type')).lower()} "
                f"{clean(row.get('idc_principal_name'))} (not from Entra)")
    return f"orphaned assignment: principal {clean(row.get('idc_principal_id'))} no longer exists"


def _group(row) -> str:
    """The group a path goes through, short: the Access sheet's fourth column."""
    return _pim(_group_name(row), row)


def _group_name(row) -> str:
    kind = row["path_kind"]
    if kind in ("group", "eligible"):
        return clean(row.get("entra_group_name"))
    if kind == "nested_group":
        return f"{clean(row.get('nested_group_name'))} (nested in {clean(row.get('entra_group_name'))})"
    if kind == "idc_only" and clean(row.get("idc_principal_type")).upper() == "GROUP":
        return f"{clean(row.get('idc_principal_name'))} (Identity Center only)"
    return "none: assigned directly" if kind in ("direct_user", "idc_only") else "none: orphaned assignment"


def _yes(value) -> str:
    text = clean(value).lower()
    return "yes" if text in ("true", "1", "yes") else "no" if text in ("false", "0", "no") else ""


def access_cells(row: dict, risk: str, seen: SignIns | None = None, also: str = "",
                 conditional: ConditionalAccess | None = None) -> list:
    """One Access-sheet row, in layout.HEADERS order (Decision and Comment blank). conditional: whether the path
    depends on session tags (model/abac.py); without it the cell says it was not looked at."""
    any_app, aws = last_sign_in_cells(row, seen)
    tags = (conditional.cell(clean(row["path_id"]), clean(row.get("permission_set_arn"))) if conditional is not None
            else "not looked up")
    return [layout.user_label(row), clean(row.get("account_name")), clean(row.get("permission_set_name")),
            _group(row), clean(row.get("privilege")), _yes(row.get("is_production")), _yes(row.get("effective")),
            risk, any_app, aws, recommend(row, seen), also or "nothing else", clean(row.get("entra_state")),
            clean(row.get("account_id")), None, None, tags, clean(row.get("user_display_name")),
            clean(row.get("ou_path")), _via(row), clean(row["path_id"])]


def _subjects(row: dict) -> list[str]:
    """The finding subjects a path touches (checks name users by UPN or Identity Center user name)."""
    subjects = [f"user:{clean(row.get('user_principal_name'))}", f"user:{clean(row.get('idc_user_name'))}",
                f"group:{clean(row.get('entra_group_name'))}", f"group:{clean(row.get('nested_group_name'))}",
                f"permission_set:{clean(row.get('permission_set_name'))}", f"account:{clean(row.get('account_id'))}"]
    if clean(row.get("idc_principal_type")).upper() == "GROUP":
        subjects.append(f"group:{clean(row.get('idc_principal_name'))}")
    return [s for s in dict.fromkeys(subjects) if not s.endswith(":")]


def risks_by_row(access: pd.DataFrame, findings: pd.DataFrame | None) -> dict[str, str]:
    """path_id -> 'High: <finding title>; Low: <finding title>', worst first: the findings about the path's
    person, group, account or permission set, in words (the Findings sheet has the check ids)."""
    if findings is None or findings.empty:
        return {}
    titles = findings["title"] if "title" in findings.columns else findings["check_id"]
    by_subject: dict[str, set] = {}
    for subject, severity, check, title in zip(findings["subject"], findings["severity"], findings["check_id"],
                                               titles):
        by_subject.setdefault(subject, set()).add((clean(severity), clean(title) or clean(check)))
    risks = {}
    for row in access.to_dict("records"):
        hits = set().union(*(by_subject.get(s, set()) for s in _subjects(row)))
        if hits:
            ordered = sorted(hits, key=lambda h: (-SEVERITY_ORDER.get(h[0], 0), h[1]))
            risks[row["path_id"]] = "; ".join(f"{sev.capitalize()}: {title}" for sev, title in ordered)
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


def build_workbook(rows, risks, findings, scope, scope_key, reviewer, meta, key: SigningKey | None = None, *,
                   seen: SignIns | None = None, also: dict[str, str] | None = None,
                   eligible: pd.DataFrame | None = None, conditional: ConditionalAccess | None = None) -> Workbook:
    """One pack; signed with `key` (review/signing.py), else marked unsigned in _meta. seen: the people's
    sign-ins (signals.sign_ins); also: path_id -> the other access its removal ends, as text; eligible: the
    eligible paths (model Model.eligible) of this pack's scope, listed on their own read-only sheet;
    conditional: which paths depend on session tags (model/abac.py conditional_access)."""
    book = Workbook()
    rows = _order(rows)
    eligible = _order(eligible) if eligible is not None and len(eligible) else None
    _instructions(book.active, rows, scope, scope_key, reviewer, meta, eligible)
    _access_sheet(book.create_sheet(ACCESS), rows, risks, seen, also or {}, conditional)
    _findings_sheet(book.create_sheet(FINDINGS), rows, findings)
    if eligible is not None:
        _eligible_sheet(book.create_sheet(ELIGIBLE), eligible)
    _meta_sheet(book.create_sheet(META), rows, scope, scope_key, reviewer, meta, key)
    book.active = 0  # opens on Instructions
    book.security = WorkbookProtection(lockStructure=True)  # no renaming, deleting or unhiding sheets
    book.calculation = CalcProperties(fullCalcOnLoad=True)  # the progress counter has no cached value
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
    # False = allowed while protected: filter, sort, resize columns / rows.
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _print_setup(sheet, area: str | None = None) -> None:
    """Landscape, as wide as the page, the header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    sheet.print_title_rows = "1:1"
    if area:
        sheet.print_area = area


def progress_formula(rows: int) -> str:
    """The Instructions' live counter: Keep and Remove in the Decision column (COUNTIF ignores case, as the
    reader does), of the rows sent."""
    letter = get_column_letter(layout.DECISION_COL)
    span = f"{ACCESS}!${letter}$2:${letter}${rows + 1}"
    keep, remove = f'COUNTIF({span},"Keep")', f'COUNTIF({span},"Remove")'
    return (f'="Progress: "&({keep}+{remove})&" of {rows} decided ("&{remove}&" Remove, "&{keep}&" Keep; blank = '
            f'not reviewed)"')


def _instructions(sheet, rows, scope, scope_key, reviewer, meta, eligible: pd.DataFrame | None = None) -> None:
    sheet.title = INSTRUCTIONS
    named = rows if len(rows) or eligible is None else eligible  # a scope only eligible access reaches
    what = ("the AWS accounts " + ", ".join(sorted({f"{clean(a)} ({clean(i)})" for a, i in
                                                    zip(named["account_name"], named["account_id"])}))
            if scope == "account_owner" else
            ("access through the Entra group " + clean(named["entra_group_name"].iloc[0])
             if scope_key != NO_GROUP else
             "access that comes from no Entra group: direct assignments to users, Identity Center-only principals "
             "and orphaned assignments"))
    lines = [
        ("Cross-cloud access review", True),
        (f"Requested by: {meta.get('requested_by') or '(see the request)'}", False),
        (f"Please decide and send this workbook back by: {meta.get('deadline') or '(see the request)'}", True),
        (f"Reviewer: {reviewer or '(not named)'}", False),
        (f"Engagement: {meta['engagement']}", False),
        (f"Data as of: {meta.get('collected_at') or '(unknown)'} (snapshot {meta['snapshot_id']})", False),
        (f"Return to: {meta['contact']}" if meta.get("contact") else "", False),
        (None, True),  # the progress counter
        ("", False),
        ("What to review", True),
        (f"Each row of the Access sheet is one way a person reaches {what}: the person, the account, the permission "
         "set and the group it comes through, how privileged it is, whether the account is production and "
         "whether the access works in AWS today, the audit's findings about that person, group, account or "
         f"permission set, and when the person last signed in. {len(rows)} rows, riskiest first.", False),
        ("", False),
        ("How to decide", True),
        ("1. In the Decision column pick Keep or Remove from the dropdown. Leave it blank if you did not review "
         "the row: a blank is reported as not reviewed and nothing is changed for it.", False),
        ("2. Recommendation suggests a decision and says why, as Entra access reviews do: Remove when the person "
         "has not signed in to AWS for longer than the review's inactivity period, is disabled or deleted in "
         "Entra, or the assignment is orphaned; Review when the access is admin in production or does not work "
         "in AWS; Keep when it was used recently. It is advice: the decision is yours.", False),
        ("3. Removing this also ends: Remove on a group row takes the person out of that group, which ends every "
         "access they have through it, in every account, including access other owners review. Read that column "
         "before deciding Remove; if another owner keeps one of those accesses, the two decisions are flagged as "
         "contradictory when the workbooks come back.", False),
        ("4. Last sign-in: AWS records the sign-in to its access portal, not which account the person chose next, "
         "so the last AWS sign-in is the person's, for every account.", False),
        ("5. Conditional (ABAC): \"yes\" when the permission set's policy tests the person's session tags "
         "(attributes Entra or Identity Center send, such as department): the access then depends on them. The "
         "cell names each condition and whether this person's tags satisfy it; \"not collected\" when the audit "
         "could not read what decides it.", False),
        ("6. Add a Comment when useful (why Keep despite a finding, who asked for the access...).", False),
        ("7. Save as Excel Workbook (.xlsx) and send the file back.", False),
        ("", False),
        *(_eligible_lines(len(eligible)) if eligible is not None else []),
        ("Sorting, filtering, printing", True),
        ("Sort and filter with the arrows in the header row of the Access sheet. Colours: orange rows are admin "
         "access, bold rows production accounts, red rows a person disabled or deleted in Entra, grey rows access "
         "that does not work in AWS. The sheets print landscape, one page wide, with the header row on every page.",
         False),
        ("", False),
        ("Do not edit anything else", True),
        ("Only Decision and Comment are read back. Do not add, delete, copy or re-type rows, do not change Person, "
         "Account id, Permission set or the hidden path_id column, and do not copy rows between workbooks: each "
         "returned workbook is checked against what was sent and refused if its rows or keys changed.", False),
    ]
    for number, (text, bold) in enumerate(lines, start=1):
        cell = sheet.cell(row=number, column=1)
        if text is None and not len(rows):
            cell.value = f"Nothing to decide: this pack lists eligible access only (sheet {ELIGIBLE})."
        elif text is None:
            cell.value = progress_formula(len(rows))  # a formula: it counts as the reviewer fills Access
        else:
            _text(cell, text)
        cell.font = Font(bold=bold, size=14 if number == 1 else 11)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 110
    _print_setup(sheet)
    sheet.print_title_rows = None
    _protect(sheet)


def _eligible_lines(count: int) -> list[tuple[str, bool]]:
    return [("Eligible access (PIM), on its own sheet", True),
            (f"The sheet {ELIGIBLE} lists {count} access(es) people do not hold now but could get at any time by "
             "activating their eligibility for a group in Privileged Identity Management (PIM for Groups). It is "
             "there to read, not to decide: nothing on it is read back and no decision there changes anything. If "
             "someone should not be able to activate it, say so in the Comment of a row of theirs or to the "
             "requester; the eligibility is removed in PIM, not by this review. On the Access sheet, rows held "
             "through PIM say so in Through group: active through PIM until when the activation ends, permanent "
             "member through PIM, or an activation that ended while Identity Center still holds it.", False),
            ("", False)]


ELIGIBLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Person", 30), ("Account", 22), ("Permission set", 22), ("Through group", 30), ("Privilege", 10),
    ("Production", 11), ("Eligible until", 22), ("Person state", 12), ("Account id", 14), ("Name", 22), ("OU", 26))


def eligible_cells(row: dict) -> list:
    """One row of the Eligible (PIM) sheet, in ELIGIBLE_COLUMNS order."""
    held = clean(row.get("membership"))
    until = held.partition(" until ")[2] or ("no end" if held == "eligible (PIM)" else held)
    return [layout.user_label(row), clean(row.get("account_name")), clean(row.get("permission_set_name")),
            _group_name(row), clean(row.get("privilege")), _yes(row.get("is_production")), until,
            clean(row.get("entra_state")), clean(row.get("account_id")), clean(row.get("user_display_name")),
            clean(row.get("ou_path"))]


def _eligible_sheet(sheet, rows: pd.DataFrame) -> None:
    """Read-only: no Decision column, not in _meta's keys, never read back (see the module docstring)."""
    _header(sheet, [h for h, _ in ELIGIBLE_COLUMNS])
    for number, row in enumerate(rows.to_dict("records"), start=2):
        for col, value in enumerate(eligible_cells(row), start=1):
            cell = sheet.cell(row=number, column=col)
            _text(cell, value)
            cell.protection = _UNLOCKED  # sortable, as on Access
            cell.alignment = _TOP
    last = len(rows) + 1
    for col, (_, width) in enumerate(ELIGIBLE_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(ELIGIBLE_COLUMNS))}{last}"
    _print_setup(sheet)
    _protect(sheet)


def _header(sheet, headers) -> None:
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _access_sheet(sheet, rows, risks, seen: SignIns | None, also: dict[str, str],
                  conditional: ConditionalAccess | None = None) -> None:
    _header(sheet, layout.HEADERS)
    wrapped = {layout.HEADERS.index(h) + 1 for h in _WRAPPED}
    for number, row in enumerate(rows.to_dict("records"), start=2):
        cells = access_cells(row, risks.get(row["path_id"], ""), seen, also.get(row["path_id"], ""), conditional)
        for col, value in enumerate(cells, start=1):
            cell = sheet.cell(row=number, column=col)
            _text(cell, value)
            cell.protection = _UNLOCKED  # sortable (see the module docstring); read back: Decision, Comment
            cell.alignment = _WRAP if col in wrapped else _TOP
            if col in (layout.DECISION_COL, layout.COMMENT_COL):
                cell.fill = _EDIT_FILL
    last = len(rows) + 1
    for col, (_, width) in enumerate(layout.COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.column_dimensions[get_column_letter(layout.KEY_COL)].hidden = True
    sheet.freeze_panes = "B2"  # the header row and the person stay in view
    if not len(rows):  # a pack only eligible access reaches: nothing to decide, no range to validate or colour
        _print_setup(sheet)
        _protect(sheet)
        return
    decision = get_column_letter(layout.DECISION_COL)
    validation = DataValidation(type="list", formula1='"' + ",".join(layout.DECISIONS) + '"', allow_blank=True,
                                showDropDown=False, showErrorMessage=True, errorTitle="Keep or Remove",
                                error="Pick Keep or Remove, or leave the cell blank if not reviewed.",
                                promptTitle="Decision", prompt="Keep or Remove; blank = not reviewed",
                                showInputMessage=True)
    validation.add(f"{decision}2:{decision}{last}")
    sheet.add_data_validation(validation)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(layout.HEADERS))}{last}"
    _row_colours(sheet, last)
    _print_setup(sheet, f"A1:{get_column_letter(layout.COMMENT_COL)}{last}")
    _protect(sheet)


def _row_colours(sheet, last: int) -> None:
    """Conditional formatting: it follows the rows when they are sorted (a cell fill would too, but not a change
    of the reviewer's; these rules read the row's own cells)."""
    def ref(col: int) -> str:
        return f"${get_column_letter(col)}2"

    rows = " ".join(f"{get_column_letter(a)}2:{get_column_letter(b)}{last}"
                    for a, b in ((1, layout.DECISION_COL - 1), (layout.COMMENT_COL + 1, len(layout.HEADERS))))
    grey, red, orange = (PatternFill("solid", fgColor=c, bgColor=c) for c in ("E7E6E6", "F4B6B6", "FBD5B5"))
    rules = [
        (f'{ref(layout.WORKS_COL)}="no"', dict(fill=grey, font=Font(color="595959", italic=True))),
        (f'OR({ref(layout.STATE_COL)}="disabled",{ref(layout.STATE_COL)}="deleted")', dict(fill=red)),
        (f'{ref(layout.PRIVILEGE_COL)}="admin"', dict(fill=orange)),
        (f'{ref(layout.PRODUCTION_COL)}="yes"', dict(font=Font(bold=True))),
    ]
    for formula, style in rules:
        sheet.conditional_formatting.add(rows, FormulaRule(formula=[formula], **style))
    recommendation = f"{get_column_letter(layout.RECOMMENDATION_COL)}2:{get_column_letter(layout.RECOMMENDATION_COL)}{last}"
    for verb, colour in (("Remove", "C00000"), ("Review", "9C5700"), ("Keep", "006100")):
        sheet.conditional_formatting.add(recommendation, FormulaRule(
            formula=[f'LEFT({ref(layout.RECOMMENDATION_COL)},{len(verb)})="{verb}"'],
            font=Font(bold=True, color=colour)))


def _findings_sheet(sheet, rows, findings) -> None:
    _header(sheet, FINDING_HEADERS)
    last = 1
    if findings is not None and not findings.empty:
        subjects = {s for row in rows.to_dict("records") for s in _subjects(row)}
        relevant = findings[findings["subject"].isin(subjects)].copy()
        relevant["_rank"] = [-SEVERITY_ORDER.get(clean(s), 0) for s in relevant["severity"]]
        relevant = relevant.sort_values(["_rank", "check_id", "subject"], kind="stable")
        for number, finding in enumerate(relevant.to_dict("records"), start=2):
            for col, name in enumerate(_FINDING_FIELDS, start=1):
                value = finding.get(name)
                value = labels(value) if name == "controls" and isinstance(value, tuple) else clean(value)
                cell = sheet.cell(row=number, column=col)
                _text(cell, value.capitalize() if name in ("severity", "check_severity") else value)
                cell.alignment = _WRAP
            last = number
    for col, width in enumerate([10, 40, 34, 60, 60, 60, 30, 12, 50], start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(FINDING_HEADERS))}{last}"
    _print_setup(sheet)
    _protect(sheet)


def _meta_sheet(sheet, rows, scope, scope_key, reviewer, meta, key: SigningKey | None) -> None:
    keys = [clean(k) for k in rows["path_id"]]
    values = {"format": layout.FORMAT, "engagement": meta["engagement"], "snapshot_id": meta["snapshot_id"],
              "collected_at": clean(meta.get("collected_at")), "scope": scope, "scope_key": scope_key,
              "reviewer": reviewer, "rows": str(len(keys)), "keys_sha256": layout.keys_checksum(keys),
              "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "deadline": clean(meta.get("deadline")), "requested_by": clean(meta.get("requested_by"))}
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
