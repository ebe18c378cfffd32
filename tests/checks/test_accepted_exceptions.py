"""Accepted exceptions (checks/accepted.py): the file is validated like every input, matching is by check id and a
subject pattern, every acceptance expires, and accepted findings stay visible but do not count toward the verdict."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from idbridge.checks.accepted import AcceptedException, apply, label, load_exceptions
from idbridge.checks.base import Finding
from idbridge.checks.evaluate import accept, decide
from idbridge.checks.runner import CheckOutcome, CheckResults
from idbridge.core.parameters import load_parameters
from idbridge.errors import EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK, InputError

TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
PARAMETERS = f"engagement: acme\ngraph:\n  tenant_id: {TENANT}\n"
COMPLETE = {"entra.users": {"status": "complete", "error": None}}
GOOD = """\
exceptions:
  - id: breakglass-idc
    check: reconcile.extra_in_idc
    subject: "user:breakglass-*@contoso.com"
    reason: Emergency access when Entra is down
    accepted_by: CISO Jane Roe
    expires: 2026-06-30
"""


def write(tmp_path, text: str, name: str = "exceptions.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def entry(**changes) -> AcceptedException:
    base = dict(id="bg", check="reconcile.extra_in_idc", subject="user:breakglass-*@contoso.com",
                reason="emergency access", accepted_by="CISO", expires=date(2026, 6, 30))
    return AcceptedException(**{**base, **changes})


def finding(check_id: str = "reconcile.extra_in_idc", subject: str = "user:breakglass-1@contoso.com",
            severity: str = "high") -> Finding:
    return Finding(check_id=check_id, title="t", severity=severity, area="reconcile", subject=subject, detail="",
                   evidence={}, meaning="", fix="", references=())


# ------------------------------------------------------------------------------------------------ validation

def test_a_good_file_loads(tmp_path):
    [loaded] = load_exceptions(write(tmp_path, GOOD))
    assert (loaded.id, loaded.check, loaded.expires) == ("breakglass-idc", "reconcile.extra_in_idc", date(2026, 6, 30))


@pytest.mark.parametrize("line, replacement, expected", [
    ("    check: reconcile.extra_in_idc", "    check: reconcile.extra_in_icd",
     "line 3, exceptions[0].check: no check 'reconcile.extra_in_icd' in the catalogue; did you mean "
     "reconcile.extra_in_idc"),
    ("    expires: 2026-06-30", "    expires: end of June", "line 7, exceptions[0].expires: "),
    ('    subject: "user:breakglass-*@contoso.com"', '    subject: "breakglass-*@contoso.com"',
     "line 4, exceptions[0].subject: not a subject pattern: a kind, a colon and a name"),
    ("    reason: Emergency access when Entra is down", '    reason: "  "',
     "line 5, exceptions[0].reason: is empty: say it in words"),
    ("    accepted_by: CISO Jane Roe", "    acceptedby: CISO Jane Roe", "line 6, exceptions[0].acceptedby: unknown key"),
], ids=["unknown-check", "bad-date", "subject-without-kind", "blank-reason", "misspelt-key"])
def test_each_problem_names_file_line_and_key(tmp_path, line, replacement, expected):
    path = write(tmp_path, GOOD.replace(line, replacement))
    with pytest.raises(InputError) as error:
        load_exceptions(path)
    text = str(error.value)
    assert text.startswith(str(path)) and expected in text, text


def test_a_missing_expiry_is_refused_every_acceptance_ends(tmp_path):
    path = write(tmp_path, GOOD.replace("    expires: 2026-06-30\n", ""))
    with pytest.raises(InputError, match=r"line 2, exceptions\[0\]\.expires: required key is missing"):
        load_exceptions(path)


def test_an_id_given_twice_names_the_second(tmp_path):
    second = GOOD.split("\n", 1)[1].replace("reconcile.extra_in_idc", "reconcile.created_by_hand")
    path = write(tmp_path, GOOD + second)
    with pytest.raises(InputError, match=r"line 8, exceptions\[1\]\.id: id 'breakglass-idc' given twice"):
        load_exceptions(path)


def test_a_bad_file_is_bad_input_of_the_parameters_too(tmp_path):
    write(tmp_path, "exceptions:\n  - id: x\n", "exceptions.yaml")
    params = write(tmp_path, PARAMETERS + "exceptions: exceptions.yaml\n", "params.yaml")
    loaded = load_parameters(params)
    assert loaded.exceptions_path() == tmp_path / "exceptions.yaml", "relative to the parameters file's folder"
    from idbridge.checks.accepted import exceptions_for

    with pytest.raises(InputError) as error:
        exceptions_for(loaded)
    assert str(error.value).startswith(str(tmp_path / "exceptions.yaml"))
    assert "exceptions[0].check: required key is missing" in str(error.value)


def test_a_relative_path_may_not_climb_out(tmp_path):
    params = write(tmp_path, PARAMETERS + "exceptions: ../elsewhere.yaml\n", "params.yaml")
    with pytest.raises(InputError, match=r"line \d+, exceptions: a relative path may not climb out"):
        load_parameters(params)


# ------------------------------------------------------------------------------------------------ matching

@pytest.mark.parametrize("pattern, subject, matches", [
    ("user:breakglass-*@contoso.com", "user:breakglass-1@contoso.com", True),
    ("user:breakglass-*@contoso.com", "user:BreakGlass-2@Contoso.com", True),   # UPNs ignore case
    ("user:breakglass-*@contoso.com", "user:alice@contoso.com", False),
    ("user:breakglass-?@contoso.com", "user:breakglass-12@contoso.com", False),  # ? is one character
    ("group:AWS [prod] admins", "group:AWS [prod] admins", True),                # brackets are literal
    ("group:AWS [prod] admins", "group:AWS p admins", False),
    ("user:a.b@contoso.com", "user:aXb@contoso.com", False),                     # . is literal
    ("user:*", "group:x", False),                                                # the kind is part of it
])
def test_subject_patterns(pattern, subject, matches):
    assert entry(subject=pattern).matches("reconcile.extra_in_idc", subject) is matches


def test_the_check_id_must_be_the_findings():
    assert not entry().matches("reconcile.created_by_hand", "user:breakglass-1@contoso.com")


def test_matching_findings_carry_the_acceptance_and_others_do_not():
    found = [finding(), finding(subject="user:alice@contoso.com")]
    [status] = apply(found, [entry()], date(2026, 1, 1))
    assert found[0].accepted == {"exception": "bg", "reason": "emergency access", "accepted_by": "CISO",
                                 "expires": "2026-06-30"}
    assert found[1].accepted is None
    assert (status.status, status.matched, status.accepted) == ("applied", 1, 1)
    assert label(found[0].accepted) == "accepted: emergency access, until 2026-06-30"


def test_the_first_exception_in_the_file_accepts_a_finding_both_match():
    found = [finding()]
    first, second = apply(found, [entry(id="a"), entry(id="b", subject="user:*")], date(2026, 1, 1))
    assert found[0].accepted["exception"] == "a"
    assert (first.accepted, second.accepted, second.matched, second.status) == (1, 0, 1, "applied")


# ------------------------------------------------------------------------------------------------ expiry, unmatched

def test_an_exception_applies_through_its_expiry_day_and_not_after():
    found = [finding()]
    [on_the_day] = apply(found, [entry()], date(2026, 6, 30))
    assert found[0].accepted and on_the_day.status == "applied"
    [after] = apply(found, [entry()], date(2026, 7, 1))
    assert found[0].accepted is None, "an expired exception no longer applies"
    assert (after.status, after.matched, after.accepted) == ("expired", 1, 0)
    assert "expired on 2026-06-30: no longer applied; the 1 finding it matched count again" in after.line()


def test_an_exception_that_matches_nothing_is_reported_as_unmatched():
    [status] = apply([finding(subject="user:alice@contoso.com")], [entry()], date(2026, 1, 1))
    assert status.status == "unmatched" and "matched no finding" in status.line()


# ------------------------------------------------------------------------------------------------ verdict

def results_of(findings: list[Finding]) -> CheckResults:
    by_check: dict[str, int] = {}
    for f in findings:
        by_check[f.check_id] = by_check.get(f.check_id, 0) + 1
    outcomes = [CheckOutcome(c, "t", "reconcile", "high", "fail", n) for c, n in by_check.items()]
    outcomes.append(CheckOutcome("saml.other", "t", "saml", "high", "pass", 0))
    return CheckResults(outcomes, findings)


def verdict_of(results: CheckResults, exceptions, on=date(2026, 1, 1), sources=COMPLETE):
    statuses = accept(results, exceptions, on)
    counted = [(f.check_id, f.severity) for f in results.findings if not f.accepted]
    return decide(results.outcomes, counted, sources, "high", accepted=len(results.findings) - len(counted),
                  exceptions=statuses)


def test_a_run_whose_only_failures_are_accepted_passes_saying_so():
    results = results_of([finding(), finding(subject="user:breakglass-2@contoso.com")])
    verdict = verdict_of(results, [entry()])
    assert (verdict.status, verdict.exit_code) == ("pass", EXIT_OK)
    assert verdict.headline == ("PASS with 2 accepted findings: all 2 checks ran on complete data; 1 passed and 1 "
                                "found only findings accepted as exceptions (reconcile.extra_in_idc)")
    assert results.outcomes[0].status == "accepted" and results.outcomes[0].accepted == 2
    assert verdict.counts["accepted"] == 1 and verdict.counts["accepted_findings"] == 2
    assert any("exception bg" in r and "accepted 2 findings until 2026-06-30" in r for r in verdict.reasons)


def test_without_the_exception_the_same_run_fails():
    verdict = verdict_of(results_of([finding()]), [])
    assert (verdict.status, verdict.exit_code) == ("fail", EXIT_FINDINGS)


def test_accepted_findings_do_not_count_toward_fail_on_but_others_do():
    results = results_of([finding(), finding(subject="user:alice@contoso.com", severity="low"),
                          finding("reconcile.created_by_hand", "user:bob@contoso.com", "high")])
    verdict = verdict_of(results, [entry()])
    assert (verdict.status, verdict.exit_code) == ("fail", EXIT_FINDINGS)
    assert verdict.headline == ("FAIL: 2 findings from 2 checks, 1 at or above fail_on=high (and 1 accepted as "
                                "exceptions, not counted)")
    assert "1 finding at or above fail_on=high: reconcile.created_by_hand" in verdict.reasons
    assert results.outcomes[0].status == "fail" and results.outcomes[0].accepted == 1, "mixed: still a failure"


def test_an_expired_exception_fails_the_run_again_and_says_why():
    verdict = verdict_of(results_of([finding()]), [entry(expires=date(2025, 12, 31))])
    assert (verdict.status, verdict.exit_code) == ("fail", EXIT_FINDINGS)
    assert any(r.startswith("exception bg (reconcile.extra_in_idc, user:breakglass-*@contoso.com) expired on "
                            "2025-12-31") for r in verdict.reasons)


def test_accepted_findings_never_turn_an_unchecked_run_into_a_pass():
    sources = {**COMPLETE, "aws.cloudtrail": {"status": "partial", "error": "ThrottlingException"}}
    verdict = verdict_of(results_of([finding()]), [entry()], sources=sources)
    assert (verdict.status, verdict.exit_code) == ("not_checked", EXIT_NOT_COLLECTED)
    assert "PASS" not in verdict.headline and "1 finding accepted as exceptions, not counted" in verdict.headline


def test_the_shipped_example_is_valid_and_declares_break_glass_accounts():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "parameters" / "exceptions.example.yaml"
    loaded = load_exceptions(example)
    assert {e.check for e in loaded} == {"reconcile.extra_in_idc", "reconcile.created_by_hand"}
    assert all(e.matches(e.check, "user:breakglass-01@contoso.com") for e in loaded)
