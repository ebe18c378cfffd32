"""Issue 17 items 6, 7 on real collections of the shipped scenarios: broken-provisioning's planted faults (no SCP
against account instances, DataAnalyst's failed provisioning, an assignment on a suspended account) are exactly
what these checks find; the demo (AWS's SCP on the root, nothing failed, nothing suspended) stays silent."""

from __future__ import annotations

import pytest

from idbridge.checks import load_all
from idbridge.checks.runner import run_checks
from idbridge.checks.settings import settings_for

pytestmark = pytest.mark.integration
OURS = ("aws.account_instances_allowed", "aws.provisioning_failed", "aws.assignment_on_suspended_account")


def evaluate(snapshot):
    load_all()
    results = run_checks(snapshot, settings_for(snapshot.params, snapshot.manifest["collected_at"]), ids=list(OURS))
    found = {(f.check_id, f.subject): f for f in results.findings}
    planted = {(f.check, f.subject) for f in snapshot.scenario.faults if f.check in OURS}
    return found, planted, results


def test_broken_provisioning_findings_are_the_planted_faults(broken_provisioning_snapshot):
    snapshot = broken_provisioning_snapshot
    found, planted, results = evaluate(snapshot)
    assert set(found) == planted and len(planted) == 3
    assert {o.status for o in results.outcomes} == {"fail"}
    [failed] = found[("aws.provisioning_failed", "permission_set:DataAnalyst")].evidence["failures"]
    assert failed["accountName"] == "adatum-prod" and "DataLakeRead does not exist" in failed["failureReason"]
    instances = found[("aws.account_instances_allowed", "account:611493027845")]
    assert instances.evidence["accountInstances"] == "not collected: no member-account read role configured"
    suspended = found[("aws.assignment_on_suspended_account", "account:402918375560")]
    assert suspended.evidence["assignments"] == [
        {"permissionSet": "ReadOnly", "principalType": "GROUP", "principal": "AWS-Engineers"}]


def test_the_demo_is_the_clean_counterpart(demo_snapshot):
    found, planted, results = evaluate(demo_snapshot)
    assert found == {} and planted == set()
    assert {o.status for o in results.outcomes} == {"pass"}
    scps = demo_snapshot.table("org_scps")
    assert set(scps["name"]) == {"FullAWSAccess", "DenyAccountInstances"}
    [deny] = [list(t) for n, t in zip(scps["name"], scps["targets"]) if n == "DenyAccountInstances"]
    assert len(deny) == 1 and deny[0].startswith("ROOT:r-")
