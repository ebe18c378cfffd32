"""The check catalogue is generated from the units: every unit is complete, ids are the planned ones, and
docs/checks.md is up to date."""

import re

import pytest
from support.sandbox import ROOT

from idbridge.checks import load_all
from idbridge.checks.base import REGISTRY, CheckMeta, check, headline
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


def test_every_unit_says_what_a_pass_means():
    registry = load_all()
    assert registry
    for check_id, unit in registry.items():
        meta = unit.meta
        assert meta.passed.strip(), f"{check_id}: empty `passed`"
        assert meta.passed.strip().casefold() != meta.title.strip().casefold(), (
            f"{check_id}: `passed` repeats the failure title")
        assert headline(meta, "pass") == meta.passed, check_id
        for status in ("fail", "not_checked", "error"):
            assert headline(meta, status) == meta.title, (check_id, status)


@pytest.mark.parametrize("passed", [None, "", "   "])
def test_registration_refuses_a_unit_without_a_pass_text(passed):
    meta = dict(id="test.no_pass_text", title="Something is wrong", severity="low", area="saml",
                subject_kind="app", meaning="m", fix="f")
    if passed is not None:
        meta["passed"] = passed
    with pytest.raises(ValueError, match=r"test\.no_pass_text"):
        check(**meta)(lambda data, settings: iter(()))
    assert "test.no_pass_text" not in REGISTRY


def test_headline_reads_the_pass_text_only_for_a_pass():
    meta = CheckMeta(id="test.headline", title="Provisioning job in quarantine",
                     passed="The provisioning job is not in quarantine.", severity="high", area="provisioning",
                     subject_kind="app", meaning="m", fix="f")
    assert headline(meta, "pass") == "The provisioning job is not in quarantine."
    assert headline(meta, "fail") == "Provisioning job in quarantine"
    assert headline(meta, "not_checked") == "Provisioning job in quarantine"


def test_docs_checks_md_is_generated_from_the_units():
    assert (ROOT / "docs" / "checks.md").read_text() == render_catalogue(), (
        "docs/checks.md is stale: run `idbridge checks doc --out docs/checks.md`")


def test_the_catalogue_says_what_it_does_not_see():
    from idbridge.checks.docs import NOT_SEEN, render_catalogue

    text = render_catalogue()
    section = text.split("## What this catalogue does not see", 1)[1].split("\n## ", 1)[0]
    for words in ("clock skew", "aws sso login", "caching", "IdP-initiated", "DNS"):
        assert words in section, words
    assert section.count("\n| ") == len(NOT_SEEN) + 1  # header row and one row per failure mode
    for _, why in NOT_SEEN:  # each says why it is out of reach, not only what it is
        assert len(why) > 60
