"""Fault injection for the Graph emulator (world.faults): latency, random 429/503, expired page tokens, the
identity-and-access reports limit (5 requests / 10 s per app), denied and unlicensed sources, and the licence
errors a free tenant gets.

Random decisions come from one random.Random(world.faults.seed), drawn a fixed number of times per request, so a
faulty run repeats when the same requests arrive in the same order.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import deque

from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.graph import errors

REPORTS_WINDOW_S = 10.0
REPORTS_LIMIT = 5

# (source name from faults.DENIABLE_SOURCES, path pattern below /v1.0 or /beta); first match wins.
_SOURCES = [
    ("synchronization", re.compile(r"^/servicePrincipals[/(][^/]*(?:\))?/synchronization(?:/|$)")),
    ("signIns", re.compile(r"^/auditLogs/signIns(?:/|$)")),
    ("provisioningLogs", re.compile(r"^/auditLogs/provisioning(?:/|$)")),
    ("registrationDetails", re.compile(r"^/reports/authenticationMethods/userRegistrationDetails(?:/|$)")),
    ("conditionalAccess", re.compile(r"^/identity/conditionalAccess(?:/|$)")),
    ("pim", re.compile(r"^/identityGovernance/privilegedAccess(?:/|$)")),
    ("users", re.compile(r"^/(?:users(?:[/(]|$)|directory/deletedItems)")),
    ("groups", re.compile(r"^/groups(?:[/(]|$)")),
    ("applications", re.compile(r"^/(?:applications|servicePrincipals|applicationTemplates)(?:[/(]|$)")),
]
_REPORTS = re.compile(r"^/(?:auditLogs/(?:signIns|provisioning)|reports)(?:/|$)")


def source_of(path: str) -> str | None:
    return next((name for name, pattern in _SOURCES if pattern.match(path)), None)


def is_report(path: str) -> bool:
    return bool(_REPORTS.match(path))


class GraphFaults:
    def __init__(self, config: FaultConfig, licence: str):
        self.config = config
        self.licence = licence
        self._rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._report_calls: dict[str, deque[float]] = {}

    def latency(self) -> None:
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000)

    def before(self, method: str, path: str, app_id: str, has_skiptoken: bool) -> None:
        """Raise the GraphError a faulty Graph would answer for this request, if any."""
        c = self.config
        with self._lock:
            draws = (self._rng.random(), self._rng.random(), self._rng.random())
        if draws[0] < c.graph_429:
            raise errors.throttled(c.retry_after_s)
        if draws[1] < c.graph_503:
            raise errors.unavailable(c.retry_after_s)
        source = source_of(path)
        if source in c.deny:
            raise errors.denied()
        # `unlicensed: users` only withdraws signInActivity (the one licensed part of /users): see the route.
        if source in c.unlicensed and source != "users":
            raise errors.unlicensed()
        if self.licence != "P2" and source == "pim":  # PIM for Groups needs Entra ID P2 (or ID Governance)
            raise errors.unlicensed()
        if self.licence == "free" and source in ("signIns", "registrationDetails"):
            raise errors.unlicensed()
        if has_skiptoken and method == "GET" and draws[2] < c.expired_page_token:
            raise errors.expired_page_token()
        if c.graph_reports_limit and is_report(path):
            self._reports_gate(app_id)

    def sign_in_activity_licensed(self) -> bool:
        """signInActivity needs a premium tenant; `unlicensed: users` or `signIns` withdraws it too."""
        return self.licence != "free" and not ({"users", "signIns"} & set(self.config.unlicensed))

    def _reports_gate(self, app_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            calls = self._report_calls.setdefault(app_id, deque())
            while calls and now - calls[0] >= REPORTS_WINDOW_S:
                calls.popleft()
            if len(calls) >= REPORTS_LIMIT:
                wait = max(1, math.ceil(REPORTS_WINDOW_S - (now - calls[0])))
                raise errors.throttled(wait)
            calls.append(now)
