"""The check catalogue is generated from the units: every unit is complete, ids are the planned ones, and
docs/checks.md is up to date."""

import re

from sandbox_support import ROOT

from idbridge.checks import load_all
from idbridge.checks.docs import render_catalogue

PLANNED = set(re.findall(r"^\| ([a-z_]+\.[a-z_.]+) \|", (ROOT / "docs" / "check-ids.md").read_text(), flags=re.M))


def test_every_unit_is_complete_and_planned():
    registry = load_all()
    for check_id, check in registry.items():
        meta = check.meta
        assert check_id in PLANNED, f"{check_id} is not in docs/check-ids.md"
        assert meta.title and meta.meaning and meta.fix, check_id
        assert meta.severity in ("critical", "high", "medium", "low", "info"), check_id
        assert all(ref.startswith("https://") for ref in meta.references), check_id


def test_docs_checks_md_is_generated_from_the_units():
    assert (ROOT / "docs" / "checks.md").read_text() == render_catalogue(), (
        "docs/checks.md is stale: run `idbridge checks doc --out docs/checks.md`")
