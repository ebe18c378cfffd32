"""Helpers the tests share (importable as `support.sandbox` from any test folder: pytest puts tests/ on the path
when it loads tests/conftest.py). moto's backends are process-wide, so one sandbox runs per test process at a time:
`running_sandbox` stops the previous one before starting another."""

from __future__ import annotations

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
