"""Reading an untrusted XML file safely: defusedxml with DTDs, entity declarations and external references all
refused (so XXE and entity expansion such as "billion laughs" stop at the declaration, before any expansion), a
size cap, and errors in words that name the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from idbridge.errors import InputError

MAX_BYTES = 1_000_000  # real metadata is a few kilobytes; anything this big is not what the consultant meant


class _LineBuilder(TreeBuilder):
    """A TreeBuilder that remembers the line each element starts on, for error messages."""

    def __init__(self) -> None:
        super().__init__()
        self.expat = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):  # type: ignore[override]
        element = super().start(tag, attrs)
        if self.expat is not None:
            self.lines[id(element)] = self.expat.CurrentLineNumber
        return element


class XmlDocument:
    """A parsed document and the line of each element (ElementTree keeps none)."""

    def __init__(self, root: Element, lines: dict[int, int], file: str):
        self.root = root
        self._lines = lines
        self.file = file

    def line(self, element: Element | None) -> int | None:
        return None if element is None else self._lines.get(id(element))

    def where(self, element: Element | None) -> str:
        line = self.line(element)
        return f"line {line}: " if line else ""


def read_source(source: str | Path | bytes, name: str | None = None) -> tuple[bytes, str]:
    """Bytes and a display name from a path or from bytes already read (an upload widget gives bytes)."""
    if isinstance(source, bytes):
        return source, name or "<metadata>"
    path = Path(source)
    label = name or str(path)
    if not path.is_file():
        raise InputError(label, "file not found" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(label, f"{size} bytes: far too large for SAML metadata (limit {MAX_BYTES} bytes)")
    return path.read_bytes(), label


def _feed(data: bytes, forbid_dtd: bool) -> XmlDocument:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=forbid_dtd, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        root = parser.close()
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        exc.line = parser.parser.CurrentLineNumber  # type: ignore[attr-defined]
        raise
    return XmlDocument(root, builder.lines, "")


def _entity_problem(exc: EntitiesForbidden, line: int | None) -> str:
    where = f"line {line}: " if line else ""
    if exc.sysid or exc.pubid:
        return (f"{where}declares the external entity '{exc.name}' ({exc.sysid or exc.pubid}): external entities "
                "are refused (XXE)")
    return (f"{where}declares the entity '{exc.name}': entity declarations are refused (entity expansion such as "
            "'billion laughs')")


def parse_xml(data: bytes, file: str) -> XmlDocument:
    """Parse untrusted XML; every refusal or syntax error is an InputError naming the file and the line."""
    if len(data) > MAX_BYTES:
        raise InputError(file, f"{len(data)} bytes: far too large for SAML metadata (limit {MAX_BYTES} bytes)")
    if not data.strip():
        raise InputError(file, "the file is empty")
    try:
        document = _feed(data, forbid_dtd=True)
    except DTDForbidden as exc:
        line = getattr(exc, "line", None)
        where = f"line {line}: " if line else ""
        if exc.sysid or exc.pubid:
            raise InputError(file, f"{where}refers to the external DTD {exc.sysid or exc.pubid!r}: DTDs are "
                                   "refused in SAML metadata") from None
        # Parse once more with the DTD allowed but its entity declarations still refused (they raise at the
        # declaration, before any expansion), to say what the DTD tries to do.
        try:
            _feed(data, forbid_dtd=False)
        except EntitiesForbidden as inner:
            raise InputError(file, _entity_problem(inner, getattr(inner, "line", None))) from None
        except ExternalReferenceForbidden as inner:
            raise InputError(file, f"line {getattr(inner, 'line', '?')}: refers to the external resource "
                                   f"{inner.sysid!r}: external references are refused (XXE)") from None
        except (ParseError, LookupError, ValueError):
            pass  # the DTD itself is reason enough
        raise InputError(file, f"{where}has a document type declaration (<!DOCTYPE {exc.name}>): DTDs are refused "
                               "in SAML metadata") from None
    except EntitiesForbidden as exc:  # pragma: no cover - entity declarations need a DTD, refused above
        raise InputError(file, _entity_problem(exc, getattr(exc, "line", None))) from None
    except ExternalReferenceForbidden as exc:
        raise InputError(file, f"refers to the external resource {exc.sysid!r}: external references are refused "
                               "(XXE)") from None
    except ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise InputError(file, f"not well-formed XML at line {line}, column {column + 1}: {reason}"
                               + (" (the file looks truncated)" if reason.startswith(("no element found",
                                                                                      "unclosed token")) else ""))
    except (LookupError, ValueError) as exc:  # e.g. an encoding Python does not know
        raise InputError(file, f"cannot be read as XML: {exc}") from None
    document.file = file
    return document
