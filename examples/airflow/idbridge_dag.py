"""Airflow DAG: the idbridge kit for one engagement, weekly (see docs/scheduling.md).

idbridge lives in its own virtual environment on the workers (its dependencies are pinned; Airflow's are not
touched): IDBRIDGE names its `idbridge` script. The task maps idbridge's exit code onto Airflow's states and
returns the run's index.html, for downstream tasks (publish, notify) to pick up from XCom.

Secrets: the parameters file holds env: references; give the variables to the worker (or use managed identity /
workload identity and an instance role, and there is no secret at all).
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.4+
    from airflow.decorators import dag, task
from airflow.exceptions import AirflowException, AirflowFailException

IDBRIDGE = os.environ.get("IDBRIDGE", "/opt/idbridge/.venv/bin/idbridge")
IDBRIDGE_HOME = os.environ.get("IDBRIDGE_HOME", "/opt/idbridge")
PARAMETERS = os.environ.get("IDBRIDGE_PARAMETERS", "/opt/idbridge/parameters/contoso.yaml")


def run_idbridge(parameters: str = PARAMETERS, only: str | None = None) -> str:
    """`idbridge run`; returns the path of the run's index.html or raises what Airflow should do about it."""
    command = [IDBRIDGE, "run", "-p", parameters] + (["--only", only] if only else [])
    done = subprocess.run(command, cwd=IDBRIDGE_HOME, capture_output=True, text=True)
    print(done.stderr)  # the run's log, into the task log
    report = done.stdout.strip().removeprefix("Report: ")
    if done.returncode == 0:
        return report
    if done.returncode == 1:
        # Findings do not go away by retrying: fail now, the report says what to fix.
        raise AirflowFailException(f"idbridge: findings at or above fail_on; report {report}")
    if done.returncode == 2:
        raise AirflowFailException(f"idbridge: bad parameters or input: {done.stderr.strip().splitlines()[-1:]}")
    # 3: a source was not collected or a report failed: outages and throttling pass, so let Airflow retry.
    raise AirflowException(f"idbridge: incomplete run (exit {done.returncode}); report {report}")


@dag(schedule="15 6 * * 1", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
     default_args={"retries": 2, "retry_delay": timedelta(minutes=30)}, tags=["idbridge"])
def idbridge_weekly():
    @task(task_id="idbridge_run", execution_timeout=timedelta(hours=2))
    def idbridge_run() -> str:
        return run_idbridge()

    idbridge_run()


idbridge_weekly()
