"""Accepted exceptions reach the reports of a real `idbridge run`: the validation report and the index show each
accepted finding as "accepted: <reason>, until <date>", and the notebooks find the exceptions file through the
run's kept parameters."""

from __future__ import annotations

import html
import json
import shutil
from datetime import timedelta

import pytest
import yaml

from idbridge.checks.settings import settings_for
from idbridge.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.notebook]

REASON = "Break-glass access if Entra is down"


def test_a_run_shows_accepted_findings_in_the_validation_report_and_the_index(demo_snapshot, tmp_path, capsys):
    until = (settings_for(demo_snapshot.params, demo_snapshot.manifest["collected_at"]).now.date()
             + timedelta(days=30)).isoformat()
    folder = tmp_path / "parameters"
    folder.mkdir()
    (folder / "exceptions.yaml").write_text(yaml.safe_dump({"exceptions": [
        {"id": "breakglass-user", "check": "reconcile.extra_in_idc", "subject": "user:platform.admin@*",
         "reason": REASON, "accepted_by": "CISO, Jane Roe", "expires": until},
        {"id": "stale", "check": "reconcile.extra_in_idc", "subject": "user:left-long-ago@*",
         "reason": "r", "accepted_by": "a", "expires": until}]}), encoding="utf-8")
    document = demo_snapshot.params.model_dump(mode="json", exclude_none=True)
    document.update(exceptions="exceptions.yaml", run_root=str(tmp_path / "runs"))
    (folder / "params.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir()
    shutil.copytree(demo_snapshot.directory, run / "snapshot")  # reported on from it, not collected again

    with pytest.raises(SystemExit):
        main(["run", "-p", str(folder / "params.yaml"), "--only", "10", "--out", str(run)])
    capsys.readouterr()
    assert (run / "exceptions.yaml").read_bytes() == (folder / "exceptions.yaml").read_bytes(), \
        "kept beside the kept parameters, where their relative path finds it"
    record = json.loads((run / "run.json").read_text())
    assert all(n["ok"] for n in record["notebooks"]), record["notebooks"]
    label = f"accepted: {REASON}, until {until}"
    [report] = (run / "reports").glob("10_*.html")
    assert label in html.unescape(report.read_text(encoding="utf-8"))
    index = html.unescape((run / "index.html").read_text(encoding="utf-8"))
    assert "Accepted exceptions" in index and label in index
    assert "exception stale (reconcile.extra_in_idc, user:left-long-ago@*) matched no finding" in index
