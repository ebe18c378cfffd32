"""What every collector function receives, and how it reports a partial result.

A collector is a function registered for one source in catalogue.SOURCES:
    Entra: `async def collect_x(ctx: CollectContext) -> dict[str, DataFrame] | Partial`
    AWS:   `def collect_y(ctx: CollectContext) -> dict[str, DataFrame] | Partial` (run on worker threads)
It returns the source's tables, or raises: the runner turns the exception into "not collected: why".
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from idbridge.core.parameters import Parameters

Tables = dict[str, pd.DataFrame]


@dataclass
class Partial:
    """Some of a source was read, some was not (e.g. one region denied): keep the tables, say what is missing."""

    tables: Tables
    error: str


class DependencyMissing(Exception):
    """A source needs another that was not collected."""


_ID_SEGMENT = re.compile(r"/([0-9a-fA-F-]{36}|[^/]+@[^/]+|[A-Za-z]+\.[0-9a-f]{32}\.[0-9a-f-]{32,36})(?=/|$)")


class CallCounter:
    """API calls per operation, thread-safe. Graph requests are keyed by method and path with ids folded to
    {id} ("GET /groups/{id}/members"); AWS calls by "service:Operation"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def add_graph(self, method: str, path: str) -> None:
        path = path.split("?", 1)[0]
        path = re.sub(r"^/(v1\.0|beta)", "", path)
        self.add(f"graph:{method.upper()} {_ID_SEGMENT.sub('/{id}', path)}")

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.counts.items()))


@dataclass
class CollectContext:
    params: Parameters
    window_start: datetime
    window_end: datetime
    calls: CallCounter = field(default_factory=CallCounter)
    graph_adapter: Any = None     # msgraph-sdk request adapter (set when Entra sources run)
    aws_session: Any = None       # boto3.Session (set when AWS sources run)
    aws_client_factory: Callable[..., Any] | None = None  # (service, region=None) -> boto3 client, counted
    results: dict[str, Tables] = field(default_factory=dict)  # tables of sources already collected
    progress: Callable[[str, int], None] = lambda source, n: None  # advance a source's progress bar by n items
    # Set when a source has finished (collected or not), for collectors that use another source if it is there
    # but can do without it (wait_for); the runner creates one per selected source.
    finished: dict[str, threading.Event] = field(default_factory=dict)
    # What a collector decided and why (the assignment walk chosen, its estimated and actual cost): the runner
    # writes it into the manifest under "collection_notes".
    notes: dict[str, Any] = field(default_factory=dict)
    # Every HTTP attempt to AWS (botocore's retries included) per operation; api_calls counts logical calls.
    attempts: CallCounter = field(default_factory=CallCounter)
    # Incremental runs (collection.incremental): the previous snapshot of the engagement (a snapshot.store.Snapshot,
    # or None with `previous_why` saying why there is none), the delta links this run keeps for the next one, and
    # per source how it was read ({"mode": "delta" | "full", "why": ..., "changes": n}).
    previous: Any = None
    previous_why: str | None = None
    delta_links: dict[str, dict] = field(default_factory=dict)
    incremental: dict[str, dict] = field(default_factory=dict)
    # Work a source starts before the sources it needs have finished (its collector's `before_needs`, e.g. reading
    # its delta round, which needs nothing of them): source -> asyncio task, which the collector may await.
    early: dict[str, Any] = field(default_factory=dict)
    # The AWS change plans of an incremental run (collect/aws/incremental.py), built once by the first source that
    # needs one; kept out of `notes`, which goes into the manifest.
    aws_plans: dict[str, Any] = field(default_factory=dict)

    def needs(self, source: str) -> Tables:
        """The tables of a source this one depends on; raises DependencyMissing if it was not collected."""
        if source not in self.results:
            raise DependencyMissing(f"needs {source}, which was not collected")
        return self.results[source]

    def wait_for(self, source: str, timeout_s: float = 3600.0) -> Tables | None:
        """The tables of `source` once it has finished, or None if it was not selected or not collected (an
        optional input: the caller then does without it)."""
        event = self.finished.get(source)
        if event is not None:
            event.wait(timeout_s)
        return self.results.get(source)

    def aws(self, service: str, region: str | None = None):
        assert self.aws_client_factory is not None
        return self.aws_client_factory(service, region)
