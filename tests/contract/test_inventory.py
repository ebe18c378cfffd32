"""The inventory (tests/contract/inventory.py) covers every request the code sends and every CloudTrail event it
parses, and every fixture it names exists, loads, and is named by some entry."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from idbridge.collect.aws import trail
from tests.contract import inventory as inv
from tests.support.contract import FIXTURES, load_fixture

LIB = Path(__file__).resolve().parents[2] / "lib" / "idbridge"
# Where Graph requests are made; the sandbox (which answers them) is not the kit.
GRAPH_CODE = ("clients/graph", "collect/entra", "runbooks", "kit/preflight.py")
# Path literals in that code that are not Graph resources: the API version roots the URL helpers strip or add.
NOT_GRAPH_PATHS = {"/v1.0", "/beta", "/v1.0/", "/beta/"}
# Where the anonymous downloads from Entra's sign-in host are addressed: f-strings "{root}/<path>".
LOGIN_CODE = ("saml/urls.py",)
AWS_SERVICES = ("sso-admin", "identitystore", "organizations", "cloudtrail", "sts", "iam", "secretsmanager",
                "securityhub")


def _render(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _strings(path: Path) -> set[str]:
    """Every string literal and f-string (fields as `{}`) of a module, docstrings and f-string parts left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    skip |= {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return {s for n in ast.walk(tree) if id(n) not in skip and (s := _render(n)) is not None}


def _modules(parts) -> list[Path]:
    out = []
    for part in parts:
        target = LIB / part
        out += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return out


@cache
def graph_paths_in_code() -> set[str]:
    found = set()
    for module in _modules(GRAPH_CODE):
        for s in _strings(module):
            if len(s) > 1 and s[0] == "/" and (s[1].isalpha() or s[1] in "${"):
                found.add(s.split("?", 1)[0])
    return found - NOT_GRAPH_PATHS


@cache
def login_paths_in_code() -> set[str]:
    """Paths below a host root ("{}/...") in the modules that address login.microsoftonline.com."""
    return {s[2:].split("?", 1)[0] for module in _modules(LOGIN_CODE) for s in _strings(module) if s.startswith("{}/")}


@cache
def aws_operations_in_code() -> set[str]:
    """service:Operation for every botocore operation whose Python name the kit's code uses (as a call, an
    attribute or a string handed to the pager)."""
    session = botocore.session.get_session()
    by_python: dict[str, set[str]] = {}
    for service in AWS_SERVICES:
        for op in session.get_service_model(service).operation_names:
            by_python.setdefault(xform_name(op), set()).add(f"{service}:{op}")
    names: set[str] = set()
    for module in _modules([p.relative_to(LIB) for p in LIB.iterdir() if p.name != "sandbox"]):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return {op for name in names & set(by_python) for op in by_python[name]}


def test_every_graph_path_in_the_code_is_in_the_inventory():
    listed = {c for e in inv.GRAPH for c in e.code}
    missing = graph_paths_in_code() - listed
    assert not missing, f"Graph requests without an inventory entry (add one with its fixture): {sorted(missing)}"
    stale = listed - graph_paths_in_code()
    assert not stale, f"inventory code markers no longer in the code: {sorted(stale)}"


def test_every_download_from_the_sign_in_host_is_in_the_inventory():
    listed = {c for e in inv.LOGIN for c in e.code}
    found = login_paths_in_code()
    assert found, "the scan found no sign-in host path: has saml/urls.py moved?"
    assert found == listed, f"in the code, not listed: {sorted(found - listed)}; listed, not in the code: " \
                            f"{sorted(listed - found)}"


def test_every_aws_operation_in_the_code_is_in_the_inventory():
    listed = {e.request for e in inv.AWS}
    found = aws_operations_in_code()
    # A Python name shared by two services (list_users: identitystore and iam) is covered by either entry.
    uncovered = {op for op in found if op not in listed
                 and not any(xform_name(op.split(":")[1]) == xform_name(x.split(":")[1]) for x in listed)}
    assert not uncovered, f"AWS operations without an inventory entry: {sorted(uncovered)}"
    stale = listed - found
    assert not stale, f"inventory operations the code no longer calls: {sorted(stale)}"


def test_every_cloudtrail_event_the_collector_asks_for_is_in_the_inventory():
    names = {a["AttributeValue"] for a in trail.LOOKUPS}
    listed = {n for e in inv.EVENTS for n in e.request.removeprefix("event ").replace("|", " ").split()
              if n[0].isupper()}
    # "Create|Update|…ExternalIdPConfigurationForDirectory" is written once; expand it.
    listed |= {f"{verb}ExternalIdPConfigurationForDirectory"
               for verb in ("Create", "Update", "Delete", "Enable", "Disable")}
    assert names <= listed, sorted(names - listed)


def test_every_named_fixture_exists_and_every_fixture_is_named():
    named = {f for e in inv.ALL for f in e.fixtures}
    on_disk = {f"{p.parent.name}/{p.stem}" for p in FIXTURES.glob("*/*.json")}
    assert not (named - on_disk - inv.PENDING), f"fixtures named but missing: {sorted(named - on_disk - inv.PENDING)}"
    assert not (on_disk - named), f"fixtures no inventory entry names: {sorted(on_disk - named)}"
    landed = inv.PENDING & on_disk
    assert not landed, f"pending fixtures that now exist: take them off inventory.PENDING: {sorted(landed)}"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_has_its_source_and_note(path):
    fixture = load_fixture(path.stem, path.parent.name)
    assert fixture["response"] is not None or "204" in fixture["note"]
