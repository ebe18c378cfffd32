"""Every check maps to controls of known frameworks, and a check's severity is one story everywhere: the catalogue
announces every severity a finding may take, a unit cannot hand out another, and the exports of a real evaluation
show nothing the catalogue (docs/checks.md) does not announce."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from support.sandbox import ROOT

from idbridge.checks import load_all
from idbridge.checks.artifact import read_evaluation, write_evaluation
from idbridge.checks.base import REGISTRY, Hit, check
from idbridge.checks.controls import (BY_NAME, FRAMEWORKS, REQUIRED, Control, cis_aws, iso, labels, nist,
                                      ordered)
from idbridge.checks.evaluate import evaluate_snapshot
from idbridge.checks.runner import MemoryTables, run_checks

NIST, ISO = FRAMEWORKS["nist-800-53"].name, FRAMEWORKS["iso-27001"].name


@pytest.fixture
def unit():
    """Register throw-away units; the registry is left as it was."""
    added = []

    def register(check_id: str, hits, **meta):
        spec = dict(id=check_id, title="Something is wrong", passed="Nothing is wrong.", severity="medium",
                    area="saml", subject_kind="app", meaning="m", fix="f", controls=nist("CM-6") + iso("8.9"))
        spec.update(meta)
        check(**spec)(lambda data, settings: iter(hits))
        added.append(check_id)

    yield register
    for check_id in added:
        REGISTRY.pop(check_id, None)


# --------------------------------------------------------------------------------------------- controls


def test_every_check_maps_to_nist_and_iso_controls_of_the_list():
    registry = load_all()
    assert len(registry) >= 45
    for check_id, unit in registry.items():
        controls = unit.meta.controls
        assert controls, f"{check_id} maps to no control"
        for key in REQUIRED:
            assert any(c.framework == FRAMEWORKS[key].name for c in controls), (check_id, key)
        for control in controls:
            framework = BY_NAME[control.framework]
            assert (control.id, control.title) in framework.controls, (check_id, control)
        assert len(set(controls)) == len(controls), check_id


def test_every_listed_control_is_used_by_a_check():
    """The list holds controls some check maps to, nothing decorative."""
    used = {(c.framework, c.id) for unit in load_all().values() for c in unit.meta.controls}
    listed = {(f.name, control_id) for f in FRAMEWORKS.values() for control_id, _ in f.controls}
    assert listed - used == set()


def test_control_helpers_refuse_unknown_ids_and_frameworks():
    with pytest.raises(ValueError, match=r"no control 'AC-99'"):
        nist("AC-99")
    with pytest.raises(ValueError, match=r"no control '1\.15'"):
        cis_aws("1.15")  # IAM users only: deliberately not mapped
    assert iso("5.18") == iso("A.5.18") and iso("8.2")[0].title == "Privileged access rights"
    assert nist("AC-2(3)")[0].label == "NIST 800-53 AC-2(3)"


def test_controls_sort_in_their_natural_order():
    mixed = nist("AC-12", "AC-2(3)", "IA-2", "AC-2") + iso("8.2", "5.18", "5.3")
    assert [c.id for c in ordered(mixed)] == ["AC-2", "AC-2(3)", "AC-12", "IA-2", "A.5.3", "A.5.18", "A.8.2"]
    assert labels(iso("5.16") + nist("AC-2")) == "NIST 800-53 AC-2; ISO 27001 A.5.16"


@pytest.mark.parametrize("controls, why", [
    ((), "no control of NIST SP 800-53 Rev. 5, ISO/IEC 27001:2022 Annex A"),
    (nist("AC-2"), "no control of ISO/IEC 27001:2022 Annex A"),
    (nist("AC-2") + iso("5.18") + (Control("SOC 2 (2017)", "CC6.1", "Logical access"),), "unknown control framework"),
    (nist("AC-2") + iso("5.18") + (Control(NIST, "AC-2", "Access Management"),), "not in idbridge's list"),
    (nist("AC-2", "AC-2") + iso("5.18"), "listed twice"),
    (["NIST 800-53: AC-2"], "must be a tuple of Control"),
])
def test_registration_refuses_a_unit_without_valid_controls(unit, controls, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        unit("test.bad_controls", [], controls=controls)
    assert "test.bad_controls" not in REGISTRY


# --------------------------------------------------------------------------------------------- severity


@pytest.mark.parametrize("graded", [{"medium": "never different"}, {"severe": "made up"}, {"high": "  "}])
def test_registration_refuses_a_graded_severity_that_says_nothing_new(unit, graded):
    with pytest.raises(ValueError, match="test.bad_graded"):
        unit("test.bad_graded", [], graded=graded)


def test_a_graded_finding_carries_the_catalogue_severity_and_why_it_differs(unit):
    unit("test.graded", [Hit("app:a", severity="critical"), Hit("app:b")],
         graded={"low": "it hardly matters", "critical": "nobody can sign in"})
    meta = REGISTRY["test.graded"].meta
    assert meta.severities == ("critical", "medium", "low")
    assert meta.severity_text == "medium; critical when nobody can sign in; low when it hardly matters"
    results = run_checks(MemoryTables({}), None, ids=["test.graded"])
    by = {f.subject: f for f in results.findings}
    assert (by["app:a"].severity, by["app:a"].check_severity, by["app:a"].severity_reason) == (
        "critical", "medium", "nobody can sign in")
    assert (by["app:b"].severity, by["app:b"].check_severity, by["app:b"].severity_reason) == ("medium", "medium", "")
    outcome = results.outcomes[0]
    assert outcome.other_severities == "critical when nobody can sign in; low when it hardly matters"
    assert outcome.controls == meta.controls == by["app:a"].controls


def test_a_severity_the_catalogue_does_not_announce_is_an_error_not_a_finding(unit):
    unit("test.ungraded", [Hit("app:a", severity="high")])
    results = run_checks(MemoryTables({}), None, ids=["test.ungraded"])
    assert results.findings == []
    assert results.outcomes[0].status == "error" and "does not announce" in results.outcomes[0].reason


def _announced() -> dict[str, tuple[str, set[str]]]:
    """check id -> (catalogue severity, every severity announced), read from the committed docs/checks.md: what
    a reader of the catalogue sees."""
    text = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    found = {}
    for check_id, line in re.findall(r"^### `([a-z_]+\.[a-z_]+)` — .*\n\n(Severity .*)$", text, flags=re.M):
        levels = re.findall(r"\*\*(critical|high|medium|low|info)\*\*", line.split(" · subject:")[0])
        found[check_id] = (levels[0], set(levels))
    return found


@pytest.mark.integration
def test_the_exports_of_the_demo_show_only_severities_the_catalogue_announces(demo_snapshot, tmp_path):
    announced = _announced()
    assert set(announced) == set(load_all())
    evaluation = evaluate_snapshot(demo_snapshot, demo_snapshot.params)
    paths = write_evaluation(evaluation, tmp_path)
    findings = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False)
    checks = pd.read_csv(paths["checks"], dtype=str, keep_default_na=False)
    assert len(findings) > 20 and set(checks["check_id"]) == set(announced)
    for row in checks.itertuples():
        assert row.severity == announced[row.check_id][0], row.check_id
        assert row.controls and "NIST 800-53 " in row.controls and "ISO 27001 A." in row.controls, row.check_id
    for row in findings.itertuples():
        catalogue, allowed = announced[row.check_id]
        assert row.severity in allowed, (row.check_id, row.subject, row.severity, allowed)
        assert row.check_severity == catalogue, row.check_id
        assert (row.severity_reason == "") == (row.severity == catalogue), (row.check_id, row.subject)
    graded = findings[findings["severity"] != findings["check_severity"]]
    assert ("access.direct_user_assignment", "high") in set(zip(graded["check_id"], graded["severity"]))
    # The JSON carries the same, and reads back as written.
    again = read_evaluation(paths["json"])
    assert [(f.check_id, f.subject, f.severity, f.check_severity, f.controls) for f in again.results.findings] == [
        (f.check_id, f.subject, f.severity, f.check_severity, f.controls) for f in evaluation.results.findings]
    assert all(o.controls for o in again.results.outcomes)
