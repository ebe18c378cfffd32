"""The one exit policy (checks.evaluate.decide): the verdict never says more than was checked."""

from __future__ import annotations

import pytest

from idbridge.checks.evaluate import decide, failed_evaluation
from idbridge.checks.runner import CheckOutcome, CheckResults, MemoryTables, run_checks
from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK
from idbridge.report.banner import banner_html, grouped_reasons
from idbridge.report.validation import area_table

COMPLETE = {"entra.users": {"status": "complete", "error": None}}


def outcome(check_id: str, status: str, findings: int = 0, reason: str = "") -> CheckOutcome:
    return CheckOutcome(check_id, f"{check_id} is wrong", "saml", "high", status, findings, reason,
                        f"{check_id} is right")


def test_every_check_ran_and_passed_is_pass():
    verdict = decide([outcome("a", "pass"), outcome("b", "pass")], [], COMPLETE, "high")
    assert (verdict.status, verdict.exit_code) == ("pass", EXIT_OK)
    assert verdict.headline.startswith("PASS: all 2 checks ran")


def test_not_applicable_does_not_stop_a_pass_and_is_said():
    verdict = decide([outcome("a", "pass"), outcome("b", "not_applicable", reason="no pairs declared")], [],
                     COMPLETE, "high")
    assert (verdict.status, verdict.exit_code) == ("pass", EXIT_OK)
    assert "1 not applicable" in verdict.headline


@pytest.mark.parametrize("status", ["not_checked", "error"])
def test_a_check_not_run_is_never_a_pass(status):
    verdict = decide([outcome("a", "pass"), outcome("b", status, reason="not collected: entra.sign_ins: 403")],
                     [], COMPLETE, "high")
    assert (verdict.status, verdict.exit_code) == ("not_checked", EXIT_NOT_COLLECTED)
    assert verdict.headline.startswith("NOT CHECKED: 1 of 2 checks — not collected: entra.sign_ins: 403")
    assert "PASS" not in verdict.headline


def test_a_partial_source_is_never_a_pass_even_when_every_check_ran():
    sources = {**COMPLETE, "aws.cloudtrail": {"status": "partial", "error": "ThrottlingException"}}
    verdict = decide([outcome("a", "pass")], [], sources, "high")
    assert (verdict.status, verdict.exit_code) == ("not_checked", EXIT_NOT_COLLECTED)
    assert "aws.cloudtrail partial: ThrottlingException" in verdict.headline


def test_findings_below_fail_on_fail_the_checks_but_exit_0():
    verdict = decide([outcome("a", "fail", 2)], [("a", "low"), ("a", "medium")], COMPLETE, "high")
    assert (verdict.status, verdict.exit_code) == ("fail", EXIT_OK)
    assert verdict.headline == "FAIL: 2 findings from 1 check, none at or above fail_on=high"


def test_findings_at_fail_on_exit_1():
    verdict = decide([outcome("a", "fail", 1), outcome("c", "fail", 1), outcome("b", "pass")],
                     [("a", "high"), ("c", "low")], COMPLETE, "high")
    assert (verdict.status, verdict.exit_code) == ("fail", EXIT_FINDINGS)
    assert "1 finding at or above fail_on=high: a" in verdict.reasons, "only the checks at or above are named"


def test_not_checked_and_findings_say_both_and_exit_3():
    verdict = decide([outcome("a", "fail", 1), outcome("b", "not_checked", reason="not collected: x: y")],
                     [("a", "critical")], COMPLETE, "high")
    assert verdict.exit_code == EXIT_NOT_COLLECTED
    assert verdict.headline.startswith("NOT CHECKED: 1 of 2 checks") and "FAIL: 1 finding" in verdict.headline


def test_fail_on_never_never_exits_1():
    assert decide([outcome("a", "fail", 1)], [("a", "critical")], COMPLETE, "never").exit_code == EXIT_OK


def test_a_failed_collection_is_not_checked_for_every_check():
    evaluation = failed_evaluation("collection failed: connection refused", "high")
    verdict = evaluation.verdict
    total = len(evaluation.results.outcomes)
    assert total > 40 and {o.status for o in evaluation.results.outcomes} == {"not_checked"}
    assert verdict.headline == f"NOT CHECKED: {total} checks — collection failed: connection refused"
    assert verdict.exit_code == EXIT_NOT_COLLECTED
    html = banner_html(verdict)
    assert "NOT CHECKED" in html and "PASS" not in html and "no findings" not in html.lower()
    assert failed_evaluation("bad", "high", EXIT_BAD_INPUT).verdict.exit_code == EXIT_BAD_INPUT


def test_no_outcome_at_all_is_not_a_pass():
    verdict = decide([], [], COMPLETE, "high")
    assert verdict.status == "not_checked" and verdict.exit_code == EXIT_NOT_COLLECTED


def test_the_banner_groups_checks_not_run_for_one_reason():
    reasons = ["check a not checked: not collected: s: denied", "check b not checked: not collected: s: denied",
               "source s not collected: denied"]
    assert grouped_reasons(reasons) == ["not collected: s: denied — 2 checks: a, b", "source s not collected: denied"]


def test_banner_escapes_what_it_shows():
    verdict = decide([outcome("a", "not_checked", reason="<script>x</script>")], [], COMPLETE, "high")
    html = banner_html(verdict)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_passing_row_says_what_the_pass_means_not_the_failure_title():
    results = CheckResults([outcome("saml.x", "pass"), outcome("saml.y", "not_applicable", reason="nothing set")])
    table = area_table(results, "saml")
    assert list(table["detail"]) == ["saml.x is right", "nothing set"]
    assert list(table["status"]) == ["pass", "not applicable"]
    assert "saml.x is wrong" not in set(table["detail"])


def test_runner_passes_the_pass_text_through():
    from idbridge.checks import load_all

    load_all()
    results = run_checks(MemoryTables({}, {"entra_sync_jobs": "denied"}), None, ids=["provisioning.quarantined"])
    assert results.outcomes[0].passed and results.outcomes[0].passed != results.outcomes[0].title
