"""A folder of returned packs (review.returned_dir) checked before a run uses it (review/returned.py): every
problem names its file; the packs' snapshot is found among the engagement's runs."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from idbridge.errors import EXIT_BAD_INPUT, InputError
from idbridge.review import snapshot_meta, write_review_packs
from idbridge.review.returned import check_folder, find_snapshot
from idbridge.snapshot.store import Snapshot

from support.review_tables import KEY, META
from support.snapshots import stand_in_snapshot

ENGAGEMENT = META["engagement"]


def problems(folder, **options) -> tuple[str, list[str]]:
    with pytest.raises(InputError) as caught:
        check_folder(folder, ENGAGEMENT, **({"key": KEY} | options))
    assert caught.value.exit_code == EXIT_BAD_INPUT
    return caught.value.file, caught.value.problems


def packs(folder, access, findings, meta=META, **options):
    """The packs as reviewers send them back: the .xlsx only (not the access table written beside them)."""
    write_review_packs(access, findings, folder, "account_owner", None, meta, **({"key": KEY} | options))
    for extra in ("access.csv", "access.json"):
        (folder / extra).unlink()
    return folder


@pytest.fixture
def returned(tmp_path, access, findings):
    return packs(tmp_path / "returned", access, findings)


def test_a_good_folder(returned):
    (returned / "~$review-data-team-contoso.com.xlsx").write_bytes(b"Excel's lock file")
    (returned / ".DS_Store").write_bytes(b"\0")
    round_ = check_folder(returned, ENGAGEMENT, key=KEY)
    assert round_.snapshot_id == META["snapshot_id"] and len(round_.files) == 2
    assert [p.name for p in round_.files] == ["review-account-333333333333-sandbox.xlsx",
                                              "review-data-team-contoso.com.xlsx"]


def test_missing_or_empty_folder(tmp_path):
    assert problems(tmp_path / "nowhere") == (str(tmp_path / "nowhere"), [
        "review.returned_dir: no such folder: put the returned workbooks there, or remove review.returned_dir "
        "from the parameters"])
    (tmp_path / "empty").mkdir()
    assert problems(tmp_path / "empty")[1] == ["review.returned_dir: the folder holds no returned workbooks (.xlsx)"]


def test_every_bad_file_is_named(tmp_path, returned, access, findings):
    (returned / "notes.txt").write_text("looks fine to me")
    (returned / "broken.xlsx").write_bytes(b"not a zip")
    other = tmp_path / "other"
    write_review_packs(access, findings, other, "account_owner", None, {**META, "engagement": "fabrikam"}, key=KEY)
    (other / "review-data-team-contoso.com.xlsx").rename(returned / "fabrikam.xlsx")
    book = load_workbook(returned / "review-account-333333333333-sandbox.xlsx")
    book["_meta"]["B7"] = "someone-else@contoso.com"  # the reviewer
    book.save(returned / "review-account-333333333333-sandbox.xlsx")
    file, lines = problems(returned)
    assert file == str(returned)
    assert lines[0].startswith("broken.xlsx: cannot be opened as an Excel workbook")
    assert lines[1] == ("fabrikam.xlsx: a review pack of engagement 'fabrikam', not 'contoso-2026': it belongs in "
                        "another engagement's folder")
    assert lines[2].startswith("notes.txt: not an .xlsx workbook (.txt)")
    assert lines[3].startswith("review-account-333333333333-sandbox.xlsx: _meta!B13: the signature does not match")
    assert len(lines) == 4, lines


def test_unsigned_packs_only_when_allowed(tmp_path, access, findings):
    folder = packs(tmp_path / "unsigned", access, findings, key=None)
    assert "the pack is unsigned" in problems(folder)[1][0]
    assert len(check_folder(folder, ENGAGEMENT, key=KEY, allow_unsigned=True).files) == 2


def test_packs_of_two_rounds(tmp_path, returned, access, findings):
    later = tmp_path / "later"
    write_review_packs(access, findings, later, "account_owner", None, {**META, "snapshot_id": "snap-2"}, key=KEY)
    (later / "review-data-team-contoso.com.xlsx").rename(returned / "review-data-team-again.xlsx")
    _, lines = problems(returned)
    assert lines == [
        "the workbooks come from 2 review rounds (snapshots), one folder holds one: snapshot snap-1 (collected "
        "2026-06-01T12:00:00+00:00): review-account-333333333333-sandbox.xlsx, review-data-team-contoso.com.xlsx; "
        "snapshot snap-2 (collected 2026-06-01T12:00:00+00:00): review-data-team-again.xlsx"]


def test_the_snapshot_the_packs_were_written_from(tmp_path, access, findings):
    runs = tmp_path / "runs" / ENGAGEMENT
    first = stand_in_snapshot(runs / "20260501T000000Z" / "snapshot", "2026-05-01T00:00:00+00:00", ENGAGEMENT)
    second = stand_in_snapshot(runs / "20260601T000000Z" / "snapshot", "2026-06-01T00:00:00+00:00", ENGAGEMENT)
    folder = packs(tmp_path / "returned", access, findings, snapshot_meta(Snapshot(first)))
    round_ = check_folder(folder, ENGAGEMENT, key=KEY)
    assert find_snapshot(round_, [second, first]) == first
    with pytest.raises(InputError) as caught:
        find_snapshot(round_, [second])
    assert caught.value.problems == [
        f"review-account-333333333333-sandbox.xlsx and the other packs were written from snapshot "
        f"{round_.snapshot_id} (collected 2026-05-01T00:00:00+00:00), which is none of the engagement's 1 run(s) "
        "found: keep the run folder that wrote the packs under run_root, or run with its parameters"]
