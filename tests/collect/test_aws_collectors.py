"""The AWS collectors against the demo sandbox, through boto3 clients built as the runner builds them: every table
against the scenario (and the sandbox's own store where the emulated SCIM cycle decided), the calls each source
makes, access denied on one source, and pacing under the sandbox's enforced AWS limits."""

from __future__ import annotations

import json
import math
import time
from collections import Counter

import pytest

from support.aws_harness import collect_all, floor_seconds, make_context, service_calls
from support.sandbox import running_sandbox
from idbridge.collect.aws import collectors as aws, trail as aws_trail
from idbridge.collect.context import Partial
from idbridge.collect.run import describe_error
from idbridge.sandbox.aws.seed_org import default_email
from idbridge.sandbox.aws.trail_events import idc_user_name
from idbridge.sandbox.faults import FaultConfig, parse_fault_spec
from idbridge.sandbox.timeexpr import resolve_time
from idbridge.snapshot.schema import SOURCES_BY_NAME, TABLE_SOURCE
from idbridge.snapshot.store import Snapshot, SnapshotWriter

pytestmark = pytest.mark.integration
NOT_PROVISIONED = "LATEST_PERMISSION_SET_NOT_PROVISIONED"


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def box():
    sandbox = running_sandbox("demo")
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def collected(box):
    box._aws_server.reset_calls()
    ctx = make_context(box)
    results = collect_all(ctx)
    failed = {name: describe_error(r) for name, r in results.items() if isinstance(r, Exception)}
    assert not failed
    return ctx, results, service_calls(box)


@pytest.fixture(scope="module")
def tables(collected):
    _, results, _ = collected
    return {table: frame for r in results.values()
            for table, frame in (r.tables if isinstance(r, Partial) else r).items()}


@pytest.fixture(scope="module")
def ps_arn(tables):
    frame = tables["idc_permission_sets"]
    return dict(zip(frame["name"], frame["permissionSetArn"]))


def _account_ids(scenario) -> dict[str, str]:
    return {ref: a.id for a in scenario.aws.accounts for ref in (a.id, a.name)}


# --------------------------------------------------------------------------------------------- tables


def test_every_source_returns_the_catalogue_tables_and_columns(collected):
    _, results, _ = collected
    assert set(results) == set(aws.AWS_COLLECTORS) == {s for s in SOURCES_BY_NAME if s.startswith("aws.")}
    for name, tables in results.items():
        expected = SOURCES_BY_NAME[name].tables
        assert set(tables) == set(expected), name
        for table, frame in tables.items():
            assert tuple(frame.columns) == expected[table], table
    ctx = collected[0]
    assert set(ctx.progress_seen) == set(results) and all(ctx.progress_seen.values())


def test_tables_survive_the_snapshot(tables, tmp_path):
    writer = SnapshotWriter(tmp_path / "snap")
    for name, frame in tables.items():
        writer.write_table(TABLE_SOURCE[name], name, frame)
    snapshot = Snapshot(writer.finish({}))
    for name, frame in tables.items():
        back = snapshot.table(name)
        assert back.shape == frame.shape, name
        for column in frame.columns:
            if column in ("externalIds", "tags"):  # None: tags not read (aws.account_tags)
                assert [None if v is None else list(v) for v in back[column]] == list(frame[column]), (name, column)
    users = snapshot.table("idc_users")
    assert any(len(v) == 0 for v in users["externalIds"]) and any(len(v) == 1 for v in users["externalIds"])


def test_instance(box, tables):
    frame = tables["idc_instances"]
    assert len(frame) == 1
    row = frame.iloc[0]
    ic = box.scenario.aws.identity_center
    assert row["instanceArn"] == box.endpoints.instance_arn
    assert row["identityStoreId"] == box.endpoints.identity_store_id
    assert row["ownerAccountId"] == box.scenario.instance_account
    assert (row["name"], row["status"], row["region"]) == (ic.instance_name, "ACTIVE", ic.region)


def test_identity_store_is_what_identity_center_holds(box, tables):
    store = box.world.aws.identity_store
    users = tables["idc_users"].set_index("userId")
    truth = {u["UserId"]: u for u in store.users()}
    assert set(users.index) == set(truth)
    for user_id, user in truth.items():
        row = users.loc[user_id]
        assert row["userName"] == user["UserName"]
        assert row["displayName"] == user.get("DisplayName")
        assert row["givenName"] == (user.get("Name") or {}).get("GivenName")
        assert row["familyName"] == (user.get("Name") or {}).get("FamilyName")
        assert row["externalIds"] == [x["Id"] for x in user.get("ExternalIds") or []]
        assert row["userStatus"] == user.get("UserStatus")
        assert row["createdBy"] == user.get("CreatedBy")
        assert row["createdAt"].endswith("Z") and row["updatedAt"].endswith("Z")
    groups = tables["idc_groups"].set_index("groupId")
    assert set(groups.index) == {g["GroupId"] for g in store.groups()}
    memberships = tables["idc_group_memberships"]
    assert set(zip(memberships["groupId"], memberships["userId"])) == \
        {(g, u) for g in groups.index for u in store.members(g)}
    assert memberships["membershipId"].is_unique

    # The scenario's hand-made principals, and a few planted differences from Entra.
    ic = box.scenario.aws.identity_center
    by_name = tables["idc_users"].assign(key=lambda f: f["userName"].str.lower()).set_index("key")
    for manual in ic.users:
        row = by_name.loc[manual.user_name.lower()]
        assert row["externalIds"] == [] and row["email"] == manual.email and row["givenName"] == manual.given_name
    assert {g.display_name for g in ic.groups} <= set(groups["displayName"])
    assert "Tomas.Horak@northwind-analytics.com" in set(users["userName"])            # username_case
    assert by_name.loc["yuki.tanaka@northwind-analytics.com", "externalIds"] == []     # external_id missing
    assert by_name.loc["marek.dvorak@northwind-analytics.com", "userStatus"] == "ENABLED"


def test_permission_sets_and_every_policy_kind(box, tables, ps_arn):
    sets = tables["idc_permission_sets"].set_index("name")
    policies = tables["idc_permission_set_policies"]
    specs = box.scenario.aws.permission_sets
    assert set(sets.index) == {p.name for p in specs}
    for spec in specs:
        row = sets.loc[spec.name]
        assert (row["description"], row["sessionDuration"], row["relayState"]) == \
            (spec.description, spec.session_duration, spec.relay_state)
        assert row["createdDate"].endswith("Z")
        mine = policies[policies["permissionSetArn"] == ps_arn[spec.name]]
        by_kind = {kind: group for kind, group in mine.groupby("kind")}
        managed = by_kind.get("managed")
        assert sorted([] if managed is None else managed["policyArn"]) == sorted(spec.managed_policies)
        customer = by_kind.get("customer_managed")
        assert sorted([] if customer is None else zip(customer["policyName"], customer["policyPath"])) == \
            sorted((p.name, p.path) for p in spec.customer_managed_policies)
        inline = by_kind.get("inline")
        if spec.inline_policy:
            assert json.loads(inline["document"].iloc[0]) == spec.inline_policy
        else:
            assert inline is None
        boundary = mine[mine["kind"].str.startswith("boundary_")]
        if spec.boundary is None:
            assert boundary.empty
        elif spec.boundary.customer_managed:
            ref = spec.boundary.customer_managed
            assert boundary[["kind", "policyName", "policyPath"]].values.tolist() == \
                [["boundary_customer_managed", ref.name, ref.path]]
        else:
            assert boundary[["kind", "policyArn"]].values.tolist() == \
                [["boundary_managed", spec.boundary.managed_policy_arn]]
    assert set(policies["kind"]) >= {"managed", "customer_managed", "inline", "boundary_customer_managed"}


def test_provisioning_status_shows_what_was_not_reprovisioned(box, tables, ps_arn):
    frame = tables["idc_permission_set_provisioning"]
    accounts = _account_ids(box.scenario)
    stale = {(ps_arn[p.name], accounts[ref])
             for p in box.scenario.aws.permission_sets for ref in p.not_reprovisioned_in}
    assert stale  # the demo plants one
    assert set(zip(frame.loc[frame["status"] == NOT_PROVISIONED, "permissionSetArn"],
                   frame.loc[frame["status"] == NOT_PROVISIONED, "accountId"])) == stale
    assigned = {(ps_arn[a.permission_set], accounts[ref]) for a in box.scenario.aws.account_assignments
                for ref in a.accounts}
    assert set(zip(frame["permissionSetArn"], frame["accountId"])) == assigned
    assert not frame.duplicated(["permissionSetArn", "accountId"]).any()  # one status per pair


def _expected_principal(scenario, item) -> tuple[str, str]:
    groups = {g.display_name: g for g in scenario.entra.groups}
    users = {u.upn.lower(): u for u in scenario.entra.users}
    if item.group:
        group = groups[item.group]
        if group.idc and group.idc.recreated:
            return "GROUP", "<orphan>"
        return "GROUP", (group.idc.display_name if group.idc and group.idc.display_name else group.display_name)
    if item.user:
        user = users[item.user.lower()]
        if user.idc and user.idc.recreated:
            return "USER", "<orphan>"
        return "USER", ((user.idc.user_name if user.idc and user.idc.user_name else None) or user.upn).lower()
    if item.idc_user:
        return "USER", item.idc_user.lower()
    return "GROUP", item.idc_group


def test_account_assignments_resolve_to_principals_except_planted_orphans(box, tables, ps_arn):
    frame = tables["idc_account_assignments"]
    scenario = box.scenario
    accounts = _account_ids(scenario)
    expected = Counter()
    for item in scenario.aws.account_assignments:
        for ref in item.accounts:
            expected[(accounts[ref], ps_arn[item.permission_set], *_expected_principal(scenario, item))] += 1
    assert len(frame) == sum(len(a.accounts) for a in scenario.aws.account_assignments)
    user_names = dict(zip(tables["idc_users"]["userId"], tables["idc_users"]["userName"].str.lower()))
    group_names = dict(zip(tables["idc_groups"]["groupId"], tables["idc_groups"]["displayName"]))
    seen = Counter()
    for row in frame.itertuples():
        names = user_names if row.principalType == "USER" else group_names
        seen[(row.accountId, row.permissionSetArn, row.principalType, names.get(row.principalId, "<orphan>"))] += 1
    assert seen == expected
    assert "<orphan>" in {key[3] for key in seen}  # the demo plants one
    assert "USER" in set(frame["principalType"])   # direct user assignments are included


def test_organization_accounts_paths_and_tags(box, tables, collected):
    scenario = box.scenario
    frame = tables["org_accounts"].set_index("accountId")
    assigned = set(tables["idc_permission_set_provisioning"]["accountId"])
    assert assigned  # the unassigned branch: test_aws_walks.py test_tags_are_read_only_where_access_can_reach
    ctx = collected[0]
    assert ctx.notes["aws.organizations"]["tags_read_for"] == len(assigned & set(frame.index))
    assert collected[2]["organizations:ListTagsForResource"] == len(assigned & set(frame.index))
    specs = {a.id: a for a in scenario.aws.accounts}
    assert set(frame.index) == set(specs) | {scenario.aws.management_account}
    for account_id, spec in specs.items():
        row = frame.loc[account_id]
        assert row["name"] == spec.name
        assert row["email"] == (spec.email or default_email(scenario, spec.name))
        assert row["status"] == spec.status
        assert row["ouPath"] == spec.ou.strip("/")
        if account_id in assigned:
            assert sorted(row["tags"]) == sorted(f"{k}={v}" for k, v in spec.tags.items())
        else:  # access cannot reach it: its tags are not read, and say so (None, not "no tags")
            assert row["tags"] is None
    ou_ids = box.world.aws.ou_ids
    assert all(frame.loc[a, "ouId"] == ou_ids[frame.loc[a, "ouPath"]] for a in frame.index)


def test_delegation_names_the_management_account_and_identity_center_admins(box, tables):
    scenario = box.scenario
    [organization] = tables["org_organization"].to_dict("records")
    assert organization["managementAccountId"] == scenario.aws.management_account
    assert organization["featureSet"] == "ALL"
    # The demo runs Identity Center from the management account: nothing is delegated.
    assert scenario.instance_account == scenario.aws.management_account
    assert tables["org_delegated_admins"].empty


def test_cloudtrail_events_of_the_window(box, tables, collected):
    ctx, _, _ = collected
    frame = tables["cloudtrail_events"]
    names = set(aws_trail.SIGN_IN_EVENTS + aws_trail.BRIDGE_EVENTS + aws_trail.PROVISIONING_EVENTS)
    start = ctx.window_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    scim_writes = set(aws_trail.SCIM_WRITE_EVENTS)
    truth = [r for r in box.world.aws.cloudtrail.events() if r["eventTime"] >= start
             and (r["eventName"] in names or (r["eventSource"] == aws_trail.SCIM_EVENT_SOURCE
                                               and r["eventName"] in scim_writes))]
    # the sandbox logs SCIM reads as AWS does, at least one per object a cycle looks at; none is collected
    reads = [r for r in box.world.aws.cloudtrail.events()
             if r["eventSource"] == aws_trail.SCIM_EVENT_SOURCE and r["eventName"] not in scim_writes]
    assert len(reads) > sum(1 for r in truth if r["eventSource"] == aws_trail.SCIM_EVENT_SOURCE)
    assert sorted(frame["eventId"]) == sorted(r["eventID"] for r in truth)
    assert frame["eventId"].is_unique
    assert list(frame["eventTime"]) == sorted(frame["eventTime"], reverse=True)

    # Sign-ins: one UserAuthentication per success, one ExternalIdPDirectoryLogin per failure, with the user.
    in_window = [s for s in box.scenario.aws.sign_ins if box.now - (box.now - ctx.window_start) <= _at(box, s.at)]
    for status, name in (("success", "UserAuthentication"), ("failure", "ExternalIdPDirectoryLogin")):
        want = Counter(idc_user_name(box.scenario, s.user).lower() for s in in_window if s.status == status)
        got = Counter(frame.loc[frame["eventName"] == name, "userName"].str.lower())
        assert got == want and got, name
    logins = frame[frame["eventName"] == "UserAuthentication"]
    # onBehalfOf.userId is the identity-store id of the user who signed in. (The demo also has successful
    # sign-ins of priya.raman, whom SCIM never created: those carry no id — see the report.)
    ids = dict(zip(tables["idc_users"]["userName"].str.lower(), tables["idc_users"]["userId"]))
    mine = logins[logins["userName"].str.lower().isin(ids)]
    assert len(mine) > 0.9 * len(logins)
    assert list(mine["userId"]) == [ids[n.lower()] for n in mine["userName"]]
    failed = frame[frame["eventName"] == "ExternalIdPDirectoryLogin"]
    assert failed["errorCode"].isna().all() and failed["errorMessage"].notna().all()
    assert all(json.loads(j)["responseElements"] == {"ExternalIdPDirectoryLogin": "Failure"}
               for j in failed["event_json"])
    scim = frame[frame["eventSource"] == aws_trail.SCIM_EVENT_SOURCE]
    assert "CreateGroup" in set(scim["eventName"])  # the scenario's recreation of AWS-Incident-Responders
    assert scim["errorCode"].notna().any()          # and the CreateUser calls SCIM had refused
    # The demo's bridge events (SCIM token, certificate upload) are older than the window: see test_aws_small.
    assert "CreatePermissionSet" not in set(frame["eventName"])  # not an event idbridge reads
    assert all(json.loads(t)["eventID"] == i for t, i in zip(frame["event_json"], frame["eventId"]))


def _at(box, expression: str):
    return resolve_time(expression, box.now)


# --------------------------------------------------------------------------------------------- calls


def test_call_counts_are_the_pair_walk_arithmetic(box, tables, collected):
    ctx, _, server = collected
    counted = Counter(ctx.calls.snapshot())
    assert counted.pop("sts:GetCallerIdentity") == 1  # may the caller use the principal-walk (walks.py)
    assert counted == server  # the client-side count is what the server saw: nothing retried, nothing missed
    assert Counter(ctx.attempts.snapshot()) - Counter({"sts:GetCallerIdentity": 1}) == server
    p = len(tables["idc_permission_sets"])
    pairs = len(aws.assignment_pairs(tables["idc_permission_set_provisioning"]))
    groups, users, accounts = len(tables["idc_groups"]), len(tables["idc_users"]), len(tables["org_accounts"])
    parents = 1 + len({ou for ou in box.world.aws.ou_ids if ou})
    per_lookup = Counter()
    for row in tables["cloudtrail_events"].itertuples():
        per_lookup[row.eventName] += 1
    lookups = sum(max(1, math.ceil(per_lookup[a["AttributeValue"]] / 50)) for a in aws_trail.LOOKUPS)
    note = ctx.notes["aws.account_assignments"]
    assert note["estimated_calls"] == {"pair-walk": pairs, "principal-walk": users + groups}
    chosen = "pair-walk"  # auto reads the complete walk (collect/aws/walks.py)
    assert note["chosen"] == chosen and note["actual_calls"] >= note["estimated_calls"][chosen]
    walk = ({"sso-admin:ListAccountAssignments": note["actual_calls"]} if chosen == "pair-walk" else
            {"sso-admin:ListAccountAssignmentsForPrincipal": note["actual_calls"]})
    tagged = len(set(tables["idc_permission_set_provisioning"]["accountId"]) & set(tables["org_accounts"]["accountId"]))
    scps = len(tables["org_scps"])
    failed = Counter(tables["idc_provisioning_failures"]["kind"])
    assert counted == Counter({**walk,
        "sso-admin:ListInstances": 1, "sso-admin:ListRegions": 1, "sso-admin:ListPermissionSets": 2,
        "sso-admin:DescribeInstanceAccessControlAttributeConfiguration": 1,  # aws.abac: one read per instance
        "sso-admin:DescribePermissionSet": p, "sso-admin:ListManagedPoliciesInPermissionSet": p,
        "sso-admin:ListCustomerManagedPolicyReferencesInPermissionSet": p,
        "sso-admin:GetInlinePolicyForPermissionSet": p, "sso-admin:GetPermissionsBoundaryForPermissionSet": p,
        "sso-admin:ListAccountsForProvisionedPermissionSet": 2 * p,
        "identitystore:ListUsers": math.ceil(users / 100), "identitystore:ListGroups": math.ceil(groups / 100),
        "identitystore:ListGroupMemberships": groups,
        "organizations:ListRoots": 1, "organizations:ListAccountsForParent": parents,
        "organizations:ListOrganizationalUnitsForParent": parents, "organizations:ListTagsForResource": tagged,
        "organizations:DescribeOrganization": 1, "organizations:ListDelegatedAdministrators": 1,
        "cloudtrail:LookupEvents": lookups,
        # aws.scps: one listing, then a Describe and a target listing per policy
        "organizations:ListPolicies": 1, "organizations:DescribePolicy": scps,
        "organizations:ListTargetsForPolicy": scps,
        # aws.provisioning_failures: two listings filtered on FAILED, one Describe per failure only
        "sso-admin:ListPermissionSetProvisioningStatus": 1, "sso-admin:ListAccountAssignmentCreationStatus": 1,
        **({"sso-admin:DescribePermissionSetProvisioningStatus": failed["permission_set"]}
           if failed["permission_set"] else {}),
        **({"sso-admin:DescribeAccountAssignmentCreationStatus": failed["assignment"]}
           if failed["assignment"] else {}),
    })


# --------------------------------------------------------------------------------------------- faults


@pytest.fixture
def faults(box):
    """Switch the running sandbox's faults (its middleware reads them per request); restored afterwards."""
    before = box.world.faults

    def switch(spec: str) -> FaultConfig:
        box.world.faults = parse_fault_spec(spec)
        return box.world.faults

    yield switch
    box.world.faults = before


def test_denied_cloudtrail_fails_alone_with_the_access_denied_text(box, faults, collected):
    faults("deny=cloudtrail")
    results = collect_all(make_context(box), ["aws.instances", "aws.organizations", "aws.cloudtrail",
                                              "aws.permission_sets"])
    error = results["aws.cloudtrail"]
    assert isinstance(error, Exception)
    text = describe_error(error)
    assert text.startswith("AccessDeniedException:") and "cloudtrail:LookupEvents" in text
    for name in ("aws.instances", "aws.organizations", "aws.permission_sets"):
        assert not isinstance(results[name], Exception), name
    assert len(results["aws.organizations"]["org_accounts"]) == len(collected[1]["aws.organizations"]["org_accounts"])


def test_paced_collection_meets_no_throttling_under_enforced_limits(box, faults, collected):
    faults("aws_throttle=on,latency=20")
    box._aws_server.reset_calls()
    ctx = make_context(box)
    started = time.monotonic()
    results = collect_all(ctx)
    elapsed = time.monotonic() - started
    assert not [n for n, r in results.items() if isinstance(r, Exception)]
    refused = box._aws_server.refused
    assert not [k for k in refused if k.endswith("ThrottlingException")], refused
    calls = service_calls(box)
    assert calls + Counter({"sts:GetCallerIdentity": 1}) == Counter(ctx.calls.snapshot())
    assert Counter(ctx.attempts.snapshot()) == Counter(ctx.calls.snapshot())  # botocore never had to retry
    sso = sum(n for k, n in calls.items() if k.startswith("sso-admin:"))
    assert elapsed >= sso / 20.0
    floor, per_bucket = floor_seconds(calls, box.scenario.aws.identity_center.region)
    print(f"\npaced demo collection: {elapsed:.2f} s, floor {floor:.2f} s ({elapsed / floor:.3f}x); "
          f"buckets {({k: round(v, 2) for k, v in per_bucket.items()})}")
    # Not a speed test: only a guard against losing the concurrency (a serial walk takes several times longer).
    assert elapsed <= 1.5 * floor + 3.0
