"""The provisioning, reconcile, SCIM and AWS-configuration checks on real collections of the shipped scenarios:
their findings are exactly the faults planted for those areas (check id + subject), no more, no fewer."""

from __future__ import annotations

import pytest

from idbridge.checks import load_all
from idbridge.checks.runner import run_checks
from idbridge.checks.settings import settings_for

pytestmark = pytest.mark.integration
AREAS = ["provisioning", "reconcile", "scim", "aws"]


@pytest.fixture(scope="module")
def broken_snapshot(broken_provisioning_snapshot):
    return broken_provisioning_snapshot  # the session's one collection of the scenario (tests/conftest.py)


def evaluate(snapshot):
    load_all()
    results = run_checks(snapshot, settings_for(snapshot.params, snapshot.manifest["collected_at"]), areas=AREAS)
    broken = [(o.check_id, o.reason) for o in results.outcomes if o.status in ("error", "not_checked")]
    assert broken == [], "every check of these areas runs on a full collection"
    found = {(f.check_id, f.subject) for f in results.findings}
    planted = {(f.check, f.subject) for f in snapshot.scenario.faults if f.check.split(".")[0] in AREAS}
    return found, planted, results


def test_demo_findings_are_the_planted_faults(demo_snapshot):
    found, planted, _ = evaluate(demo_snapshot)
    assert sorted(found - planted) == [], "false positives"
    assert sorted(planted - found) == [], "planted faults not found"


def test_broken_provisioning_findings_are_the_planted_faults(broken_snapshot):
    found, planted, results = evaluate(broken_snapshot)
    assert sorted(found - planted) == [], "false positives"
    assert sorted(planted - found) == [], "planted faults not found"
    by_id = {f.check_id: f for f in results.findings}
    assert by_id["provisioning.quarantined"].evidence["reason"] == "EncounteredQuarantineException"
    assert by_id["provisioning.scim_token_expiry"].severity == "critical"


def test_demo_evidence_reads_well(demo_snapshot):
    _, _, results = evaluate(demo_snapshot)
    by = {(f.check_id, f.subject): f for f in results.findings}
    token = by[("provisioning.scim_token_expiry", "app:AWS IAM Identity Center")]
    assert token.evidence["days_left"] == 25 and token.severity == "medium"
    adaeze = by[("provisioning.errors", "user:adaeze.okafor@northwind-analytics.com")].evidence["errors"][0]
    assert adaeze["detail"].startswith("Request is unparsable") and "hint" in adaeze
    readonly = by[("reconcile.group_membership", "group:AWS-Data-ReadOnly")].evidence
    assert readonly["missing_in_idc"] == ["adaeze.okafor@northwind-analytics.com",
                                          "tiago.mendonca@northwind-analytics.com"]
