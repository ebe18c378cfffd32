"""The Entra collectors when Graph misbehaves: throttling, outages and expired page tokens change nothing in the
tables; a denied source and an unlicensed one fail alone, saying why; the reports limit is never hit."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from support.sandbox import running_sandbox, sandbox_parameters

from idbridge.clients.factory import graph_adapter
from idbridge.collect.context import CollectContext, Partial
from idbridge.collect.entra import collectors as entra
from idbridge.collect.entra.collectors import ENTRA_COLLECTORS
from idbridge.collect.run import describe_error
from idbridge.sandbox.faults import parse_fault_spec

pytestmark = pytest.mark.integration
NOW = datetime.now(timezone.utc).replace(microsecond=0)  # both sandboxes of a comparison resolve times alike
FAULTS = "graph_429=0.1,graph_503=0.05,expired_page_token=0.1,retry_after_s=0"


def make_context(box) -> CollectContext:
    params = sandbox_parameters(box, engagement="entra-faults")
    return CollectContext(params=params, window_start=box.now - timedelta(days=30),
                          window_end=box.now + timedelta(hours=1), graph_adapter=graph_adapter(params))


async def collect_all(ctx: CollectContext, names=None) -> dict[str, object]:
    outcome: dict[str, object] = {}
    for name, (function, _needs) in ENTRA_COLLECTORS.items():
        if names and name not in names:
            continue
        try:
            result = await function(ctx)
        except Exception as exc:
            outcome[name] = exc
            continue
        ctx.results[name] = result.tables if isinstance(result, Partial) else result
        outcome[name] = result
    return outcome


def canonical(frame: pd.DataFrame) -> list[str]:
    """Rows as sorted JSON text: order-free, lists kept, missing values all alike."""
    def cell(x):
        if isinstance(x, (list, tuple)):
            return list(x)
        return None if pd.isna(x) else x

    return sorted(json.dumps([cell(v) for v in row], default=str) for row in frame.itertuples(index=False))


def graph_stats(box):
    return box._graph_server.app.stats  # the emulator's record of what it answered


@pytest.fixture(scope="module")
def clean_tables():
    box = running_sandbox("demo", now=NOW)
    try:
        outcome = asyncio.run(collect_all(make_context(box)))
    finally:
        box.stop()
    assert not [n for n, r in outcome.items() if isinstance(r, BaseException)]
    return {name: tables for name, tables in outcome.items()}


def test_faulty_graph_yields_identical_tables(clean_tables, monkeypatch):
    # Small pages, so that listings have next links for the expired-page-token fault to hit.
    monkeypatch.setattr(entra, "PAGE", "100")
    monkeypatch.setattr(entra, "MEMBER_PAGE", "40")
    box = running_sandbox("demo", now=NOW, faults=parse_fault_spec(FAULTS))
    try:
        outcome = asyncio.run(collect_all(make_context(box)))
        stats = graph_stats(box)
        statuses = stats.statuses()
        expired = sum(1 for _m, _p, s, _b in list(stats.calls) if s == 400)
    finally:
        box.stop()
    failed = {n: describe_error(r) for n, r in outcome.items() if isinstance(r, BaseException)}
    assert not failed
    for name, tables in clean_tables.items():
        result = outcome[name]
        assert not isinstance(result, Partial), f"{name}: {result.error}"
        for table_name, frame in tables.items():
            assert canonical(result[table_name]) == canonical(frame), table_name
    # The faults did happen: throttling, outages and restarted listings.
    assert statuses[429] > 0 and statuses[503] > 0
    assert expired > 0


def test_denied_and_unlicensed_sources_fail_alone():
    box = running_sandbox("demo", now=NOW, faults=parse_fault_spec("deny=signIns,unlicensed=users"))
    try:
        outcome = asyncio.run(collect_all(make_context(box)))
    finally:
        box.stop()
    sign_ins = outcome.pop("entra.sign_ins")
    assert isinstance(sign_ins, Exception)
    assert describe_error(sign_ins) == \
        "403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
    activity = outcome.pop("entra.sign_in_activity")
    assert isinstance(activity, Exception)
    text = describe_error(activity)
    assert text.startswith("403 Authentication_RequestFromNonPremiumTenantOrB2CTenant")
    assert "P1/P2" in text and "premium license" in text
    failed = {n: describe_error(r) for n, r in outcome.items() if isinstance(r, BaseException)}
    assert not failed
    assert len(outcome["entra.users"]["entra_users"]) == len([u for u in box.scenario.entra.users if not u.deleted])


def test_reports_are_paced_under_the_limit(monkeypatch):
    """Graph allows 5 report requests per 10 s per app: 8 requests from two collectors at once must be spread
    over more than 10 s and never draw a 429."""
    monkeypatch.setattr(entra, "AUDIT_PAGE", "1")
    box = running_sandbox("demo", now=NOW, faults=parse_fault_spec("graph_reports_limit=on"))
    try:
        ctx = make_context(box)
        asyncio.run(collect_all(ctx, {"entra.app"}))
        logs = len(box.world.graph.provisioning_logs)
        assert 4 <= logs <= 12, "the demo's provisioning log size changed: adjust this test"

        async def both():
            return await asyncio.gather(entra.collect_provisioning_logs(ctx), entra.collect_mfa_registration(ctx))

        started = time.monotonic()
        asyncio.run(both())
        elapsed = time.monotonic() - started
        reports = [(p, s) for _m, p, s, _b in list(graph_stats(box).calls)
                   if p.startswith(("/auditLogs", "/reports"))]
    finally:
        box.stop()
    assert len(reports) > 5
    assert all(status == 200 for _path, status in reports), reports
    assert elapsed >= 10.0
