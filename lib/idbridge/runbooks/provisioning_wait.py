"""After the provisioning job starts: wait for its first cycle and say how it went. The initial cycle takes 20
minutes to hours on a real tenant (shared reference, rate limits): waiting stops at provisioning.wait_minutes and
reports "still running" rather than failing; a quarantine is a failure with Entra's reason."""

from __future__ import annotations

import asyncio
import time

import pandas as pd

from idbridge.runbooks import graph as g
from idbridge.runbooks.context import Runbook, RunbookError

POLL_SECONDS = 15


def _row(job: dict | None, state: str) -> dict:
    status = (job or {}).get("status") or {}
    last_ok = status.get("lastSuccessfulExecution") or {}
    counts = {c["key"]: c["value"] for c in status.get("synchronizedEntryCountByType") or []}
    quarantine = status.get("quarantine") or {}
    return {"job": (job or {}).get("id"), "state": state, "status": status.get("code"),
            "schedule": ((job or {}).get("schedule") or {}).get("state"),
            "lastSuccessfulCycleEnded": last_ok.get("timeEnded"),
            "steadyStateFirstAchieved": status.get("steadyStateFirstAchievedTime"),
            "users": counts.get("user to User"), "groups": counts.get("group to Group"),
            "quarantine": quarantine.get("reason")}


async def _job(rb: Runbook) -> dict | None:
    sp, _ = await g.find_app(rb.graph, rb.params.app.app_id, rb.params.app.display_name)
    if sp is None:
        return None
    jobs = await g.listing(rb.graph, f"/servicePrincipals/{sp['id']}/synchronization/jobs")
    return jobs[0] if jobs else None


async def wait_for_first_cycle(rb: Runbook) -> pd.DataFrame:
    """The job's state once a cycle has succeeded (or the wait is over). Raises RunbookError on quarantine."""
    minutes = rb.desired.provisioning.wait_minutes
    deadline = time.monotonic() + minutes * 60
    while True:
        job = await _job(rb)
        status = (job or {}).get("status") or {}
        if job is None or status.get("code") == "NotConfigured":
            return pd.DataFrame([_row(job, "not set up (dry run?)")])
        if status.get("code") == "Quarantine":
            quarantine = status.get("quarantine") or {}
            error = quarantine.get("error") or {}
            raise RunbookError(f"the provisioning job is in quarantine ({quarantine.get('reason')}): "
                               f"{error.get('message') or error.get('code') or 'no detail'}")
        if status.get("lastSuccessfulExecution") and status.get("code") == "Active":
            return pd.DataFrame([_row(job, "cycle completed")])
        if not rb.desired.apply or time.monotonic() >= deadline:
            state = "not started (dry run)" if not rb.desired.apply else \
                f"still running after {minutes:g} min: check again later"
            return pd.DataFrame([_row(job, state)])
        await asyncio.sleep(min(POLL_SECONDS, max(1.0, deadline - time.monotonic())))
