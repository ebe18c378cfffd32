"""Accepted exceptions: findings a named person accepted as a risk, for a reason, until a date.

The engagement's parameters name the file (`exceptions: exceptions.yaml`, beside the parameters file); each entry
is one acceptance:

    exceptions:
      - id: breakglass-idc                          # names the acceptance in findings and reports
        check: reconcile.extra_in_idc               # a check id of the catalogue (docs/checks.md)
        subject: "user:breakglass-*@contoso.com"    # the finding's subject; * any run of characters, ? one
        reason: Emergency access if Entra is down; kept in Identity Center on purpose
        accepted_by: CISO, Jane Roe
        expires: 2026-06-30                         # required: every acceptance ends

Applied once, where findings are evaluated (`apply`): a finding an exception matches carries `accepted` (the
exception's id, reason, accepted_by, expires) everywhere it is written or shown, and stops counting toward the
verdict and exit code; it is never dropped. An exception is judged against the snapshot's collection date, like
every check: it applies through its `expires` day and not after. An expired exception no longer applies (the
findings it matched count again) and an exception that matched no finding is reported as unmatched: both are in
the findings artifact's `exceptions` section and the verdict's reasons.

Matching: the check id exactly; the subject as a pattern in which `*` stands for any run of characters and `?`
for one, everything else literal, without regard to case (UPNs, addresses and Entra names are case-insensitive).
A finding two exceptions match is accepted by the first in the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Iterable

from pydantic import Field, ValidationInfo, field_validator

from idbridge.core.vocabulary import StrictModel
from idbridge.core.yamlfile import read_yaml, validate_document
from idbridge.errors import InputError

_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}$")
_SUBJECT = re.compile(r"^[A-Za-z_]+:.+$", re.S)

APPLIED, UNMATCHED, EXPIRED = "applied", "unmatched", "expired"


class AcceptedException(StrictModel):
    id: str = Field(description="a short name for the acceptance: letters, digits, '-', '_', '.'")
    check: str = Field(description="the check id whose findings it accepts (docs/checks.md)")
    subject: str = Field(description="the finding's subject, e.g. user:breakglass-*@contoso.com")
    reason: str = Field(min_length=1, max_length=1000)
    accepted_by: str = Field(min_length=1, max_length=200)
    expires: date = Field(description="the last day it applies (YYYY-MM-DD)")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("not an exception id: 1-64 letters, digits, '-', '_' and '.', starting with a letter "
                             "or digit")
        return value

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("checks")
        if known is not None and value not in known:
            close = get_close_matches(value, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else " (the catalogue is in docs/checks.md)"
            raise ValueError(f"no check {value!r} in the catalogue{hint}")
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not _SUBJECT.match(value):
            raise ValueError("not a subject pattern: a kind, a colon and a name, as findings show them, e.g. "
                             "user:breakglass-*@contoso.com or group:Legacy-Platform-Admins")
        return value

    @field_validator("reason", "accepted_by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty: say it in words")
        return value.strip()

    def matches(self, check_id: str, subject: str) -> bool:
        return check_id == self.check and _pattern(self.subject).fullmatch(subject) is not None


class ExceptionsFile(StrictModel):
    exceptions: list[AcceptedException] = Field(default_factory=list)


def _pattern(glob: str) -> re.Pattern:
    """`*` any run of characters, `?` one; everything else literal (a group name may hold brackets)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob),
                      re.IGNORECASE | re.DOTALL)


def load_exceptions(path: str | Path) -> list[AcceptedException]:
    """Read and validate an exceptions file: every problem names the file, line and key (InputError, exit 2)."""
    from idbridge.checks import load_all

    doc = read_yaml(path)
    parsed = validate_document(doc, ExceptionsFile, context={"checks": set(load_all())}, echo_input=True)
    problems, seen = [], {}
    for index, entry in enumerate(parsed.exceptions):
        if entry.id in seen:
            problems.append(f"{doc.where(('exceptions', index, 'id'))}: id {entry.id!r} given twice (first at "
                            f"exceptions[{seen[entry.id]}]): each acceptance needs its own")
        seen.setdefault(entry.id, index)
    if problems:
        raise InputError(doc.file, problems)
    return parsed.exceptions


def exceptions_for(params) -> list[AcceptedException]:
    """The engagement's accepted exceptions (none when the parameters name no file)."""
    path = params.exceptions_path() if hasattr(params, "exceptions_path") else None
    return load_exceptions(path) if path is not None else []


def fingerprint(exceptions: Iterable[AcceptedException]) -> str:
    """What the acceptances are, for the findings artifact's fingerprint: another file, another evaluation."""
    body = [e.model_dump(mode="json") for e in exceptions]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16] if body else ""


@dataclass
class ExceptionStatus:
    """One exception as a run found it: applied (it accepted findings), unmatched (it matched none), or expired
    (no longer applied; `matched` counts the findings it would have matched, which count again)."""

    id: str
    check: str
    subject: str
    reason: str
    accepted_by: str
    expires: str
    status: str
    matched: int = 0               # findings it matches (expired or not)
    accepted: int = 0              # of those, the ones it accepted (an earlier exception may have taken some)

    def line(self) -> str:
        """One line for the verdict's reasons and the index."""
        if self.status == EXPIRED:
            again = (f"; the {self.matched} finding{'s' if self.matched != 1 else ''} it matched count again"
                     if self.matched else "; it matches no finding now")
            return (f"exception {self.id} ({self.check}, {self.subject}) expired on {self.expires}: no longer "
                    f"applied{again}")
        if self.status == UNMATCHED:
            return (f"exception {self.id} ({self.check}, {self.subject}) matched no finding: remove it, or correct "
                    "its check or subject")
        return (f"exception {self.id} ({self.check}, {self.subject}) accepted {self.accepted} "
                f"finding{'s' if self.accepted != 1 else ''} until {self.expires}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExceptionStatus":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def label(accepted: dict | None) -> str:
    """What reports show beside an accepted finding: "accepted: <reason>, until <date>"."""
    if not accepted:
        return ""
    return f"accepted: {accepted['reason']}, until {accepted['expires']}"


def apply(findings: list, exceptions: list[AcceptedException], on: date) -> list[ExceptionStatus]:
    """Mark each finding the first active exception matches as accepted (in place), and return how each
    exception fared. `on`: the date the findings are of (the snapshot's collection date)."""
    statuses = []
    active = [e for e in exceptions if e.expires >= on]
    counts = {e.id: 0 for e in exceptions}
    took = {e.id: 0 for e in exceptions}
    for finding in findings:
        finding.accepted = None
        hits = [e for e in exceptions if e.matches(finding.check_id, finding.subject)]
        for e in hits:
            counts[e.id] += 1
        first = next((e for e in hits if e in active), None)
        if first is not None:
            took[first.id] += 1
            finding.accepted = {"exception": first.id, "reason": first.reason, "accepted_by": first.accepted_by,
                                "expires": first.expires.isoformat()}
    for e in exceptions:
        status = EXPIRED if e.expires < on else APPLIED if counts[e.id] else UNMATCHED
        statuses.append(ExceptionStatus(e.id, e.check, e.subject, e.reason, e.accepted_by, e.expires.isoformat(),
                                        status, counts[e.id], took[e.id]))
    return statuses


def as_records(statuses: Iterable[ExceptionStatus]) -> list[dict]:
    return [asdict(s) for s in statuses]
