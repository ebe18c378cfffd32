"""WSGI middleware in front of moto's server: counts calls, adds latency, throttles and denies as AWS would, and
routes each request to the scenario's accounts.

The operation comes from the JSON protocol's X-Amz-Target header ("SWBExternalService.ListInstances"); the service
from that header's prefix, or from the SigV4 credential scope for other protocols.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from idbridge.sandbox.aws.naming import caller_arn
from idbridge.sandbox.faults import FaultConfig

TARGET_PREFIXES = {
    "SWBExternalService": "sso-admin",
    "AWSIdentityStore": "identitystore",
    "AWSOrganizationsV20161128": "organizations",
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
}
SIGNING_NAMES = {"sso": "sso-admin"}  # SigV4 signing name -> service name where they differ
IAM_PREFIXES = {"sso-admin": "sso", "identitystore": "identitystore", "organizations": "organizations",
                "cloudtrail": "cloudtrail"}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

RATE = 20.0  # requests per second: sso-admin in total, identitystore per API (AWS IAM Identity Center quotas)


def request_operation(environ: dict[str, Any]) -> tuple[str, str, str | None]:
    """(service, operation, region) of a request; '?' where it cannot be told."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    region = scope.group(1) if scope else None
    if target:
        prefix, _, operation = target.rpartition(".")
        service = TARGET_PREFIXES.get(prefix)
        if service is None and scope:
            service = SIGNING_NAMES.get(scope.group(2), scope.group(2))
        return service or prefix or "?", operation, region
    service = SIGNING_NAMES.get(scope.group(2), scope.group(2)) if scope else "?"
    action = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", environ.get("QUERY_STRING", ""))
    return service, action.group(1) if action else "?", region


class TokenBuckets:
    """One bucket of RATE tokens refilled at RATE per second per key; AWS allows short bursts the same way."""

    def __init__(self, rate: float = RATE, burst: float = RATE):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True


class SlidingWindows:
    """At most RATE requests in any one-second window per key, however long the key was idle before: a stricter
    limiter than the bucket, which lets a full burst and the refill land inside the same second."""

    def __init__(self, limit: int = int(RATE), window_s: float = 1.0):
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window_s:
                seen.popleft()
            if len(seen) >= self.limit:
                return False  # a refused request does not count: AWS did not serve it
            seen.append(now)
            return True


def throttle_key(service: str, operation: str) -> str | None:
    if service == "sso-admin":
        return "sso-admin"  # one collective limit for every Identity Center admin API
    if service == "identitystore":
        return f"identitystore:{operation}"  # a limit per API
    return None


def _error(start_response: Callable, code: str, message: str, status: str = "400 Bad Request") -> Iterable[bytes]:
    body = json.dumps({"__type": code, "Message": message}).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body))),
                            ("x-amzn-RequestId", str(uuid.uuid4())), ("x-amzn-ErrorType", code)])
    return [body]


class FaultMiddleware:
    def __init__(self, app: Callable, faults: Callable[[], FaultConfig], accounts: Callable[[str], str | None],
                 lock: Any, on_served: Callable[..., None] | None = None):
        self.app = app
        # Called with (service, operation, account, region, request body, status, answer) after moto answered:
        # write_trail.WriteTrail logs the writes in CloudTrail as AWS does.
        self.on_served = on_served
        self.faults = faults        # read on every request, so a world's faults can change while serving
        self.accounts = accounts    # service -> account id the request acts in (None: moto's default)
        self.lock = lock            # world.lock: provisioning writes and requests do not interleave
        self.buckets = TokenBuckets()
        self.windows = SlidingWindows()
        self.calls: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # "service:Operation:ThrottlingException" -> count
        self._count_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        service, operation, region = request_operation(environ)
        name = f"{service}:{operation}"
        with self._count_lock:
            self.calls[name] += 1
        faults = self.faults()
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        account = self.accounts(service)
        refusal = self._refusal(faults, service, operation, account)
        if refusal is not None:
            with self._count_lock:
                self.refused[f"{name}:{refusal[0]}"] += 1
            return _error(start_response, *refusal)
        if account and "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        if self.on_served is None:
            with self.lock:  # one request at a time: moto's backends are not thread-safe
                return list(self.app(environ, start_response))
        stream = environ.get("wsgi.input")
        body = stream.getvalue() if hasattr(stream, "getvalue") else b""  # the gate buffered it (auth._body)
        seen: dict[str, int] = {}

        def recording_start(status: str, headers, *rest):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        with self.lock:  # one request at a time: moto's backends are not thread-safe
            answer = list(self.app(environ, recording_start))
            # Recorded under the lock, so the log's order is the order the writes took effect.
            self.on_served(service, operation, environ.get("HTTP_X_MOTO_ACCOUNT_ID") or account, region, body,
                           seen.get("status", 200), b"".join(answer))
        return answer

    def _refusal(self, faults: FaultConfig, service: str, operation: str,
                 account: str | None) -> tuple[str, str] | None:
        if service in faults.deny and service in IAM_PREFIXES:
            action = f"{IAM_PREFIXES[service]}:{operation}"
            return ("AccessDeniedException",
                    f"User: {caller_arn(account or '123456789012')} is not authorized to perform: {action} on "
                    f"resource: * because no identity-based policy allows the {action} action")
        key = throttle_key(service, operation)
        limiter = self.windows if faults.aws_limiter == "window" else self.buckets
        if faults.aws_throttle and key and not limiter.allow(key):
            return ("ThrottlingException", "Rate exceeded")
        return None
