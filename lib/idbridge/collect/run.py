"""Run a collection: every selected source, in dependency order, both clouds at once, into one snapshot.

Each source ends complete, partial or not collected (with why); one source failing never stops the others,
and a source whose dependency failed is not collected either, saying which dependency.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from idbridge.collect.context import CallCounter, CollectContext, DependencyMissing, Partial
from idbridge.core.parameters import Parameters
from idbridge.core.progress import SourceProgress
from idbridge.snapshot.schema import SOURCES, SOURCES_BY_NAME
from idbridge.snapshot.store import SnapshotWriter

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """One line a consultant can act on: HTTP status and service error code first, then the message."""
    from idbridge.clients.graph.raw import odata_error_code

    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:  # botocore ClientError
        error = response["Error"]
        return f"{error.get('Code')}: {error.get('Message')}"
    status, code, message = odata_error_code(exc)
    if status is not None or code is not None:
        return " ".join(str(p) for p in (status, code) if p) + f": {message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _registry() -> dict[str, tuple]:
    from idbridge.collect.aws.collectors import AWS_COLLECTORS
    from idbridge.collect.entra.collectors import ENTRA_COLLECTORS

    return {**ENTRA_COLLECTORS, **AWS_COLLECTORS}


def _check_columns(source: str, tables: dict) -> None:
    expected = SOURCES_BY_NAME[source].tables
    if set(tables) != set(expected):
        raise RuntimeError(f"collector bug: tables {sorted(tables)} instead of {sorted(expected)}")
    for name, frame in tables.items():
        if tuple(frame.columns) != expected[name]:
            raise RuntimeError(f"collector bug: {name} columns {list(frame.columns)} instead of {list(expected[name])}")


def _install_graph_counter(adapter, calls: CallCounter) -> None:
    http = adapter._http_client  # the adapter's httpx.AsyncClient; one hook sees every logical request

    async def count(request) -> None:
        calls.add_graph(request.method, request.url.path)

    http.event_hooks = {**http.event_hooks, "request": [*http.event_hooks.get("request", []), count]}


def _make_aws_factory(params: Parameters, calls: CallCounter, recorder=None, attempts: CallCounter | None = None):
    from idbridge.clients.aws.calls import count_attempts
    from idbridge.clients.factory import aws_client, aws_session

    session = aws_session(params)

    def count(event_name: str, model, **_kwargs) -> None:
        calls.add(f"{model.service_model.service_name}:{model.name}")

    def factory(service: str, region: str | None = None):
        client = aws_client(session, service, params, region)
        client.meta.events.register("before-call.*.*", count)
        if attempts is not None:
            count_attempts(client, attempts)
        if recorder is not None:
            recorder.install_aws(client)
        return client

    return session, factory


async def _collect(params: Parameters, writer: SnapshotWriter, ctx: CollectContext, selected: list[str],
                   progress: SourceProgress | None, recorder=None) -> None:
    registry = _registry()
    done: dict[str, asyncio.Future] = {name: asyncio.get_running_loop().create_future() for name in selected}
    setup_errors: dict[str, str] = {}

    if any(SOURCES_BY_NAME[s].side == "entra" for s in selected):
        try:
            from idbridge.clients.factory import graph_adapter

            ctx.graph_adapter = graph_adapter(params)
            _install_graph_counter(ctx.graph_adapter, ctx.calls)
            if recorder is not None:
                recorder.install_graph(ctx.graph_adapter)
        except Exception as exc:
            setup_errors["entra"] = f"cannot reach Microsoft Graph: {describe_error(exc)}"
    if any(SOURCES_BY_NAME[s].side == "aws" for s in selected):
        try:
            ctx.aws_session, ctx.aws_client_factory = _make_aws_factory(params, ctx.calls, recorder, ctx.attempts)
        except Exception as exc:
            setup_errors["aws"] = f"cannot reach AWS: {describe_error(exc)}"

    async def run_source(name: str) -> None:
        source = SOURCES_BY_NAME[name]
        function, needs = registry[name]
        started = time.monotonic()
        status, error, tables = "complete", None, {}
        early = getattr(function, "before_needs", None)
        try:
            if source.side in setup_errors:
                raise DependencyMissing(setup_errors[source.side])
            if early is not None and needs:
                # What the collector can do before its dependencies are ready (e.g. read its delta round) runs
                # while they are collected; the collector awaits ctx.early[name] when it gets to it.
                ctx.early[name] = asyncio.ensure_future(early(ctx))
            for dependency in needs:
                if dependency not in done:
                    raise DependencyMissing(f"needs {dependency}, which was not selected")
                dep_status, dep_error = await done[dependency]
                if dep_status == "not_collected":
                    raise DependencyMissing(f"needs {dependency}, which was not collected: {dep_error}")
            if progress is not None:
                progress.start(name)
            if inspect.iscoroutinefunction(function):
                result = await function(ctx)
            else:  # AWS collectors are blocking boto3 code: keep them off the event loop
                result = await asyncio.to_thread(function, ctx)
            if isinstance(result, Partial):
                status, error, tables = "partial", result.error, result.tables
            else:
                tables = result
            _check_columns(name, tables)
        except DependencyMissing as exc:
            status, error, tables = "not_collected", str(exc), {}
        except Exception as exc:  # any failure of one source is reported, never fatal to the others
            log.debug("source %s failed", name, exc_info=True)
            status, error, tables = "not_collected", describe_error(exc), {}
        finally:
            task = ctx.early.pop(name, None)
            if task is not None:  # not left running, its error (if the collector never awaited it) retrieved
                await asyncio.wait([task])
                if not task.cancelled():
                    task.exception()
        for table, frame in tables.items():
            # Off the event loop: parquet encoding of a large table would hold up every other source's requests.
            await asyncio.to_thread(writer.write_table, name, table, frame)
        if status != "not_collected":
            ctx.results[name] = tables
        writer.mark(name, status, error, seconds=round(time.monotonic() - started, 3), tables=list(source.tables))
        if progress is not None:
            # Its seconds count from progress.start, after its dependencies: the source's own time.
            progress.finish(name, status, rows=sum(len(frame) for frame in tables.values()), error=error)
        done[name].set_result((status, error))
        ctx.finished[name].set()

    if progress is not None:
        ctx.progress = progress.advance
        progress.begin(selected)
    ctx.finished.update({name: threading.Event() for name in selected})
    await asyncio.gather(*(run_source(name) for name in selected))


def run_coroutine(coroutine):
    """asyncio.run, also from inside a Jupyter kernel (whose loop is already running): there the coroutine gets
    a private loop on a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="idbridge-collect") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _aws_identity(ctx: CollectContext) -> dict:
    if ctx.aws_client_factory is None:
        return {}
    try:
        caller = ctx.aws("sts").get_caller_identity()
        return {"account": caller["Account"], "arn": caller["Arn"]}
    except Exception as exc:
        return {"error": describe_error(exc)}


def collect(params: Parameters, out_dir: str | Path, *, params_file: str = "parameters",
            progress: bool | SourceProgress = False, now: datetime | None = None, recorder=None,
            previous: str | Path | None = None) -> Path:
    """Collect every selected source into a new snapshot folder; returns its path. `progress`: True shows it on
    stderr (live on a terminal, one line per finished source otherwise: core.progress), or give a SourceProgress.
    A `recorder` (clients.recording.Recorder) keeps every answer on the way; saving it is the caller's step.
    With collection.incremental, sources that can are read as changes since `previous` (default: the newest
    earlier snapshot of the engagement under run_root): collect.incremental."""
    now = now or datetime.now(timezone.utc)
    selected = params.collection.sources or [s.name for s in SOURCES]
    ctx = CollectContext(params=params, window_start=now - timedelta(days=params.collection.window_days),
                         window_end=now)
    if params.collection.incremental:
        _find_previous(ctx, params, now, out_dir, previous)
    writer = SnapshotWriter(out_dir)
    shown = SourceProgress() if progress is True else progress or None
    try:
        try:
            run_coroutine(_collect(params, writer, ctx, selected, shown, recorder))
        finally:
            if shown is not None:
                shown.close()
        identity = {
            "graph": {"tenant_id": params.graph.tenant_id, "client_id": params.graph.client_id,
                      "auth": params.graph.auth},
            "aws": _aws_identity(ctx),
        }
        return writer.finish({
            "engagement": params.engagement,
            "sandbox": params.sandbox,
            "collected_at": now.isoformat(timespec="seconds"),
            "window": {"start": ctx.window_start.isoformat(timespec="seconds"),
                       "end": ctx.window_end.isoformat(timespec="seconds")},
            "identity": identity,
            "tenant_id": params.graph.tenant_id,
            "instance_arn": _instance_arn(ctx) or params.aws.instance_arn,
            # Parameters hold references, never secret values; they are recorded as given.
            "parameters": params.model_dump(mode="json"),
            "parameters_file": params_file,
            "api_calls": ctx.calls.snapshot(),
            # AWS: every HTTP attempt and the retries among them, per operation (throttling shows here)
            "api_attempts": ctx.attempts.snapshot(),
            "api_retries": retries(ctx.calls.snapshot(), ctx.attempts.snapshot()),
            "collection_notes": ctx.notes,
            **_incremental_manifest(params, ctx),
        })
    except BaseException:
        writer.abandon()
        raise


def retries(calls: dict[str, int], attempts: dict[str, int]) -> dict[str, int]:
    """Attempts beyond the one each logical call makes, per operation that had any."""
    return {op: n - calls.get(op, 0) for op, n in attempts.items() if n > calls.get(op, 0)}


def _find_previous(ctx: CollectContext, params: Parameters, now: datetime, out_dir, previous) -> None:
    from idbridge.collect.incremental import find_previous
    from idbridge.snapshot.store import Snapshot

    if previous is not None:
        ctx.previous, ctx.previous_why = Snapshot(previous), f"builds on {previous} (given)"
    else:
        ctx.previous, ctx.previous_why = find_previous(params, now, exclude=Path(out_dir))


def _incremental_manifest(params: Parameters, ctx: CollectContext) -> dict:
    """How each source was read and the delta links kept for the next run (see collect.incremental for why the
    links may be stored)."""
    if not params.collection.incremental:
        return {}
    return {
        "incremental": {
            "previous": str(ctx.previous.directory) if ctx.previous is not None else None,
            "previous_why": ctx.previous_why,
            "sources": dict(sorted(ctx.incremental.items())),
        },
        "delta": dict(sorted(ctx.delta_links.items())),
    }


def _instance_arn(ctx: CollectContext) -> str | None:
    tables = ctx.results.get("aws.instances", {})
    frame = tables.get("idc_instances")
    return None if frame is None or frame.empty else str(frame["instanceArn"].iloc[0])


def default_snapshot_dir(params: Parameters, now: datetime | None = None) -> Path:
    """runs/<engagement>/snapshots/<UTC time>, or <time>-2, … when taken (not created: the writer renames its
    finished snapshot into place)."""
    now = now or datetime.now(timezone.utc)
    base = Path(params.run_root) / params.engagement / "snapshots" / now.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate
