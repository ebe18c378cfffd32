"""A whole collection through the runner against the sandbox: it equals the scenario, survives faults, and a
denied source is named in the manifest and everywhere downstream — never an empty table."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pandas as pd
import pytest
from support.sandbox import ROOT, running_sandbox, sandbox_parameters

from idbridge.collect.run import collect
from idbridge.sandbox.faults import parse_fault_spec
from idbridge.snapshot.schema import SOURCES
from idbridge.snapshot.store import NotCollected, Snapshot

pytestmark = pytest.mark.integration
NOW = datetime.now(timezone.utc).replace(microsecond=0)
FAULTS = "graph_429=0.1,graph_503=0.05,expired_page_token=0.1,retry_after_s=0,aws_throttle=on"


def take(tmp_path, name: str, faults: str = "") -> Snapshot:
    box = running_sandbox("demo", now=NOW, faults=parse_fault_spec(faults))
    try:
        path = collect(sandbox_parameters(box), tmp_path / name, now=NOW)
    finally:
        box.stop()
    return Snapshot(path)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return take(tmp_path_factory.mktemp("clean"), "snap")


def test_every_source_complete_and_equal_to_the_scenario(clean):
    box_scenario = running_sandbox("demo", now=NOW)
    scenario = box_scenario.scenario
    box_scenario.stop()
    assert {name: r["status"] for name, r in clean.sources.items()} == {s.name: "complete" for s in SOURCES}
    users = clean.table("entra_users")
    assert sorted(users["userPrincipalName"].str.lower()) == sorted(
        u.upn.lower() for u in scenario.entra.users if not u.deleted)
    given = dict(zip(users["userPrincipalName"].str.lower(), users["givenName"]))
    assert all(given[u.upn.lower()] == u.given_name or (pd.isna(given[u.upn.lower()]) and u.given_name is None)
               for u in scenario.entra.users if not u.deleted)
    assert sorted(clean.table("entra_groups")["displayName"]) == sorted(g.display_name for g in scenario.entra.groups)
    assert len(clean.table("entra_app_role_assignments")) == (
        len(scenario.entra.aws_app.assignments.users) + len(scenario.entra.aws_app.assignments.groups))
    assert len(clean.table("entra_sign_ins")) == len(scenario.entra.sign_ins)
    assert dict(zip(clean.table("org_accounts")["accountId"], clean.table("org_accounts")["name"])) == {
        a.id: a.name for a in scenario.aws.accounts}
    assert sorted(clean.table("idc_permission_sets")["name"]) == sorted(p.name for p in scenario.aws.permission_sets)
    assert len(clean.table("idc_account_assignments")) == sum(len(a.accounts) for a in scenario.aws.account_assignments)
    manifest = clean.manifest
    assert manifest["tenant_id"] == scenario.tenant.id and manifest["instance_arn"].startswith("arn:aws:sso:::instance/")
    assert manifest["api_calls"]["sso-admin:ListAccountAssignments"] > 0
    assert manifest["identity"]["aws"]["account"] == scenario.aws.management_account


def canonical(frame: pd.DataFrame) -> list[str]:
    def cell(value):
        if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
            return list(value)
        return None if pd.isna(value) else value

    return sorted(json.dumps([cell(v) for v in row], default=str) for row in frame.itertuples(index=False))


def test_a_collection_under_faults_equals_the_clean_one(clean, tmp_path):
    faulty = take(tmp_path, "faulty", FAULTS)
    assert {r["status"] for r in faulty.sources.values()} == {"complete"}
    for table in clean.manifest["tables"]:
        assert canonical(faulty.table(table)) == canonical(clean.table(table)), table


def test_a_denied_source_is_named_and_the_rest_is_collected(tmp_path):
    snap = take(tmp_path, "denied", "deny=signIns")
    status, error = snap.status("entra.sign_ins")
    assert status == "not_collected" and "403 Authorization_RequestDenied" in error
    assert {r["status"] for n, r in snap.sources.items() if n != "entra.sign_ins"} == {"complete"}
    with pytest.raises(NotCollected, match="entra.sign_ins: not collected: 403"):
        snap.table("entra_sign_ins")
    assert not (snap.directory / "entra_sign_ins.parquet").exists()


def test_collect_command_exits_3_when_a_source_is_not_collected(tmp_path):
    box = running_sandbox("demo", faults=parse_fault_spec("deny=cloudtrail"))
    try:
        params = tmp_path / "p.yaml"
        box.write_parameters(params)
        result = subprocess.run([sys.executable, "-m", "idbridge.cli", "collect", "-p", str(params),
                                 "--out", str(tmp_path / "snap")], capture_output=True, text=True, cwd=ROOT,
                                timeout=300)
    finally:
        box.stop()
    assert result.returncode == 3, result.stderr
    assert "not_collected aws.cloudtrail" in result.stdout and "AccessDenied" in result.stdout
