"""Admin in production, now and through PIM (report/pim.py), on the tiny organisation of the access model tests:
AWS-Devs holds Admin on prod; bob activated it until 14:00, carol is eligible only, alice holds Admin on prod
through AWS-Readers, which PIM does not manage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from test_access_world import PROD, assignment, permission_set, policy, rows, settings, tables  # noqa: E402
from test_pim_model import pim_world, window  # noqa: E402

from idbridge.model.access.build import build_access  # noqa: E402
from idbridge.report import pim as report  # noqa: E402


def admin_world() -> dict:
    data = pim_world()
    data["idc_permission_sets"].append(permission_set("Admin"))
    data["idc_permission_set_policies"].append(policy("Admin"))
    data["idc_account_assignments"] += [assignment(PROD, "Admin", "ig-devs"), assignment(PROD, "Admin", "ig-readers")]
    return data


def test_who_is_admin_in_production_says_how_each_holds_it():
    data = tables(admin_world())
    table = report.admins_in_production(build_access(data, settings()))
    assert list(table.columns) == report.COLUMNS
    by = {row["person"]: row for row in table.to_dict("records")}
    assert set(by) == {"alice@contoso.com", "bob@contoso.com"}  # carol is eligible only: not admin today
    assert by["bob@contoso.com"]["held as"] == "active (PIM)" and by["bob@contoso.com"]["until"] == "2026-06-01 14:00 UTC"
    assert by["bob@contoso.com"]["through group"] == "AWS-Devs" and by["bob@contoso.com"]["accounts"] == "prod"
    assert by["alice@contoso.com"]["held as"] == "standing" and by["alice@contoso.com"]["until"] == ""


def test_who_could_become_admin_in_production_through_pim():
    data = tables(admin_world())
    table = report.could_become_admins_in_production(data, settings())
    assert table.to_dict("records") == [{"person": "carol@contoso.com", "accounts": "prod", "permission set": "Admin",
                                         "through group": "AWS-Devs", "held as": "eligible (PIM)",
                                         "until": "2026-12-31 00:00 UTC"}]


def test_accounts_of_one_way_of_holding_are_one_row():
    data = admin_world()
    data["idc_account_assignments"].append(assignment("111111111111", "Admin", "ig-devs"))
    data["org_accounts"][0]["tags"] = ["environment=prod"]
    table = report.could_become_admins_in_production(tables(data), settings())
    assert table["accounts"].tolist() == ["dev, prod"]


def test_no_eligible_admin_says_what_eligible_access_there_is():
    text = report.could_become_admins_in_production(tables(pim_world()), settings())
    assert str(text).startswith("Nobody could become admin in production through PIM. Eligible access in all: "
                                "1 person, 2 paths, at most power")


def test_nobody_eligible_and_nobody_admin():
    data = tables(rows())
    assert str(report.could_become_admins_in_production(data, settings())).startswith("Nobody could become admin")
    assert str(report.admins_in_production(build_access(data, settings()))).startswith("Nobody holds admin-level")


def test_pim_not_collected_is_said_never_nobody():
    why = "needs an Entra ID P2 licence"
    data = tables(admin_world(), {"entra_pim_schedules": why, "entra_pim_instances": why})
    text = str(report.could_become_admins_in_production(data, settings()))
    assert text.startswith("Not known:") and why in text
    table = report.admins_in_production(build_access(data, settings()))
    assert set(table["held as"]) == {f"not collected: {why}"}


@pytest.mark.parametrize("end", ["2026-06-01T11:00:00Z"])
def test_an_ended_activation_is_not_admin_today(end):
    data = admin_world()
    for table in ("entra_pim_instances", "entra_pim_schedules"):
        data[table] = [w for w in data[table] if not (w["principalId"] == "u-bob" and w["kind"] == "assignment")]
    data["entra_pim_instances"].append(window("assignment", "bob", start="2026-06-01T08:00:00Z", end=end,
                                              assignment_type="activated"))
    data["entra_group_members"] = [m for m in data["entra_group_members"] if m["memberId"] != "u-bob"]
    data["idc_group_memberships"] = [m for m in data["idc_group_memberships"] if m["userId"] != "i-bob"]
    people = set(report.admins_in_production(build_access(tables(data), settings()))["person"])
    assert people == {"alice@contoso.com"}
    could = report.could_become_admins_in_production(tables(data), settings())
    assert set(could["person"]) == {"bob@contoso.com", "carol@contoso.com"}
