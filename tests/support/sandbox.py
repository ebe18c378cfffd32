"""Helpers the tests share (importable as `support.sandbox` from any test folder: pytest puts tests/ on the path
when it loads tests/conftest.py). moto's backends are process-wide, so one sandbox runs per test process at a time:
`running_sandbox` stops the previous one before starting another."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from idbridge.core.parameters import Parameters
from idbridge.sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]
_current: dict[str, Sandbox | None] = {"box": None}


def running_sandbox(scenario: str = "demo", **kwargs) -> Sandbox:
    if _current["box"] is not None:
        _current["box"].stop()
    box = Sandbox.from_file(scenario, **kwargs)
    box.start()
    _current["box"] = box
    return box


def forget_sandbox() -> None:
    _current["box"] = None


def sandbox_parameters(box: Sandbox, **overrides) -> Parameters:
    document = box.parameters()
    for key, value in overrides.items():
        document[key] = {**document.get(key, {}), **value} if isinstance(value, dict) else value
    return Parameters.model_validate(document)


def collected_snapshot(scenario: str, folder: Path):
    """Start the scenario's sandbox, collect it into `folder`/snapshot, stop; the Snapshot carries the parameters
    it was collected with (`.params`, for check settings) and the scenario (`.scenario`, for planted faults)."""
    from idbridge.collect.run import collect
    from idbridge.snapshot.store import Snapshot

    box = running_sandbox(scenario)
    try:
        params = sandbox_parameters(box)
        path = collect(params, folder / "snapshot")
    finally:
        box.stop()
        forget_sandbox()
    snapshot = Snapshot(path)
    snapshot.params, snapshot.scenario = params, box.scenario
    return snapshot


def shared_root(tmp_path_factory) -> Path:
    """The folder every xdist worker of this session sees (the parent of their own base temp folders)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_snapshot(scenario: str, tmp_path_factory):
    """The one collection of `scenario` of this test session, whichever xdist worker asks first (built under a
    file lock; the others read the same folder, which no test may change). Like collected_snapshot's, the
    Snapshot carries `.params` (the parameters it was collected with) and `.scenario`."""
    from idbridge.core.parameters import Parameters
    from idbridge.sandbox.scenario import load_scenario
    from idbridge.snapshot.store import Snapshot

    root = shared_root(tmp_path_factory)
    with open(root / f"idbridge-snapshot-{scenario}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = root / f"idbridge-snapshot-{scenario}.json"
        if not record.exists():
            folder = root / f"idbridge-snapshot-{scenario}"
            snapshot = collected_snapshot(scenario, folder)
            record.write_text(json.dumps({"directory": str(snapshot.directory),
                                          "parameters": snapshot.params.model_dump(mode="json", exclude_none=True),
                                          "scenario_file": _scenario_file(scenario)}), encoding="utf-8")
            return snapshot
        found = json.loads(record.read_text(encoding="utf-8"))
    snapshot = Snapshot(found["directory"])
    snapshot.params = Parameters.model_validate(found["parameters"])
    snapshot.scenario = load_scenario(Path(found["scenario_file"]))
    return snapshot


def _scenario_file(scenario: str) -> str:
    from idbridge.sandbox.scenario import resolve_scenario_path

    return str(resolve_scenario_path(scenario))
