"""An earlier run damaged (a disk that filled, a killed run: a truncated findings.json, snapshot manifest or table)
never fails a later run: the history leaves it out or does not compare with it, saying "previous run unreadable:
FILE, WHY", and the later run's report, index and exit code stand."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support.snapshots import stand_in_snapshot

from idbridge.checks.artifact import write_evaluation
from idbridge.checks.evaluate import failed_evaluation
from idbridge.core.parameters import Parameters
from idbridge.history import report
from idbridge.history.runs import findings_over_time, previous_snapshot, run_folders

ENGAGEMENT = "history"
TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
ASSIGNMENTS = pd.DataFrame([{"accountId": "111122223333", "permissionSetArn": "arn:ps", "principalType": "GROUP",
                             "principalId": "g-1"}])


def truncate(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def make_run(engagement_dir: Path, name: str, collected_at: str, *, tables=None) -> Path:
    run = engagement_dir / name
    stand_in_snapshot(run / "snapshot", collected_at, ENGAGEMENT, tables=tables)
    write_evaluation(failed_evaluation("stand-in", "high"), run)
    return run


@pytest.fixture
def history(tmp_path):
    """Three runs: A (fine, but its assignments table is given), B (fine), C (this run)."""
    folder = tmp_path / "runs" / ENGAGEMENT
    a = make_run(folder, "20260101T000000Z", "2026-01-01T00:00:00+00:00",
                 tables={"idc_account_assignments": ("aws.account_assignments", ASSIGNMENTS)})
    b = make_run(folder, "20260102T000000Z", "2026-01-02T00:00:00+00:00")
    c = make_run(folder, "20260103T000000Z", "2026-01-03T00:00:00+00:00")
    params = Parameters.model_validate({"engagement": ENGAGEMENT, "graph": {"tenant_id": TENANT},
                                        "run_root": str(tmp_path / "runs")})
    return folder, a, b, c, params


def test_a_truncated_manifest_leaves_that_run_out_of_the_history_saying_so(history, caplog):
    folder, a, b, c, _params = history
    truncate(b / "snapshot" / "manifest.json")
    with caplog.at_level(logging.WARNING):
        assert run_folders(folder) == [a, c]
        assert previous_snapshot(c, folder) == a / "snapshot", "compared with the newest readable earlier run"
    assert f"previous run unreadable: {b / 'snapshot' / 'manifest.json'}, not valid JSON" in caplog.text


def test_a_truncated_findings_json_is_left_out_of_findings_over_time_and_evaluated_again(history, caplog):
    folder, a, b, c, params = history
    truncate(b / "findings.json")
    with caplog.at_level(logging.WARNING):
        frame = findings_over_time(folder, c)
        diff = report.compare(report.previous(c, folder, str(b)), report.Snapshot(c / "snapshot"), params)
    assert list(dict.fromkeys(frame["run"])) == [a.name, c.name]
    assert f"previous run unreadable: {b / 'findings.json'}, not valid JSON" in caplog.text
    assert isinstance(diff, report.SnapshotDiff), "the earlier snapshot is evaluated again, not failed on"
    assert f"{b / 'findings.json'} unreadable" in caplog.text


def test_a_previous_run_that_cannot_be_read_is_not_compared_and_every_section_says_why(history, caplog):
    folder, a, b, c, params = history
    current = report.Snapshot(c / "snapshot")
    truncate(b / "snapshot" / "manifest.json")
    with caplog.at_level(logging.WARNING):
        before = report.previous(c, folder, str(b / "snapshot"))  # given explicitly: not to be skipped
    assert isinstance(before, report.NotCompared)
    assert before.why.startswith(f"previous run unreadable: {b / 'snapshot' / 'manifest.json'}, line ")
    changes = report.compare(before, current, params)
    for shown in (report.headline(changes, before), report.summary(changes), report.section(changes, "access_lost")):
        assert str(shown).startswith("Not compared: previous run unreadable:")

    table = a / "snapshot" / "idc_account_assignments.parquet"  # damaged: the manifest is fine, a table is not
    table.write_bytes(table.read_bytes()[:40])
    before = report.previous(c, folder)
    assert before.directory == a / "snapshot"
    changes = report.compare(before, current, params)
    assert isinstance(changes, report.NotCompared)
    assert changes.why.startswith(f"previous run unreadable: {table}, unreadable table: ")
    assert "previous run unreadable" in caplog.text


def test_the_index_of_a_run_says_its_manifest_is_unreadable_rather_than_failing(tmp_path):
    from idbridge.kit.index import write_index

    run = make_run(tmp_path, "run", "2026-01-01T00:00:00+00:00")
    truncate(run / "snapshot" / "manifest.json")
    record = {"engagement": ENGAGEMENT, "run_dir": str(run), "started": "", "finished": "", "exit_code": 3,
              "exit_meaning": "incomplete", "headline": "", "reasons": [], "fail_on": "high", "notebooks": []}
    page = write_index(run, record).read_text()
    assert f"{run / 'snapshot' / 'manifest.json'} unreadable" in page


@pytest.mark.notebook
def test_the_changes_report_of_a_later_run_stands_when_earlier_runs_are_damaged(history, tmp_path):
    from idbridge.kit.run import run_kit

    folder, a, b, c, _params = history
    for path in (b / "snapshot" / "manifest.json", b / "findings.json", a / "findings.json"):
        truncate(path)
    table = a / "snapshot" / "idc_account_assignments.parquet"
    table.write_bytes(table.read_bytes()[:40])
    document = yaml.safe_load((Path(__file__).parents[2] / "parameters" / "sandbox.yaml").read_text())
    document.update(engagement=ENGAGEMENT, run_root=str(folder.parent))
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run_kit(params, only="30", out=c)  # C holds its snapshot: reported on, not collected
    assert [r.name for r in result.notebooks] == ["30_changes"]
    assert result.notebooks[0].ok, result.notebooks[0].error
    log = (c / "run.log").read_text()
    assert f"previous run unreadable: {b / 'snapshot' / 'manifest.json'}" in log
    assert f"previous run of {ENGAGEMENT}: {a}" in log
    page = (c / "reports" / "30_changes.html").read_text()
    assert "Not compared: previous run unreadable:" in page and "idc_account_assignments.parquet" in page
    assert json.loads((c / "run.json").read_text())["exit_code"] != 2, "a damaged earlier run is no bad input"
