"""Times in scenario files: absolute ISO-8601 or relative to the moment the sandbox starts.

Scenario dates are mostly relative ("now-30d", "now+20d") so that a certificate planted to expire in 20 days
still does so whenever the scenario is run.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RELATIVE = re.compile(r"^now\s*(?:(?P<sign>[+-])\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw]))?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def check_time_expr(value: object) -> str:
    """Validate without resolving; returns the normalised text. Raises ValueError with a readable reason."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"expected a time such as 'now-30d' or '2026-01-31T12:00:00Z', got {value!r}")
    text = value.strip()
    if _RELATIVE.match(text):
        return text
    try:
        parse_iso(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time: use 'now', 'now-30d', 'now+12h' (units s m h d w) or ISO-8601"
        ) from None
    return text


def parse_iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def resolve_time(expr: str, now: datetime) -> datetime:
    match = _RELATIVE.match(expr.strip())
    if match is None:
        return parse_iso(expr)
    if not match.group("sign"):
        return now
    delta = timedelta(**{_UNITS[match.group("unit")]: float(match.group("amount"))})
    return now + delta if match.group("sign") == "+" else now - delta


def graph_time(moment: datetime | None) -> str | None:
    """Graph's DateTimeOffset form: UTC with a Z, no fractional seconds."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
