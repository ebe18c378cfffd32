"""PIM for Groups end to end: a scenario's `entra.pim_groups` served by the Graph emulator in the documented shape
(the contract fixtures), collected by the real msgraph-sdk into entra_pim_schedules / entra_pim_instances /
entra_pim_requests (the activation history: ended activations are served only as requests), the
ended-but-lingering activation left in Identity Center, and a tenant without P2 reported as not collected."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml
from support.sandbox import ROOT, collected_snapshot, forget_sandbox, running_sandbox, sandbox_parameters

from idbridge.clients.factory import graph_credential
from idbridge.collect.entra.pim import instances_frame, pim_groups_in_scope, requests_frame, schedules_frame
from idbridge.model.pim import pim_state
from tests.support.contract import load_fixture, shape_differences

pytestmark = pytest.mark.integration
JULIEN, HENRY, GARETH = ("julien.girard@northwind-analytics.com", "henry.turner@northwind-analytics.com",
                         "gareth.lloyd@northwind-analytics.com")
PIM = [{"group": "AWS-Prod-Admins",
        "eligible": [{"user": JULIEN, "start": "now-60d"}, {"user": HENRY, "start": "now-60d", "end": "now+300d"}],
        "active": [{"user": JULIEN, "start": "now-1h", "end": "now+3h"},
                   {"user": HENRY, "start": "now-10h", "end": "now-2h", "still_in_idc": True},
                   {"user": GARETH, "start": "now-400d", "type": "assigned"},
                   # history only: ended early by herself, and one before the collection window (30 days)
                   {"user": HENRY, "start": "now-30h", "end": "now-22h", "deactivated": "now-27h"},
                   {"user": JULIEN, "start": "now-45d", "end": "now-2h"}]}]


def pim_scenario(folder: Path, licence: str = "P2") -> Path:
    document = yaml.safe_load((ROOT / "scenarios" / "demo.yaml").read_text(encoding="utf-8"))
    document["entra"]["pim_groups"] = PIM
    document["tenant"]["licence"] = licence
    document["faults"] = []
    path = folder / f"pim-{licence}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_the_fixtures_read_into_the_tables():
    def items(name, kind):
        return [(kind, i) for i in load_fixture(name)["response"]["value"]]

    schedules = schedules_frame(items("pim_group_list_eligibilityschedules", "eligibility")
                                + items("pim_group_list_assignmentschedules", "assignment"))
    assert schedules[["kind", "memberType", "expirationType"]].values.tolist() == [
        ["eligibility", "direct", "afterDateTime"], ["assignment", "direct", "noExpiration"]]
    assert schedules["endDateTime"].iloc[0] == "2024-04-10T00:00:00Z" and pd.isna(schedules["endDateTime"].iloc[1])
    assert schedules["assignmentType"].tolist()[1] == "assigned"
    instances = instances_frame(items("pim_group_list_assignmentscheduleinstances", "assignment"))
    assert instances["endDateTime"].iloc[0] == "2024-03-27T15:47:19Z" and pd.isna(instances["endDateTime"].iloc[1])
    assert instances["scheduleId"].str.endswith("f13739ce-d5f9-4a5a-845a-22fbccf0e14f").tolist() == [True, False]


def test_the_request_fixtures_read_into_the_table():
    items = [i for name in ("pim_group_list_assignmentschedulerequests",
                            "pim_group_list_assignmentschedulerequests_selfactivate")
             for i in load_fixture(name)["response"]["value"]]
    table = requests_frame(items)
    assert table[["action", "expirationType", "endDateTime", "duration"]].fillna("-").values.tolist() == [
        ["adminAssign", "afterDateTime", "2023-02-07T19:56:00Z", "-"],
        ["selfActivate", "afterDuration", "-", "PT2H"]]
    assert table["startDateTime"].tolist()[1] == "2023-02-07T07:05:55Z"  # normalised to the second, UTC
    # the look-back keeps what reaches into the window: the activation ran to 09:05, the assignment to 19:56
    assert len(requests_frame(items, since=pd.Timestamp("2023-02-07T09:00:00Z"))) == 2
    assert requests_frame(items, since=pd.Timestamp("2023-02-07T12:00:00Z"))["action"].tolist() == ["adminAssign"]
    assert requests_frame(items, since=pd.Timestamp("2023-02-08T00:00:00Z")).empty


def test_nested_groups_of_assigned_groups_are_read_too():
    assignments = pd.DataFrame({"principalType": ["Group", "User", "Group"], "principalId": ["a", "u", "b"]})
    members = pd.DataFrame({"groupId": ["a", "a", "a"], "memberId": ["n", "n", "u"],
                            "memberType": ["group", "group", "user"], "relation": ["direct", "transitive", "direct"]})
    assert pim_groups_in_scope(assignments, members) == ["a", "b", "n"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pim")
    return collected_snapshot(str(pim_scenario(folder)), folder)


def test_collected_schedules_and_instances(snapshot):
    upn = snapshot.table("entra_users").set_index("id")["userPrincipalName"]
    schedules = snapshot.table("entra_pim_schedules")
    instances = snapshot.table("entra_pim_instances")
    seen = sorted((k, upn[p], a if isinstance(a, str) else "-") for k, p, a in
                  schedules[["kind", "principalId", "assignmentType"]].values)
    # Henry's activation ended two hours ago: Graph lists it no more.
    assert seen == [("assignment", GARETH, "assigned"), ("assignment", JULIEN, "activated"),
                    ("eligibility", HENRY, "-"), ("eligibility", JULIEN, "-")]
    active = instances[instances["kind"] == "assignment"]
    ends = {upn[p]: e for p, e in active[["principalId", "endDateTime"]].values}
    assert set(ends) == {GARETH, JULIEN} and pd.isna(ends[GARETH]) and ends[JULIEN].endswith("Z")
    # The active membership is a real one in Entra (PIM adds it); the lingering one is only in Identity Center.
    members = snapshot.table("entra_group_members")
    julien = [k for k, v in upn.items() if v == JULIEN][0]
    henry = [k for k, v in upn.items() if v == HENRY][0]
    groups = snapshot.table("entra_groups").set_index("displayName")["id"]
    prod = members[members["groupId"] == groups["AWS-Prod-Admins"]]
    assert julien in set(prod["memberId"]) and henry not in set(prod["memberId"])
    idc_users = snapshot.table("idc_users").set_index("userName")["userId"]
    idc_groups = snapshot.table("idc_groups").set_index("displayName")["groupId"]
    idc = snapshot.table("idc_group_memberships")
    in_prod = set(idc.loc[idc["groupId"] == idc_groups["AWS-Prod-Admins"], "userId"])
    assert idc_users[HENRY] in in_prod


def test_collected_activation_history(snapshot):
    upn = snapshot.table("entra_users").set_index("id")["userPrincipalName"]
    requests = snapshot.table("entra_pim_requests")
    seen = sorted((upn[p], a, e if isinstance(e, str) else "-", d if isinstance(d, str) else "-")
                  for p, a, e, d in requests[["principalId", "action", "expirationType", "duration"]].values)
    # Henry's two activations (the ended one and the one he deactivated) and Julien's current one are requests;
    # Julien's 45-day activation ended before the 30-day window; Gareth's permanent assignment had no request.
    assert seen == [(HENRY, "selfActivate", "afterDuration", "PT8H"), (HENRY, "selfActivate", "afterDuration", "PT8H"),
                    (HENRY, "selfDeactivate", "-", "-"), (JULIEN, "selfActivate", "afterDuration", "PT4H")]
    state = pim_state(snapshot, pd.Timestamp(snapshot.manifest["collected_at"]).to_pydatetime())
    henry = [k for k, v in upn.items() if v == HENRY][0]
    mine = state.activations[state.activations["principalId"] == henry]
    assert mine["how"].tolist() == ["deactivated", "expired"]
    lasted = (mine["end"] - mine["start"]).dt.total_seconds().div(3600).round(1).tolist()
    assert lasted == [3.0, 8.0]  # deactivated after 3 of the 8 hours asked
    pair = state.pairs[state.pairs["principalId"] == henry].iloc[0]
    assert pair["state"] == "eligible" and pair["ended"] == mine["end"].max()


def test_the_sandbox_serves_the_documented_shapes(tmp_path):
    box = running_sandbox(str(pim_scenario(tmp_path)))
    try:
        params = sandbox_parameters(box)
        token = graph_credential(params).get_token("https://graph.microsoft.com/.default").token
        base = params.graph.base_url.rstrip("/")
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            groups = http.get(f"{base}/groups", params={"$filter": "displayName eq 'AWS-Prod-Admins'"}).json()
            group = groups["value"][0]["id"]
            for name, fixture, nullable in (
                    ("eligibilitySchedules", "pim_group_list_eligibilityschedules", ("endDateTime", "createdUsing", "modifiedDateTime")),
                    ("assignmentSchedules", "pim_group_list_assignmentschedules", ("endDateTime", "createdUsing", "modifiedDateTime")),
                    ("eligibilityScheduleInstances", "pim_group_list_eligibilityscheduleinstances", ("endDateTime",)),
                    ("assignmentScheduleInstances", "pim_group_list_assignmentscheduleinstances",
                     ("startDateTime", "endDateTime"))):
                url = f"{base}/identityGovernance/privilegedAccess/group/{name}"
                served = http.get(url, params={"$filter": f"groupId eq '{group}'"})
                assert served.status_code == 200, served.text
                documented = load_fixture(fixture)["response"]
                assert shape_differences(documented, served.json(), nullable=frozenset(nullable)) == [], name
                assert {i["groupId"] for i in served.json()["value"]} == {group}
                # "This method requires the $filter (eq) query parameter" (the reference): no filter, no answer.
                assert http.get(url).status_code == 400
            url = f"{base}/identityGovernance/privilegedAccess/group/assignmentScheduleRequests"
            assert http.get(url).status_code == 400
            served = http.get(url, params={"$filter": f"groupId eq '{group}'"}).json()["value"]
            assert {i["action"] for i in served} == {"selfActivate", "selfDeactivate"}
            # each request against the documented example of its kind: the list's (adminAssign) and the create
            # page's selfActivate answer; a deactivation is sent without scheduleInfo
            listed = load_fixture("pim_group_list_assignmentschedulerequests")["response"]
            activation = load_fixture("pim_group_list_assignmentschedulerequests_selfactivate")["response"]
            for item in served:
                documented = activation if item["action"] == "selfActivate" else listed
                nullable = frozenset({"approvalId", "endDateTime", "duration", "scheduleInfo"})
                assert shape_differences(documented, {"value": [item]}, nullable=nullable) == [], item["action"]
    finally:
        box.stop()
        forget_sandbox()


def test_a_tenant_without_p2_gets_not_collected_with_why(tmp_path):
    snapshot = collected_snapshot(str(pim_scenario(tmp_path, licence="P1")), tmp_path)
    entry = snapshot.sources["entra.pim_groups"]
    assert entry["status"] == "not_collected"
    assert "P2" in entry["error"] and "PrivilegedEligibilitySchedule.Read.AzureADGroup" in entry["error"]
