"""Limits Identity Center puts on a permission set, checked on the desired state before anything is planned:
session duration (1–12 h, ISO-8601), one inline policy of at most 10,240 bytes that is a JSON policy document,
at most 20 managed and customer-managed policies (shared reference §1c)."""

from __future__ import annotations

import json
import re
from pathlib import Path

INLINE_POLICY_MAX_BYTES = 10_240
MAX_ATTACHED_POLICIES = 20
SESSION_MIN_MINUTES, SESSION_MAX_MINUTES = 60, 12 * 60
_DURATION = re.compile(r"^PT(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?$")
MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")


def session_minutes(value: str) -> int:
    """'PT4H' -> 240. Raises ValueError in words for another shape or a duration outside 1–12 hours."""
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"{value!r} is not an ISO-8601 duration such as PT1H, PT8H or PT90M")
    seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if not SESSION_MIN_MINUTES * 60 <= seconds <= SESSION_MAX_MINUTES * 60:
        raise ValueError(f"{value} is {seconds / 3600:g} h: Identity Center allows a session of 1 to 12 hours")
    return seconds // 60


def canonical_duration(value: str) -> str:
    """The form AWS returns (PT4H, PT1H30M), so a desired value compares equal to what is read back."""
    minutes = session_minutes(value)
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest else "")


def load_policy(path: Path, shown: str) -> str:
    """An inline policy file as the minified JSON sent to AWS. Raises ValueError naming the file and the problem:
    not found, not JSON (line and column), not a policy document, or over the inline-policy size limit."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"policy file {shown} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"policy file {shown} cannot be read: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{shown} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise ValueError(f"{shown} is not an IAM policy document (a JSON object with Version and Statement)")
    statements = document["Statement"]
    if not isinstance(statements, (list, dict)) or not statements:
        raise ValueError(f"{shown}: Statement must be a statement object or a non-empty list of them")
    minified = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    size = len(minified.encode("utf-8"))
    if size > INLINE_POLICY_MAX_BYTES:
        raise ValueError(f"{shown} is {size:,} bytes once whitespace is removed; Identity Center allows "
                         f"{INLINE_POLICY_MAX_BYTES:,} bytes for a permission set's inline policy")
    return minified


def same_policy(a: str | None, b: str | None) -> bool:
    """Two policy documents equal as JSON (AWS may hand back another spacing or key order)."""
    if a is None or b is None:
        return a is b
    try:
        return json.loads(a) == json.loads(b)
    except json.JSONDecodeError:
        return a == b
