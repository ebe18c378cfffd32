"""The access checks on real collections of the shipped scenarios: their findings are exactly the access.*
faults planted (check id + subject), precision and recall 1.

The demo declares AdministratorAccess × SecurityAudit incompatible (its `engagement.sod_conflicts`), and the
sandbox writes that pair into the parameters, as a consultant would record it."""

from __future__ import annotations

import pytest

from idbridge.checks import load_all
from idbridge.checks.runner import run_checks
from idbridge.checks.settings import settings_for

pytestmark = pytest.mark.integration
DEMO_PAIR = ("AdministratorAccess", "SecurityAudit")


@pytest.fixture(scope="module")
def broken_snapshot(broken_provisioning_snapshot):
    return broken_provisioning_snapshot  # the session's one collection of the scenario (tests/conftest.py)


def evaluate(snapshot, pairs=None):
    """Checks as the snapshot's own parameters say, or with `pairs` declared instead."""
    load_all()
    params = snapshot.params
    if pairs is not None:
        checks = params.checks.model_copy(update={"sod_conflicts": list(pairs)})
        params = params.model_copy(update={"checks": checks})
    results = run_checks(snapshot, settings_for(params, snapshot.manifest["collected_at"]), areas=["access"])
    found = {(f.check_id, f.subject) for f in results.findings}
    planted = {(f.check, f.subject) for f in snapshot.scenario.faults if f.check.startswith("access.")}
    return found, planted, results


def precision_recall(found: set, planted: set) -> tuple[float, float]:
    hits = len(found & planted)
    return (hits / len(found) if found else 1.0), (hits / len(planted) if planted else 1.0)


def test_demo_findings_are_the_planted_access_faults(demo_snapshot):
    assert [tuple(p) for p in demo_snapshot.params.checks.sod_conflicts] == [DEMO_PAIR]
    found, planted, results = evaluate(demo_snapshot)
    assert {o.status for o in results.outcomes} <= {"pass", "fail"}
    assert sorted(found - planted) == [], "false positives"
    assert sorted(planted - found) == [], "planted faults not found"
    assert precision_recall(found, planted) == (1.0, 1.0)
    # every PIM for Groups check is planted in the demo at least once (the sign-in one from activation history)
    from idbridge.checks.base import REGISTRY
    pim_checks = {cid for cid in REGISTRY if cid.startswith("access.pim_")}
    assert pim_checks and pim_checks <= {check for check, _ in planted}


def test_demo_without_the_pair_declared_cannot_find_the_sod_fault(demo_snapshot):
    found, planted, results = evaluate(demo_snapshot, [])
    sod = next(o for o in results.outcomes if o.check_id == "access.sod_conflict")
    assert sod.status == "not_applicable" and "sod_conflicts" in sod.reason
    assert planted - found == {("access.sod_conflict", "user:kwame.mensah@northwind-analytics.com")}
    assert found <= planted


def test_broken_provisioning_findings_are_the_planted_access_faults(broken_snapshot):
    found, planted, results = evaluate(broken_snapshot, [DEMO_PAIR])
    # A P1 tenant: PIM for Groups needs P2, so its checks are not checked, saying why; every other check ran.
    not_run = {o.check_id: o.reason for o in results.outcomes if o.status not in ("pass", "fail")}
    assert set(not_run) == {cid for cid in not_run if cid.startswith("access.pim_")}, not_run
    assert all("P2" in why or "licen" in why.lower() for why in not_run.values()), not_run
    assert found == planted == {("access.no_ca_mfa", "app:AWS IAM Identity Center"),
                                ("access.privileged_permission_set", "permission_set:AdministratorAccess"),
                                ("access.assignment_not_required", "app:AWS IAM Identity Center"),
                                ("access.management_account_assignment", "account:611493027845"),
                                ("access.revocation_not_prepared", "app:AWS IAM Identity Center")}
    assert precision_recall(found, planted) == (1.0, 1.0)


def test_demo_evidence_reads_well(demo_snapshot):
    _, _, results = evaluate(demo_snapshot, [DEMO_PAIR])
    by = {(f.check_id, f.subject): f for f in results.findings}
    prod = by[("access.privileged_prod_access", "group:AWS-Prod-Admins")].evidence
    assert prod["production_account_count"] == 8 and prod["permission_sets"] == ["AdministratorAccess"]
    sanne = by[("access.direct_user_assignment", "user:sanne.devries@northwind-analytics.com")]
    assert sanne.severity == "high" and sanne.evidence["assignments"] == ["AdministratorAccess on insights-prod"]
    stale = by[("access.stale_user", "user:charlotte.pemberton-hale@northwind-analytics.com")].evidence
    assert stale["days_inactive"] == 130 and stale["last_aws_sign_in"] is None
    lucia = by[("access.no_mfa", "user:lucia.fernandez@northwind-analytics.com")].evidence
    assert lucia["mfa_policies_for_aws"] == {"CA01 - Require MFA for AWS": "unknown"}
    assert lucia["exclusion_groups_not_collected"] == ["CA-Exclusions"]
    kwame = by[("access.sod_conflict", "user:kwame.mensah@northwind-analytics.com")].evidence
    assert kwame["SecurityAudit"]["through"] == ["group AWS-Security-Audit"]
    olivia = by[("access.disabled_user_access", "user:olivia.grant@northwind-analytics.com")].evidence
    assert olivia["entra_state"] == "deleted" and olivia["through"] == ["group AWS-Data-Engineers"]
