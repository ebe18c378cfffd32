"""The SAML checks on real collections of the sandbox scenarios: the findings are exactly the planted saml.* faults
(check id + subject), no more (precision) and no fewer (recall)."""

from __future__ import annotations

import pytest

import idbridge.checks.rules.saml  # noqa: F401  (registers the units; other areas' modules are not needed)
from idbridge.checks.runner import run_checks
from idbridge.checks.settings import settings_for


# The demo plants eu-central-1 as an additional Identity Center Region whose ACS URL is missing. The snapshot cannot
# show it: collect/aws/collectors.py keeps one idc_instances row per instance, in its primary Region, and nothing collects
# sso-admin ListRegions, so no table names eu-central-1. The check reads any Region a collection provides (rows of
# the same store, or a `regions` list column); see test_saml.py::test_regions_from_a_regions_column.
REGIONS_NOT_COLLECTED = ("saml.reply_url_missing", "app:AWS IAM Identity Center")


def planted(scenario) -> set[tuple[str, str]]:
    return {(f.check, f.subject) for f in scenario.faults if f.check.startswith("saml.")}


def found(snapshot) -> tuple[set[tuple[str, str]], list]:
    settings = settings_for(snapshot.params, snapshot.manifest["collected_at"])
    results = run_checks(snapshot, settings, areas=["saml"])
    assert not [o for o in results.outcomes if o.status in ("error", "not_checked")], results.outcomes_frame()
    return {(f.check_id, f.subject) for f in results.findings}, results.findings


def test_demo_precision(demo_snapshot):
    findings, _ = found(demo_snapshot)
    assert findings <= planted(demo_snapshot.scenario)


def test_demo_recall_apart_from_uncollected_regions(demo_snapshot):
    findings, _ = found(demo_snapshot)
    assert planted(demo_snapshot.scenario) - {REGIONS_NOT_COLLECTED} <= findings


def test_demo_missing_region_is_found(demo_snapshot):
    findings, _ = found(demo_snapshot)
    assert REGIONS_NOT_COLLECTED in findings


def test_demo_severities(demo_snapshot):
    _, findings = found(demo_snapshot)
    by_id = {f.check_id: f for f in findings}
    assert by_id["saml.certificate_expiry"].severity == "high"  # 20 days: inside 30, outside 7
    rotation = by_id["saml.certificate_rotation_pending"]
    assert rotation.severity == "medium" and "Manage authentication" in rotation.detail
    assert "d-93670c2a1f" in by_id["saml.login_url_mismatch"].detail


@pytest.fixture(scope="module")
def broken_snapshot(broken_provisioning_snapshot):
    return broken_provisioning_snapshot  # the session's one collection of the scenario (tests/conftest.py)


def test_broken_provisioning_findings_are_the_planted_faults(broken_snapshot):
    findings, details = found(broken_snapshot)
    assert findings == planted(broken_snapshot.scenario)
    by_id = {f.check_id: f for f in details}
    assert by_id["saml.reply_url_missing"].severity == "critical"  # the primary Region: nobody can sign in
    assert by_id["saml.identifier_mismatch"].evidence["identifierUris"] == ["https://signin.aws.amazon.com/saml"]
