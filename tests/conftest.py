"""Shared fixtures; the helpers they use live in support/sandbox.py (import them from there, not from here: a
test folder with a conftest.py of its own would shadow this module's name)."""

from __future__ import annotations

import pytest

from support.sandbox import ROOT, collected_snapshot, forget_sandbox, running_sandbox, sandbox_parameters  # noqa: F401


@pytest.fixture(scope="module")
def demo_sandbox():
    box = running_sandbox("demo")
    yield box
    box.stop()
    forget_sandbox()


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory):
    """One collection of the demo scenario per test process, for checks and reports to read offline."""
    return collected_snapshot("demo", tmp_path_factory.mktemp("demo"))
