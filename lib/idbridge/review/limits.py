"""Limits on a returned workbook, checked before openpyxl opens it and while it is read.

A returned workbook is hostile input: an .xlsx is a zip, and a 1.5 MB file can unpack to a 1.5 GB cell that
exhausts memory when openpyxl reads it. Before openpyxl sees the file (check_archive):
- its size on disk (file_bytes);
- the zip's members: at most `members`, each stored or deflated (what Excel writes: Python's zipfile would
  inflate other methods without bounding their output), not encrypted, and their declared sizes together at
  most uncompressed_bytes (zipfile never returns more than a member's declared size, so the sum bounds what
  openpyxl can unpack); an XML part other than a worksheet or the shared strings (styles, workbook, relations,
  which openpyxl loads whole into objects) at most part_bytes;
- every XML member streamed once, 1 MiB at a time: no text or tag, no shared string (xl/sharedStrings.xml) and
  no cell (a worksheet's sheetData) may be longer than a cell of Excel can be (cell_chars characters, as
  escaped XML at most element_bytes).
While reading (review/decisions.py): at most `rows` rows per sheet, and no cell value longer than cell_chars.
The defaults hold any pack idbridge writes (Excel's own limits: 1,048,576 rows, 32,767 characters a cell);
tests pass lower ones.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
_CHUNK = MIB
_XML = (".xml", ".rels", ".vml")
_SHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_SHARED_STRINGS = "xl/sharedstrings.xml"


@dataclass(frozen=True)
class ReadLimits:
    file_bytes: int = 64 * MIB
    uncompressed_bytes: int = 512 * MIB
    members: int = 10_000
    part_bytes: int = 32 * MIB  # an XML part other than a worksheet or the shared strings (styles, workbook...)
    rows: int = 1_048_576
    cell_chars: int = 32_767

    @property
    def element_bytes(self) -> int:
        """The longest a cell may be as XML: every character escaped (&quot; is 6 bytes; 4-byte UTF-8 is two of
        Excel's characters) plus markup (a rich-text cell's runs and fonts)."""
        return self.cell_chars * 6 + 64 * 1024


class _Gaps:
    """The longest stretch of a stream between two matches of `mark`, fed in chunks; with `start` / `end`, only
    between the first match of `start` and the first of `end` (a worksheet's sheetData). Memory: one chunk plus
    at most `limit` bytes carried over."""

    def __init__(self, mark: re.Pattern, limit: int, start: re.Pattern | None = None,
                 end: re.Pattern | None = None):
        self.mark, self.limit, self.start, self.end = mark, limit, start, end
        self.carry, self.active, self.done = b"", start is None, False

    def feed(self, chunk: bytes) -> bool:
        """False as soon as a stretch is longer than the limit."""
        if self.done:
            return True
        data = self.carry + chunk
        if not self.active:
            found = self.start.search(data)
            if not found:
                self.carry = data[-256:]  # a start tag may span two chunks
                return True
            self.active, data = True, data[found.end():]
        if self.end is not None:
            found = self.end.search(data)
            if found:
                self.done, data = True, data[:found.start()]
        pieces = self.mark.split(data)
        self.carry = b"" if self.done else pieces[-1]
        return all(len(p) <= self.limit for p in pieces)


_PREFIX = rb"<(?:[\w.-]+:)?"  # elements may carry a namespace prefix (x:c)
_TAG = re.compile(b"<")
_CELL = re.compile(_PREFIX + rb"c[\s>/]")
_STRING_ITEM = re.compile(_PREFIX + rb"si[\s>/]")
_SHEET_DATA = re.compile(_PREFIX + rb"sheetData[\s>/]")
_SHEET_DATA_END = re.compile(rb"</(?:[\w.-]+:)?sheetData>")


def _mb(size: int) -> str:
    return f"{size / MIB:,.1f} MB"


def check_archive(path: Path, limits: ReadLimits) -> str | None:
    """Why the file must not be opened, in words; None when it is within the limits (or is no zip at all:
    openpyxl then says it cannot be opened)."""
    size = path.stat().st_size
    if size > limits.file_bytes:
        return (f"the file is {_mb(size)}, more than a returned pack may be ({_mb(limits.file_bytes)}): not a "
                "review pack as sent")
    try:
        with zipfile.ZipFile(path) as archive:
            return _check_members(archive, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        if not zipfile.is_zipfile(path):
            return None
        return f"cannot be opened as an Excel workbook: the file is damaged ({type(exc).__name__}: {exc})"


def _check_members(archive: zipfile.ZipFile, limits: ReadLimits) -> str | None:
    members = archive.infolist()
    if len(members) > limits.members:
        return f"the file holds {len(members):,} parts, more than an Excel workbook has ({limits.members:,})"
    for member in members:
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return (f"part {member.filename} is compressed with method {member.compress_type}, which Excel does not "
                    "use: not a workbook saved by Excel")
        if member.flag_bits & 0x1:
            return f"part {member.filename} is encrypted: save the workbook without a password and send it again"
    total = sum(m.file_size for m in members)
    if total > limits.uncompressed_bytes:
        return (f"the file unpacks to {_mb(total)}, more than a returned pack may ({_mb(limits.uncompressed_bytes)}): "
                "a zip bomb, or not a review pack as sent")
    for member in members:
        name = member.filename.lower()
        if (name.endswith(_XML) and name != _SHARED_STRINGS and not _SHEET.match(member.filename)
                and member.file_size > limits.part_bytes):
            return (f"part {member.filename} unpacks to {_mb(member.file_size)}, more than such a part of a "
                    f"workbook may ({_mb(limits.part_bytes)}): not a review pack as sent")
    for member in members:
        if member.filename.lower().endswith(_XML) and not _scan(archive, member, limits):
            return (f"part {member.filename} holds a cell or element longer than a cell of Excel can be "
                    f"({limits.cell_chars:,} characters): not a review pack as sent")
    return None


def _scan(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ReadLimits) -> bool:
    """Stream one XML part: False when a text, tag, shared string or cell is longer than limits.element_bytes."""
    limit = limits.element_bytes
    meters = [_Gaps(_TAG, limit)]
    if member.filename.lower() == _SHARED_STRINGS:
        meters.append(_Gaps(_STRING_ITEM, limit))
    elif _SHEET.match(member.filename):
        meters.append(_Gaps(_CELL, limit, _SHEET_DATA, _SHEET_DATA_END))
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            if not all(meter.feed(chunk) for meter in meters):
                return False
    return True
