"""Shared fixtures; the helpers they use live in support/sandbox.py (import them from there, not from here: a
test folder with a conftest.py of its own would shadow this module's name)."""

from __future__ import annotations

import pytest

from support.sandbox import (ROOT, collected_snapshot, forget_sandbox, running_sandbox,  # noqa: F401
                             sandbox_parameters, shared_snapshot)


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
# `make test` runs two workers with --dist loadfile: whole files, handed out in queue order to whichever worker
# is free. The run ends when the later worker does, so the files that take a minute or more go first (costliest
# first) and the many small ones fill in at the end. xdist's own order (most tests first) put one-test files of a
# minute and a half last. tests/kit/test_run_kit.py comes first because its worker builds the session's kit run
# (support.kit.kit_run) that test_html_browser and test_runbook_notebooks read: those come after files that need
# no kit run, so that the other worker is busy, not waiting for the kit run's lock (as are the small readers of
# the kit run, test_demo, test_html_report, test_secrets_in_runs, test_history_changes, among the rest).
# Costs as measured on two workers; a file that got much slower or faster belongs elsewhere in the list.
SLOW_FILES_FIRST = (
    "tests/kit/test_run_kit.py",                 # builds the kit run: about a minute and a half, then a minute more
    "tests/sandbox/test_replay.py",
    "tests/report/test_hostile_browser.py",
    "tests/test_cli.py",
    "tests/report/test_html_browser.py",         # reads the kit run: after two minutes of the files above
    "tests/runbooks/test_runbook_notebooks.py",  # reads the kit run
    "tests/collect/test_entra_faults.py",
    "tests/kit/test_access_notebooks.py",
    "tests/collect/test_run.py",
    "tests/collect/test_aws_walks.py",
    "tests/kit/test_review_round_applied.py",
    "tests/sandbox/test_scenarios.py",
    "tests/kit/test_disk_full.py",
    "tests/sandbox/test_graph_reads.py",
    "tests/runbooks/test_runbook_aws_access.py",
    "tests/collect/test_pim_groups.py",
    "tests/kit/test_concurrent_collections.py",
    "tests/collect/test_aws_collectors.py",
)


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):  # xdist's reordering by test count would undo the order below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Whole files in the order above, the rest as collected; the tests of a file keep their order (a stable
    sort), so module fixtures are set up once, as before."""
    rank = {path: i for i, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
