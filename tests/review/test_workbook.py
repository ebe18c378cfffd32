import json
import re

import pandas as pd
from openpyxl import load_workbook

from idbridge.model.access.columns import ACCESS_COLUMNS
from idbridge.review import layout, write_review_packs
from idbridge.review.workbook import account_tags

from support.review_tables import META, pid


def _packs(tmp_path, access, findings, scope="account_owner", owners=None):
    paths = write_review_packs(access, findings, tmp_path, scope, owners, META)
    return {p.name: p for p in paths}


def _keys(path) -> list[str]:
    sheet = load_workbook(path)["Access"]
    return [row[0] for row in sheet.iter_rows(min_row=2, min_col=layout.KEY_COL, max_col=layout.KEY_COL,
                                               values_only=True)]


def test_one_pack_per_account_owner_and_every_row_in_exactly_one(tmp_path, access, findings):
    packs = _packs(tmp_path, access, findings)
    assert sorted(packs) == ["review-account-333333333333-sandbox.xlsx", "review-data-team-contoso.com.xlsx"]
    keys = [k for p in packs.values() for k in _keys(p)]
    assert sorted(keys) == sorted(access["path_id"])
    owned = _keys(packs["review-data-team-contoso.com.xlsx"])
    assert set(access.loc[access["path_id"].isin(owned), "account_id"]) == {"111111111111", "222222222222"}
    # owners override the tag, by account id
    packs = _packs(tmp_path / "o", access, findings, owners={"333333333333": "sandbox-owner@contoso.com"})
    assert "review-sandbox-owner-contoso.com.xlsx" in packs


def test_group_owner_packs(tmp_path, access, findings):
    packs = _packs(tmp_path, access, findings, "group_owner", {"g-AWS-Devs": "devs-lead@contoso.com"})
    assert sorted(packs) == ["review-group-aws-devs.xlsx", "review-no-entra-group.xlsx"]
    devs = _keys(packs["review-group-aws-devs.xlsx"])
    assert set(access.loc[access["path_id"].isin(devs), "path_kind"]) == {"group", "nested_group"}
    meta = dict(load_workbook(packs["review-group-aws-devs.xlsx"])["_meta"].iter_rows(max_col=2, values_only=True))
    assert meta["reviewer"] == "devs-lead@contoso.com" and meta["scope"] == "group_owner"


def test_sheet_order_opens_on_instructions_and_path_id_is_last_and_hidden(tmp_path, access, findings):
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    assert book.sheetnames == ["Instructions", "Access", "Findings", "_meta"]
    assert book.active.title == "Instructions"
    assert book["_meta"].sheet_state == "hidden" and book.security.lockStructure
    sheet = book["Access"]
    assert [c.value for c in sheet[1]] == list(layout.HEADERS)
    assert list(layout.HEADERS[:4]) == ["Person", "Account", "Permission set", "Through group"]
    assert layout.HEADERS[-1] == "path_id" and layout.KEY_COL == len(layout.HEADERS) == 21
    assert sheet.column_dimensions["U"].hidden and not sheet.column_dimensions["A"].hidden
    assert (layout.DECISION_COL, layout.COMMENT_COL) == (15, 16)  # O and P: the cells read back
    assert sheet.freeze_panes == "B2"


def test_protection_allows_sorting_and_filtering(tmp_path, access, findings):
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    sheet = book["Access"]
    rows = sheet.max_row - 1
    assert all(book[name].protection.sheet for name in book.sheetnames)
    for name in ("Access", "Findings"):
        protection = book[name].protection
        assert protection.autoFilter is False and protection.sort is False, name  # False = allowed
        assert book[name].auto_filter.ref and book[name].auto_filter.ref.startswith("A1:")
    assert sheet.auto_filter.ref == f"A1:U{rows + 1}"
    # Excel refuses to sort a range holding locked cells on a protected sheet: the data rows are unlocked, the
    # header row stays locked
    assert all(not cell.protection.locked for row in sheet.iter_rows(min_row=2) for cell in row)
    assert all(cell.protection.locked for cell in sheet[1])
    # Decision: a Keep / Remove dropdown over exactly the data rows; Decision and Comment marked as the ones to fill
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"Keep,Remove"' and validation.allow_blank
    assert str(validation.sqref) == f"O2:O{rows + 1}" and validation.showErrorMessage
    assert sheet["O2"].fill.fgColor.rgb.endswith("FFF2CC") and sheet["P2"].fill.fgColor.rgb.endswith("FFF2CC")
    assert not sheet["N2"].fill.fgColor.rgb.endswith("FFF2CC")


def test_print_setup(tmp_path, access, findings):
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    for name in ("Instructions", "Access", "Findings"):
        sheet = book[name]
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), name
    for name in ("Access", "Findings"):
        assert book[name].print_title_rows == "$1:$1", name  # the header row on every page
    access_sheet = book["Access"]
    assert access_sheet.print_area == f"'Access'!$A$1:$P${access_sheet.max_row}", "up to Comment"


def test_instructions_state_deadline_requester_and_a_live_progress_counter(tmp_path, access, findings):
    meta = {**META, "requested_by": "Head of Security, contoso"}
    paths = write_review_packs(access, findings, tmp_path, "account_owner", None, meta)
    book = load_workbook(next(p for p in paths if "data-team" in p.name))
    cells = [c for c in book["Instructions"]["A"] if c.value]
    text = "\n".join(str(c.value) for c in cells)
    assert "send this workbook back by: 2026-06-30" in text and "Requested by: Head of Security, contoso" in text
    assert "contoso-2026" in text and "Do not edit" in text and "data-prod (111111111111)" in text
    (progress,) = [c for c in cells if c.data_type == "f"]
    span = "Access!$O$2:$O$8"  # the Decision column over the 7 data rows, nothing else
    assert progress.value == (f'="Progress: "&(COUNTIF({span},"Keep")+COUNTIF({span},"Remove"))&" of 7 decided ("'
                              f'&COUNTIF({span},"Remove")&" Remove, "&COUNTIF({span},"Keep")&" Keep; blank = not '
                              'reviewed)"')
    assert book.calculation.fullCalcOnLoad, "no cached value: Excel computes it on opening"
    meta_values = {r[0]: r[1] for r in book["_meta"].iter_rows(max_col=2, values_only=True) if r[0]}
    assert meta_values["requested_by"] == "Head of Security, contoso" and meta_values["deadline"] == "2026-06-30"


def test_conditional_formatting_colours_the_rows(tmp_path, access, findings):
    sheet = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])["Access"]
    last = sheet.max_row
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in sheet.conditional_formatting}
    rows = f"A2:N{last} Q2:U{last}"  # every column but Decision and Comment (their own fill says "fill me")
    assert sorted(rules[rows]) == sorted(['$G2="no"', 'OR($M2="disabled",$M2="deleted")', '$E2="admin"',
                                          '$F2="yes"'])
    assert sorted(rules[f"K2:K{last}"]) == sorted(['LEFT($K2,6)="Remove"', 'LEFT($K2,6)="Review"',
                                                    'LEFT($K2,4)="Keep"'])
    # the formulas read the columns they mean
    for formula, header in (('$G2="no"', "Works in AWS"), ('$E2="admin"', "Privilege"), ('$F2="yes"', "Production"),
                            ('OR($M2', "Person state"), ('LEFT($K2', "Recommendation")):
        column = re.search(r"\$([A-Z]+)2", formula).group(1)
        assert sheet[f"{column}1"].value == header, formula


def test_rows_show_the_path_riskiest_first_with_findings_in_words(tmp_path, access, findings):
    findings["title"] = findings["check_id"].map({"access.privileged_prod_access": "Admin access to production",
                                                  "access.stale_user": "No sign-in for 94 days",
                                                  "access.long_session": "Sessions longer than 8 hours"})
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    rows = {r[-1]: dict(zip(layout.HEADERS, r)) for r in book["Access"].iter_rows(min_row=2, values_only=True)}
    first = next(iter(rows.values()))
    assert first["Person"] == "alice@contoso.com" and first["Privilege"] == "admin" and first["Production"] == "yes"
    assert first["Risks"] == "High: Admin access to production; Low: Sessions longer than 8 hours"
    assert first["Through group"] == "none: assigned directly" and first["Decision"] is None
    assert first["How"] == "direct assignment to the user"
    bob = rows[pid(access, "bob", "222222222222")]
    assert (bob["Account"], bob["Permission set"], bob["Through group"]) == ("data-dev", "ReadOnly", "AWS-Devs")
    assert bob["Risks"] == "Medium: No sign-in for 94 days"
    assert bob["Account id"] == "222222222222" and bob["Works in AWS"] == "yes"
    dave = rows[pid(access, "dave", "111111111111")]
    assert dave["Through group"] == "Nested (nested in AWS-Devs)" and dave["Works in AWS"] == "no"
    assert dave["Recommendation"].startswith("Review: does not work in AWS (nested group)")
    findings_sheet = book["Findings"]
    assert [c.value for c in findings_sheet[1]] == ["Severity", "Finding", "About", "Detail", "What it means",
                                                    "How to fix", "Check", "Catalogue severity", "Controls"]
    listed = [r for r in findings_sheet.iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in listed] == ["High", "Medium", "Low"], "worst first"
    assert {r[6] for r in listed} == {"access.privileged_prod_access", "access.stale_user", "access.long_session"}


def test_text_that_looks_like_a_formula_stays_text(tmp_path, access, findings):
    """Tenant names that look like formulas are stored as text cells (data_type "s"), never as formulas: the
    workbook holds no <f> element but the progress counter's."""
    import zipfile

    hostile = {"user_display_name": "=HYPERLINK(\"http://evil\")", "account_name": "=cmd|' /C calc'!A0",
               "permission_set_name": "+1+1", "ou_path": "@SUM(1)", "user_principal_name": "-2+3"}
    for column, value in hostile.items():
        access.loc[0, column] = value
    access["account_tags"] = access["account_tags"].where(access["account_id"].ne("111111111111"), "owner==1+1")
    findings.loc[0, "title"] = "=1+1"
    paths = write_review_packs(access, findings, tmp_path, "account_owner", None, META)
    found = {}
    for path in paths:
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")) and \
                            not cell.value.startswith('="Progress: "'):
                        found[cell.value] = cell.data_type
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    xml = archive.read(name)
                    # the Instructions sheet (sheet1) holds the one formula idbridge writes: the progress counter
                    formulas = xml.count(b"<f>") + xml.count(b"<f ")
                    assert formulas == (1 if name.endswith("sheet1.xml") else 0), (path, name)
                    if formulas:
                        assert b"COUNTIF(Access!$O$2" in xml
    assert set(hostile.values()) | {"=1+1"} <= set(found) and set(found.values()) == {"s"}, found


def test_csv_and_json_for_siems(tmp_path, access, findings):
    _packs(tmp_path, access, findings)
    records = json.loads((tmp_path / "access.json").read_text())
    assert len(records) == len(access) and set(records[0]) == set(ACCESS_COLUMNS) | {"engagement", "snapshot_id",
                                                                                     "collected_at"}
    assert records[0]["account_tags"] == "environment=prod; owner=data-team@contoso.com"
    assert records[-1]["user_principal_name"] is None and records[0]["snapshot_id"] == "snap-1"
    csv = pd.read_csv(tmp_path / "access.csv", dtype=str)
    assert list(csv.columns) == list(ACCESS_COLUMNS) and csv.loc[0, "account_tags"] == (
        "environment=prod; owner=data-team@contoso.com")
    assert not (tmp_path / "findings.json").exists(), "findings are the run's one artifact, not written per pack"
    assert not list(tmp_path.glob("*.partial"))


def test_account_tags_forms():
    assert account_tags(["owner=a=b", "env=prod"]) == {"owner": "a=b", "env": "prod"}
    assert account_tags('{"Owner": "x"}') == {"Owner": "x"}
    assert account_tags([{"Key": "owner", "Value": "y"}]) == {"owner": "y"}
    assert account_tags("environment=prod; owner=Finance, EMEA") == {"environment": "prod", "owner": "Finance, EMEA"}
    assert account_tags(None) == {} and account_tags(float("nan")) == {}


def test_groups_with_the_same_name_get_their_own_packs(tmp_path, access, findings):
    other = access["path_id"].eq(pid(access, "carol", "222222222222"))
    access.loc[other, "entra_group_id"] = "g-other-AWS-Devs"
    packs = _packs(tmp_path, access, findings, "group_owner")
    assert sorted(packs) == ["review-group-aws-devs-2.xlsx", "review-group-aws-devs.xlsx", "review-no-entra-group.xlsx"]


def test_control_characters_and_over_long_text_are_written_and_read_back(tmp_path, access, findings):
    """Tenant text XML cannot carry (control characters) crashed openpyxl; text longer than a cell of Excel made
    a pack Excel cannot open. Both are written as a cell holds them, and the pack still verifies on return, even
    with such characters in a checked column and in the reviewer (signed) name."""
    from idbridge.review import read_decisions

    from support.review_tables import KEY

    access.loc[0, "user_display_name"] = "Eve\x01\x1b[31m"
    access.loc[0, "user_principal_name"] = "eve\x07@contoso.com"
    access.loc[:, "account_tags"] = "owner=data\rteam\x02"
    findings.loc[0, "detail"] = "x" * 40_000
    paths = write_review_packs(access, findings, tmp_path, "account_owner", None, META, key=KEY)
    book = load_workbook(next(p for p in paths if "data" in p.name))
    users = [c.value for c in book["Access"]["A"]]
    assert "eve\ufffd@contoso.com" in users
    details = [c.value for c in book["Findings"]["D"] if c.value and c.value.startswith("xxx")]
    assert details and all(len(d) == layout.EXCEL_CELL_CHARS and d.endswith("…") for d in details)
    decisions = read_decisions(paths, access, META, key=KEY)
    assert len(decisions) == len(access) and decisions["verified"].all()
    assert set(decisions["reviewer"]) == {"data\nteam\ufffd"}


def test_findings_sheet_shows_both_severities_and_the_controls(tmp_path, access, findings):
    """The Findings sheet reads like findings.csv: the finding's severity, the check's catalogue severity, and the
    controls the check maps to (as findings_frame gives them: Control tuples)."""
    from idbridge.checks.controls import iso, nist

    findings["check_severity"] = findings["severity"]
    findings.loc[findings["check_id"].eq("access.privileged_prod_access"), "check_severity"] = "medium"
    findings["controls"] = [nist("AC-6(5)") + iso("8.2")] * len(findings)
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    rows = list(book["Findings"].iter_rows(values_only=True))
    header, body = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
    assert header[0] == "Severity" and header[-2:] == ("Catalogue severity", "Controls")
    prod = next(r for r in body if r["Check"] == "access.privileged_prod_access")
    assert (prod["Severity"], prod["Catalogue severity"]) == ("High", "Medium")
    assert prod["Controls"] == "NIST 800-53 AC-6(5); ISO 27001 A.8.2"


def test_conditional_abac_column_says_which_access_depends_on_session_tags_and_reads_back(tmp_path):
    """A path whose permission set tests session tags is "yes" with each condition and whether this person's tags
    satisfy it; other paths "no" (or that their managed policies were not read); a source not collected is named;
    the returned pack still reads (the column is not read back)."""
    from support import bridge_tables as bt

    from idbridge.model.abac import conditional_access
    from idbridge.review import read_decisions

    team = {"Sid": "PlatformTeam", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "platform"}}}
    access, tables = bt.with_abac(team)
    paths = write_review_packs(access, None, tmp_path, "account_owner", None, META,
                               conditional=conditional_access(access, tables))
    sheet = load_workbook(paths[0])["Access"]
    header = [c.value for c in sheet[1]]
    assert header.index("Conditional (ABAC)") == layout.COMMENT_COL, "right after Comment"
    rows = {(r[0], r[header.index("Works in AWS")]): r[header.index("Conditional (ABAC)")]
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("carol@contoso.com", "yes")] == (
        "yes — this person: satisfies every tag condition\nAllow PlatformTeam when aws:PrincipalTag/Team "
        "StringEquals \"platform\" — this person's Team=platform: satisfied: the Allow applies")
    assert rows[("bob@contoso.com", "yes")].startswith("yes — this person: satisfies none of the tag conditions")
    assert rows[("alice@contoso.com", "yes")] == "none found (managed policies not read)"
    assert rows[("dave@contoso.com", "no")] == "yes — not weighed: the access does not work in AWS"
    assert sheet.cell(2, layout.COMMENT_COL + 1).alignment.wrap_text

    book = load_workbook(paths[0])
    book["Access"].cell(2, layout.DECISION_COL, "Remove")
    book.save(paths[0])
    decisions = read_decisions(paths, access, META, allow_unsigned=True)
    assert list(decisions["decision"]).count("Remove") == 1 and len(decisions) == len(access)

    _, none = bt.with_abac(team, not_collected={"idc_permission_sets": "AccessDenied: sso:ListPermissionSets"})
    again = write_review_packs(access, None, tmp_path / "blind", "account_owner", None, META,
                               conditional=conditional_access(access, none))
    column = [r[layout.COMMENT_COL] for r in load_workbook(again[0])["Access"].iter_rows(min_row=2, values_only=True)]
    assert set(column) == {"not collected: idc_permission_sets: AccessDenied: sso:ListPermissionSets"}
