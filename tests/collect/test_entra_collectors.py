"""Every Entra collector against the demo sandbox, checked against the scenario file the sandbox was seeded from."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pandas as pd
import pytest
from support.sandbox import sandbox_parameters

from idbridge.clients.factory import graph_adapter
from idbridge.collect.context import CollectContext, Partial
from idbridge.collect.entra import app as entra_app
from idbridge.collect.entra.app import AppNotFound
from idbridge.collect.entra.collectors import ENTRA_COLLECTORS, collect_app
from idbridge.sandbox import derived
from idbridge.sandbox.scenario import stable_id
from idbridge.sandbox.timeexpr import graph_time, resolve_time
from idbridge.snapshot.schema import SOURCES_BY_NAME

pytestmark = pytest.mark.integration
WINDOW_DAYS = 30


def make_context(box, **app) -> CollectContext:
    params = sandbox_parameters(box, engagement="entra-tests", **({"app": app} if app else {}))
    return CollectContext(params=params, window_start=box.now - timedelta(days=WINDOW_DAYS),
                          window_end=box.now + timedelta(hours=1), graph_adapter=graph_adapter(params))


async def collect_all(ctx: CollectContext) -> dict[str, object]:
    """Run every collector in registry order (dependencies come first); returns source -> tables or exception."""
    outcome: dict[str, object] = {}
    for name, (function, _needs) in ENTRA_COLLECTORS.items():
        try:
            result = await function(ctx)
        except Exception as exc:
            outcome[name] = exc
            continue
        tables = result.tables if isinstance(result, Partial) else result
        ctx.results[name] = tables
        outcome[name] = result
    return outcome


@pytest.fixture(scope="module")
def run(demo_sandbox):
    ctx = make_context(demo_sandbox)
    progress: Counter = Counter()
    ctx.progress = lambda source, n: progress.update({source: n})
    outcome = asyncio.run(collect_all(ctx))
    return demo_sandbox, ctx, outcome, progress


def table(run, name: str):
    _box, ctx, _outcome, _progress = run
    return next(tables[name] for tables in ctx.results.values() if name in tables)


def value(x):
    """A cell as a plain value: pandas 3 keeps missing strings as NaN in its str columns."""
    return None if not isinstance(x, (list, tuple)) and pd.isna(x) else x


def live_users(scenario):
    return [u for u in scenario.entra.users if not u.deleted]


def user_id(scenario, upn: str) -> str:
    user = next(u for u in scenario.entra.users if u.upn.lower() == upn.lower())
    return user.id or stable_id(scenario.tenant.id, "user", user.upn.lower())


def group_id(scenario, name: str) -> str:
    group = next(g for g in scenario.entra.groups if g.display_name == name)
    return group.id or stable_id(scenario.tenant.id, "group", name)


# ------------------------------------------------------------------------------------------------ contract


def test_every_source_collected_completely_with_catalogue_columns(run):
    _box, _ctx, outcome, _progress = run
    for name, result in outcome.items():
        assert not isinstance(result, BaseException), f"{name}: {result!r}"
        assert not isinstance(result, Partial), f"{name}: {result.error}"
        expected = SOURCES_BY_NAME[name].tables
        assert set(result) == set(expected), name
        for table_name, frame in result.items():
            assert tuple(frame.columns) == expected[table_name], table_name


def test_progress_counts_items_as_they_arrive(run):
    box, _ctx, _outcome, progress = run
    assert progress["entra.users"] == len(live_users(box.scenario))
    assert progress["entra.group_members"] == len(table(run, "entra_group_members"))
    assert progress["entra.sign_ins"] == len(table(run, "entra_sign_ins"))


def test_batch_sub_requests_are_counted(run):
    _box, ctx, _outcome, _progress = run
    groups = table(run, "entra_app_role_assignments").query("principalType == 'Group'")
    calls = ctx.calls.snapshot()
    assert calls["graph:GET /groups/{id}/members"] == len(groups)
    assert calls["graph:GET /groups/{id}/transitiveMembers"] == len(groups)


# ------------------------------------------------------------------------------------------------ directory


def test_tenant(run):
    box = run[0]
    [row] = table(run, "entra_tenant").to_dict("records")
    tenant = box.scenario.tenant
    assert row["id"] == tenant.id and row["displayName"] == tenant.display_name
    assert row["verifiedDomains"] == [tenant.default_domain, *tenant.domains]


def test_users_are_the_scenario_users_not_deleted(run):
    box = run[0]
    users = table(run, "entra_users").set_index("userPrincipalName")
    expected = {u.upn: u for u in live_users(box.scenario)}
    assert set(users.index) == set(expected)
    for upn, u in expected.items():
        row = users.loc[upn]
        assert row["id"] == user_id(box.scenario, upn)
        assert value(row["givenName"]) == u.given_name and value(row["surname"]) == u.surname
        assert value(row["displayName"]) == u.display_name and row["userType"] == u.user_type
        assert value(row["mail"]) == u.mail and value(row["department"]) == u.department
        assert bool(row["accountEnabled"]) == u.account_enabled
        assert list(row["businessPhones"]) == u.business_phones and list(row["otherMails"]) == u.other_mails
        assert row["createdDateTime"] == graph_time(resolve_time(u.created, box.now))


def test_sign_in_activity_per_user(run):
    box = run[0]
    activity = table(run, "entra_sign_in_activity").set_index("id")
    assert len(activity) == len(live_users(box.scenario))
    for u in live_users(box.scenario):
        row = activity.loc[user_id(box.scenario, u.upn)]
        expected = graph_time(resolve_time(u.last_non_interactive_sign_in, box.now)) \
            if u.last_non_interactive_sign_in else None
        assert value(row["lastNonInteractiveSignInDateTime"]) == expected, u.upn
        if u.last_sign_in:  # the newest of the scenario's value and the user's sign-in events
            assert row["lastSignInDateTime"] >= graph_time(resolve_time(u.last_sign_in, box.now))


def test_groups(run):
    box = run[0]
    groups = table(run, "entra_groups").set_index("displayName")
    assert set(groups.index) == {g.display_name for g in box.scenario.entra.groups}
    for g in box.scenario.entra.groups:
        row = groups.loc[g.display_name]
        assert row["id"] == group_id(box.scenario, g.display_name)
        assert bool(row["isDynamic"]) == bool(g.dynamic_rule)
        assert value(row["membershipRule"]) == g.dynamic_rule
        assert list(row["groupTypes"]) == (["DynamicMembership"] if g.dynamic_rule else [])


# ------------------------------------------------------------------------------------------------ the app


def test_service_principal_and_application(run):
    box = run[0]
    s = box.scenario
    app = s.entra.aws_app
    [sp] = table(run, "entra_service_principal").to_dict("records")
    assert sp["appId"] == app.app_id and sp["displayName"] == app.display_name
    assert sp["applicationTemplateId"] == derived.AWS_GALLERY_TEMPLATE_ID
    assert sp["preferredSingleSignOnMode"] == app.sso_mode
    assert sp["loginUrl"] == (app.login_url or derived.portal_login_url(s))
    reply_urls = list(app.reply_urls) if app.reply_urls is not None else \
        [derived.acs_url(s, r) for r in derived.all_regions(s)]
    if app.keep_wildcard_reply_url:
        reply_urls.append(derived.WILDCARD_REPLY_URL)
    assert list(sp["replyUrls"]) == reply_urls
    [application] = table(run, "entra_application").to_dict("records")
    assert list(application["redirectUris"]) == reply_urls
    assert list(application["identifierUris"]) == (app.identifier_uris or [derived.issuer_url(s)])


def test_signing_certificates(run):
    box = run[0]
    certificates = box.scenario.entra.aws_app.signing_certificates
    keys = table(run, "entra_app_key_credentials")
    assert len(keys) == 2 * len(certificates)  # a Sign and a Verify credential each
    assert Counter(keys["usage"]) == {"Sign": len(certificates), "Verify": len(certificates)}
    ends = sorted(graph_time(resolve_time(c.end, box.now)) for c in certificates)
    assert sorted(keys.loc[keys["usage"] == "Verify", "endDateTime"]) == ends
    [sp] = table(run, "entra_service_principal").to_dict("records")
    active = [c for c in certificates if c.active]
    signing = keys.loc[keys["thumbprint"] == sp["preferredTokenSigningKeyThumbprint"]]
    assert len(signing) == (2 if active else 0)
    if active:
        assert signing["endDateTime"].iloc[0] == graph_time(resolve_time(active[0].end, box.now))


def test_claims(run):
    box = run[0]
    claims = box.scenario.entra.aws_app.claims
    [row] = table(run, "entra_app_claims").to_dict("records")
    assert row["nameIdFormat"].lower() == claims.name_id_format.rsplit(":", 1)[-1].lower()
    assert row["nameIdSource"] == claims.name_id_source
    assert value(row["guestNameIdSource"]) == claims.guest_name_id_source


def test_app_found_by_template_when_the_name_does_not_match(demo_sandbox):
    ctx = make_context(demo_sandbox, display_name="Some Other Name")
    tables = asyncio.run(collect_app(ctx))
    assert tables["entra_service_principal"]["appId"].iloc[0] == demo_sandbox.scenario.entra.aws_app.app_id


def test_app_not_found_says_so(demo_sandbox, monkeypatch):
    ctx = make_context(demo_sandbox, app_id="00000000-0000-4000-8000-000000000001")
    with pytest.raises(AppNotFound, match="no service principal with appId 00000000-0000-4000-8000-000000000001"):
        asyncio.run(collect_app(ctx))
    monkeypatch.setattr(entra_app, "AWS_GALLERY_TEMPLATE_ID", "11111111-1111-4111-8111-111111111111")
    ctx = make_context(demo_sandbox, display_name="Nope")
    with pytest.raises(AppNotFound, match="AWS IAM Identity Center application not found.*displayName 'Nope'"):
        asyncio.run(collect_app(ctx))


def test_assignments(run):
    box = run[0]
    s = box.scenario
    assignments = table(run, "entra_app_role_assignments")
    deleted = {u.upn.lower() for u in s.entra.users if u.deleted}
    users = {user_id(s, upn) for upn in s.entra.aws_app.assignments.users if upn.lower() not in deleted}
    groups = {group_id(s, name) for name in s.entra.aws_app.assignments.groups}
    assert set(assignments.loc[assignments["principalType"] == "User", "principalId"]) == users
    assert set(assignments.loc[assignments["principalType"] == "Group", "principalId"]) == groups
    assert len(assignments) == len(users) + len(groups)


def test_group_members_direct_and_transitive(run):
    box = run[0]
    s = box.scenario
    members = table(run, "entra_group_members")
    groups = {g.display_name: g for g in s.entra.groups}
    live = {u.upn.lower() for u in live_users(s)}

    def direct(name):
        g = groups[name]
        return {user_id(s, m) for m in g.members if m.lower() in live} | {group_id(s, n) for n in g.member_groups}

    def transitive(name, seen=()):
        out = set(direct(name))
        for nested in groups[name].member_groups:
            if nested not in seen:
                out |= transitive(nested, (*seen, name))
        return out

    for name in s.entra.aws_app.assignments.groups:
        rows = members[members["groupId"] == group_id(s, name)]
        got_direct = set(rows.loc[rows["relation"] == "direct", "memberId"])
        got_transitive = set(rows.loc[rows["relation"] == "transitive", "memberId"])
        assert got_direct == direct(name), name
        assert got_transitive == transitive(name), name
        assert got_direct <= got_transitive, name
        nested_only = got_transitive - got_direct
        for nested in groups[name].member_groups:  # members of a nested group come only through nesting
            assert {user_id(s, m) for m in groups[nested].members if m.lower() in live} - direct(name) <= nested_only
    assert set(members["memberType"]) <= {"user", "group"}
    assert set(members["relation"]) == {"direct", "transitive"}


# ------------------------------------------------------------------------------------------------ provisioning


def test_provisioning_job_and_mappings(run):
    box = run[0]
    prov = box.scenario.entra.aws_app.provisioning
    [job] = table(run, "entra_sync_jobs").to_dict("records")
    assert job["templateId"] == derived.AWS_SYNC_TEMPLATE_ID
    assert job["statusCode"] == prov.status
    assert job["scheduleInterval"] == "PT40M"
    assert job["countSuccessiveCompleteFailures"] == prov.successive_failures
    assert '"code":"' + prov.status + '"' in job["status_json"]
    mappings = table(run, "entra_sync_mappings")
    assert set(mappings["jobId"]) == {job["id"]}
    users = mappings[mappings["sourceObjectName"] == "User"].set_index("targetAttributeName")
    assert users.loc["userName", "sourceExpression"] == "[userPrincipalName]"
    assert users.loc["userName", "matchingPriority"] == 1
    assert users.loc["externalId", "sourceExpression"] == f"[{prov.external_id_source}]"
    for extra in prov.extra_mappings:
        assert users.loc[extra.target, "sourceExpression"] == f"[{extra.source}]"
    assert set(mappings["sourceObjectName"]) == {"User", "Group"}


def test_provisioning_logs_in_window(run):
    box = run[0]
    logs = table(run, "entra_provisioning_logs")
    [job] = table(run, "entra_sync_jobs").to_dict("records")
    [sp] = table(run, "entra_service_principal").to_dict("records")
    start = graph_time(box.now - timedelta(days=WINDOW_DAYS))
    # The provisioning log is written by the sandbox's provisioning engine, not listed in the scenario.
    expected = [e for e in box.world.graph.provisioning_logs
                if e["servicePrincipal"]["id"] == sp["id"] and e["activityDateTime"] >= start]
    assert len(logs) == len(expected)
    assert set(logs["id"]) == {e["id"] for e in expected}
    assert set(logs["jobId"]) <= {job["id"]}
    failures = logs[logs["status"] == "failure"]
    assert failures["errorCode"].notna().all()


# ------------------------------------------------------------------------------------------------ sign-ins, policy


def test_sign_ins_in_window(run):
    box = run[0]
    s = box.scenario
    start = box.now - timedelta(days=WINDOW_DAYS)
    expected = [e for e in s.entra.sign_ins if resolve_time(e.at, box.now) >= start]
    sign_ins = table(run, "entra_sign_ins")
    assert len(sign_ins) == len(expected)
    assert set(sign_ins["appId"]) == {s.entra.aws_app.app_id}
    assert Counter(sign_ins["userPrincipalName"].str.lower()) == Counter(e.user.lower() for e in expected)
    assert (sign_ins["errorCode"] != 0).sum() == sum(e.status == "failure" for e in expected)
    assert (sign_ins["authenticationRequirement"] == "multiFactorAuthentication").sum() == sum(e.mfa for e in expected)
    assert sorted(sign_ins["createdDateTime"]) == sorted(graph_time(resolve_time(e.at, box.now)) for e in expected)


def test_conditional_access(run):
    box = run[0]
    s = box.scenario
    policies = table(run, "entra_ca_policies").set_index("displayName")
    assert set(policies.index) == {p.display_name for p in s.entra.conditional_access}
    for p in s.entra.conditional_access:
        row = policies.loc[p.display_name]
        assert row["state"] == p.state
        apps = [s.entra.aws_app.app_id if a == "aws" else a for a in p.include_applications]
        assert list(row["includeApplications"]) == apps
        assert list(row["includeGroups"]) == [group_id(s, g) for g in p.include_groups]
        assert list(row["excludeGroups"]) == [group_id(s, g) for g in p.exclude_groups]
        assert row["grantOperator"] == p.operator
        assert list(row["builtInControls"]) == (["block"] if "block" in p.grant_controls else p.grant_controls)


def test_mfa_registration(run):
    box = run[0]
    s = box.scenario
    mfa = table(run, "entra_mfa_registration").set_index("id")
    assert len(mfa) == len(live_users(s))
    for u in live_users(s):
        row = mfa.loc[user_id(s, u.upn)]
        assert row["userPrincipalName"] == u.upn
        assert list(row["methodsRegistered"]) == (u.mfa_methods if u.mfa_registered else [])
        assert row["userType"] == u.user_type.lower()
