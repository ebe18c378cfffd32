import json

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
    return [row[0] for row in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]


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


def test_layout_validation_protection_and_meta(tmp_path, access, findings):
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    assert book.sheetnames == ["Instructions", "Access", "Findings", "_meta"]
    assert book["_meta"].sheet_state == "hidden" and book.security.lockStructure
    sheet = book["Access"]
    rows = sheet.max_row - 1
    assert [c.value for c in sheet[1]] == list(layout.HEADERS)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{rows + 1}"
    assert sheet.column_dimensions["E"].width == 40
    # Decision: a Keep / Remove dropdown over exactly the data rows
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"Keep,Remove"' and validation.allow_blank
    assert str(validation.sqref) == f"O2:O{rows + 1}" and validation.showErrorMessage
    # everything locked but Decision and Comment
    assert all(book[name].protection.sheet for name in book.sheetnames)
    assert sheet.protection.autoFilter is False  # filters stay usable
    assert sheet["A2"].protection.locked and sheet["N2"].protection.locked
    assert not sheet["O2"].protection.locked and not sheet["P2"].protection.locked
    # _meta: engagement, snapshot, scope, checksum and list of the keys
    meta_sheet = book["_meta"]
    meta = {r[0]: r[1] for r in meta_sheet.iter_rows(max_col=2, values_only=True) if r[0]}
    keys = [r[0] for r in meta_sheet.iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]
    assert meta["engagement"] == "contoso-2026" and meta["snapshot_id"] == "snap-1"
    assert meta["scope"] == "account_owner" and meta["scope_key"] == "data-team@contoso.com"
    assert meta["rows"] == str(rows) and meta["keys_sha256"] == layout.keys_checksum(keys)
    assert sorted(keys) == sorted(_keys_of(sheet))
    text = "\n".join(str(r[0]) for r in book["Instructions"].iter_rows(values_only=True) if r[0])
    assert "contoso-2026" in text and "Deadline: 2026-06-30" in text and "Do not edit" in text
    assert "data-prod (111111111111)" in text


def _keys_of(sheet):
    return [r[0] for r in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]


def test_rows_show_the_path_riskiest_first_with_findings(tmp_path, access, findings):
    book = load_workbook(_packs(tmp_path, access, findings)["review-data-team-contoso.com.xlsx"])
    rows = {r[0]: dict(zip(layout.HEADERS, r)) for r in book["Access"].iter_rows(min_row=2, values_only=True)}
    first = next(iter(rows.values()))
    assert first["User"] == "alice@contoso.com" and first["Privilege"] == "admin" and first["Production"] == "yes"
    assert first["Risk findings"] == "high access.privileged_prod_access; low access.long_session"
    assert first["Access via"] == "direct assignment to the user" and first["Decision"] is None
    bob = rows[pid(access, "bob", "222222222222")]
    assert bob["Access via"] == "group AWS-Devs" and bob["Risk findings"] == "medium access.stale_user"
    assert bob["Account id"] == "222222222222" and bob["Works in AWS"] == "yes"
    dave = rows[pid(access, "dave", "111111111111")]
    assert dave["Access via"].startswith("Nested, nested in AWS-Devs") and dave["Works in AWS"] == "no"
    findings_sheet = [r for r in book["Findings"].iter_rows(min_row=2, values_only=True)]
    assert {r[1] for r in findings_sheet} == {"access.privileged_prod_access", "access.stale_user",
                                               "access.long_session"}


def test_text_that_looks_like_a_formula_stays_text(tmp_path, access, findings):
    """Tenant names that look like formulas are stored as text cells (data_type "s"), never as formulas: the
    workbook holds no <f> element anywhere."""
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
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                        found[cell.value] = cell.data_type
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), (path, name)
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
    users = [c.value for c in book["Access"]["B"]]
    assert "eve\ufffd@contoso.com" in users
    details = [c.value for c in book["Findings"]["E"] if c.value and c.value.startswith("xxx")]
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
    assert header[:2] == ("severity", "check_id") and header[-2:] == ("check_severity", "controls")
    prod = next(r for r in body if r["check_id"] == "access.privileged_prod_access")
    assert (prod["severity"], prod["check_severity"]) == ("high", "medium")
    assert prod["controls"] == "NIST 800-53 AC-6(5); ISO 27001 A.8.2"
