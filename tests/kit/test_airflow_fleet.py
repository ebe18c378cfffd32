"""The fleet DAG (examples/airflow/idbridge_dag.py) in a real Apache Airflow 3: `airflow dags test` with the
LocalExecutor and SQLite, on three engagements of the sandbox at once — two that run and one with bad parameters.

Airflow lives in its own virtual environment (.venv-airflow, built by `make airflow`; `make test` builds it). Without
it this test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from idbridge.core.paths import REPO_ROOT

AIRFLOW_VENV = REPO_ROOT / ".venv-airflow"
AIRFLOW = AIRFLOW_VENV / "bin" / "airflow"
NO_AIRFLOW = AIRFLOW_VENV.parent / ".venv-airflow.unavailable"  # why `make airflow` could not build it, if so


def _skip_reason() -> str | None:
    if AIRFLOW.exists():
        return None
    if NO_AIRFLOW.exists():
        return f"Apache Airflow could not be installed: {NO_AIRFLOW.read_text().strip()}"
    return f"no Apache Airflow virtual environment at {AIRFLOW_VENV}: `make airflow` builds it (`make test` does)"


pytestmark = [pytest.mark.slow, pytest.mark.notebook, pytest.mark.skipif(_skip_reason() is not None,
                                                                          reason=_skip_reason() or "")]


def airflow(args: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    """An airflow command in a session of its own: on a timeout, it and every process it started are stopped."""
    process = subprocess.Popen([str(AIRFLOW), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"airflow {' '.join(args)} did not finish in {timeout:g} s:\n{err[-3000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory, demo_sandbox):
    home = tmp_path_factory.mktemp("airflow")
    fleet = home / "fleet"
    fleet.mkdir()
    runs = home / "runs"
    key = secrets.token_urlsafe(24)
    acme = demo_sandbox.parameters("acme")
    acme["run_root"] = str(runs)
    # A secret the run cannot start without, given only as an Airflow Variable (here through Airflow's
    # environment-variable secrets backend, AIRFLOW_VAR_<NAME>): the DAG resolves the env: reference from it.
    acme["review"] = {"signing_key": "env:IDBRIDGE_REVIEW_KEY_ACME"}
    globex = demo_sandbox.parameters("globex")
    globex["run_root"] = str(runs)
    globex["fail_on"] = "never"
    (fleet / "acme.yaml").write_text(yaml.safe_dump(acme), encoding="utf-8")
    (fleet / "globex.yaml").write_text(yaml.safe_dump(globex), encoding="utf-8")
    (fleet / "initech.yaml").write_text(yaml.safe_dump({**globex, "engagement": "initech", "fail_on": "sometimes"}),
                                        encoding="utf-8")
    env = {**os.environ,
           "AIRFLOW_HOME": str(home / "airflow-home"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "examples" / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__PARALLELISM": "2",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
           "AIRFLOW_VAR_IDBRIDGE_REVIEW_KEY_ACME": key,
           "IDBRIDGE": str(Path(sys.executable).parent / "idbridge"),
           "IDBRIDGE_HOME": str(home),
           "IDBRIDGE_FLEET": str(fleet)}
    env.pop("IDBRIDGE_REVIEW_KEY_ACME", None)
    started = time.monotonic()
    migrate = airflow(["db", "migrate"], env, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    # `dags test` runs the DAG run in this one process, task after task, through Airflow's own scheduling rules
    # (trigger rules, retries, XCom); the engagements' groups are all in the one DAG run.
    done = airflow(["dags", "test", "idbridge_fleet", "--conf", json.dumps({"only": "10"})], env, timeout=900)
    print(f"airflow db migrate + dags test: {time.monotonic() - started:.0f} s")
    with sqlite3.connect(home / "airflow.db") as db:
        states = {task_id: (state, tries) for task_id, state, tries in
                  db.execute("SELECT task_id, state, try_number FROM task_instance")}
    print("task states:", states)
    return home, runs, key, done, states


def run_folder(runs: Path, engagement: str) -> Path:
    folders = [p for p in (runs / engagement).iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1, folders
    return folders[0]


def test_both_engagements_have_a_complete_run_folder(fleet_run):
    home, runs, key, done, states = fleet_run
    for engagement in ("acme", "globex"):
        assert states[f"{engagement}.collect"][0] == "success", (states, done.stdout[-4000:])
        assert states[f"{engagement}.evaluate"][0] == "success", states
        run = run_folder(runs, engagement)
        record = json.loads((run / "run.json").read_text())
        assert record["engagement"] == engagement and record["snapshot_origin"] == "reused"  # collected by `collect`
        assert (run / "snapshot" / "manifest.json").exists() and (run / "findings.json").exists()
        assert (run / "index.html").exists() and list((run / "reports").glob("10_*.html"))
        assert record["notebooks"] and all(n["ok"] for n in record["notebooks"])


def test_exit_codes_map_onto_task_states(fleet_run):
    home, runs, key, done, states = fleet_run
    acme = json.loads((run_folder(runs, "acme") / "run.json").read_text())
    globex = json.loads((run_folder(runs, "globex") / "run.json").read_text())
    # The demo plants faults: acme (fail_on high) finds them, exit 1: render fails once, never retried.
    assert acme["exit_code"] == 1
    assert states["acme.render"] == ("failed", 1)
    # globex reads the same tenant with fail_on: never: its render succeeds unless something was not checked (3).
    assert globex["exit_code"] in (0, 3)
    assert states["globex.render"][0] == ("success" if globex["exit_code"] == 0 else "up_for_retry")
    # initech's parameters are bad (exit 2): collect fails at once, with retries left, and nothing is rendered.
    assert states["initech.collect"] == ("failed", 1)
    assert states["initech.render"][0] == "failed"
    assert not (runs / "initech").exists() or not any((runs / "initech").glob("*/index.html"))
    assert "fail_on" in done.stdout + done.stderr


def test_the_secret_came_from_airflow_and_is_in_no_file_or_log(fleet_run):
    home, runs, key, done, states = fleet_run
    run = run_folder(runs, "acme")
    assert states["acme.collect"][0] == "success"  # without the Variable, idbridge exits 2 naming the variable
    for path in [*run.rglob("*"), *(home / "airflow-home").rglob("*")]:
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert key not in done.stdout and key not in done.stderr


def test_the_fleet_index_covers_both_runs(fleet_run):
    home, runs, key, done, states = fleet_run
    assert states["fleet_index"][0] == "success"
    page = (runs / "fleet.html").read_text(encoding="utf-8")
    for engagement in ("acme", "globex"):
        run = run_folder(runs, engagement)
        assert f"href='{engagement}/{run.name}/index.html'" in page
