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

A client of the sandbox (clients/factory.py marks it: parameters with `sandbox: true` and its own credentials, a
key AWS refuses) is paced only on the limits the sandbox's AWS side can enforce: sso-admin and identitystore, at
AWS's rates (its aws_throttle fault). The others are AWS's alone; pacing the sandbox to CloudTrail's two per
second only waited (17 s of each demo collection), and proved nothing that a real limit would check.
"""

from __future__ import annotations

import threading

from idbridge.clients.pacing import RateLimiter, SlidingWindow

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


class _Both:
    """A token bucket and a sliding window on one limit: the window is taken last, so its send times are the
    real ones."""

    def __init__(self, bucket: RateLimiter, window: SlidingWindow | None):
        self.bucket, self.window = bucket, window

    def acquire(self) -> float:
        waited = self.bucket.acquire()
        return waited + (self.window.acquire() if self.window is not None else 0.0)

    @property
    def acquired(self) -> int:
        return self.bucket.acquired

    @property
    def rate(self) -> float:
        return self.bucket.rate

    @property
    def waited_s(self) -> float:
        return self.bucket.waited_s + (self.window.waited_s if self.window is not None else 0.0)


# What the sandbox's AWS side throttles (sandbox/aws/middleware.py throttle_key; a test keeps the two in step).
SANDBOX_ENFORCED = ("sso-admin", "identitystore")
# True: a sandbox client is paced on every limit, as a real tenant's is (benchmarks/collect.py and peer.py, whose
# figures are a real tenant's).
PACE_SANDBOX_AS_AWS = False
_SANDBOX_MARK = "_idbridge_sandbox"


def mark_sandbox(client) -> None:
    """Say that `client` talks to the sandbox (signs with the sandbox's key): see the module's docstring."""
    setattr(client, _SANDBOX_MARK, True)


def paced_here(client, key: str) -> bool:
    """Whether a request of `client` counting against limit `key` is paced."""
    return PACE_SANDBOX_AS_AWS or not getattr(client, _SANDBOX_MARK, False) or limit_family(key) in SANDBOX_ENFORCED


class AwsPacer:
    """A token bucket and, where given, a sliding window per limit key, created on first use from per-service
    rates, bursts and windows ({service: (calls, seconds)})."""

    def __init__(self, rates: dict[str, float], bursts: dict[str, float], default_rate: float = 5.0,
                 windows: dict[str, tuple[int, float]] | None = None):
        self.rates = dict(rates)
        self.bursts = dict(bursts)
        self.windows = dict(windows or {})
        self.default_rate = default_rate
        self._limiters: dict[str, _Both] = {}
        self._lock = threading.Lock()

    def limiter(self, key: str) -> _Both:
        with self._lock:
            found = self._limiters.get(key)
            if found is None:
                family = limit_family(key)
                operation = key.split("@", 1)[0]  # a rate of its own for one operation wins over its service's
                window = self.windows.get(operation, self.windows.get(family))
                found = _Both(RateLimiter(self.rates.get(operation, self.rates.get(family, self.default_rate)),
                                          self.bursts.get(operation, self.bursts.get(family, 1))),
                              SlidingWindow(*window) if window else None)
                self._limiters[key] = found
            return found

    def limiters(self) -> dict[str, _Both]:
        with self._lock:
            return dict(self._limiters)

    def install(self, client) -> None:
        """Make `client` wait for its bucket before each request. Idempotent per client."""
        region = client.meta.region_name

        def before_send(event_name: str, **_kwargs) -> None:
            # event_name is "before-send.<service-id>.<Operation>"
            _, service, operation = event_name.split(".", 2)
            key = limit_key(service, operation, region)
            if paced_here(client, key):
                self.limiter(key).acquire()
            return None  # a non-None value would short-circuit the request

        def needs_retry(event_name: str, response=None, **_kwargs) -> None:
            # A throttle means requests reached AWS closer together than they left: widen this limit's window.
            parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else None
            code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, dict) else None
            if code in ("ThrottlingException", "TooManyRequestsException", "Throttling"):
                _, service, operation = event_name.split(".", 2)
                window = self.limiter(limit_key(service, operation, region)).window
                if window is not None:
                    window.widen(WINDOW_MARGIN_STEP_S, 1.0 + WINDOW_MARGIN_MAX_S)
            return None  # never decides whether to retry: botocore's retry handler does

        client.meta.events.register("before-send", before_send, unique_id=_HOOK_ID)
        client.meta.events.register("needs-retry", needs_retry, unique_id=_HOOK_ID + "-widen")


# --------------------------------------------------------------------------------------------- the process's pacer

# Requests per second each limit allows. sso-admin: 20 TPS shared by all its APIs; identitystore: 20 TPS per API
# per identity store; cloudtrail: LookupEvents 2 per second per account and Region (all AWS documentation).
# Organizations: AWS publishes no read rate. Its quotas page (docs.aws.amazon.com/organizations/latest/userguide/
# orgs_reference_limits.html) lists entity maxima only, and TooManyRequestsException (API reference) points back
# to that page; the general reference (docs.aws.amazon.com/general/latest/gr/ao.html) gives endpoints and the same
# entity quotas. So 5 TPS stays an assumption, kept low because Organizations throttles per organisation, shared
# with Control Tower and every other caller; the collector instead spends few Organizations calls (one per OU
# and parent, tags only where access can reach: collectors.collect_organizations).
# Security Hub (the export, not the collection): GetFindings 3 per second (burst 6), BatchImportFindings 10 (burst 30).
LIMITS_TPS: dict[str, float] = {"sso-admin": 20.0, "identitystore": 20.0, "organizations": 5.0, "cloudtrail": 2.0,
                                "securityhub:GetFindings": 3.0, "securityhub:BatchImportFindings": 10.0}
PACE_SHARE = 0.95  # of each limit: headroom for other callers and for requests bunching up in transit
RATES: dict[str, float] = {service: tps * PACE_SHARE for service, tps in LIMITS_TPS.items()}
# No bursts: requests leave evenly spaced, 1 / rate apart (53 ms at sso-admin's 19 per second). Even spacing is what
# lets a sender pass a strict server window at 95% of its rate: 20 requests can only land inside one second if
# transit delays differ by more than one spacing. A burst followed by the window's refill needed a margin on the
# window instead, which bound at 19 per 1.1 s: 17.3 a second, 1.16x the pair-walk's floor (benchmarks/peer.py).
BURSTS: dict[str, float] = {"sso-admin": 1, "identitystore": 1, "organizations": 1, "cloudtrail": 1,
                             "securityhub:GetFindings": 3, "securityhub:BatchImportFindings": 10}
# A limiter may also count strictly per second (at most N in any one-second span, however the bucket refills):
# never more than N - 1 sends (N at limits under 10 TPS) in any second plus WINDOW_MARGIN_S, by send time. Its job
# is to count real send times: the bucket schedules, and a thread that wakes late (a busy interpreter) would
# otherwise go out close to the one after it. A throttle answer means requests reached AWS closer together than
# they left; it widens that limit's window by WINDOW_MARGIN_STEP_S (AwsPacer.install), up to WINDOW_MARGIN_MAX_S,
# trading rate for tolerance of jitter in transit (19 per 1.05 s is 18.1 a second).
WINDOW_MARGIN_S = 0.0
WINDOW_MARGIN_STEP_S = 0.05
WINDOW_MARGIN_MAX_S = 0.5
WINDOWS: dict[str, tuple[int, float]] = {service: (int(tps) - 1 if tps >= 10 else max(1, int(tps)),
                                                   1.0 + WINDOW_MARGIN_S) for service, tps in LIMITS_TPS.items()}
PACER = AwsPacer(RATES, BURSTS, windows=WINDOWS)
