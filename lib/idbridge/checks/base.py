"""Checks and findings.

A check is one small unit: its metadata (id, title, what a pass verified, severity, what a finding means, how to
fix it, references, the tables it reads) and one function that looks at collected tables and yields a Hit per
subject at fault. The title names the failure; `passed` says what was verified when the check finds nothing, and
`headline(meta, status)` picks the one that fits an outcome.
Checks never call a cloud: they read a snapshot. `docs/checks.md` is generated from the registered units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Hit:
    """One subject at fault, as a check function yields it."""

    subject: str                   # "user:alice@contoso.com", "app:AWS IAM Identity Center", ...
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # overrides the check's default (e.g. 7 days left is worse than 60)
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
        spec = CheckMeta(**meta)
        if spec.id in REGISTRY and REGISTRY[spec.id].evaluate is not function:
            raise ValueError(f"check id {spec.id} registered twice")
        REGISTRY[spec.id] = Check(spec, function)
        function.meta = spec  # type: ignore[attr-defined]
        return function

    return register


def to_finding(meta: CheckMeta, hit: Hit) -> Finding:
    return Finding(check_id=meta.id, title=meta.title, severity=hit.severity or meta.severity, area=meta.area,
                   subject=hit.subject, detail=hit.detail, evidence=hit.evidence, meaning=meta.meaning,
                   fix=meta.fix, references=meta.references)
