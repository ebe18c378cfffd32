import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.errors import EXIT_BAD_INPUT, InputError
from idbridge.review import layout, plan_removals, read_decisions, review_status, write_review_packs

from support.review_tables import KEY, META, pid

KEY_LETTER = get_column_letter(layout.KEY_COL)  # path_id: last, hidden

DATA = "review-data-team-contoso.com.xlsx"
SANDBOX = "review-account-333333333333-sandbox.xlsx"


@pytest.fixture
def packs(tmp_path, access, findings):
    out = tmp_path / "sent"
    write_review_packs(access, findings, out, "account_owner", None, META, key=KEY)
    return out


def edit(path, change):
    """Open as a reviewer's tool would, change, save."""
    book = load_workbook(path)
    change(book["Access"], book)
    book.save(path)


def row_of(sheet, key) -> int:
    return next(c.row for c in sheet[KEY_LETTER] if c.value == key)  # path_id: last, hidden


def decide(path, decisions: dict, comments: dict | None = None):
    def change(sheet, _):
        for key, value in decisions.items():
            sheet[f"O{row_of(sheet, key)}"] = value
        for key, value in (comments or {}).items():
            sheet[f"P{row_of(sheet, key)}"] = value
    edit(path, change)


def problems(paths, access, meta=META, **options) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_decisions(paths, access, meta, **({"key": KEY} | options))
    assert caught.value.exit_code == EXIT_BAD_INPUT
    return caught.value.problems


def test_round_trip_to_a_plan(packs, access, tables):
    bob_dev, carol_prod = pid(access, "bob", "222222222222"), pid(access, "carol", "111111111111")
    decide(packs / DATA, {bob_dev: " remove ", carol_prod: "KEEP"}, {bob_dev: "moved to finance"})
    decide(packs / SANDBOX, {pid(access, "platform.admin", "333333333333"): "Remove"})
    decisions = read_decisions(packs, access, META, key=KEY)
    assert len(decisions) == len(access) and set(decisions["path_id"]) == set(access["path_id"])
    bob = decisions.set_index("path_id").loc[bob_dev]
    assert (bob["decision"], bob["comment"], bob["workbook"], bob["reviewer"]) == (
        "Remove", "moved to finance", DATA, "data-team@contoso.com")
    assert bob["cell"].startswith("Access!O")
    assert decisions.set_index("path_id").loc[carol_prod, "decision"] == "Keep"
    assert decisions["decision"].eq("").sum() == len(access) - 3  # blank = not reviewed
    status = review_status(decisions, access).set_index("workbook")
    assert status.loc[DATA, ["rows", "keep", "remove", "not_reviewed"]].tolist() == [7, 1, 1, 5]
    plan = plan_removals(decisions, access, tables)
    assert [(c.kind, c.key) for c in plan.changes] == [
        ("aws.account_assignment", "USER platform.admin@contoso.com -> 333333333333 / ReadOnly"),
        ("entra.group_member", "AWS-Devs / member bob@contoso.com")]
    assert f"{DATA} {bob['cell']} (moved to finance)" in plan.changes[1].before["decided_in"]


def test_status_counts_workbooks_not_returned(packs, access):
    decisions = read_decisions([packs / SANDBOX], access, META, key=KEY)
    status = review_status(decisions, access)
    assert status.iloc[-1].tolist() == ["(not returned)", "", 7, 0, 0, 7]


def test_bad_decision_is_named_by_cell(packs, access):
    key = pid(access, "bob", "111111111111")
    decide(packs / DATA, {key: "Delete"})
    sheet = load_workbook(packs / DATA)["Access"]
    assert problems(packs / DATA, access) == [
        f"Access!O{row_of(sheet, key)}: decision 'Delete' is not Keep or Remove (leave it blank if not reviewed)"]


def test_edited_key_is_unknown_and_its_row_missing(packs, access):
    key = pid(access, "bob", "111111111111")
    edit(packs / DATA, lambda sheet, _: sheet.cell(row_of(sheet, key), layout.KEY_COL, "deadbeef"))
    row = row_of(load_workbook(packs / DATA)["Access"], "deadbeef")
    assert problems(packs / DATA, access) == [
        f"Access!{KEY_LETTER}{row}: path_id 'deadbeef' is not one of this workbook's keys: the path_id column was edited",
        f"rows deleted: 1 of the 7 rows sent are missing: "
        f"{key} (bob@contoso.com, 111111111111 / ReadOnly)"]


def test_deleted_rows_are_named(packs, access):
    bob, carol = pid(access, "bob", "222222222222"), pid(access, "carol", "222222222222")

    def delete(sheet, _):
        sheet.delete_rows(row_of(sheet, bob))
        sheet.delete_rows(row_of(sheet, carol))
    edit(packs / DATA, delete)
    assert problems(packs / DATA, access) == [
        f"rows deleted: 2 of the 7 rows sent are missing: "
        f"{bob} (bob@contoso.com, 222222222222 / ReadOnly), {carol} (carol@contoso.com, 222222222222 / ReadOnly)"]


def test_added_and_copied_rows(packs, access):
    other = pid(access, "platform.admin", "333333333333")  # a key of the sandbox pack
    first = pid(access, "bob", "111111111111")

    def add(sheet, _):
        values = [c.value for c in sheet[row_of(sheet, first)]]
        sheet.append(values)                               # row 9: a copy
        sheet.append(values[:-1] + [other])                # row 10: another pack's key
        sheet.append([None] * 14 + ["Remove", "add me"])   # row 11: no key
    edit(packs / DATA, add)
    assert problems(packs / DATA, access) == [
        f"Access!{KEY_LETTER}9: path_id {first} repeats row {row_of(load_workbook(packs / DATA)['Access'], first)}: rows "
        "cannot be copied",
        f"Access!{KEY_LETTER}10: row added: path_id {other} belongs to another review pack, not this one",
        f"Access!{KEY_LETTER}11: row added: it has no path_id (rows cannot be added; write remarks in Comment)"]


def test_swapped_keys_no_longer_match_their_rows(packs, access):
    a, b = pid(access, "bob", "111111111111"), pid(access, "carol", "111111111111")

    def swap(sheet, _):
        ra, rb = row_of(sheet, a), row_of(sheet, b)
        sheet.cell(ra, layout.KEY_COL, b)
        sheet.cell(rb, layout.KEY_COL, a)
    edit(packs / DATA, swap)
    sheet = load_workbook(packs / DATA)["Access"]
    assert problems(packs / DATA, access) == [
        f"Access!A{row_of(sheet, b)}: Person is 'bob@contoso.com' but path_id {b} is 'carol@contoso.com': the row "
        "or its path_id was edited",
        f"Access!A{row_of(sheet, a)}: Person is 'carol@contoso.com' but path_id {a} is 'bob@contoso.com': the row "
        "or its path_id was edited"]


def test_other_engagement_or_snapshot(packs, access):
    assert problems(packs / DATA, access, {**META, "snapshot_id": "snap-2"}) == [
        "_meta!B3: the workbook is for snapshot_id 'snap-1' (collected 2026-06-01T12:00:00+00:00), expected "
        "'snap-2': it belongs to another engagement or review round"]
    assert problems(packs / DATA, access, {**META, "engagement": "fabrikam"})[0].startswith(
        "_meta!B2: the workbook is for engagement 'contoso-2026'")


def test_without_meta_the_workbooks_must_agree(tmp_path, packs, access, findings):
    write_review_packs(access, findings, tmp_path / "round2", "account_owner", None, {**META, "snapshot_id": "snap-2"},
                       key=KEY)
    mixed = [packs / DATA, tmp_path / "round2" / SANDBOX]
    assert problems(mixed, access, None) == [
        "_meta!B3: the workbook is for snapshot_id 'snap-2' (collected 2026-06-01T12:00:00+00:00), expected "
        f"'snap-1' (as {DATA}): it belongs to another engagement or review round"]


def test_keys_unknown_to_the_access_table(packs, access):
    (found,) = problems(packs / DATA, access.iloc[:1])  # alice's Admin on data-prod only
    assert found.startswith("6 of the workbook's 7 rows are not in the access table (e.g. ")
    assert found.endswith("): the access table was built from another snapshot than the workbook")


def test_not_xlsx_corrupt_missing_and_missing_sheet(tmp_path, packs, access):
    (tmp_path / "review.csv").write_text("path_id,Decision\n")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert problems(tmp_path / "review.csv", access) == [
        "not an .xlsx workbook (.csv): save it as Excel Workbook (.xlsx) and send it again"]
    assert problems(tmp_path / "broken.xlsx", access) == [
        "cannot be opened as an Excel workbook: the file is damaged or not .xlsx (BadZipFile: File is not a zip file)"]
    assert problems(tmp_path / "gone.xlsx", access) == ["file not found"]

    book = load_workbook(packs / DATA)
    book.security = None
    del book["Access"]
    book.save(packs / DATA)
    assert problems(packs / DATA, access) == [
        "sheet 'Access' is missing (sheets: Instructions, Findings, _meta): not a review pack as sent, or a sheet "
        "was renamed or deleted"]


def test_edited_meta_and_header(packs, access):
    edit(packs / DATA, lambda sheet, _: sheet.cell(1, 15, "Verdict"))
    edit(packs / SANDBOX, lambda _, book: book["_meta"].cell(2, 4, "0000"))
    with pytest.raises(InputError) as caught:
        read_decisions(packs, access, META, key=KEY)
    assert caught.value.file == "2 reviewer workbooks"
    assert caught.value.problems == [
        f"{SANDBOX}: _meta!B13: the signature does not match the pack: its hidden _meta sheet was edited (round, "
        "scope, reviewer or list of keys): send the pack as it was sent",
        f"{DATA}: Access!O1: header is 'Verdict', expected 'Decision': columns must not be added, removed or renamed"]
    assert str(caught.value).startswith("2 reviewer workbooks: 2 problems\n  - ")


def test_the_same_pack_returned_twice(tmp_path, packs, access):
    shutil.copy(packs / DATA, packs / "copy.xlsx")
    assert problems(packs, access) == [
        f"Access!{KEY_LETTER}2: 7 row(s) are also in copy.xlsx (first Access!{KEY_LETTER}2): the same rows were "
        "returned twice; send each pack once"]


def test_nothing_is_returned_while_any_file_is_wrong(packs, access):
    decide(packs / SANDBOX, {pid(access, "platform.admin", "333333333333"): "Maybe"})
    decide(packs / DATA, {pid(access, "bob", "111111111111"): "Remove"})
    assert len(problems(packs, access)) == 1
    assert isinstance(read_decisions(packs / DATA, access, META, key=KEY), pd.DataFrame)
