"""Pace every HTTP request a boto3 client sends to the AWS limit it counts against.

AWS's limits are per account and Region and shared by every caller, so one pacer serves the whole process: two
collectors reading sso-admin at once share one bucket. The hook sits on botocore's `before-send` event, which
fires for each attempt — botocore's own retries are paced too.

Limit keys (what one token bucket stands for):
    sso-admin      one bucket per Region for every operation ("a collective 20 TPS")
    identitystore  one bucket per operation per Region ("20 TPS per API per identity store"; one store audited)
    organizations  one bucket (a global service)
    cloudtrail     one bucket per Region for LookupEvents ("two per second, per account, per Region")
    securityhub    one bucket per operation per Region, each at its own rate (GetFindings 3, BatchImportFindings
                   10 per second: the throttling limits in the Security Hub API reference's introduction)
"""

from __future__ import annotations

import threading

from idbridge.clients.pacing import RateLimiter

_HOOK_ID = "idbridge-aws-pacing"


def limit_key(service: str, operation: str, region: str | None) -> str:
    """The bucket a request draws from ('sso-admin@eu-west-1', 'identitystore:ListUsers@eu-west-1', ...)."""
    if service == "sso-admin":
        return f"sso-admin@{region}"
    if service == "identitystore":
        return f"identitystore:{operation}@{region}"
    if service == "organizations":
        return "organizations"
    return f"{service}:{operation}@{region}"  # cloudtrail:LookupEvents@region, and anything else


def limit_family(key: str) -> str:
    """'identitystore:ListUsers@eu-west-1' -> 'identitystore' (the service whose rate applies)."""
    return key.split("@", 1)[0].split(":", 1)[0]


class AwsPacer:
    """Token buckets by limit key, created on first use from per-service rates and bursts."""

    def __init__(self, rates: dict[str, float], bursts: dict[str, float], default_rate: float = 5.0):
        self.rates = dict(rates)
        self.bursts = dict(bursts)
        self.default_rate = default_rate
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def limiter(self, key: str) -> RateLimiter:
        with self._lock:
            found = self._limiters.get(key)
            if found is None:
                family = limit_family(key)
                operation = key.split("@", 1)[0]  # a rate of its own for one operation wins over its service's
                found = RateLimiter(self.rates.get(operation, self.rates.get(family, self.default_rate)),
                                    self.bursts.get(operation, self.bursts.get(family, 1)))
                self._limiters[key] = found
            return found

    def limiters(self) -> dict[str, RateLimiter]:
        with self._lock:
            return dict(self._limiters)

    def install(self, client) -> None:
        """Make `client` wait for its bucket before each request. Idempotent per client."""
        region = client.meta.region_name

        def before_send(event_name: str, **_kwargs) -> None:
            # event_name is "before-send.<service-id>.<Operation>"
            _, service, operation = event_name.split(".", 2)
            self.limiter(limit_key(service, operation, region)).acquire()
            return None  # a non-None value would short-circuit the request

        client.meta.events.register("before-send", before_send, unique_id=_HOOK_ID)


# --------------------------------------------------------------------------------------------- the process's pacer

# Requests per second each limit allows. sso-admin: 20 TPS shared by all its APIs; identitystore: 20 TPS per API
# per identity store; cloudtrail: LookupEvents 2 per second per account and Region (all AWS documentation).
# Organizations publishes no read rate that we could find: 5 TPS is our conservative assumption. Security Hub
# (the export, not the collection): GetFindings 3 per second (burst 6), BatchImportFindings 10 (burst 30).
LIMITS_TPS: dict[str, float] = {"sso-admin": 20.0, "identitystore": 20.0, "organizations": 5.0, "cloudtrail": 2.0,
                                "securityhub:GetFindings": 3.0, "securityhub:BatchImportFindings": 10.0}
PACE_SHARE = 0.95  # of each limit: headroom for other callers and for requests bunching up in transit
RATES: dict[str, float] = {service: tps * PACE_SHARE for service, tps in LIMITS_TPS.items()}
# Short bursts below AWS's own bucket size, so requests delayed in transit never arrive above the limit.
BURSTS: dict[str, float] = {"sso-admin": 10, "identitystore": 10, "organizations": 2, "cloudtrail": 1,
                             "securityhub:GetFindings": 3, "securityhub:BatchImportFindings": 10}
PACER = AwsPacer(RATES, BURSTS)
