"""Checks and findings.

A check is one small unit: its metadata (id, title, what a pass verified, severity, what a finding means, how to
fix it, references, the controls it maps to, the tables it reads) and one function that looks at collected tables
and yields a Hit per subject at fault. The title names the failure; `passed` says what was verified when the check
finds nothing, and `headline(meta, status)` picks the one that fits an outcome.
Checks never call a cloud: they read a snapshot. `docs/checks.md` is generated from the registered units.

Severity: a check has one catalogue severity (`severity`), the severity of its findings. A check that grades its
findings (a certificate expired vs. expiring in 50 days) announces every other severity a finding may take and
when, in `graded`; a Hit may only carry one of those. So the catalogue, checks.csv, findings.csv and the reports
agree: a finding shows its own severity, the check's catalogue severity beside it, and why they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from idbridge.checks.controls import Control, validate as validate_controls
from idbridge.core.vocabulary import (SEVERITY_ORDER, Severity)  # noqa: F401 - SEVERITY_ORDER re-exported (runner, validate)


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str                     # the failure, a finding's headline: "Provisioning job in quarantine"
    passed: str                    # what a pass verified: "The provisioning job is not in quarantine."
    severity: Severity
    area: str                      # saml, provisioning, reconcile, scim, aws, access
    subject_kind: str              # user, group, account, permission_set, app
    meaning: str                   # what a finding means for the organisation, in a sentence or two
    fix: str                       # what to do, concretely
    references: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()   # snapshot tables read; any not collected -> "not checked: why"
    controls: tuple[Control, ...] = ()  # what it gives evidence for (checks/controls.py); required by @check
    graded: tuple[tuple[Severity, str], ...] = ()  # other severities a finding may take, and when (worst first)

    @property
    def severities(self) -> tuple[str, ...]:
        """Every severity a finding of this check can carry, worst first."""
        found = {self.severity, *(s for s, _ in self.graded)}
        return tuple(sorted(found, key=SEVERITY_ORDER.get, reverse=True))

    def severity_reason(self, severity: str) -> str:
        """Why a finding has this severity rather than the catalogue's ("" when it is the catalogue's)."""
        return "" if severity == self.severity else dict(self.graded)[severity]

    @property
    def severity_text(self) -> str:
        """The catalogue's words: "medium; high when the user holds an admin-equivalent permission set"."""
        return "; ".join([self.severity] + [f"{s} when {when}" for s, when in self.graded])


@dataclass
class Hit:
    """One subject at fault, as a check function yields it."""

    subject: str                   # "user:alice@contoso.com", "app:AWS IAM Identity Center", ...
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # one of the check's `graded` severities (7 days left is worse than 60)
    detail: str = ""               # one line specific to this subject


@dataclass
class Finding:
    check_id: str
    title: str
    severity: Severity
    area: str
    subject: str
    detail: str
    evidence: dict[str, Any]
    meaning: str
    fix: str
    references: tuple[str, ...]
    check_severity: str = ""       # the check's catalogue severity; `severity` is this finding's
    severity_reason: str = ""      # why `severity` differs from check_severity (the catalogue's words), else ""
    controls: tuple[Control, ...] = ()
    # Set when an accepted exception covers it (checks/accepted.py): {exception, reason, accepted_by, expires}.
    # Still a finding, shown everywhere; it just does not count toward the verdict and exit code.
    accepted: dict[str, str] | None = None


class NotApplicable(Exception):
    """Raised by a check when there is nothing configured for it to check (e.g. no incompatible pairs declared,
    no token date recorded): the outcome is not_applicable with this reason, never a pass and never "not
    collected" — the data was there, the engagement did not ask."""

    def __init__(self, why: str):
        self.why = why
        super().__init__(why)


CheckFunction = Callable[..., Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    evaluate: CheckFunction


REGISTRY: dict[str, Check] = {}


def headline(meta: CheckMeta, status: str) -> str:
    """The line to show for a check's outcome: what was verified for a pass, the failure title for any other
    status (fail, not_checked, error), so a passing row never reads like a problem."""
    return meta.passed if status == "pass" else meta.title


def check(**meta: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function with its metadata: `@check(id="saml.sso_mode", title=..., passed=..., ...)`."""

    def register(function: CheckFunction) -> CheckFunction:
        passed = meta.get("passed")
        if not isinstance(passed, str) or not passed.strip():
            raise ValueError(f"check {meta.get('id')}: `passed` is empty; say in a sentence what a pass verified")
        graded = meta.get("graded") or {}
        meta["graded"] = tuple(sorted(dict(graded).items(), key=lambda item: SEVERITY_ORDER.get(item[0], -1),
                                      reverse=True))  # worst first, as the catalogue lists them
        spec = CheckMeta(**meta)
        for severity, when in spec.graded:
            if severity not in SEVERITY_ORDER or severity == spec.severity or not when.strip():
                raise ValueError(f"check {spec.id}: graded severity {severity!r} must be another severity than "
                                 f"{spec.severity!r}, saying when it applies")
        validate_controls(spec.id, spec.controls)
        if spec.id in REGISTRY and REGISTRY[spec.id].evaluate is not function:
            raise ValueError(f"check id {spec.id} registered twice")
        REGISTRY[spec.id] = Check(spec, function)
        function.meta = spec  # type: ignore[attr-defined]
        return function

    return register


def to_finding(meta: CheckMeta, hit: Hit) -> Finding:
    """A hit as a finding. A severity the catalogue does not announce for the check is a bug in the unit: it
    raises, so the check's outcome is an error instead of a finding whose severity no document explains."""
    severity = hit.severity or meta.severity
    if severity not in meta.severities:
        raise ValueError(f"check {meta.id} gave {hit.subject} severity {severity!r}, which its catalogue entry "
                         f"does not announce ({meta.severity_text}): add it to `graded` with when it applies")
    return Finding(check_id=meta.id, title=meta.title, severity=severity, area=meta.area,
                   subject=hit.subject, detail=hit.detail, evidence=hit.evidence, meaning=meta.meaning,
                   fix=meta.fix, references=meta.references, check_severity=meta.severity,
                   severity_reason=meta.severity_reason(severity), controls=meta.controls)
