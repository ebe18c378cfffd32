"""The AWS collectors on the sandbox's small scenario, which has what the demo lacks: a managed permissions
boundary, a suspended account, a recreated user with a direct assignment, and bridge events (SCIM token,
certificate upload) inside the window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from support.aws_harness import collect_all, make_context
from support.sandbox import running_sandbox
from idbridge.collect.aws import collectors as aws
from idbridge.collect.context import Partial
from idbridge.collect.run import describe_error
from idbridge.sandbox.aws.testkit import SMALL_SCENARIO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    path = Path(tmp_path_factory.mktemp("scenario")) / "aws-small.yaml"
    doc = yaml.safe_load(SMALL_SCENARIO)
    # The full sandbox provisions through its SCIM emulation, which creates only what is assigned to the app.
    doc["entra"]["aws_app"]["assignments"] = {"groups": ["AWS-Admins", "AWS-Readers"],
                                              "users": ["bob@contoso.com", "carol@contoso.com"]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    sandbox = running_sandbox(path)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def tables(box):
    results = collect_all(make_context(box, window_days=90))
    failed = {name: describe_error(r) for name, r in results.items() if isinstance(r, Exception)}
    assert not failed
    return {table: frame for r in results.values()
            for table, frame in (r.tables if isinstance(r, Partial) else r).items()}


def _policies(tables, name: str) -> list[tuple]:
    arn = dict(zip(tables["idc_permission_sets"]["name"], tables["idc_permission_sets"]["permissionSetArn"]))[name]
    frame = tables["idc_permission_set_policies"]
    rows = frame[frame["permissionSetArn"] == arn]
    return sorted(tuple(r[1:]) for r in rows.itertuples(index=False))


def test_every_policy_kind_and_both_boundary_kinds(tables):
    admin = _policies(tables, "AdministratorAccess")
    document = next(r[4] for r in admin if r[0] == "inline")
    assert json.loads(document)["Statement"][0]["Action"] == "iam:CreateUser"
    assert [r for r in admin if r[0] != "inline"] == sorted([
        ("boundary_managed", "arn:aws:iam::aws:policy/PowerUserAccess", "PowerUserAccess", "/", None),
        ("customer_managed", None, "AuditExtras", "/idbridge/", None),
        ("managed", "arn:aws:iam::aws:policy/AdministratorAccess", "AdministratorAccess", "/", None),
    ])
    assert _policies(tables, "ReadOnly") == sorted([
        ("boundary_customer_managed", None, "ReadBoundary", "/", None),
        ("managed", "arn:aws:iam::aws:policy/ReadOnlyAccess", "ReadOnlyAccess", "/", None),
    ])
    sets = tables["idc_permission_sets"].set_index("name")
    assert sets.loc["AdministratorAccess", "sessionDuration"] == "PT2H"
    assert sets.loc["AdministratorAccess", "relayState"] == "https://console.aws.amazon.com/"
    assert sets.loc["ReadOnly", "description"] is None


def test_accounts_at_the_root_in_ous_and_suspended(box, tables):
    frame = tables["org_accounts"].set_index("accountId")
    root = box.world.aws.ou_ids[""]
    assert (frame.loc["111111111111", "ouPath"], frame.loc["111111111111", "ouId"]) == ("", root)
    assert frame.loc["222222222222", "ouPath"] == "Workloads/Prod"
    assert frame.loc["222222222222", "ouId"] == box.world.aws.ou_ids["Workloads/Prod"]
    assert sorted(frame.loc["222222222222", "tags"]) == ["env=prod", "owner=platform"]
    assert frame.loc["444444444444", "status"] == "SUSPENDED"
    assert frame.loc["111111111111", "email"] == "aws-root@contoso.com"


def test_recreated_principals_leave_orphaned_assignments(box, tables):
    frame = tables["idc_account_assignments"]
    names = {**dict(zip(tables["idc_users"]["userId"], tables["idc_users"]["userName"])),
             **dict(zip(tables["idc_groups"]["groupId"], tables["idc_groups"]["displayName"]))}
    orphans = frame[~frame["principalId"].isin(names)]
    # bob's direct ReadOnly on Prod, and AWS-Readers' ReadOnly on Prod and Dev
    assert sorted(zip(orphans["principalType"], orphans["accountId"])) == \
        [("GROUP", "222222222222"), ("GROUP", "333333333333"), ("USER", "222222222222")]
    assert len(frame) == sum(len(a.accounts) for a in box.scenario.aws.account_assignments) == 8
    provisioning = tables["idc_permission_set_provisioning"]
    stale = provisioning[provisioning["status"] == aws.PROVISIONING_STATUSES[1]]
    assert list(stale["accountId"]) == ["333333333333"]


def test_bridge_and_sign_in_events(tables):
    frame = tables["cloudtrail_events"]
    names = list(frame["eventName"])
    assert names.count("CreateBearerToken") == 1                              # now-30d
    assert names.count("UpdateExternalIdPConfigurationForDirectory") == 1     # now-39d; now-399d is outside
    failure = frame[frame["eventName"] == "ExternalIdPDirectoryLogin"].iloc[0]
    assert (failure["userName"], failure["errorMessage"]) == ("alice@contoso.com", "InvalidSignature")
    assert not isinstance(failure["errorCode"], str)  # no errorCode: responseElements says Failure
    assert json.loads(failure["event_json"])["responseElements"] == {"ExternalIdPDirectoryLogin": "Failure"}
    logins = frame[frame["eventName"] == "UserAuthentication"]
    assert sorted(logins["userName"]) == ["alice@contoso.com", "carol.cook@contoso.com"]
    ids = dict(zip(tables["idc_users"]["userName"], tables["idc_users"]["userId"]))
    assert [ids[n] for n in logins["userName"]] == list(logins["userId"])
    assert not {"Federate", "DeleteUser", "CreatePermissionSet"} & set(names)  # not events idbridge reads


def test_an_instance_arn_that_is_not_there_is_named(box):
    ctx = make_context(box)
    ctx.params.aws.instance_arn = "arn:aws:sso:::instance/ssoins-0000000000000000"
    with pytest.raises(LookupError, match="ssoins-0000000000000000 is not among the instances visible in eu-west-1"):
        aws.collect_instances(ctx)
