"""Shared fixtures. moto's backends are process-wide, so one sandbox runs per test process at a time:
`running_sandbox` stops the previous one before starting another."""

from __future__ import annotations

from pathlib import Path

import pytest

from idbridge.parameters import Parameters
from idbridge.sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[1]
_current: dict[str, Sandbox | None] = {"box": None}


def running_sandbox(scenario: str = "demo", **kwargs) -> Sandbox:
    if _current["box"] is not None:
        _current["box"].stop()
    box = Sandbox.from_file(scenario, **kwargs)
    box.start()
    _current["box"] = box
    return box


def sandbox_parameters(box: Sandbox, **overrides) -> Parameters:
    document = box.parameters()
    for key, value in overrides.items():
        document[key] = {**document.get(key, {}), **value} if isinstance(value, dict) else value
    return Parameters.model_validate(document)


@pytest.fixture(scope="module")
def demo_sandbox():
    box = running_sandbox("demo")
    yield box
    box.stop()
    _current["box"] = None


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory):
    """One collection of the demo scenario per test process, for checks and reports to read offline."""
    from idbridge.collect.run import collect
    from idbridge.snapshot import Snapshot

    box = running_sandbox("demo")
    try:
        params = sandbox_parameters(box)
        path = collect(params, tmp_path_factory.mktemp("demo") / "snapshot")
    finally:
        box.stop()
        _current["box"] = None
    snapshot = Snapshot(path)
    snapshot.params = params  # the parameters it was collected with, for check settings
    snapshot.scenario = box.scenario
    return snapshot
