"""Faults and limits the sandbox can switch on, all off by default.

Given on the command line as `--faults latency=20,graph_429=0.1,aws_throttle=on,deny=signIns+cloudtrail` or as a
mapping in a parameters file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from idbridge.core.vocabulary import StrictModel

# Sources that `deny` / `unlicensed` can name; each maps to the endpoints or APIs that then fail.
DENIABLE_SOURCES = {
    # Graph
    "users": "GET /users",
    "groups": "GET /groups and members",
    "applications": "GET /applications, /servicePrincipals",
    "synchronization": "…/synchronization/*",
    "signIns": "GET /auditLogs/signIns",
    "provisioningLogs": "GET /auditLogs/provisioning",
    "registrationDetails": "GET /reports/authenticationMethods/userRegistrationDetails",
    "conditionalAccess": "GET /identity/conditionalAccess/policies",
    # AWS
    "sso-admin": "every sso-admin operation",
    "identitystore": "every identitystore operation",
    "organizations": "every organizations operation",
    "cloudtrail": "cloudtrail:LookupEvents",
}


class FaultConfig(StrictModel):
    latency_ms: float = Field(0, ge=0, le=10_000, description="added to every request, both services")
    graph_429: float = Field(0, ge=0, le=1, description="share of Graph requests answered 429 + Retry-After")
    graph_503: float = Field(0, ge=0, le=1, description="share of Graph requests answered 503")
    expired_page_token: float = Field(
        0, ge=0, le=1, description="share of Graph next-link follows answered Directory_ExpiredPageToken"
    )
    retry_after_s: int = Field(1, ge=0, le=120, description="Retry-After sent with a 429")
    aws_throttle: bool = Field(False, description="enforce sso-admin 20 TPS total, identitystore 20 TPS per API")
    aws_limiter: Literal["bucket", "window"] = Field(
        "bucket", description="shape of the aws_throttle limit: bucket = a token bucket of 20 refilled at 20/s "
                              "(bursts allowed); window = at most 20 requests in any one-second window")
    graph_reports_limit: bool = Field(False, description="enforce 5 requests / 10 s on the reports endpoints")
    deny: list[str] = Field(default_factory=list, description="sources answered with AccessDenied / 403")
    unlicensed: list[str] = Field(default_factory=list, description="sources answered with a licence error")
    seed: int = Field(7, description="random seed, so a faulty run can be repeated")

    def model_post_init(self, _context) -> None:
        unknown = sorted(set(self.deny + self.unlicensed) - set(DENIABLE_SOURCES))
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {sorted(DENIABLE_SOURCES)}")

    @property
    def any_on(self) -> bool:
        return self != FaultConfig(seed=self.seed)


_ALIASES = {"latency": "latency_ms", "429": "graph_429", "503": "graph_503", "expired": "expired_page_token",
            "throttle": "aws_throttle", "reports_limit": "graph_reports_limit",
            "limiter": "aws_limiter"}
_TRUE = {"1", "on", "true", "yes"}
_FALSE = {"0", "off", "false", "no"}


def parse_fault_spec(spec: str | None) -> FaultConfig:
    """`latency=20,graph_429=0.1,aws_throttle=on,deny=signIns+cloudtrail` -> FaultConfig.

    Raises ValueError naming the item that is wrong."""
    values: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        key, sep, raw = item.partition("=")
        key = _ALIASES.get(key.strip(), key.strip())
        if key not in FaultConfig.model_fields:
            raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(FaultConfig.model_fields))}")
        raw = raw.strip() if sep else "on"
        if key in ("deny", "unlicensed"):
            values[key] = [s for s in raw.split("+") if s]
        elif raw.lower() in _TRUE | _FALSE and FaultConfig.model_fields[key].annotation is bool:
            values[key] = raw.lower() in _TRUE
        else:
            values[key] = raw
    try:
        return FaultConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "faults"
        raise ValueError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None


FaultName = Literal[tuple(FaultConfig.model_fields)]  # type: ignore[valid-type]
