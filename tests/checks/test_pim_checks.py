"""PIM for Groups checks on small tables: each planted condition is found, and a correct just-in-time setup (the
clean counterpart) raises nothing."""

from __future__ import annotations

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import pim
from idbridge.checks.runner import run_checks

load_all()
PIM_IDS = {"access.pim_permanent_member", "access.pim_activation_shorter_than_cycle",
           "access.pim_activation_too_long", "access.pim_membership_outlives_activation", "access.pim_group_nested"}


def schedule(kind, user, **extra) -> dict:
    return {"groupId": "g-aws-devs", "id": f"{kind}-{user}-{extra.get('startDateTime')}", "kind": kind,
            "principalId": f"u-{user}", "accessId": "member", "memberType": "direct", "status": "Provisioned",
            "startDateTime": "2026-01-01T00:00:00Z", **extra}


def instance(kind, user, **extra) -> dict:
    row = schedule(kind, user, **extra)
    row.pop("status")
    row["scheduleId"] = row["id"]
    return row


def clean() -> dict:
    """AWS-Devs is PIM-managed: bob and carol eligible; bob has activated for 4 hours (in force, so a direct
    member in Entra and in Identity Center); carol is eligible only and in neither."""
    data = bt.rows()
    data["entra_pim_schedules"] = [
        schedule("eligibility", "bob", endDateTime="2027-01-01T00:00:00Z", expirationType="afterDateTime"),
        schedule("eligibility", "carol", expirationType="noExpiration"),
        schedule("assignment", "bob", assignmentType="activated", startDateTime="2026-06-01T10:00:00Z",
                 endDateTime="2026-06-01T14:00:00Z", expirationType="afterDateTime")]
    data["entra_pim_instances"] = [
        instance("eligibility", "bob", endDateTime="2027-01-01T00:00:00Z"),
        instance("eligibility", "carol"),
        instance("assignment", "bob", assignmentType="activated", startDateTime="2026-06-01T10:00:00Z",
                 endDateTime="2026-06-01T14:00:00Z")]
    # carol is eligible only: not a member in Entra, and provisioning removed her from Identity Center.
    data["entra_group_members"] = [m for m in data["entra_group_members"] if m["memberId"] != "u-carol"]
    data["idc_group_memberships"] = [m for m in data["idc_group_memberships"] if m["userId"] != "i-carol"]
    return data


def found(data, **settings) -> set[tuple[str, str]]:
    results = run_checks(bt.tables(data), bt.settings(**settings), ids=sorted(PIM_IDS))
    assert {o.check_id: o.status for o in results.outcomes}.keys() == PIM_IDS
    assert "error" not in {o.status for o in results.outcomes}
    return {(f.check_id, f.subject) for f in results.findings}


def test_a_correct_just_in_time_setup_raises_nothing():
    assert found(clean()) == set()
    for function in (pim.permanent_member, pim.activation_shorter_than_cycle, pim.activation_too_long,
                     pim.membership_outlives_activation, pim.group_nested):
        assert bt.run(function, clean()) == {}


def test_not_collected_pim_is_not_checked_never_passed():
    why = "needs an Entra ID P2 licence"
    results = run_checks(bt.tables(clean(), not_collected={t: why for t in pim.PIM_TABLES}), bt.settings(),
                         ids=sorted(PIM_IDS))
    assert {o.status for o in results.outcomes} == {"not_checked"} and not results.findings


def test_permanent_member_of_a_group_others_activate():
    data = clean()
    data["entra_pim_schedules"].append(schedule("assignment", "dave", assignmentType="assigned",
                                                expirationType="noExpiration"))
    hit = bt.run(pim.permanent_member, data)["user:dave@contoso.com"]
    assert hit.evidence["groups"] == ["AWS-Devs"]
    # An admin-assigned membership with an end is not permanent.
    data["entra_pim_schedules"][-1]["endDateTime"] = "2026-07-01T00:00:00Z"
    assert bt.run(pim.permanent_member, data) == {}


def test_permanent_member_of_a_group_without_eligibility_is_not_reported():
    data = clean()
    for table in ("entra_pim_schedules", "entra_pim_instances"):
        data[table] = [r for r in data[table] if r["kind"] != "eligibility"]
    data["entra_pim_schedules"].append(schedule("assignment", "dave", assignmentType="assigned"))
    assert bt.run(pim.permanent_member, data) == {}


@pytest.mark.parametrize("minutes, cycle, reported", [(30, 40, True), (40, 40, False), (50, 60, True)])
def test_activation_shorter_than_a_provisioning_cycle(minutes, cycle, reported):
    data = clean()
    end = f"2026-06-01T{10 + minutes // 60:02d}:{minutes % 60:02d}:00Z"
    for table in ("entra_pim_schedules", "entra_pim_instances"):
        for row in data[table]:
            if row["kind"] == "assignment":
                row["endDateTime"] = end
    hits = bt.run(pim.activation_shorter_than_cycle, data, provisioning_cycle_minutes=cycle)
    assert ("user:bob@contoso.com" in hits) is reported
    if reported:
        assert hits["user:bob@contoso.com"].evidence["activations"][0]["hours"] == round(minutes / 60, 2)


@pytest.mark.parametrize("limit, reported", [(8, False), (3, True)])
def test_activation_longer_than_the_maximum(limit, reported):
    hits = bt.run(pim.activation_too_long, clean(), max_pim_activation_hours=limit)
    assert ("user:bob@contoso.com" in hits) is reported


def test_membership_that_outlives_the_activation():
    data = clean()
    # carol's activation ended; Identity Center still has her (the cycle since has not removed it).
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m9"})
    hit = bt.run(pim.membership_outlives_activation, data)["user:carol@contoso.com"]
    assert hit.severity is None and hit.evidence["memberships"][0]["group"] == "AWS-Devs"
    assert hit.evidence["memberships"][0]["activationEnded"] is None
    # Graph still lists the instance that ended 30 minutes ago: the time since is given, graded medium.
    data["entra_pim_instances"].append(instance("assignment", "carol", assignmentType="activated",
                                                startDateTime="2026-06-01T08:00:00Z",
                                                endDateTime="2026-06-01T11:30:00Z"))
    hit = bt.run(pim.membership_outlives_activation, data)["user:carol@contoso.com"]
    assert hit.severity == "medium" and hit.evidence["memberships"][0]["hoursSinceEnd"] == 0.5
    # Someone never eligible who is in the Identity Center group is other drift, not this check's.
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-alice", "membershipId": "m10"})
    assert set(bt.run(pim.membership_outlives_activation, data)) == {"user:carol@contoso.com"}


def test_membership_that_outlives_an_activation_known_from_its_requests():
    data = clean()
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m9"})
    # Graph lists carol's activation no more; its requests say she asked for 4 h at 05:00 and deactivated at 09:00
    data["entra_pim_requests"] = [
        {"groupId": "g-aws-devs", "id": "r1", "principalId": "u-carol", "accessId": "member",
         "action": "selfActivate", "status": "Provisioned", "createdDateTime": "2026-06-01T05:00:00Z",
         "completedDateTime": "2026-06-01T05:00:02Z", "startDateTime": "2026-06-01T05:00:00Z",
         "expirationType": "afterDuration", "endDateTime": None, "duration": "PT8H", "targetScheduleId": "s1"},
        {"groupId": "g-aws-devs", "id": "r2", "principalId": "u-carol", "accessId": "member",
         "action": "selfDeactivate", "status": "Revoked", "createdDateTime": "2026-06-01T09:00:00Z",
         "completedDateTime": "2026-06-01T09:00:00Z", "startDateTime": None, "expirationType": None,
         "endDateTime": None, "duration": None, "targetScheduleId": "s1"}]
    hit = bt.run(pim.membership_outlives_activation, data)["user:carol@contoso.com"]
    row = hit.evidence["memberships"][0]
    assert row["activationEnded"] == "2026-06-01T09:00:00Z" and row["hoursSinceEnd"] == 3.0
    assert hit.severity is None  # three hours: well past two cycles


def test_pim_group_nested_in_an_assigned_group():
    data = clean()
    data["entra_pim_schedules"].append({**schedule("eligibility", "dave"), "groupId": "g-nested"})
    hit = bt.run(pim.group_nested, data)["group:Nested"]
    assert hit.evidence["nestedIn"] == ["AWS-Devs"] and hit.evidence["pimPrincipals"] == 1
    # Assigned to the app itself: provisioned, nothing to report.
    data["entra_app_role_assignments"].append({"id": "a3", "principalId": "g-nested", "principalType": "Group"})
    assert bt.run(pim.group_nested, data) == {}


def test_findings_equal_the_planted_faults():
    data = clean()
    data["entra_pim_schedules"].append(schedule("assignment", "dave", assignmentType="assigned"))
    data["entra_pim_schedules"].append({**schedule("eligibility", "erin"), "groupId": "g-nested"})
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m9"})
    for table in ("entra_pim_schedules", "entra_pim_instances"):
        for row in data[table]:
            if row["kind"] == "assignment" and row["principalId"] == "u-bob":
                row["endDateTime"] = "2026-06-01T10:20:00Z"
    assert found(data) == {("access.pim_permanent_member", "user:dave@contoso.com"),
                           ("access.pim_activation_shorter_than_cycle", "user:bob@contoso.com"),
                           ("access.pim_membership_outlives_activation", "user:carol@contoso.com"),
                           ("access.pim_group_nested", "group:Nested")}
