"""Drive the AWS collectors against a running sandbox the way the runner does: a context with one boto3 session
and a factory of counted clients, and each source on its own thread once its dependencies are done."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from support.sandbox import sandbox_parameters
from idbridge.clients.aws.pacing import LIMITS_TPS, SANDBOX_ENFORCED, limit_family, limit_key
from idbridge.clients.aws.calls import count_attempts
from idbridge.clients.factory import aws_client, aws_session
from idbridge.collect.aws import collectors as aws
from idbridge.collect.context import CallCounter, CollectContext, Partial
from idbridge.sandbox.timeexpr import utc_now

AWS_SOURCES = list(aws.AWS_COLLECTORS)


def make_context(box, window_days: int = 30, **overrides) -> CollectContext:
    """A context as the runner builds it; `ctx.progress_seen` adds up what each source reported as progress.
    `overrides`: parameter sections to merge, e.g. aws={"assignment_walk": "pair-walk"}."""
    # The sandbox names its engagement after the scenario's display name, which may hold spaces.
    params = sandbox_parameters(box, engagement="sandbox-test", **overrides)
    session = aws_session(params)
    calls = CallCounter()
    attempts = CallCounter()

    def factory(service: str, region: str | None = None):
        client = aws_client(session, service, params, region)
        client.meta.events.register(
            "before-call.*.*", lambda model, **_: calls.add(f"{model.service_model.service_name}:{model.name}"))
        count_attempts(client, attempts)
        return client

    now = utc_now()
    progress: Counter = Counter()
    lock = threading.Lock()

    def advance(source: str, n: int) -> None:
        with lock:
            progress[source] += n

    ctx = CollectContext(params=params, window_start=now - timedelta(days=window_days), window_end=now,
                         calls=calls, aws_session=session, aws_client_factory=factory, progress=advance,
                         attempts=attempts)
    ctx.progress_seen = progress  # type: ignore[attr-defined]
    return ctx


def collect_all(ctx: CollectContext, sources=AWS_SOURCES) -> dict:
    """Each source on its own thread once its dependencies are done, as the runner does; source -> tables or
    the exception it raised."""
    done = {name: threading.Event() for name in sources}
    ctx.finished.update(done)  # wait_for: optional inputs, as the runner provides them
    out: dict = {}

    def run(name: str) -> None:
        function, needs = aws.AWS_COLLECTORS[name]
        try:
            for dependency in needs:
                done[dependency].wait()
            result = function(ctx)
            tables = result.tables if isinstance(result, Partial) else result
            ctx.results[name] = tables
            out[name] = result
        except Exception as exc:  # noqa: BLE001 - reported per source, like the runner
            out[name] = exc
        finally:
            done[name].set()

    threads = [threading.Thread(target=run, args=(name,)) for name in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def service_calls(box) -> Counter:
    return Counter({k: v for k, v in box.aws_calls.items()
                    if k.split(":")[0] in ("sso-admin", "identitystore", "organizations", "cloudtrail")})


def floor_seconds(calls: Counter, region: str) -> tuple[float, dict[str, float]]:
    """Calls / allowed rate per limit bucket; the collection cannot beat the slowest bucket. The sandbox's
    clients are paced on the limits it enforces only (clients/aws/pacing.py): those buckets are the floor."""
    per_bucket: Counter = Counter()
    for name, n in calls.items():
        service, operation = name.split(":")
        if service in SANDBOX_ENFORCED:
            per_bucket[limit_key(service, operation, region)] += n
    seconds = {key: n / LIMITS_TPS[limit_family(key)] for key, n in per_bucket.items()}
    return max(seconds.values()), seconds


