"""Contract fixtures (tests/contract/fixtures/graph/<name>.json): documented Graph answers, and a shape comparison
between such an answer and what the sandbox serves for the same request.

A fixture is {"source": URL, "note": "verbatim | trimmed | composed from documented fields ...", "response": ...}.
The shape compared is keys, JSON types (null is its own type) and, for lists, the shape of the first item; values
are compared only where a test names them (enum values and their case). Per-property `...@odata.context`
annotations are not compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "contract" / "fixtures"
NOTES = ("verbatim", "trimmed", "composed from documented fields")


def load_fixture(name: str, service: str = "graph") -> dict:
    fixture = json.loads((FIXTURES / service / f"{name}.json").read_text(encoding="utf-8"))
    # "also" (a second source) and "repository" (the docs repository a page is kept in) are optional.
    assert {"source", "note", "response"} <= set(fixture) <= {"source", "note", "response", "also", "repository"}, \
        f"{name}: keys {sorted(fixture)}"
    assert fixture["source"].startswith("https://"), f"{name}: source {fixture['source']!r}"
    assert fixture["note"].startswith(NOTES), f"{name}: note {fixture['note']!r}"
    return fixture


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def shape_differences(documented: Any, served: Any, path: str = "$", *, extra_keys: bool = True,
                      nullable: frozenset[str] = frozenset()) -> list[str]:
    """Where `served` (the sandbox) departs from the shape of `documented` (the fixture): keys the fixture has
    and the sandbox omits, keys the sandbox adds (unless extra_keys), and type differences. A null on either
    side is a difference unless the key is named in `nullable` (documented as nullable, fixture shows one case)."""
    out: list[str] = []
    a, b = _kind(documented), _kind(served)
    if a != b:
        name = path.rsplit(".", 1)[-1]
        if not ({a, b} & {"null"} and name in nullable):
            out.append(f"{path}: documented {a}, sandbox {b}")
        return out
    if a == "object":
        for key in documented:
            if key.endswith("@odata.context"):
                continue  # instance annotations (a property's own context URL): no reader depends on them
            if key not in served:
                out.append(f"{path}.{key}: documented, omitted by the sandbox")
            else:
                out += shape_differences(documented[key], served[key], f"{path}.{key}", extra_keys=extra_keys,
                                         nullable=nullable)
        if not extra_keys:
            out += [f"{path}.{key}: served by the sandbox, not in the documented answer"
                    for key in served if key not in documented]
    elif a == "array" and documented and served:
        out += shape_differences(documented[0], served[0], f"{path}[0]", extra_keys=extra_keys, nullable=nullable)
    return out
