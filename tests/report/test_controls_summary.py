"""framework_summary: per framework and control, the checks mapped to it and how they ended; a control row never
says pass when a mapped check failed or could not run."""

from __future__ import annotations

from idbridge.checks.controls import cis_aws, iso, nist
from idbridge.checks.runner import CheckOutcome, CheckResults
from idbridge.report.controls import COLUMNS, framework_summary


def outcome(check_id: str, status: str, controls, findings: int = 0) -> CheckOutcome:
    return CheckOutcome(check_id, "t", "access", "high", status, findings, controls=controls)


OUTCOMES = [
    outcome("access.a", "fail", nist("AC-2", "AC-6") + iso("5.18"), findings=3),
    outcome("access.b", "pass", nist("AC-2") + iso("5.18") + cis_aws("1.16")),
    outcome("access.c", "not_checked", nist("AC-6", "AC-2(3)") + iso("5.16")),
    outcome("access.d", "error", nist("AC-12") + iso("8.5")),
    outcome("access.e", "not_applicable", nist("AC-5") + iso("5.3")),
    outcome("access.f", "pass", nist("AC-5") + iso("5.3")),
    outcome("access.g", "not_applicable", nist("IA-11") + iso("8.5")),
]


def test_one_row_per_control_frameworks_in_catalogue_order_ids_in_natural_order():
    frame = framework_summary(CheckResults(OUTCOMES, []))
    assert list(frame.columns) == COLUMNS
    assert list(zip(frame["framework"], frame["control"])) == [
        ("NIST SP 800-53 Rev. 5", "AC-2"), ("NIST SP 800-53 Rev. 5", "AC-2(3)"), ("NIST SP 800-53 Rev. 5", "AC-5"),
        ("NIST SP 800-53 Rev. 5", "AC-6"), ("NIST SP 800-53 Rev. 5", "AC-12"), ("NIST SP 800-53 Rev. 5", "IA-11"),
        ("ISO/IEC 27001:2022 Annex A", "A.5.3"), ("ISO/IEC 27001:2022 Annex A", "A.5.16"),
        ("ISO/IEC 27001:2022 Annex A", "A.5.18"), ("ISO/IEC 27001:2022 Annex A", "A.8.5"),
        ("CIS AWS Foundations Benchmark v3.0.0", "1.16")]


def test_counts_and_status_never_say_more_than_was_checked():
    frame = framework_summary(OUTCOMES).set_index(["framework", "control"])
    nist_rows = frame.loc["NIST SP 800-53 Rev. 5"]
    ac2 = nist_rows.loc["AC-2"]
    assert (ac2["checks"], ac2["checks_run"], ac2["passed"], ac2["failed"], ac2["not_checked"], ac2["findings"],
            ac2["status"], ac2["check_ids"]) == (2, 2, 1, 1, 0, 3, "fail", "access.a; access.b")
    assert ac2["title"] == "Account Management"
    ac6 = nist_rows.loc["AC-6"]  # a failure and a check not run: fail (something was found), not_checked counted
    assert (ac6["status"], ac6["failed"], ac6["not_checked"], ac6["checks_run"]) == ("fail", 1, 1, 1)
    assert nist_rows.loc["AC-2(3)", "status"] == "not_checked"
    assert nist_rows.loc["AC-12", "status"] == "not_checked" and nist_rows.loc["AC-12", "not_checked"] == 1
    ac5 = nist_rows.loc["AC-5"]  # one not applicable, one pass: the control's checks that apply passed
    assert (ac5["status"], ac5["passed"], ac5["not_applicable"], ac5["checks_run"]) == ("pass", 1, 1, 1)
    assert nist_rows.loc["IA-11", "status"] == "not_applicable"
    a85 = frame.loc[("ISO/IEC 27001:2022 Annex A", "A.8.5")]  # an error and a not-applicable: not a pass
    assert (a85["status"], a85["checks_run"]) == ("not_checked", 0)
    assert frame.loc[("CIS AWS Foundations Benchmark v3.0.0", "1.16"), "status"] == "pass"


def test_one_framework_and_no_outcomes():
    only = framework_summary(OUTCOMES, framework="ISO/IEC 27001:2022 Annex A")
    assert set(only["framework"]) == {"ISO/IEC 27001:2022 Annex A"} and len(only) == 4
    empty = framework_summary([])
    assert empty.empty and list(empty.columns) == COLUMNS


def test_the_registered_checks_of_a_failed_run_are_all_not_checked():
    """A run in which nothing could be evaluated: every control of every framework reads not checked."""
    from idbridge.checks.evaluate import failed_evaluation

    evaluation = failed_evaluation("collection failed", "high")
    frame = framework_summary(evaluation)
    assert frame.equals(framework_summary(evaluation.results))
    assert len(frame) > 30 and set(frame["status"]) == {"not_checked"}
    assert set(frame["framework"]) == {"NIST SP 800-53 Rev. 5", "ISO/IEC 27001:2022 Annex A",
                                       "CIS AWS Foundations Benchmark v3.0.0",
                                       "CIS Microsoft 365 Foundations Benchmark v4.0.0"}
    assert (frame["checks_run"] == 0).all() and (frame["not_checked"] == frame["checks"]).all()
