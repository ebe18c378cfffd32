"""Shared fixtures; the helpers they use live in support/sandbox.py (import them from there, not from here: a
test folder with a conftest.py of its own would shadow this module's name)."""

from __future__ import annotations

import pytest

from support.sandbox import (ROOT, collected_snapshot, forget_sandbox, running_sandbox,  # noqa: F401
                             sandbox_parameters, shared_snapshot)
from support.schedule import SLOW_FILES_FIRST


@pytest.fixture(scope="module")
def demo_sandbox():
    box = running_sandbox("demo")
    yield box
    box.stop()
    forget_sandbox()


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory):
    """One collection of the demo scenario per test session (shared by the xdist workers), for checks and
    reports to read offline. Read it, never change it: copy it first."""
    return shared_snapshot("demo", tmp_path_factory)


@pytest.fixture(scope="session")
def broken_provisioning_snapshot(tmp_path_factory):
    """One collection of the broken-provisioning scenario per test session, for the scenario tests of every
    check area (each compares the findings of its own area with the faults planted for it)."""
    return shared_snapshot("broken-provisioning", tmp_path_factory)


# ------------------------------------------------------------------------------------------ xdist scheduling
def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):  # xdist's reordering by test count would undo the order below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Whole files in the order of support.schedule (costliest first), the rest as collected; the tests of a
    file keep their order (a stable sort), so module fixtures are set up once, as before."""
    rank = {path: i for i, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
