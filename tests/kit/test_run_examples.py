"""The scheduling examples work: the cron wrapper end to end on the sandbox (the Airflow DAG runs in a real Airflow:
test_airflow_fleet.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from idbridge.core.paths import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


@pytest.mark.notebook
def test_the_cron_wrapper_runs_the_kit_and_says_what_to_do(tmp_path):
    from idbridge.sandbox.server import Sandbox

    box = Sandbox.from_file("empty")
    box.start()
    try:
        document = box.parameters()
        document["run_root"] = str(tmp_path / "runs")
        document["graph"]["certificate_password"] = "env:IDBRIDGE_CRON_SECRET"
        params = tmp_path / "cron.yaml"
        params.write_text(yaml.safe_dump(document), encoding="utf-8")
        env_file = tmp_path / "cron.env"
        env_file.write_text("IDBRIDGE_CRON_SECRET=from-the-env-file-only\n", encoding="utf-8")
        env = {**os.environ, "IDBRIDGE_HOME": str(REPO_ROOT), "IDBRIDGE_CRON_LOG": str(tmp_path / "cron.log"),
               "IDBRIDGE": str(Path(sys.executable).parent / "idbridge")}
        env.pop("IDBRIDGE_CRON_SECRET", None)
        done = subprocess.run([str(EXAMPLES / "cron" / "idbridge-cron.sh"), str(params), str(env_file),
                               "--only", "30"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        box.stop()
    # Run folders only: the engagement's collection lock (.lock) sits beside them.
    runs = [p for p in (tmp_path / "runs" / document["engagement"]).iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1, done.stderr
    record = json.loads((runs[0] / "run.json").read_text())
    assert done.returncode == record["exit_code"]
    assert record["notebooks"][0]["ok"]
    words = {0: "", 1: "findings at or above fail_on", 3: "incomplete run"}[done.returncode]
    assert words in done.stdout
    assert f"exit {done.returncode}" in (tmp_path / "cron.log").read_text()


def test_the_ci_example_is_a_workflow_with_no_stored_secret():
    workflow = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text())
    assert workflow["permissions"]["id-token"] == "write"
    text = (EXAMPLES / "ci" / "github-actions.yml").read_text()
    assert "secrets." not in text, "workload identity federation: nothing stored in GitHub"
    from idbridge.core.parameters import load_parameters

    params = load_parameters(EXAMPLES / "ci" / "contoso-ci.yaml")
    assert params.graph.auth == "workload_identity" and params.aws.credentials == "chain"
