"""Evaluate a snapshot once, and decide the verdict and exit code in one place.

    evaluation = evaluate_snapshot(snapshot, params)     # every check, once: outcomes, findings, verdict
    evaluation.verdict.exit_code                          # what every command exits with
    evaluation.verdict.headline                           # what every report and the index say first

`decide` is the one exit policy of the kit (`idbridge run`, `idbridge validate`, the reports, the index): it
looks at the check outcomes, the sources of the snapshot and `fail_on`, and never says more than was checked:

    PASS         every check ran on completely collected data and found nothing (not_applicable ones aside)
                 beyond findings accepted as exceptions: then "PASS with N accepted findings", naming the checks
                 that found only accepted ones (their outcome is `accepted`, never `pass`)
    FAIL         at least one check found something not accepted
    NOT CHECKED  a check could not run (data not collected, or the check raised), a source is incomplete, or
                 nothing could be evaluated at all (preflight or collection failed)

Exit codes: 2 bad input > 3 incomplete (a check not run, a source not completely collected, a failed step) >
1 findings at or above fail_on > 0. Accepted findings (checks/accepted.py) count toward none of them; every
exception's fate (applied, expired, unmatched) is one line of the verdict's reasons.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from idbridge.checks import load_all
from idbridge.checks.accepted import ExceptionStatus, apply as apply_exceptions, exceptions_for, \
    fingerprint as exceptions_fingerprint
from idbridge.checks.base import SEVERITY_ORDER
from idbridge.checks.runner import CheckOutcome, CheckResults, outcome_fields, run_checks
from idbridge.checks.settings import settings_for
from idbridge.errors import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_NOT_COLLECTED, EXIT_OK
from idbridge.core.vocabulary import ACCESS_AREAS, VALIDATION_AREAS  # noqa: F401  (the areas reports select by)

NOT_RUN = ("not_checked", "error")


@dataclass(frozen=True)
class Verdict:
    status: str                         # pass | fail | not_checked
    exit_code: int
    headline: str                       # one line for a person: "NOT CHECKED: 5 of 46 checks — ..."
    reasons: tuple[str, ...] = ()       # what could not be checked and why, what failed, one line each
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def word(self) -> str:
        return {"pass": "PASS", "fail": "FAIL", "not_checked": "NOT CHECKED"}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "word": self.word, "exit_code": self.exit_code, "headline": self.headline,
                "reasons": list(self.reasons), "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        return cls(data["status"], int(data["exit_code"]), data["headline"], tuple(data.get("reasons", ())),
                   dict(data.get("counts", {})))


def _at_or_above(severity: str, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_ORDER[severity] >= SEVERITY_ORDER[fail_on]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def decide(outcomes: Iterable[CheckOutcome], findings: Iterable[tuple[str, str]], sources: dict[str, dict],
           fail_on: str, *, failure: str | None = None, failure_code: int = EXIT_NOT_COLLECTED,
           accepted: int = 0, exceptions: Iterable[ExceptionStatus] = ()) -> Verdict:
    """The verdict and exit code of an evaluation. `findings`: (check id, severity) of each finding that counts
    (not accepted); `sources`: the snapshot's manifest entries (status, error); `failure`: why nothing could be
    evaluated at all (preflight or collection failed, bad input), with its exit code; `accepted`: how many
    findings accepted exceptions cover; `exceptions`: how each exception fared (a line of the reasons each)."""
    outcomes = list(outcomes)
    findings = list(findings)
    severities = [severity for _, severity in findings]
    by_status = Counter(o.status for o in outcomes)
    counts = {status: by_status.get(status, 0) for status in ("pass", "fail", "accepted", "not_checked",
                                                               "not_applicable", "error")}
    counts["checks"] = len(outcomes)
    counts["findings"] = len(severities) + accepted
    counts["accepted_findings"] = accepted
    counts["at_or_above_fail_on"] = sum(_at_or_above(s, fail_on) for s in severities)
    reasons: list[str] = []
    parts: list[str] = []
    code = EXIT_OK

    if failure:
        reasons.append(failure)
        parts.append(f"NOT CHECKED: {_plural(len(outcomes), 'check')} — {failure}")
        return Verdict("not_checked", failure_code, " · ".join(parts), tuple(reasons), counts)

    not_run = [o for o in outcomes if o.status in NOT_RUN]
    incomplete = {name: record for name, record in sources.items() if record.get("status") != "complete"}
    if not_run:
        why = Counter(o.reason or o.status for o in not_run)
        first, _ = why.most_common(1)[0]
        more = f" (and {_plural(len(why) - 1, 'other reason')})" if len(why) > 1 else ""
        parts.append(f"NOT CHECKED: {len(not_run)} of {_plural(len(outcomes), 'check')} — {first}{more}")
        reasons += [f"check {o.check_id} {'could not be evaluated' if o.status == 'error' else 'not checked'}: "
                    f"{o.reason}" for o in not_run]
        code = EXIT_NOT_COLLECTED
    if incomplete:
        listed = "; ".join(f"{name} {record.get('status', '').replace('_', ' ')}: {record.get('error') or 'no reason recorded'}"
                           for name, record in sorted(incomplete.items()))
        if not not_run:
            parts.append(f"NOT CHECKED: {_plural(len(incomplete), 'source')} not completely collected, so the "
                         f"checks reading them may miss subjects — {listed}")
        reasons += [f"source {name} {record.get('status', '').replace('_', ' ')}: "
                    f"{record.get('error') or 'no reason recorded'}" for name, record in sorted(incomplete.items())]
        code = EXIT_NOT_COLLECTED
    failed = [o for o in outcomes if o.status == "fail"]
    only_accepted = [o for o in outcomes if o.status == "accepted"]
    if failed:
        above = counts["at_or_above_fail_on"]
        parts.append(f"FAIL: {_plural(len(severities), 'finding')} from {_plural(len(failed), 'check')}"
                     + (f", {above} at or above fail_on={fail_on}" if above else f", none at or above "
                                                                                  f"fail_on={fail_on}")
                     + (f" (and {accepted} accepted as exceptions, not counted)" if accepted else ""))
        if above:
            reasons.append(f"{_plural(above, 'finding')} at or above fail_on={fail_on}: "
                           + ", ".join(sorted({c for c, s in findings if _at_or_above(s, fail_on)})))
            if code == EXIT_OK:
                code = EXIT_FINDINGS
    if not outcomes:
        parts.append("NOT CHECKED: no check was evaluated")
        code = EXIT_NOT_COLLECTED
    elif accepted and parts and not failed:  # not checked: the accepted findings are said, apart
        parts.append(f"{_plural(accepted, 'finding')} accepted as exceptions, not counted")
    if not parts:
        applicable = counts["pass"]
        extra = (f" ({counts['not_applicable']} not applicable: nothing configured for them)"
                 if counts["not_applicable"] else "")
        if only_accepted:
            # Never "passed" for a check that found something: say which checks found only accepted findings.
            parts.append(f"PASS with {_plural(accepted, 'accepted finding')}: all "
                         f"{_plural(applicable + len(only_accepted), 'check')} ran on complete data; "
                         f"{applicable} passed and {len(only_accepted)} found only findings accepted as exceptions "
                         f"({', '.join(o.check_id for o in only_accepted)}){extra}")
        else:
            parts.append(f"PASS: all {_plural(applicable, 'check')} ran on complete data and passed{extra}")
    reasons += [e.line() for e in exceptions]
    status = "fail" if failed else "not_checked" if (not_run or incomplete or not outcomes) else "pass"
    return Verdict(status, code, " · ".join(parts), tuple(reasons), counts)


@dataclass
class Evaluation:
    """Everything a report or export needs of one evaluation: outcomes and findings, the sources they rest on,
    and the verdict decided from them."""

    results: CheckResults
    sources: dict[str, dict]
    fail_on: str
    verdict: Verdict
    collected_at: str = ""
    checks_fingerprint: str = ""
    evaluated_at: str = ""
    exceptions: list[ExceptionStatus] = field(default_factory=list)  # each accepted exception and how it fared

    def for_areas(self, areas: Iterable[str]) -> CheckResults:
        wanted = set(areas)
        return CheckResults([o for o in self.results.outcomes if o.area in wanted],
                            [f for f in self.results.findings if f.area in wanted])


def evaluate(snapshot, params, areas: list[str] | None = None) -> CheckResults:
    """Run the registered checks (all, or those of `areas`) on a snapshot."""
    load_all()
    settings = settings_for(params, snapshot.manifest.get("collected_at"))
    return run_checks(snapshot, settings, areas=areas)


def checks_fingerprint(params) -> str:
    """What the findings depend on besides the snapshot: thresholds, the app's name, fail_on, idbridge's
    version. An artifact evaluated under another fingerprint is evaluated again, never reused."""
    import hashlib
    import json

    from idbridge import __version__

    body = {"checks": params.checks.model_dump(mode="json"), "app": params.app.display_name,
            "fail_on": params.fail_on, "version": __version__}
    accepted = exceptions_fingerprint(exceptions_for(params))
    if accepted:  # only then: runs without exceptions keep the fingerprint they had
        body["exceptions"] = accepted
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def source_statuses(snapshot) -> dict[str, dict]:
    return {name: {"status": record["status"], "error": record.get("error")}
            for name, record in snapshot.sources.items()}


def accept(results: CheckResults, exceptions, on) -> list[ExceptionStatus]:
    """Apply the accepted exceptions to the results (in place): matching findings carry `accepted`, and a check
    whose findings are all accepted has the outcome `accepted` instead of `fail`. How each exception fared."""
    statuses = apply_exceptions(results.findings, list(exceptions), on)
    covered = Counter(f.check_id for f in results.findings if f.accepted)
    for outcome in results.outcomes:
        outcome.accepted = covered.get(outcome.check_id, 0)
        if outcome.status in ("fail", "accepted"):
            outcome.status = "accepted" if outcome.accepted == outcome.findings else "fail"
    return statuses


def evaluate_snapshot(snapshot, params) -> Evaluation:
    """Every check on the snapshot, once, with the engagement's accepted exceptions applied, and its verdict."""
    exceptions = exceptions_for(params)  # bad input is said before any check runs
    results = evaluate(snapshot, params)
    sources = source_statuses(snapshot)
    statuses = accept(results, exceptions, settings_for(params, snapshot.manifest.get("collected_at")).now.date())
    counted = [(f.check_id, f.severity) for f in results.findings if not f.accepted]
    verdict = decide(results.outcomes, counted, sources, params.fail_on,
                     accepted=len(results.findings) - len(counted), exceptions=statuses)
    return Evaluation(results, sources, params.fail_on, verdict, str(snapshot.manifest.get("collected_at", "")),
                      checks_fingerprint(params), _now(), statuses)


def failed_evaluation(why: str, fail_on: str, exit_code: int = EXIT_NOT_COLLECTED) -> Evaluation:
    """The evaluation of a run in which nothing could be evaluated (preflight or collection failed, bad input):
    every registered check is not_checked with that reason, so no report can read it as "no findings"."""
    registry = load_all()
    outcomes = [CheckOutcome(**outcome_fields(check.meta), status="not_checked", findings=0, reason=why)
                for _, check in sorted(registry.items())]
    code = exit_code if exit_code in (EXIT_BAD_INPUT, EXIT_NOT_COLLECTED) else EXIT_NOT_COLLECTED
    verdict = decide(outcomes, [], {}, fail_on, failure=why, failure_code=code)
    return Evaluation(CheckResults(outcomes, []), {}, fail_on, verdict, evaluated_at=_now())


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="microseconds")
