"""Issue 17 item 4 at the collection boundary: an organisation whose Identity Center is delegated to a member
account is collected as such (ListDelegatedAdministrators on sso.amazonaws.com), and aws.no_delegated_admin stays
silent on it; the same organisation without delegation is reported."""

from __future__ import annotations

import pytest
from support import sandbox as sb
from support.aws_harness import collect_all, make_context

from idbridge.checks.rules.exposure import management_account_assignment, no_delegated_admin
from idbridge.checks.runner import MemoryTables
from idbridge.checks.settings import CheckSettings
from idbridge.sandbox.scenario import load_scenario, resolve_scenario_path
from idbridge.sandbox.server import Sandbox
from idbridge.sandbox.timeexpr import utc_now

pytestmark = pytest.mark.integration
SOURCES = ["aws.instances", "aws.delegation", "aws.permission_sets", "aws.provisioning_status",
           "aws.account_assignments"]


def _collect(delegate_to: str | None) -> tuple[dict, object]:
    scenario = load_scenario(resolve_scenario_path("empty"))
    if delegate_to:
        ic = scenario.aws.identity_center.model_copy(update={"account": delegate_to})
        scenario = scenario.model_copy(update={"aws": scenario.aws.model_copy(update={"identity_center": ic})})
    if sb._current["box"] is not None:  # moto's backends are process-wide: one sandbox at a time
        sb._current["box"].stop()
    box = Sandbox(scenario)
    box.start()
    sb._current["box"] = box
    try:
        results = collect_all(make_context(box), SOURCES)
    finally:
        box.stop()
        sb.forget_sandbox()
    failed = {name: r for name, r in results.items() if isinstance(r, Exception)}
    assert not failed
    return {table: frame for tables in results.values() for table, frame in tables.items()}, scenario


def _hits(check, tables) -> list:
    return list(check(MemoryTables(tables), CheckSettings(now=utc_now())))


def test_a_delegated_administrator_is_collected_and_clears_the_check():
    tables, scenario = _collect(delegate_to="902746318853")
    admins = tables["org_delegated_admins"].to_dict("records")
    assert [(a["accountId"], a["servicePrincipal"], a["status"]) for a in admins] == [
        ("902746318853", "sso.amazonaws.com", "ACTIVE")]
    assert admins[0]["delegationEnabledDate"].endswith("Z")
    assert tables["org_organization"].iloc[0]["managementAccountId"] == scenario.aws.management_account
    assert _hits(no_delegated_admin, tables) == []


def test_the_same_organisation_without_delegation_is_reported():
    tables, scenario = _collect(delegate_to=None)
    [hit] = _hits(no_delegated_admin, tables)
    assert hit.subject == f"account:{scenario.aws.management_account}"
    assert hit.evidence["ownerAccountId"] == hit.evidence["managementAccountId"] == scenario.aws.management_account
    assert _hits(management_account_assignment, tables) == []  # nothing is assigned in the empty organisation
