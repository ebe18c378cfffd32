"""Contract for issue 17's sources: Graph's documented objectMapping (enabled, flowTypes) and AWS Organizations'
documented DescribeOrganization / ListDelegatedAdministrators answers, each run through the collector's table
builders and the checks that read them, and compared with what the sandbox serves for the same request."""

from __future__ import annotations

import json

import botocore.parsers
import botocore.session
import pytest
from support import bridge_tables as bt
from support import sandbox as sb
from support.aws_harness import make_context
from support.contract import load_fixture, shape_differences
from support.graph_harness import GraphServer, raw, run, world

from idbridge.checks.rules import exposure, lifecycle
from idbridge.checks.runner import MemoryTables
from idbridge.checks.settings import CheckSettings
from idbridge.collect.aws.collectors import IDENTITY_CENTER_PRINCIPAL, delegation_tables
from idbridge.collect.entra.sync import object_mapping_rows, object_mappings_frame
from idbridge.sandbox.scenario import load_scenario, resolve_scenario_path
from idbridge.sandbox.server import Sandbox
from idbridge.sandbox.timeexpr import utc_now

ORGANIZATIONS = botocore.session.get_session().get_service_model("organizations")


def _schema(*mappings: dict) -> dict:
    return {"synchronizationRules": [{"objectMappings": list(mappings)}]}


def _target_actions(rows: list[dict]) -> dict:
    data = bt.rows()
    data["entra_sync_object_mappings"] = rows
    return bt.run(lifecycle.target_actions_off, data)


# --------------------------------------------------------------------------------------------- Graph


def test_the_documented_object_mapping_is_read_and_judged():
    documented = load_fixture("synchronization_objectmapping_example")["response"]
    group = {**documented, "sourceObjectName": "Group", "targetObjectName": "Group", "name": "Groups"}
    rows = object_mapping_rows("job", _schema(documented, group))
    assert [(r["sourceObjectName"], r["enabled"], r["flowTypes"]) for r in rows] == [
        ("User", True, "Add, Update, Delete"), ("Group", True, "Add, Update, Delete")]
    assert list(object_mappings_frame(rows).columns) == list(bt.COLUMNS["entra_sync_object_mappings"])
    assert _target_actions(rows) == {}
    no_delete = object_mapping_rows("job", _schema({**documented, "flowTypes": "Add, Update"}, group))
    hit = _target_actions(no_delete)[bt.APP]
    assert hit.evidence["objectMappings"][0]["problem"] == "no Delete" and hit.severity == "high"


def test_the_sandbox_serves_object_mappings_in_the_documented_shape():
    documented = load_fixture("synchronization_objectmapping_example")["response"]
    w = world()
    sp_id = w.graph.aws_sp_id
    (job_id,) = w.graph.sync_jobs[sp_id]
    server = GraphServer(w)
    try:
        schema = run(raw(server.adapter(), f"/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}/schema"))
    finally:
        server.close()
    served = schema["synchronizationRules"][0]["objectMappings"]
    assert [m["sourceObjectName"] for m in served] == ["User", "Group"]
    for mapping in served:
        assert shape_differences(documented, mapping, nullable=frozenset({"defaultValue", "scope"})) == []
        assert mapping["flowTypes"] == documented["flowTypes"]  # the documented spelling of all three flows


# --------------------------------------------------------------------------------------------- AWS


def _parsed(operation: str, body: dict) -> dict:
    """A documented JSON answer as boto3 returns it (timestamps as datetimes), through botocore's own parser."""
    shape = ORGANIZATIONS.operation_model(operation).output_shape
    parsed = botocore.parsers.create_parser("json").parse(
        {"body": json.dumps(body).encode(), "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def _settings() -> CheckSettings:
    return CheckSettings(now=utc_now())


def test_the_documented_answers_become_the_delegation_tables():
    organization = _parsed("DescribeOrganization",
                           load_fixture("organizations_describe_organization", "aws")["response"])["Organization"]
    admins = _parsed("ListDelegatedAdministrators",
                     load_fixture("organizations_list_delegated_administrators", "aws")["response"])
    tables = delegation_tables(organization, admins["DelegatedAdministrators"])
    assert tables["org_organization"].to_dict("records") == [
        {"organizationId": "o-exampleorgid", "managementAccountId": "111111111111", "featureSet": "ALL"}]
    assert tables["org_delegated_admins"].to_dict("records") == [
        {"servicePrincipal": IDENTITY_CENTER_PRINCIPAL, "accountId": "222222222222", "name": "identity",
         "status": "ACTIVE", "delegationEnabledDate": "2024-01-01T00:00:00Z"}]
    instance = bt.frame("idc_instances", [{"instanceArn": "arn:aws:sso:::instance/ssoins-1",
                                           "ownerAccountId": "111111111111"}])
    data = MemoryTables({**tables, "idc_instances": instance})
    assert list(exposure.no_delegated_admin(data, _settings())) == []
    alone = MemoryTables({**delegation_tables(organization, []), "idc_instances": instance})
    assert [h.subject for h in exposure.no_delegated_admin(alone, _settings())] == ["account:111111111111"]


@pytest.mark.integration
def test_the_sandbox_answers_organizations_in_the_documented_shape():
    documented_org = _parsed("DescribeOrganization",
                             load_fixture("organizations_describe_organization", "aws")["response"])
    documented_admins = _parsed("ListDelegatedAdministrators",
                                load_fixture("organizations_list_delegated_administrators", "aws")["response"])
    scenario = load_scenario(resolve_scenario_path("empty"))
    ic = scenario.aws.identity_center.model_copy(update={"account": "902746318853"})
    scenario = scenario.model_copy(update={"aws": scenario.aws.model_copy(update={"identity_center": ic})})
    if sb._current["box"] is not None:
        sb._current["box"].stop()
    box = Sandbox(scenario)
    box.start()
    sb._current["box"] = box
    try:
        org = make_context(box).aws("organizations")
        served_org = org.describe_organization()
        served_admins = org.list_delegated_administrators(ServicePrincipal=IDENTITY_CENTER_PRINCIPAL)
    finally:
        box.stop()
        sb.forget_sandbox()
    for served in (served_org, served_admins):
        served.pop("ResponseMetadata", None)
    assert shape_differences(documented_org, served_org) == []
    assert shape_differences(documented_admins, served_admins) == []  # State included (patch_organizations)
    assert served_admins["DelegatedAdministrators"][0]["Id"] == "902746318853"
