"""The order in which tests/conftest.py hands test files to the xdist workers.

`make test` runs two workers with --dist loadfile: whole files, handed out in queue order to whichever worker
is free. The run ends when the later worker does, so the files that take a minute or more go first (costliest
first) and the many small ones fill in at the end. xdist's own order (most tests first) put one-test files of a
minute and a half last. tests/kit/test_run_kit.py comes first because its worker builds the session's kit run
(support.kit.kit_run) that test_html_browser and test_runbook_notebooks read: those come after files that need
no kit run, so that the other worker is busy, not waiting for the kit run's lock (as are the small readers of
the kit run, test_demo, test_html_report, test_secrets_in_runs, test_history_changes, among the rest).
Costs as measured on two workers; a file that got much slower or faster belongs elsewhere in the list.
"""

SLOW_FILES_FIRST = (
    "tests/kit/test_run_kit.py",                 # builds the kit run: a minute, then a minute more of its own tests
    "tests/sandbox/test_replay.py",
    "tests/report/test_hostile_browser.py",
    "tests/test_cli.py",
    "tests/report/test_html_browser.py",         # reads the kit run: after two minutes of the files above
    "tests/runbooks/test_runbook_notebooks.py",  # reads the kit run
    "tests/kit/test_access_notebooks.py",
    "tests/kit/test_airflow_fleet.py",           # a real Airflow (make test builds .venv-airflow)
    "tests/kit/test_review_round_applied.py",
    "tests/collect/test_run.py",
    "tests/collect/test_aws_walks.py",
    "tests/collect/test_aws_incremental.py",
    "tests/collect/test_entra_faults.py",
    "tests/kit/test_disk_full.py",
    "tests/runbooks/test_runbook_aws_access.py",
    "tests/collect/test_pim_groups.py",
    "tests/collect/test_aws_collectors.py",
    "tests/kit/test_concurrent_collections.py",
)
