"""Signed reviewer packs (review/signing.py): a decision counts only in the pack it was sent in, a forged row is
named by its cell, unsigned packs are said to be so and refused unless allowed, and the key is never written."""

from __future__ import annotations

import logging
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.core.parameters import Parameters
from idbridge.errors import EXIT_BAD_INPUT, InputError
from idbridge.review import layout, read_decisions, write_review_packs
from idbridge.review.signing import UNSIGNED, SigningKey, from_parameters

from support.review_tables import KEY, META, pid

KEY_LETTER = get_column_letter(layout.KEY_COL)  # path_id: last, hidden

DATA = "review-data-team-contoso.com.xlsx"
SANDBOX = "review-account-333333333333-sandbox.xlsx"


@pytest.fixture
def packs(tmp_path, access, findings):
    write_review_packs(access, findings, tmp_path / "sent", "account_owner", None, META, key=KEY)
    return tmp_path / "sent"


def refused(path, access, **options) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_decisions(path, access, META, **({"key": KEY} | options))
    assert caught.value.exit_code == EXIT_BAD_INPUT and caught.value.file == str(path)
    return caught.value.problems


def meta_of(book) -> dict:
    return {r[0]: r[1] for r in book["_meta"].iter_rows(max_col=2, values_only=True) if r[0]}


def row_of(sheet, key) -> int:
    return next(c.row for c in sheet[KEY_LETTER] if c.value == key)  # path_id: last, hidden


def forge(packs, access, *, copy_tag: bool) -> tuple[str, int]:
    """The attack: the data-team reviewer copies the sandbox pack's row of platform.admin (with its key) into
    their own pack, marks it Remove, adds the key to their _meta (with the sandbox pack's signature of it, or
    none) and recomputes the unkeyed checksum. Returns the key and the row it landed on."""
    other = pid(access, "platform.admin", "333333333333")
    theirs = load_workbook(packs / SANDBOX)
    values = [c.value for c in theirs["Access"][row_of(theirs["Access"], other)]]
    tag = next(r[4] for r in theirs["_meta"].iter_rows(min_row=2, values_only=True) if r[3] == other)
    book = load_workbook(packs / DATA)
    sheet, meta = book["Access"], book["_meta"]
    sheet.append(values[:14] + ["Remove", "no longer needed"] + values[16:])
    keys = [r[0] for r in meta.iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]
    meta.cell(len(keys) + 2, layout.META_KEYS_COL, other)
    meta.cell(len(keys) + 2, layout.META_TAGS_COL, tag if copy_tag else "0" * 32)
    meta.cell(layout.META_KEYS.index("keys_sha256") + 1, 2, layout.keys_checksum(keys + [other]))
    meta.cell(layout.META_KEYS.index("rows") + 1, 2, str(len(keys) + 1))
    book.save(packs / DATA)
    return other, sheet.max_row


@pytest.mark.parametrize("copy_tag", [False, True])
def test_a_row_copied_from_another_pack_is_refused_by_its_cell(packs, access, copy_tag):
    key, row = forge(packs, access, copy_tag=copy_tag)
    assert refused(packs / DATA, access) == [
        f"Access!{KEY_LETTER}{row}: row added: path_id {key} belongs to another review pack, not this one"]


def test_the_forgery_the_unkeyed_checksum_let_through_still_passes_unsigned(tmp_path, access, findings):
    """Why packs are signed: the same forgery on unsigned packs, read with allow_unsigned, is accepted."""
    write_review_packs(access, findings, tmp_path / "sent", "account_owner", None, META)
    key, _ = forge(tmp_path / "sent", access, copy_tag=False)
    decisions = read_decisions(tmp_path / "sent" / DATA, access, META, allow_unsigned=True)
    assert decisions.set_index("path_id").loc[key, "decision"] == "Remove"


@pytest.mark.parametrize("field,value", [("reviewer", "someone-else@contoso.com"), ("scope_key", "x"),
                                         ("written_at", "2020-01-01T00:00:00+00:00")])
def test_an_edited_meta_field_breaks_the_signature(packs, access, field, value):
    book = load_workbook(packs / DATA)
    book["_meta"].cell(layout.META_KEYS.index(field) + 1, 2, value)
    book.save(packs / DATA)
    assert refused(packs / DATA, access) == [
        "_meta!B13: the signature does not match the pack: its hidden _meta sheet was edited (round, scope, "
        "reviewer or list of keys): send the pack as it was sent"]


def test_a_deleted_row_and_its_key_removed_from_meta_is_refused(packs, access):
    """Hiding a deleted row by deleting its key from _meta too: the signature covers the list of keys."""
    key = pid(access, "bob", "222222222222")
    book = load_workbook(packs / DATA)
    book["Access"].delete_rows(row_of(book["Access"], key))
    meta = book["_meta"]
    meta.delete_rows(next(c.row for c in meta["D"] if c.value == key))
    keys = [r[0] for r in meta.iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]
    meta.cell(layout.META_KEYS.index("keys_sha256") + 1, 2, layout.keys_checksum(keys))
    book.save(packs / DATA)
    assert refused(packs / DATA, access)[0].startswith("_meta!B13: the signature does not match the pack")


def test_another_key_is_named(packs, access):
    other = SigningKey(b"another-engagement-key-0123456789")
    assert refused(packs / DATA, access, key=other) == [
        f"_meta!B14: the pack was signed with another key (key id {SigningKey(KEY.encode()).id!r}) than "
        f"review.signing_key of the parameters (key id {other.id}): a pack of another engagement, or the key was "
        "changed after the packs were written"]


def test_unsigned_packs_say_so_and_are_refused_unless_allowed(tmp_path, access, findings, caplog):
    with caplog.at_level(logging.WARNING, "idbridge.review"):
        write_review_packs(access, findings, tmp_path, "account_owner", None, META)
    assert "review packs are written UNSIGNED" in caplog.text
    book = load_workbook(tmp_path / DATA)
    meta = meta_of(book)
    assert meta["signature"] == UNSIGNED and meta["key_id"] is None
    assert all(r[0] is None for r in book["_meta"].iter_rows(min_row=2, min_col=5, max_col=5, values_only=True))
    expected = ("_meta!B13: the pack is unsigned (written without review.signing_key), so its decisions could be "
                "forged, e.g. by copying a row from another owner's pack: write the packs again with "
                "review.signing_key set, or accept unsigned packs with review.allow_unsigned: true in the "
                "parameters")
    assert refused(tmp_path / DATA, access, key=None) == [expected]
    assert refused(tmp_path / DATA, access) == [expected]  # a key configured does not make it signed
    caplog.clear()
    with caplog.at_level(logging.WARNING, "idbridge.review"):
        decisions = read_decisions(tmp_path / DATA, access, META, allow_unsigned=True)
    assert len(decisions) == 7 and not decisions["verified"].any()
    assert "UNSIGNED or not verified, accepted because review.allow_unsigned is true" in caplog.text
    assert DATA in caplog.text


def test_a_signed_pack_without_a_key_to_verify_it(packs, access):
    (problem,) = refused(packs / DATA, access, key=None)
    assert problem.startswith("_meta!B13: the pack is signed (key id ") and "set review.signing_key" in problem
    decisions = read_decisions(packs / DATA, access, META, allow_unsigned=True)
    assert not decisions["verified"].any()


def test_signed_packs_verify_and_the_key_is_written_nowhere(packs, access):
    decisions = read_decisions(packs, access, META, key=KEY)
    assert len(decisions) == len(access) and decisions["verified"].all()
    meta = meta_of(load_workbook(packs / DATA))
    assert meta["signature"].startswith("hmac-sha256:") and meta["key_id"] == SigningKey(KEY.encode()).id
    for path in packs.iterdir():
        contents = [path.read_bytes()]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                contents += [archive.read(name) for name in archive.namelist()]
        assert not any(KEY.encode() in content for content in contents), path
    assert KEY not in repr(SigningKey(KEY.encode())) and KEY not in str(SigningKey(KEY.encode()))


def _params(**review) -> Parameters:
    return Parameters.model_validate({"engagement": "contoso", "graph": {
        "tenant_id": "00000000-0000-0000-0000-000000000000"}, "review": review})


def test_the_signing_key_is_a_secret_reference(monkeypatch):
    with pytest.raises(ValueError, match="must be a secret reference"):
        _params(signing_key="plain-text-key-0123456789")
    assert from_parameters(_params()) is None
    params = _params(signing_key="env:IDBRIDGE_REVIEW_KEY")
    monkeypatch.delenv("IDBRIDGE_REVIEW_KEY", raising=False)
    with pytest.raises(InputError, match=r"^p.yaml: review.signing_key: secret reference env:IDBRIDGE_REVIEW_KEY: "
                                         "environment variable IDBRIDGE_REVIEW_KEY is not set"):
        from_parameters(params, "p.yaml")
    monkeypatch.setenv("IDBRIDGE_REVIEW_KEY", "short")
    with pytest.raises(InputError, match="shorter than 16 characters") as caught:
        from_parameters(params, "p.yaml")
    assert "short" not in str(caught.value).replace("shorter", "")
    monkeypatch.setenv("IDBRIDGE_REVIEW_KEY", KEY)
    assert from_parameters(params).id == SigningKey(KEY.encode()).id


def test_the_sandbox_key_only_in_sandbox_parameters():
    with pytest.raises(ValueError, match=r"signing_key: sandbox: references are the sandbox's public values"):
        _params(signing_key="sandbox:review-signing-key")
    params = Parameters.model_validate({"engagement": "demo", "sandbox": True, "graph": {
        "tenant_id": "00000000-0000-0000-0000-000000000000"}, "review": {"signing_key": "sandbox:review-signing-key"}})
    assert from_parameters(params) is not None


def test_the_committed_sandbox_parameters_sign_packs():
    from idbridge.core.parameters import load_parameters
    from idbridge.core.paths import PARAMETERS_DIR

    params = load_parameters(PARAMETERS_DIR / "sandbox.yaml")
    assert params.review.signing_key == "sandbox:review-signing-key" and not params.review.allow_unsigned
    assert from_parameters(params) is not None
