"""Airflow 3 DAG: the idbridge kit for a fleet of engagements, weekly (see docs/scheduling.md).

One task group per parameters file in IDBRIDGE_FLEET (a folder, `*.yaml`; desired-state files beside them are
the engagements' own inputs, not engagements): collect → evaluate → render, then one fleet index over every run
root. Each task calls the `idbridge` command of idbridge's own virtual environment (IDBRIDGE): the kit's pinned
dependencies never meet Airflow's.

    collect   idbridge collect -p P --out RUN/snapshot    one collection per tenant at a time (engagement lock)
    evaluate  idbridge validate -p P --snapshot … --out RUN  findings.json, findings.csv, checks.csv
    render    idbridge run -p P --out RUN                 reuses the snapshot: notebooks, reports, index.html
    fleet     idbridge fleet index RUN_ROOT               one page over every engagement's latest run

RUN is <run_root>/<engagement>/<the DAG run's time>, so a retry or a cleared task works in the same run folder.
Exit codes: 0 success; 1 (findings) and 2 (bad parameters) fail at once (AirflowFailException: retrying changes
neither); 3 (something not collected or not checked) fails with retries (AirflowException: throttling and outages
pass). Findings fail `render`, not `evaluate`: the reports are written first, so a failed task always has them.

Secrets: the parameters files hold `env:NAME` references only. Each task resolves every NAME it finds from the
Airflow Variable of that name (which a secrets backend — Vault, AWS Secrets Manager, Azure Key Vault — may serve)
and hands it to the idbridge process in its environment alone; Airflow masks the value in task logs. A NAME with
no Variable is left to the worker's environment (or is unset, and idbridge exits 2 naming it). Nothing secret is
in this file or in XCom.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from airflow.sdk import Param, Variable, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.sdk.log import mask_secret

IDBRIDGE = os.environ.get("IDBRIDGE", "/opt/idbridge/.venv/bin/idbridge")
IDBRIDGE_HOME = os.environ.get("IDBRIDGE_HOME", "/opt/idbridge")  # working directory: relative run_root means this
FLEET = Path(os.environ.get("IDBRIDGE_FLEET", "/opt/idbridge/parameters/fleet"))

ENV_REFERENCE = re.compile(r"\benv:([A-Za-z_][A-Za-z0-9_]*)")


def engagement_files(folder: Path = FLEET) -> list[Path]:
    """The engagements of the fleet: its parameters files, desired states left out."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith("desired-state."))


def group_id(params_file: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", params_file.stem)


def read_parameters(params_file: str) -> dict:
    """The two keys the DAG needs itself (engagement, run_root); idbridge checks the whole file."""
    try:
        document = yaml.safe_load(Path(params_file).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AirflowFailException(f"{params_file}: cannot be read: {exc}") from None
    if not isinstance(document, dict) or not document.get("engagement"):
        raise AirflowFailException(f"{params_file}: no `engagement` key")
    return document


def run_root(document: dict) -> Path:
    root = Path(str(document.get("run_root", "runs"))).expanduser()
    return root if root.is_absolute() else Path(IDBRIDGE_HOME) / root


def run_folder(params_file: str) -> Path:
    """<run_root>/<engagement>/<time of the DAG run>: the same folder for every task and try of one DAG run."""
    document = read_parameters(params_file)
    dag_run = get_current_context()["dag_run"]
    when = dag_run.logical_date or dag_run.run_after or datetime.now(timezone.utc)
    return run_root(document) / str(document["engagement"]) / when.strftime("%Y%m%dT%H%M%SZ")


def secrets_env(params_file: str) -> dict[str, str]:
    """The environment of the idbridge process: the worker's, plus each `env:NAME` of the parameters file (and of
    its desired state, when there is one) that an Airflow Variable NAME provides."""
    env = dict(os.environ)
    files = [Path(params_file)]
    document = read_parameters(params_file)
    files.append(Path(params_file).parent / f"desired-state.{document['engagement']}.yaml")
    names = set()
    for path in files:
        if path.exists():
            names |= set(ENV_REFERENCE.findall(path.read_text(encoding="utf-8")))
    for name in sorted(names):
        value = Variable.get(name, default=None)
        if value is not None:
            mask_secret(value, name)
            env[name] = value
    return env


def idbridge(params_file: str, *args: str, expect: tuple[int, ...] = (0,)) -> int:
    """Run one idbridge command; returns its exit code when it is one of `expect`, else raises what Airflow should
    do about it."""
    command = [IDBRIDGE, *args]
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=IDBRIDGE_HOME, env=secrets_env(params_file), capture_output=True, text=True)
    print(done.stdout)
    print(done.stderr, flush=True)  # the run's log, into the task log (secret values are masked by Airflow)
    if done.returncode in expect:
        return done.returncode
    last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode == 1:
        raise AirflowFailException(f"idbridge: findings at or above fail_on ({last})")
    if done.returncode == 2:
        raise AirflowFailException(f"idbridge: bad parameters or input: {last}")
    # 3 (and anything unexpected, such as a killed process): incomplete; an outage or throttling passes: retry.
    raise AirflowException(f"idbridge: incomplete (exit {done.returncode}): {last}")


@task(retries=2)
def collect(params_file: str) -> str:
    """Collect into RUN/snapshot. A retry moves the previous try's snapshot aside (snapshots are never
    overwritten) and collects anew; the engagement lock keeps a second collection of one tenant waiting."""
    run = run_folder(params_file)
    snapshot = run / "snapshot"
    if snapshot.exists():
        try_number = get_current_context()["ti"].try_number
        aside = run / f"snapshot.try-{try_number - 1}"
        n = 1
        while aside.exists():
            n += 1
            aside = run / f"snapshot.try-{try_number - 1}-{n}"
        os.replace(snapshot, aside)
    idbridge(params_file, "collect", "-p", params_file, "--out", str(snapshot))
    return str(run)


@task(retries=0)
def evaluate(params_file: str) -> int:
    """Every check on the snapshot: findings.json in the run folder. Its verdict (0, 1 or 3) is the run's and is
    raised by `render` once the reports exist; only bad input (2) fails here. Deterministic: no retry."""
    run = run_folder(params_file)
    return idbridge(params_file, "validate", "-p", params_file, "--snapshot", str(run / "snapshot"),
                    "--out", str(run), expect=(0, 1, 3))


@task(retries=2, trigger_rule="all_done", execution_timeout=timedelta(hours=2))
def render(params_file: str) -> str:
    """The notebooks and reports from the run's snapshot, also when collection gave up (reports then say what was
    not collected and why). Returns the run's index.html for downstream tasks (publish, notify)."""
    run = run_folder(params_file)
    if not (run / "snapshot" / "manifest.json").exists():
        raise AirflowFailException(f"nothing was collected into {run}: see the collect task's log")
    only = get_current_context()["params"].get("only") or ""
    idbridge(params_file, "run", "-p", params_file, "--out", str(run), *(["--only", only] if only else []))
    return str(run / "index.html")


@task(trigger_rule="all_done")
def fleet_index(params_files: list[str]) -> list[str]:
    """One page per run root over every engagement's latest run, whatever each engagement's outcome."""
    roots = sorted({str(run_root(read_parameters(p))) for p in params_files})
    pages = []
    for root in roots:
        idbridge(params_files[0], "fleet", "index", root)
        pages.append(str(Path(root) / "fleet.html"))
    return pages


@dag(schedule="15 6 * * 1", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
     default_args={"retry_delay": timedelta(minutes=30)}, tags=["idbridge"],
     params={"only": Param("", type="string", description="notebooks to run, e.g. 10,30 (empty: all)")})
def idbridge_fleet():
    files = [str(p.resolve()) for p in engagement_files()]
    groups = []
    for params_file in files:
        @task_group(group_id=group_id(Path(params_file)))
        def engagement(params_file: str = params_file):
            collected = collect(params_file)
            evaluated = evaluate(params_file)
            collected >> evaluated >> render(params_file)

        groups.append(engagement())
    if files:
        groups >> fleet_index(files)


idbridge_fleet()
