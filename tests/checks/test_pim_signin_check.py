"""access.pim_signin_after_activation_ended on the tiny organisation of the access model tests (collected at
12:00, provisioning cycle 40 minutes): AWS-Devs is PIM-managed; carol's activation ended at 11:00 (Graph still
lists it) and Identity Center still holds her membership, her only route to AWS."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from test_access_world import auth, settings, tables  # noqa: E402
from test_pim_model import pim_world, window  # noqa: E402

from idbridge.checks import load_all  # noqa: E402
from idbridge.checks.rules import pim  # noqa: E402
from idbridge.checks.runner import run_checks  # noqa: E402

load_all()
CHECK = "access.pim_signin_after_activation_ended"


def lingering(*sign_ins: str) -> dict:
    data = pim_world()
    data["entra_pim_instances"].append(window("assignment", "carol", start="2026-06-01T07:00:00Z",
                                              end="2026-06-01T11:00:00Z", assignment_type="activated"))
    data["idc_group_memberships"].append({"groupId": "ig-devs", "userId": "i-carol", "membershipId": "m9"})
    data["cloudtrail_events"] = [auth("carol", when) for when in sign_ins]
    return data


def hits(data) -> dict:
    found = list(pim.signin_after_activation_ended(tables(data), settings()))
    return {h.subject: h for h in found}


def test_a_sign_in_after_the_activation_ended_through_the_lingering_membership():
    hit = hits(lingering("2026-06-01T10:30:00Z", "2026-06-01T11:50:00Z"))["user:carol@contoso.com"]
    assert hit.severity is None  # 50 minutes after the end: more than a cycle, high
    assert hit.evidence["signIns"] == ["2026-06-01T11:50:00Z"] and hit.evidence["groups"] == ["AWS-Devs"]
    assert hit.evidence["activationEnded"] == "2026-06-01T11:00:00Z" and hit.evidence["hoursAfterEnd"] == [0.8]


def test_within_one_provisioning_cycle_of_the_end_is_medium():
    hit = hits(lingering("2026-06-01T11:20:00Z"))["user:carol@contoso.com"]
    assert hit.severity == "medium"


def test_clean_counterparts_raise_nothing():
    # signed in only while the activation was in force
    assert hits(lingering("2026-06-01T10:30:00Z")) == {}
    # bob signs in during his activation; carol, eligible only, never activated
    data = pim_world()
    data["cloudtrail_events"] = [auth("bob", "2026-06-01T11:30:00Z"), auth("carol", "2026-06-01T11:30:00Z")]
    assert hits(data) == {}
    # provisioning removed the membership: the sign-in reached no account through it
    data = lingering("2026-06-01T11:50:00Z")
    data["idc_group_memberships"] = [m for m in data["idc_group_memberships"] if m["membershipId"] != "m9"]
    assert hits(data) == {}


def test_another_standing_route_means_the_sign_in_needed_no_activation():
    data = lingering("2026-06-01T11:50:00Z")
    data["entra_group_members"].append({"groupId": "g-aws-readers", "memberId": "u-carol", "memberType": "user",
                                        "relation": "direct"})
    data["idc_group_memberships"].append({"groupId": "ig-readers", "userId": "i-carol", "membershipId": "m10"})
    assert hits(data) == {}


def test_an_activation_begun_after_the_sign_in_is_no_route_for_it():
    data = lingering("2026-06-01T11:50:00Z")
    # carol activates AWS-Readers at 11:55, after signing in at 11:50
    data["entra_pim_instances"] += [window("eligibility", "carol", "g-aws-readers"),
                                    window("assignment", "carol", "g-aws-readers", start="2026-06-01T11:55:00Z",
                                           end="2026-06-01T13:00:00Z", assignment_type="activated")]
    data["entra_group_members"].append({"groupId": "g-aws-readers", "memberId": "u-carol", "memberType": "user",
                                        "relation": "direct"})
    data["idc_group_memberships"].append({"groupId": "ig-readers", "userId": "i-carol", "membershipId": "m10"})
    assert set(hits(data)) == {"user:carol@contoso.com"}
    # begun before the sign-in: it covered it
    data["entra_pim_instances"][-1]["startDateTime"] = "2026-06-01T11:45:00Z"
    assert hits(data) == {}


@pytest.mark.parametrize("missing", ["entra_pim_instances", "cloudtrail_events"])
def test_not_collected_is_not_checked(missing):
    data = tables(lingering("2026-06-01T11:50:00Z"), {missing: "AccessDenied"})
    (outcome,) = run_checks(data, settings(), ids=[CHECK]).outcomes
    assert outcome.status == "not_checked"


def test_the_runner_reports_it_with_its_metadata():
    results = run_checks(tables(lingering("2026-06-01T11:50:00Z")), settings(), ids=[CHECK])
    (outcome,) = results.outcomes
    assert outcome.status == "fail" and outcome.controls and outcome.other_severities
    assert [f.subject for f in results.findings] == ["user:carol@contoso.com"]
