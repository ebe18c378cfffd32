"""Checks and findings.

A check is one small unit: its metadata (id, title, severity, what a finding means, how to fix it, references,
the tables it reads) and one function that looks at collected tables and yields a Hit per subject at fault.
Checks never call a cloud: they read a snapshot. `docs/checks.md` is generated from the registered units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from idbridge.vocabulary import SEVERITY_ORDER, Severity  # noqa: F401 - SEVERITY_ORDER re-exported (runner, validate)


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
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


CheckFunction = Callable[..., Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    evaluate: CheckFunction


REGISTRY: dict[str, Check] = {}


def check(**meta: Any) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function with its metadata: `@check(id="saml.sso_mode", title=..., ...)`."""

    def register(function: CheckFunction) -> CheckFunction:
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
