"""aws.permission_set_not_reprovisioned on small tables."""

from __future__ import annotations

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import aws_config as a
from idbridge.checks.runner import run_checks

load_all()


def test_all_provisioned_passes():
    assert bt.run(a.permission_set_not_reprovisioned) == {}


def test_a_permission_set_not_provisioned_to_some_accounts():
    data = bt.rows()
    data["idc_permission_set_provisioning"] += [
        {"permissionSetArn": "arn:ps/dev", "accountId": "222222222222", "status": a.NOT_PROVISIONED},
        {"permissionSetArn": "arn:ps/dev", "accountId": "333333333333", "status": a.NOT_PROVISIONED}]
    hit = bt.run(a.permission_set_not_reprovisioned, data)["permission_set:Developer"]
    assert hit.evidence["accounts_not_provisioned"] == ["222222222222", "333333333333"]
    assert hit.evidence["accounts_up_to_date"] == ["111111111111"]
    assert hit.evidence["account_names"] == {"222222222222": "prod"}
    assert hit.detail == "not provisioned to prod (222222222222), 333333333333"


def test_account_names_are_optional():
    data = bt.rows()
    data["idc_permission_set_provisioning"][1]["status"] = a.NOT_PROVISIONED
    tables = bt.tables(data, not_collected={"org_accounts": "AccessDenied"})
    results = run_checks(tables, bt.settings(), ids=["aws.permission_set_not_reprovisioned"])
    assert [(f.subject, f.evidence["account_names"]) for f in results.findings] == [("permission_set:ReadOnly", {})]


def test_not_checked_without_the_provisioning_status():
    tables = bt.tables(not_collected={"idc_permission_set_provisioning": "AccessDenied"})
    [outcome] = run_checks(tables, bt.settings(), ids=["aws.permission_set_not_reprovisioned"]).outcomes
    assert outcome.status == "not_checked" and "AccessDenied" in outcome.reason
