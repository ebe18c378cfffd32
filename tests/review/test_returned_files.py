"""Hostile returned workbooks: zip bombs, oversized files, phantom rows, over-long cells and formulas are refused
with an InputError (exit 2) naming the file and, when there is one, the cell; never a MemoryError."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from idbridge.errors import EXIT_BAD_INPUT, InputError
from idbridge.review import layout, read_decisions, write_review_packs
from idbridge.review.limits import MIB, ReadLimits

from support.review_tables import KEY, META, pid

KEY_LETTER = get_column_letter(layout.KEY_COL)  # path_id: last, hidden

DATA = "review-data-team-contoso.com.xlsx"
ACCESS_XML = "xl/worksheets/sheet2.xml"  # Instructions, Access, Findings, _meta


@pytest.fixture
def pack(tmp_path, access, findings):
    write_review_packs(access, findings, tmp_path / "sent", "account_owner", None, META, key=KEY)
    return tmp_path / "sent" / DATA


def refused(path, access, **options) -> InputError:
    with pytest.raises(InputError) as caught:
        read_decisions(path, access, META, key=KEY, **options)
    assert caught.value.exit_code == EXIT_BAD_INPUT and caught.value.file == str(path)
    return caught.value


def rewrite(path, member: str, pieces) -> None:
    """Replace one part of the workbook by the byte strings `pieces` yields, streamed (never held whole)."""
    original = path.with_name(path.name + ".orig")
    path.rename(original)
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == member:
                with target.open(info.filename, "w", force_zip64=True) as out:
                    for piece in pieces(source.read(member)):
                        out.write(piece)
            else:
                target.writestr(info, source.read(info.filename))
    original.unlink()


def cell_at(xml: bytes, ref: str) -> tuple[bytes, bytes]:
    """The Access sheet split around the empty styled cell `ref` (Decision or Comment) openpyxl wrote."""
    match = re.search(rb'<c r="' + ref.encode() + rb'" s="(\d+)" t="n" />', xml)
    assert match, ref
    return xml[:match.start()] + b'<c r="' + ref.encode() + b'" s="' + match[1] + b'"', xml[match.end():]


def bomb(size: int, ref: str = "P3"):
    """An inline-string cell of `size` bytes of 'A' (compresses ~1000:1): 1 MiB at a time."""
    def pieces(xml: bytes):
        before, after = cell_at(xml, ref)
        yield before + b' t="inlineStr"><is><t>'
        block = b"A" * MIB
        for _ in range(size // MIB):
            yield block
        yield b"</t></is></c>" + after
    return pieces


def test_a_zip_bomb_is_refused_before_openpyxl_reads_it(pack, access):
    rewrite(pack, ACCESS_XML, bomb(50 * MIB))
    assert pack.stat().st_size < 1 * MIB
    # declared sizes over the limit: refused without unpacking anything
    (problem,) = refused(pack, access, limits=ReadLimits(uncompressed_bytes=10 * MIB)).problems
    assert problem.startswith("the file unpacks to 50.") and "a zip bomb" in problem
    # within the (default) size limit, the one cell is longer than Excel allows: found streaming, 1 MiB at a time
    (problem,) = refused(pack, access).problems
    assert problem == (f"part {ACCESS_XML} holds a cell or element longer than a cell of Excel can be (32,767 "
                       "characters): not a review pack as sent")


def test_a_file_too_large_is_refused(pack, access):
    (problem,) = refused(pack, access, limits=ReadLimits(file_bytes=1000)).problems
    assert problem.startswith("the file is 0.0") and "more than a returned pack may be (0.0 MB)" in problem


def test_a_shared_string_of_many_short_runs_is_refused(pack, access):
    """Rich text split into short runs: no long text, but one huge string item."""
    def pieces(_):
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si>'
        yield b"<r><t>x</t></r>" * 20_000
        yield b"</si></sst>"
    rewrite(pack, "xl/worksheets/sheet2.xml", lambda xml: iter([xml]))  # unchanged, still a valid pack
    with zipfile.ZipFile(pack, "a") as archive, archive.open("xl/sharedStrings.xml", "w") as out:
        for piece in pieces(None):
            out.write(piece)
    (problem,) = refused(pack, access, limits=ReadLimits(cell_chars=100)).problems
    assert problem.startswith("part xl/sharedStrings.xml holds a cell or element longer than a cell of Excel")


def test_a_styles_part_too_large_is_refused(pack, access):
    """openpyxl loads styles whole into objects: millions of tiny styles are a bomb without a long element."""
    def pieces(xml: bytes):
        yield xml.replace(b"</styleSheet>", b"<!--" + b"<x/>" * 300_000 + b"--></styleSheet>")
    rewrite(pack, "xl/styles.xml", pieces)
    (problem,) = refused(pack, access, limits=ReadLimits(part_bytes=1 * MIB)).problems
    assert problem.startswith("part xl/styles.xml unpacks to 1.") and "more than such a part" in problem


def test_parts_compressed_otherwise_than_excel_does_are_refused(pack, access):
    original = pack.read_bytes()
    with zipfile.ZipFile(pack.with_suffix(".tmp"), "w") as target, zipfile.ZipFile(pack) as source:
        for info in source.infolist():
            method = zipfile.ZIP_LZMA if info.filename == ACCESS_XML else zipfile.ZIP_DEFLATED
            target.writestr(info.filename, source.read(info.filename), compress_type=method)
    pack.with_suffix(".tmp").replace(pack)
    assert pack.read_bytes() != original
    (problem,) = refused(pack, access).problems
    assert problem == (f"part {ACCESS_XML} is compressed with method 14, which Excel does not use: not a workbook "
                       "saved by Excel")


def test_phantom_rows_are_counted_and_refused(pack, access):
    """A row numbered 5000 makes openpyxl yield thousands of empty rows: counted against the limit."""
    def pieces(xml: bytes):
        yield xml.replace(b"</sheetData>", b'<row r="5000"><c r="A5000" t="inlineStr"><is><t>x</t></is></c></row>'
                                           b"</sheetData>")
    rewrite(pack, ACCESS_XML, pieces)
    (problem,) = refused(pack, access, limits=ReadLimits(rows=100)).problems
    assert problem == "Access: more than 100 rows: not a review pack as sent"


def test_a_huge_declared_dimension_yields_no_empty_rows(pack, access):
    """openpyxl pads a read-only sheet up to its declared dimension: a billion empty rows, unless reset."""
    def pieces(xml: bytes):
        declared = f'<dimension ref="A1:{KEY_LETTER}8" />'.encode()
        assert declared in xml
        yield xml.replace(declared, f'<dimension ref="A1:{KEY_LETTER}999999999" />'.encode())
    rewrite(pack, ACCESS_XML, pieces)
    assert len(read_decisions(pack, access, META, key=KEY)) == 7


def test_a_cell_longer_than_allowed_is_named(pack, access):
    book = load_workbook(pack)
    sheet = book["Access"]
    sheet["P3"] = "x" * 120
    book.save(pack)
    (problem,) = refused(pack, access, limits=ReadLimits(cell_chars=100)).problems
    assert problem == ("Access!P3: 120 characters, more than a cell of Excel holds (100): not a review pack as "
                       "sent")


def _row(sheet, key) -> int:
    return next(c.row for c in sheet[KEY_LETTER] if c.value == key)  # path_id: last, hidden


def test_a_formula_in_a_decision_is_refused_not_read_as_not_reviewed(pack, access):
    """openpyxl (like a script) saves a formula with no cached value: with data_only it reads as blank, which
    was taken for "not reviewed"."""
    book = load_workbook(pack)
    sheet = book["Access"]
    bob, carol = _row(sheet, pid(access, "bob", "222222222222")), _row(sheet, pid(access, "carol", "111111111111"))
    sheet[f"O{bob}"] = '=IF(1=1,"Remove","Keep")'
    sheet[f"P{carol}"] = "=HYPERLINK(\"http://evil.example\")"
    book.save(pack)
    assert sorted(refused(pack, access).problems) == [
        f"Access!O{bob}: the decision is a formula (=IF(1=1,\"Remove\",\"Keep\")), not Keep or Remove: type Keep "
        "or Remove, or pick it from the list",
        f"Access!P{carol}: Comment holds a formula (=HYPERLINK(\"http://evil.example\")): cells of a pack hold "
        "values; type the text instead"]


def test_a_formula_with_a_cached_value_is_refused_too(pack, access):
    """The cached value of a formula is whatever the file says: Excel computed it, or someone wrote it."""
    def pieces(xml: bytes):
        before, after = cell_at(xml, "O3")
        yield before + b' t="str"><f>CONCAT("Re","move")</f><v>Remove</v></c>' + after
    rewrite(pack, ACCESS_XML, pieces)
    assert refused(pack, access).problems == [
        "Access!O3: the decision is a formula (=CONCAT(\"Re\",\"move\")), not Keep or Remove: type Keep or Remove, "
        "or pick it from the list"]


def test_a_sheet_with_broken_xml_is_refused_not_a_crash(pack, access):
    rewrite(pack, ACCESS_XML, lambda xml: iter([xml[: len(xml) // 2]]))
    (problem,) = refused(pack, access).problems
    assert problem.startswith("cannot be read: the file is damaged (ParseError: ")


def test_a_pack_within_the_limits_reads(pack, access):
    decisions = read_decisions(pack, access, META, key=KEY, limits=ReadLimits(rows=20, cell_chars=200))
    assert len(decisions) == 7 and decisions["verified"].all()
