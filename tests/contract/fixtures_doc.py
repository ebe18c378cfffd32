"""docs/contract-fixtures.md, generated from the fixture files and the inventory:

    PYTHONPATH=lib .venv/bin/python -m tests.contract.fixtures_doc      # rewrite docs/contract-fixtures.md

tests/contract/test_fixtures_doc.py fails when the file is not what this writes."""

from __future__ import annotations

from pathlib import Path

from tests.contract import inventory as inv
from tests.support.contract import FIXTURES, load_fixture

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-fixtures.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    pins: dict[str, list[str]] = {}
    for entry in inv.ALL:
        for name in entry.fixtures:
            pins.setdefault(name, []).append(f"{entry.request} ({entry.used_by})")
    lines = [
        "# Contract fixtures",
        "",
        "Generated from `tests/contract/fixtures` and `tests/contract/inventory.py` by "
        "`python -m tests.contract.fixtures_doc`; a test keeps it current.",
        "",
        "Each fixture is an answer of Microsoft Graph or AWS as the services document it. The kit's readers are "
        "tested on them (`tests/contract/`), and the sandbox is compared with them in shape "
        "(`tests/contract/test_sandbox_shapes.py` for reads, `test_sandbox_write_shapes.py` for writes, errors and the "
        "federation metadata): where the sandbox and a fixture differ, the sandbox is fixed. "
        "*verbatim* is the documented example as published, *trimmed* is it cut down, *composed* is built from the "
        "documented fields where no example exists (the note says which).",
        "",
    ]
    titles = {"graph": "Microsoft Graph", "login": "Entra sign-in host (login.microsoftonline.com)", "aws": "AWS"}
    for service, title in titles.items():
        lines += [f"## {title}", "",
                  "| fixture | pins | kind | source | note |", "|---|---|---|---|---|"]
        for path in sorted((FIXTURES / service).glob("*.json")):
            fixture = load_fixture(path.stem, service)
            key = f"{service}/{path.stem}"
            kind = next(k for k in ("verbatim", "trimmed", "composed") if fixture["note"].startswith(k))
            lines.append(f"| `{key}` | {_cell('; '.join(pins.get(key, ['(no inventory entry)'])))} | {kind} | "
                         f"{fixture['source']} | {_cell(fixture['note'])} |")
        lines.append("")
    if inv.PENDING:
        lines += ["## Pending", "", "Named by the inventory, being added by other work: "
                  + ", ".join(f"`{p}`" for p in sorted(inv.PENDING)) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(DOC)
