"""History: a second sandbox run, with changes planted in its scenario, against the kit run before it.

Planted between the two runs:
- helen.marsh (CFO, no admin access) joins AWS-Prod-Admins: AdministratorAccess on the 8 production accounts,
  a new administrator;
- the AWS-Billing -> Billing on northwind-management assignment is removed: its six members lose that access;
- the orphaned AWS-Incident-Responders assignment is removed: reconcile.orphaned_assignment is resolved;
- two users share one e-mail address: scim.duplicate_value is new.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from idbridge.cli import main
from idbridge.core.paths import SCENARIOS_DIR
from idbridge.history.runs import findings_over_time, previous_snapshot, run_folders
from support.kit import ENGAGEMENT, kit_run

NEW_ADMIN = "helen.marsh@northwind-analytics.com"
PROD_ACCOUNTS = 8
BILLING_MEMBERS = 6
DUPLICATE = ("tobias.bauer@northwind-analytics.com", "julien.girard@northwind-analytics.com")


def _changed_scenario(path: Path) -> Path:
    scenario = yaml.load((SCENARIOS_DIR / "demo.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    groups = {g["display_name"]: g for g in scenario["entra"]["groups"]}
    groups["AWS-Prod-Admins"]["members"].append(NEW_ADMIN)
    assignments = scenario["aws"]["account_assignments"]
    scenario["aws"]["account_assignments"] = [
        a for a in assignments if a.get("group") not in ("AWS-Billing", "AWS-Incident-Responders")]
    assert len(scenario["aws"]["account_assignments"]) == len(assignments) - 2
    users = {u["upn"]: u for u in scenario["entra"]["users"]}
    users[DUPLICATE[0]]["mail"] = users[DUPLICATE[1]]["mail"]
    scenario["faults"] = []  # this variant is not a reference scenario: its planted list is not maintained
    path.write_text(yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from idbridge.sandbox.demo import demo_run

    kit = kit_run(tmp_path_factory)
    # The kit run's record, copied into an engagement folder of this module's own: the kit run's folder is shared
    # by the whole session, and under xdist each worker given a test of this module builds this fixture, so two
    # second runs in the kit's engagement would each (rightly) take the other as their previous run.
    kit_dir = Path(kit["run_dir"])
    run_root = tmp_path_factory.mktemp("history-runs")
    first = run_root / ENGAGEMENT / kit_dir.name
    shutil.copytree(kit_dir, first, ignore=shutil.ignore_patterns(
        "setup", "notebooks", "reports", "review", "review-returned", "previous-run", "*.html"))
    scenario = _changed_scenario(tmp_path_factory.mktemp("scenario") / "demo-changed.yaml")
    second = demo_run(str(scenario), only="30", setup=False,
                      parameters={"run_root": str(run_root), "engagement": ENGAGEMENT})
    return first, second


def _table(nb, heading: str) -> str:
    """The part of 30's changes output under the heading `heading` ("## Access gained"): up to the next one."""
    title = heading.lstrip("#").strip()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            match = re.search(r"<h2 id=\"[^\"]*\">" + re.escape(title) + "<", html)
            if match:
                rest = html[match.end():]
                return rest[:rest.index("<h2 ")] if "<h2 " in rest else rest
    raise AssertionError(f"no section {heading!r}")


def _rows(html: str) -> int:
    return html.split("<tbody>")[1].count("<tr") if "<tbody>" in html else 0


def _billing_grants(run: Path) -> set[str]:
    """Who held Billing on the management account through AWS-Billing in the first run."""
    from idbridge.history.diff import grants, parameters_of
    from idbridge.snapshot.store import Snapshot

    snapshot = Snapshot(run / "snapshot")
    frame = grants(snapshot, parameters_of(snapshot))
    held = frame[(frame["permission_set"] == "Billing") & (frame["via"] == "group:AWS-Billing")]
    return set(held["user"])


@pytest.mark.notebook
def test_the_second_run_compares_with_the_first(two_runs):
    first, second = two_runs
    assert second.run_dir.parent == first.parent, "same engagement folder"
    assert previous_snapshot(second.run_dir, first.parent) == first / "snapshot"
    assert [r.name for r in run_folders(first.parent)][-2:] == [first.name, second.run_dir.name]
    assert second.notebooks[0].ok, second.notebooks[0].error
    log = (second.run_dir / "run.log").read_text()
    assert f"previous run of {ENGAGEMENT}: {first}" in log


@pytest.mark.notebook
def test_the_changes_notebook_shows_the_planted_changes(two_runs):
    first, second = two_runs
    nb = nbformat.read(second.run_dir / "notebooks" / "30_changes.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["previous_snapshot_dir"] == str(first / "snapshot")
    gained = _table(nb, "## Access gained")
    assert gained.count(NEW_ADMIN) == PROD_ACCOUNTS and "AdministratorAccess" in gained
    lost = _table(nb, "## Access lost")
    billing = _billing_grants(first)
    assert len(billing) >= BILLING_MEMBERS - 1 and NEW_ADMIN in billing
    assert all(user in lost for user in billing) and "Billing" in lost
    admins = _table(nb, "## New administrators")
    assert _rows(admins) == 1 and NEW_ADMIN in admins
    removed = _table(nb, "## Account assignments removed")
    assert "group:AWS-Billing" in removed and "(deleted)" in removed and _rows(removed) == 2
    assert "None." in _table(nb, "## Account assignments added")
    new = _table(nb, "## Findings new")
    assert "scim.duplicate_value" in new and DUPLICATE[0].split("@")[0] in new
    resolved = _table(nb, "## Findings resolved")
    assert "reconcile.orphaned_assignment" in resolved
    report = (second.run_dir / "reports" / "30_changes.html").read_text()
    assert NEW_ADMIN in report and "Findings per run" in report


@pytest.mark.notebook
def test_findings_over_time_has_both_runs(two_runs):
    first, second = two_runs
    frame = findings_over_time(first.parent)
    runs = list(dict.fromkeys(frame["run"]))
    assert runs[-2:] == [first.name, second.run_dir.name]
    totals = frame.groupby("run")["findings"].sum()
    assert totals[first.name] == len(json.loads((first / "findings.json").read_text())["findings"])


@pytest.mark.notebook
def test_idbridge_diff_prints_the_same_changes(two_runs, capsys):
    first, second = two_runs
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(first / "snapshot"), str(second.run_dir)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    counts = dict(re.findall(r"^\s*(Access gained|Access lost|New administrators|Account assignments removed)"
                             r"\s+(\d+)\s*$", out, re.M))
    nb = nbformat.read(second.run_dir / "notebooks" / "30_changes.ipynb", as_version=4)
    assert counts == {"Access gained": str(_rows(_table(nb, "## Access gained"))),
                      "Access lost": str(_rows(_table(nb, "## Access lost"))),
                      "New administrators": "1", "Account assignments removed": "2"}
    assert "Findings resolved" in out and "reconcile.orphaned_assignment" in out
    assert NEW_ADMIN in out
