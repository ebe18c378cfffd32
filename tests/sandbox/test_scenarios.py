"""The shipped scenario files, the large-organisation generator and the errors a bad scenario file gives.

Besides loading each file, the demo and broken-provisioning scenarios are read by a small oracle
(`predicted_findings`) that works out, from the scenario alone, what the user-, group- and permission-set-level
checks of docs/check-ids.md must report. Its answer must equal the planted `faults:` list for those checks, so a
planted fault that would not fire, or a situation that fires a check nobody listed, fails here first.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from idbridge.errors import InputError
from idbridge.sandbox.derived import acs_url, all_regions
from idbridge.sandbox.generate import dump_yaml, generate_scenario, write_flow_yaml
from idbridge.sandbox.scenario import Scenario, check_references, load_scenario
from idbridge.sandbox.timeexpr import resolve_time

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def check_ids_from_doc() -> dict[str, str]:
    """check id -> subject kinds, from the table in docs/check-ids.md."""
    ids = {}
    for line in (ROOT / "docs" / "check-ids.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*([a-z0-9_]+\.[a-z0-9_.]+)\s*\|\s*([^|]+)\|", line)
        if match:
            ids[match.group(1)] = match.group(2).strip()
    return ids


@functools.lru_cache(maxsize=None)
def shipped(path: Path) -> Scenario:
    """Each shipped file is parsed once per session (the pure-Python YAML reader takes seconds for demo.yaml)."""
    return load_scenario(path)


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return shipped(SCENARIOS / "demo.yaml")


@pytest.fixture(scope="module")
def broken() -> Scenario:
    return shipped(SCENARIOS / "broken-provisioning.yaml")


# --------------------------------------------------------------------------------------------- shipped files


def test_the_three_scenarios_are_shipped():
    assert {p.stem for p in SHIPPED} >= {"demo", "broken-provisioning", "empty"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads(path):
    scenario = shipped(path)
    assert scenario.scenario and scenario.tenant.id


def test_demo_has_the_size_asked_for(demo):
    assert 240 <= len(demo.entra.users) <= 360
    assert 32 <= len(demo.entra.groups) <= 48
    assert 10 <= len(demo.aws.accounts) <= 14
    assert 7 <= len(demo.aws.permission_sets) <= 10
    assert 10 <= len(demo.entra.aws_app.assignments.groups) <= 15
    assert 200 <= len(demo.entra.sign_ins) <= 1000
    assert any(u.user_type == "Guest" for u in demo.entra.users)
    assert any(g.dynamic_rule for g in demo.entra.groups) and any(g.member_groups for g in demo.entra.groups)
    assert any(not u.upn.isascii() or not (u.display_name or "").isascii() for u in demo.entra.users)
    assert {a.tags.get("environment") for a in demo.aws.accounts} == {"prod", "staging", "dev"}


def test_demo_yaml_is_the_generator_output():
    from idbridge.sandbox.demo_scenario import render_text

    assert (SCENARIOS / "demo.yaml").read_text(encoding="utf-8") == render_text(), \
        "demo.yaml is not what its generator writes: run `idbridge dev make-demo` and commit the result"


def test_demo_real_shapes_yaml_is_the_generator_output():
    from idbridge.sandbox.demo_real_shapes import render_text

    assert (SCENARIOS / "demo-real-shapes.yaml").read_text(encoding="utf-8") == render_text(), \
        "demo-real-shapes.yaml is not what its generator writes: run `idbridge dev make-demo --variant " \
        "real-shapes` and commit the result"


def test_demo_reply_urls_are_the_derived_ones(demo):
    """The demo writes the primary region's ACS URL out (to leave the extra region's out): it must stay the URL
    the sandbox derives, or the demo would plant reply_url_missing for the primary region too."""
    primary, *others = all_regions(demo)
    assert demo.entra.aws_app.reply_urls == [acs_url(demo, primary)]
    assert others, "the demo plants a missing reply URL for an extra region"


def test_each_check_id_is_planted_in_demo_or_broken_provisioning(demo, broken):
    # The ABAC checks (docs/abac.md) need an organisation that uses ABAC: scenarios/abac.yaml plants them.
    abac = shipped(SCENARIOS / "abac.yaml")
    planted = {f.check for f in demo.faults} | {f.check for f in broken.faults} | {f.check for f in abac.faults}
    missing = sorted(set(check_ids_from_doc()) - planted)
    assert not missing, f"not planted anywhere: {missing}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_fault_checks_are_known_ids_with_the_documented_subject(path):
    ids = check_ids_from_doc()
    for fault in shipped(path).faults:
        assert fault.check in ids, f"{fault.check} is not in docs/check-ids.md"
        kind = fault.subject.split(":", 1)[0]
        assert kind in ids[fault.check].replace(" ", "").split("/"), \
            f"{fault.check}: subject {fault.subject} is not a {ids[fault.check]}"


def subject_exists(scenario: Scenario, subject: str) -> bool:
    kind, _, ref = subject.partition(":")
    if kind == "user":
        return ref.lower() in {u.upn.lower() for u in scenario.entra.users} | \
            {u.user_name.lower() for u in scenario.aws.identity_center.users}
    if kind == "group":
        return ref in {g.display_name for g in scenario.entra.groups} | \
            {g.display_name for g in scenario.aws.identity_center.groups}
    if kind == "account":
        return ref in {a.id for a in scenario.aws.accounts}
    if kind == "permission_set":
        return ref in {p.name for p in scenario.aws.permission_sets}
    if kind == "app":
        return scenario.entra.aws_app is not None and scenario.entra.aws_app.display_name == ref
    return False


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_fault_subject_exists(path):
    scenario = shipped(path)
    dangling = [f"{f.check} {f.subject}" for f in scenario.faults if not subject_exists(scenario, f.subject)]
    assert not dangling


def test_empty_is_the_setup_starting_point():
    scenario = shipped(SCENARIOS / "empty.yaml")
    assert scenario.entra.users and scenario.entra.groups
    assert scenario.entra.aws_app is None and not scenario.entra.sign_ins
    assert scenario.aws.accounts and scenario.aws.identity_center.identity_source == "identity_center"
    assert not scenario.aws.permission_sets and not scenario.aws.account_assignments
    assert not scenario.faults


def test_docs_describe_every_scenario_key():
    import typing

    from pydantic import BaseModel

    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    missing, seen = [], set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if not any(form in doc for form in (f"`{name}`", f"`{name}:", f"{{{name}", f", {name}")):
                missing.append(f"{model.__name__}.{name}")
            for arg in (*typing.get_args(field.annotation), field.annotation):
                for inner in typing.get_args(arg) or (arg,):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        walk(inner)

    walk(Scenario)
    assert not missing, f"docs/scenarios.md does not mention {missing}"


def test_docs_list_every_planted_demo_fault(demo):
    doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    table = doc.split("## The faults planted in demo.yaml", 1)[1]
    for fault in demo.faults:
        assert f"| `{fault.check}` | `{fault.subject}` |" in table, f"{fault.check} {fault.subject}"


# --------------------------------------------------------------------------------------------- the oracle

FORBIDDEN = set('\t\n\r"<>|;:%')
PRIVILEGED_MANAGED = {"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"}
STALE_DAYS = 90
LONG_SESSION_HOURS = 8
SOD_PAIRS = [{"AdministratorAccess", "SecurityAudit"}]
ORACLE_CHECKS = {
    "provisioning.errors", "reconcile.missing_in_idc", "reconcile.extra_in_idc", "reconcile.created_by_hand",
    "reconcile.group_membership", "reconcile.group_name_drift", "reconcile.attribute_mismatch",
    "reconcile.username_mismatch", "reconcile.username_case", "reconcile.external_id", "reconcile.orphaned_assignment",
    "reconcile.disabled_still_enabled",
    "scim.nested_group_only", "scim.missing_required_attribute", "scim.multi_valued_attribute",
    "scim.forbidden_characters", "scim.duplicate_value", "scim.guest_name_id", "aws.permission_set_not_reprovisioned",
    "access.privileged_permission_set", "access.privileged_prod_access", "access.direct_user_assignment",
    "access.guest_access", "access.disabled_user_access", "access.stale_user", "access.no_mfa", "access.long_session",
    "access.unused_permission_set", "access.sod_conflict",
}


def _privileged(ps) -> bool:
    if set(ps.managed_policies) & PRIVILEGED_MANAGED:
        return True
    if ps.boundary is not None or not ps.inline_policy:
        return False
    for statement in ps.inline_policy.get("Statement", []):
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if statement.get("Effect") == "Allow" and "*" in resources and ({"*", "iam:PassRole"} & set(actions)):
            return True
    return False


def _hours(duration: str) -> float:
    match = re.match(r"^PT(?:(\d+)H)?(?:(\d+)M)?$", duration)
    return int(match.group(1) or 0) + int(match.group(2) or 0) / 60


def lingering_pim(s: Scenario) -> dict[str, set[str]]:
    """group -> UPNs (lower case) whose ended PIM activation left the membership in Identity Center
    (`still_in_idc`, docs/scenarios.md)."""
    out: dict[str, set[str]] = {}
    for pim in s.entra.pim_groups:
        for entry in pim.active:
            if entry.still_in_idc:
                out.setdefault(pim.group, set()).add(entry.user.lower())
    return out


def predicted_findings(s: Scenario) -> set[tuple[str, str]]:
    """What the user/group/permission-set checks must find, read from the scenario by the rules of
    docs/scenarios.md (scope, what SCIM refuses, seeding of `idc`, `deleted`, `recreated`)."""
    found: set[tuple[str, str]] = set()
    app = s.entra.aws_app
    prov = app.provisioning
    users = {u.upn.lower(): u for u in s.entra.users}
    groups = {g.display_name: g for g in s.entra.groups}
    maps_mobile = any(m.source == "mobile" for m in prov.extra_mappings)

    # scope: directly assigned users, then the direct members of assigned groups, in the order SCIM meets them
    # (or everyone with scope all)
    if prov.scope == "all":
        scope = [u.upn.lower() for u in s.entra.users]
    else:
        scope = [m.lower() for m in app.assignments.users]
        scope += [m.lower() for g in app.assignments.groups for m in groups[g].members]
    scope = list(dict.fromkeys(scope))
    live_scope = [upn for upn in scope if not users[upn].deleted]

    def refusals(u) -> list[str]:
        out = []
        if not (u.given_name and u.surname and u.display_name and u.mail):
            out.append("scim.missing_required_attribute")
        phones = len(u.business_phones) + (1 if (u.mobile_phone and maps_mobile) else 0)
        if phones > 1 or len([m for m in [u.mail] if m]) > 1:
            out.append("scim.multi_valued_attribute")
        mapped = [u.upn, u.display_name, u.given_name, u.surname, u.mail, u.job_title, u.department,
                  u.employee_id, u.street_address, u.city, u.country, u.preferred_language, u.mobile_phone,
                  *u.business_phones]
        if any(FORBIDDEN & set(value) for value in mapped if value):
            out.append("scim.forbidden_characters")
        return out

    refused: dict[str, list[str]] = {}
    mails: dict[str, str] = {}
    for upn in live_scope:
        u = users[upn]
        reasons = refusals(u)
        mail = (u.mail or "").lower()
        if mail and mail in mails:
            reasons.append("scim.duplicate_value")
            found.add(("scim.duplicate_value", "user:" + users[mails[mail]].upn))
        elif mail:
            mails[mail] = upn
        if reasons:
            refused[upn] = reasons
    for upn, reasons in refused.items():
        for check in reasons:
            found.add((check, "user:" + users[upn].upn))
        found.add(("provisioning.errors", "user:" + users[upn].upn))
        found.add(("reconcile.missing_in_idc", "user:" + users[upn].upn))
    pending = {upn for upn in live_scope if users[upn].idc and not users[upn].idc.present}
    for upn in pending:
        found.add(("reconcile.missing_in_idc", "user:" + users[upn].upn))
    in_idc = {upn for upn in scope if upn not in refused and upn not in pending}

    def transitive(name: str, seen: set) -> set:
        if name in seen:
            return set()
        seen.add(name)
        members = {m.lower() for m in groups[name].members}
        for sub in groups[name].member_groups:
            members |= transitive(sub, seen)
        return members

    if prov.scope == "assigned":
        for g in app.assignments.groups:
            for sub in groups[g].member_groups:
                for upn in transitive(sub, set()) - set(scope):
                    found.add(("scim.nested_group_only", "user:" + users[upn].upn))

    # Identity Center state of users
    for upn in in_idc:
        u = users[upn]
        if u.deleted:
            found.add(("reconcile.extra_in_idc", "user:" + u.upn))
        if (not u.account_enabled or u.deleted) and u.idc and u.idc.active:
            found.add(("reconcile.disabled_still_enabled", "user:" + u.upn))
        if u.idc:
            if u.idc.user_name and u.idc.user_name != u.upn:
                kind = "reconcile.username_case" if u.idc.user_name.lower() == u.upn.lower() \
                    else "reconcile.username_mismatch"
                found.add((kind, "user:" + u.upn))
            for ours, theirs in (("display_name", "display_name"), ("given_name", "given_name"),
                                 ("surname", "family_name"), ("mail", "email")):
                if getattr(u.idc, theirs) is not None and getattr(u.idc, theirs) != getattr(u, ours):
                    found.add(("reconcile.attribute_mismatch", "user:" + u.upn))
            if u.idc.external_id == "":
                found.add(("reconcile.external_id", "user:" + u.upn))
    for user in s.aws.identity_center.users:
        found.add(("reconcile.created_by_hand", "user:" + user.user_name))
        found.add(("reconcile.extra_in_idc", "user:" + user.user_name))
    for group in s.aws.identity_center.groups:
        found.add(("reconcile.created_by_hand", "group:" + group.display_name))
        found.add(("reconcile.extra_in_idc", "group:" + group.display_name))

    # groups
    provisioned_groups = set(groups) if prov.scope == "all" else set(app.assignments.groups)
    for name in sorted(provisioned_groups):
        g = groups[name]
        if FORBIDDEN & set(name):  # refused by SCIM (scim_rules): never in Identity Center
            for check in ("scim.forbidden_characters", "provisioning.errors", "reconcile.missing_in_idc"):
                found.add((check, "group:" + name))
            continue
        if g.idc and not g.idc.present:
            found.add(("reconcile.missing_in_idc", "group:" + name))
            continue
        if g.idc and g.idc.display_name and g.idc.display_name != name:
            found.add(("reconcile.group_name_drift", "group:" + name))
        direct = {m.lower() for m in g.members}
        if any(m not in in_idc or users[m].deleted for m in direct):
            found.add(("reconcile.group_membership", "group:" + name))
        if lingering_pim(s).get(name):  # an ended PIM activation Identity Center still holds
            found.add(("reconcile.group_membership", "group:" + name))

    # access
    ps = {p.name: p for p in s.aws.permission_sets}
    accounts = {}
    for a in s.aws.accounts:
        accounts[a.id] = accounts[a.name] = a
    holders: dict[str, set[str]] = {}  # subject -> permission sets held
    used_ps: set[str] = set()
    for assignment in s.aws.account_assignments:
        used_ps.add(assignment.permission_set)
        if assignment.group and groups[assignment.group].idc and groups[assignment.group].idc.recreated:
            for ref in assignment.accounts:
                found.add(("reconcile.orphaned_assignment", "account:" + accounts[ref].id))
            continue
        if assignment.group:
            members = [m.lower() for m in groups[assignment.group].members if m.lower() in in_idc]
            principal = "group:" + assignment.group
        elif assignment.user:
            members = [assignment.user.lower()]
            principal = "user:" + users[assignment.user.lower()].upn
            found.add(("access.direct_user_assignment", principal))
        elif assignment.idc_group:
            members = [m.lower() for g in s.aws.identity_center.groups if g.display_name == assignment.idc_group
                       for m in g.members]
            principal = "group:" + assignment.idc_group
        else:
            members = [assignment.idc_user.lower()]
            principal = "user:" + assignment.idc_user
        if _privileged(ps[assignment.permission_set]) and any(
                accounts[ref].tags.get("environment") == "prod" for ref in assignment.accounts):
            found.add(("access.privileged_prod_access", principal))
        for member in members:
            holders.setdefault(member, set()).add(assignment.permission_set)
    for p in s.aws.permission_sets:
        if _privileged(p):
            found.add(("access.privileged_permission_set", "permission_set:" + p.name))
        if p.name not in used_ps:
            found.add(("access.unused_permission_set", "permission_set:" + p.name))
        if _hours(p.session_duration) > LONG_SESSION_HOURS:
            found.add(("access.long_session", "permission_set:" + p.name))
        if p.not_reprovisioned_in:
            found.add(("aws.permission_set_not_reprovisioned", "permission_set:" + p.name))

    horizon = NOW - timedelta(days=STALE_DAYS)
    aws_seen: dict[str, datetime] = {}
    for sign_in in s.aws.sign_ins:
        if sign_in.status == "success":
            at = resolve_time(sign_in.at, NOW)
            aws_seen[sign_in.user.lower()] = max(at, aws_seen.get(sign_in.user.lower(), at))
    hand_made = {u.user_name.lower() for u in s.aws.identity_center.users}
    for holder, held in holders.items():
        for pair in SOD_PAIRS:
            if pair <= held:
                found.add(("access.sod_conflict", "user:" + (users[holder].upn if holder in users else holder)))
        if holder in hand_made:
            if aws_seen.get(holder, horizon) <= horizon:
                found.add(("access.stale_user", "user:" + holder))
            continue
        u = users[holder]
        subject = "user:" + u.upn
        if u.user_type == "Guest":
            found.add(("access.guest_access", subject))
            if app.claims.guest_name_id_source is None:
                found.add(("scim.guest_name_id", subject))
        if not u.mfa_registered:
            found.add(("access.no_mfa", subject))
        if u.deleted or not u.account_enabled:
            found.add(("access.disabled_user_access", subject))
            continue
        idc_name = (u.idc.user_name if u.idc and u.idc.user_name else u.upn).lower()
        entra_last = resolve_time(u.last_sign_in, NOW) if u.last_sign_in else None
        if entra_last is None or entra_last <= horizon or aws_seen.get(idc_name, horizon) <= horizon:
            found.add(("access.stale_user", subject))
    return found


@pytest.mark.parametrize("name", ["demo", "broken-provisioning"])
def test_planted_faults_are_exactly_what_the_scenario_implies(name):
    scenario = shipped(SCENARIOS / f"{name}.yaml")
    listed = {(f.check, f.subject) for f in scenario.faults
              if f.check in ORACLE_CHECKS and not f.subject.startswith("app:")}  # app level: not the oracle's
    predicted = predicted_findings(scenario)
    assert sorted(predicted - listed) == [], "situations in the scenario that nobody listed as a fault"
    assert sorted(listed - predicted) == [], "listed faults the scenario does not plant"


@pytest.mark.parametrize("name", ["demo", "broken-provisioning", "demo-real-shapes"])
def test_seeded_identity_center_is_what_the_faults_say(name):
    """Seed the sandbox (Graph store, SCIM history, moto side) and compare Identity Center with the scenario read
    through its planted faults: who SCIM refused (provisioning.errors), who is not there yet, user names, status
    and the direct memberships of every provisioned group."""
    try:
        from idbridge.sandbox.world import build_world
    except ImportError as exc:  # the emulators are built in parallel
        pytest.skip(f"sandbox seeding not available: {exc}")
    s = shipped(SCENARIOS / f"{name}.yaml")
    world = build_world(s, NOW)
    store = world.aws.identity_store
    app, users = s.entra.aws_app, {u.upn.lower(): u for u in s.entra.users}
    groups = {g.display_name: g for g in s.entra.groups}
    refused = {f.subject[5:].lower() for f in s.faults
               if f.check == "provisioning.errors" and f.subject.startswith("user:")}
    refused_groups = {f.subject[6:] for f in s.faults
                      if f.check == "provisioning.errors" and f.subject.startswith("group:")}
    if app.provisioning.scope == "all":
        scope = set(users)
    else:
        scope = {m.lower() for g in app.assignments.groups for m in groups[g].members}
        scope |= {u.lower() for u in app.assignments.users}
    in_idc = {u for u in scope if u not in refused and not (users[u].idc and not users[u].idc.present)}

    def idc_name(upn: str) -> str:
        u = users[upn]
        return (u.idc.user_name if u.idc and u.idc.user_name else u.upn).lower()

    got = {u["UserName"].lower(): u for u in store.users()}
    hand_made = {u.user_name.lower() for u in s.aws.identity_center.users}
    assert set(got) == {idc_name(u) for u in in_idc} | hand_made
    for upn in in_idc:
        u = users[upn]
        enabled = u.account_enabled or bool(u.idc and u.idc.active)
        assert got[idc_name(upn)]["UserStatus"] == ("ENABLED" if enabled else "DISABLED"), upn
    failed = {(e.get("sourceIdentity") or {}).get("id") for e in world.graph.provisioning_logs
              if e["provisioningStatusInfo"]["status"] == "failure"}
    entra_ids = {u["userPrincipalName"].lower(): i for i, u in world.graph.users.items()}
    assert {entra_ids[u] for u in refused} <= failed
    by_id = {u["UserId"]: u["UserName"].lower() for u in store.users()}
    provisioned = set(groups) if app.provisioning.scope == "all" else set(app.assignments.groups)
    present = {g for g in provisioned if not (groups[g].idc and not groups[g].idc.present)} - refused_groups
    got_groups = {g["DisplayName"]: g["GroupId"] for g in store.groups()}
    idc_group = {g: (groups[g].idc and groups[g].idc.display_name) or g for g in present}  # renamed: old name
    assert set(got_groups) == set(idc_group.values()) | {g.display_name for g in s.aws.identity_center.groups}
    for name_ in present:
        members = {by_id[m] for m in store.members(got_groups[idc_group[name_]])}
        expected = {m.lower() for m in groups[name_].members} | lingering_pim(s).get(name_, set())
        assert members == {idc_name(m) for m in expected if m in in_idc}, name_


def test_demo_users_with_access_signed_in_on_both_sides_recently(demo):
    """Every Entra sign-in success to the app is followed by a UserAuthentication within a minute from the same
    IP (users with a planted Identity Center user name excepted), and no sign-in lies outside 30 days."""
    aws = {}
    for row in demo.aws.sign_ins:
        aws.setdefault(row.ip, []).append(resolve_time(row.at, NOW))
    names = {u.upn.lower(): u for u in demo.entra.users}
    for row in demo.entra.sign_ins:
        at = resolve_time(row.at, NOW)
        assert NOW - at <= timedelta(days=30)
        if row.status == "success" and not (names[row.user.lower()].idc and
                                            names[row.user.lower()].idc.user_name):
            assert any(timedelta(0) < t - at < timedelta(minutes=1) for t in aws.get(row.ip, [])), row


# --------------------------------------------------------------------------------------------- generator


def _validated(doc: dict) -> Scenario:
    scenario = Scenario.model_validate(doc)
    assert check_references(scenario) == []
    return scenario


def test_generator_is_deterministic_per_seed():
    first = generate_scenario(500, 30, 20, 30, seed=3)
    assert first == generate_scenario(500, 30, 20, 30, seed=3)
    assert first != generate_scenario(500, 30, 20, 30, seed=4)


def test_generated_scenario_validates_and_has_the_sizes_asked():
    doc = generate_scenario(500, 30, 20, 30, seed=1)
    scenario = _validated(doc)
    assert len(scenario.entra.users) == 500 and len(scenario.entra.groups) == 30
    assert len(scenario.aws.accounts) == 20 and len(scenario.aws.permission_sets) == 30
    assigned = scenario.entra.aws_app.assignments.groups
    assert abs(len(assigned) - 6) <= 1  # about 20 %
    assert any(g.member_groups for g in scenario.entra.groups) and any(g.dynamic_rule for g in scenario.entra.groups)
    ous = {a.ou for a in scenario.aws.accounts}
    assert {"Workloads/Prod", "Security"} <= ous


def test_generated_assignment_target_is_met():
    doc = generate_scenario(2000, 100, 40, 40, seed=2, assignments=900)
    pairs = sum(len(a["accounts"]) for a in doc["aws"]["account_assignments"])
    assert 900 <= pairs <= 1100


def test_generated_faults_are_known_and_their_subjects_exist():
    scenario = _validated(generate_scenario(500, 30, 20, 30, seed=5))
    ids = check_ids_from_doc()
    assert scenario.faults
    for fault in scenario.faults:
        assert fault.check in ids
        assert subject_exists(scenario, fault.subject), fault.subject
    kinds = {f.check for f in scenario.faults}
    assert {"scim.missing_required_attribute", "scim.nested_group_only", "reconcile.disabled_still_enabled",
            "access.guest_access", "access.unused_permission_set"} <= kinds


@pytest.mark.parametrize("sizes", [(600, 40, 20, 30, 6), (50, 20, 4, 12, 1), (3000, 150, 60, 40, 11)])
def test_generated_faults_are_what_the_scenario_implies(sizes):
    *counts, seed = sizes
    scenario = _validated(generate_scenario(*counts, seed=seed))
    listed = {(f.check, f.subject) for f in scenario.faults if f.check in ORACLE_CHECKS - {"access.stale_user"}}
    predicted = {item for item in predicted_findings(scenario) if item[0] != "access.stale_user"}
    assert sorted(predicted - listed) == [] and sorted(listed - predicted) == []


@pytest.mark.parametrize("writer", [write_flow_yaml, dump_yaml], ids=["flow", "pyyaml"])
def test_generated_file_loads(tmp_path, writer):
    doc = generate_scenario(300, 25, 10, 20, seed=7)
    path = tmp_path / "large.yaml"
    writer(doc, path)
    scenario = load_scenario(path)
    assert len(scenario.entra.users) == len(doc["entra"]["users"])


def test_generator_cli(tmp_path, capsys):
    from idbridge.cli import main

    out = tmp_path / "g.yaml"
    with pytest.raises(SystemExit) as exit_info:
        main(["sandbox", "generate", "--users", "200", "--groups", "25", "--accounts", "8", "--permission-sets",
              "15", "--seed", "9", "--faults-per-kind", "2", "--out", str(out), "--check"])
    assert exit_info.value.code == 0
    assert "load_scenario" in capsys.readouterr().out
    assert load_scenario(out).faults


# --------------------------------------------------------------------------------------------- bad files

GOOD = """\
scenario: Tiny
tenant:
  id: 11111111-2222-4333-8444-555555555555
  display_name: Tiny
  default_domain: tiny.onmicrosoft.com
entra:
  users:
    - upn: ann@tiny.example
      given_name: Ann
    - upn: bob@tiny.example
      account_enabled: true
  groups:
    - display_name: AWS-Admins
      members: [ann@tiny.example, bob@tiny.example]
aws:
  management_account: "123456789012"
  accounts:
    - {id: "123456789012", name: mgmt}
  permission_sets:
    - {name: ReadOnly}
  account_assignments:
    - {group: AWS-Admins, permission_set: ReadOnly, accounts: [mgmt]}
"""


def _load(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def _line(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert str(tmp_path / "bad.yaml") in message
    return message


def test_the_good_base_loads(tmp_path):
    assert _load(tmp_path, GOOD).entra.groups[0].members == ["ann@tiny.example", "bob@tiny.example"]


def test_unknown_key_names_line_and_key(tmp_path):
    text = GOOD.replace("      given_name: Ann", "      givenName: Ann")
    message = _error(tmp_path, text)
    assert f"line {_line(text, 'givenName')}, entra.users[0].givenName: unknown key" in message


def test_wrong_type_names_line_and_key(tmp_path):
    text = GOOD.replace("      account_enabled: true", "      account_enabled: perhaps")
    message = _error(tmp_path, text)
    assert f"line {_line(text, 'perhaps')}, entra.users[1].account_enabled:" in message
    assert "boolean" in message


def test_list_given_as_a_string_names_line_and_key(tmp_path):
    text = GOOD.replace("      members: [ann@tiny.example, bob@tiny.example]", "      members: ann@tiny.example")
    message = _error(tmp_path, text)
    assert f"line {_line(text, 'members: ann')}, entra.groups[0].members:" in message


def test_member_who_is_not_a_user_names_line_and_reference(tmp_path):
    text = GOOD.replace("[ann@tiny.example, bob@tiny.example]",
                        "[ann@tiny.example,\n               carol@tiny.example]")
    message = _error(tmp_path, text)
    assert (f"line {_line(text, 'carol@')}, entra.groups[0].members[1]: no user 'carol@tiny.example' in entra.users"
            in message)


def test_unknown_group_in_an_assignment_names_line_and_reference(tmp_path):
    text = GOOD.replace("{group: AWS-Admins, permission_set", "{group: AWS-Nobody, permission_set")
    message = _error(tmp_path, text)
    assert (f"line {_line(text, 'AWS-Nobody')}, aws.account_assignments[0].group: no group 'AWS-Nobody' in "
            f"entra.groups" in message)


def test_unknown_account_and_permission_set_are_reported_together(tmp_path):
    text = GOOD.replace("permission_set: ReadOnly, accounts: [mgmt]", "permission_set: Admin, accounts: [prod]")
    message = _error(tmp_path, text)
    line = _line(text, "permission_set: Admin")
    assert "2 problems" in message
    assert f"line {line}, aws.account_assignments[0].accounts[0]: no account 'prod'" in message
    assert f"line {line}, aws.account_assignments[0].permission_set: no permission set 'Admin'" in message


def test_duplicate_key_names_line_and_key(tmp_path):
    text = GOOD.replace("  display_name: Tiny\n", "  display_name: Tiny\n  display_name: Tiny Ltd\n")
    message = _error(tmp_path, text)
    assert f"line {_line(text, 'Tiny Ltd')}, tenant.display_name: key given twice" in message


def test_malformed_yaml_names_line(tmp_path):
    text = GOOD.replace("members: [ann@tiny.example, bob@tiny.example]", "members: [ann@tiny.example, bob@tiny.example")
    message = _error(tmp_path, text)
    assert re.search(r"line \d+, column \d+: not valid YAML", message)
    line = int(re.search(r"line (\d+)", message).group(1))
    assert line >= _line(text, "members: [ann")


def test_unquoted_account_id_is_reported(tmp_path):
    text = GOOD.replace('management_account: "123456789012"', "management_account: 123456789012")
    message = _error(tmp_path, text)
    assert f"line {_line(text, 'management_account')}, aws.management_account:" in message
