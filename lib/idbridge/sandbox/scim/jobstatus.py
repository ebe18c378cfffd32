"""What a provisioning cycle leaves in its synchronizationJob.status (Graph synchronizationStatus,
synchronizationTaskExecution, synchronizationQuarantine).

Quarantine rules (shared reference §2a): invalid credentials -> EncounteredQuarantineException with
SystemForCrossDomainIdentityManagementCredentialValidationFailure; escrows (object-level failures) are judged from
5,000 on: more than 40 % of the cycle's exports -> EncounteredEscrowProportionThreshold, more than 40,000 ->
EncounteredTotalEscrowThreshold. Retries in quarantine slow down to once a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from idbridge.sandbox.timeexpr import graph_time

NEVER = "0001-01-01T00:00:00Z"  # Graph's "never reached"
ESCROW_FLOOR = 5_000
ESCROW_PROPORTION = 0.4
ESCROW_TOTAL = 40_000
CYCLE = timedelta(minutes=40)


@dataclass
class CycleStats:
    imported: int = 0           # objects read from Entra this cycle
    entitled: int = 0           # of those, in scope
    deltas: int = 0             # objects whose state changed since the last cycle (processed)
    reference_deltas: int = 0   # membership changes exported
    exports: int = 0            # export attempts
    exported: int = 0           # successful exports
    escrowed: int = 0           # objects that failed (retried next cycle)


def execution(activity: str, began: datetime, ended: datetime, stats: CycleStats, state: str,
              error: dict | None = None) -> dict:
    return {"activityIdentifier": activity, "countEntitled": stats.entitled,
            "countEntitledForProvisioning": stats.entitled, "countEscrowed": stats.escrowed,
            "countEscrowedRaw": stats.escrowed, "countExported": stats.exported, "countExports": stats.exports,
            "countImported": stats.imported, "countImportedDeltas": stats.deltas,
            "countImportedReferenceDeltas": stats.reference_deltas, "error": error, "state": state,
            "timeBegan": graph_time(began), "timeEnded": graph_time(ended)}


def _status(job: dict) -> dict:
    return job.setdefault("status", {})


def escrow_reason(stats: CycleStats) -> str | None:
    if stats.escrowed < ESCROW_FLOOR:
        return None
    if stats.escrowed > ESCROW_TOTAL:
        return "EncounteredTotalEscrowThreshold"
    if stats.escrowed > ESCROW_PROPORTION * max(1, stats.exports):
        return "EncounteredEscrowProportionThreshold"
    return None


def quarantine(job: dict, reason: str, code: str, message: str, at: datetime) -> None:
    status = _status(job)
    previous = status.get("quarantine") or {}
    count = int(previous.get("seriesCount") or 0) + 1
    status["code"] = "Quarantine"
    status["quarantine"] = {
        "currentBegan": previous.get("currentBegan") or graph_time(at),
        "nextAttempt": graph_time(at + min(timedelta(days=1), CYCLE * 2 ** (count - 1))),
        "reason": reason, "seriesBegan": previous.get("seriesBegan") or graph_time(at), "seriesCount": count,
        "error": {"code": code, "message": message, "tenantActionable": True}}


def record_failed_cycle(job: dict, *, activity: str, began: datetime, ended: datetime, stats: CycleStats,
                        reason: str, code: str, message: str) -> None:
    """A cycle that could not run at all (the credentials were refused): nothing was written."""
    status = _status(job)
    error = {"code": code, "message": message, "tenantActionable": True}
    status["lastExecution"] = execution(activity, began, ended, stats, "Failed", error)
    status["countSuccessiveCompleteFailures"] = int(status.get("countSuccessiveCompleteFailures") or 0) + 1
    quarantine(job, reason, code, message, ended)


def record_cycle(job: dict, *, activity: str, began: datetime, ended: datetime, stats: CycleStats,
                 entry_counts: list[dict]) -> None:
    status = _status(job)
    state = "Succeeded" if stats.escrowed == 0 else "EntryLevelErrors"
    run = execution(activity, began, ended, stats, state)
    status["lastExecution"] = run
    # A cycle that completed with object-level errors (escrows) still counts as a successful execution: the job
    # ran; "errors" in Graph's description of lastSuccessfulExecution are job-level ones (a Failed state).
    status["lastSuccessfulExecution"] = run
    if stats.exported:
        status["lastSuccessfulExecutionWithExports"] = run
    status["countSuccessiveCompleteFailures"] = 0
    if status.get("steadyStateFirstAchievedTime") in (None, NEVER):
        status["steadyStateFirstAchievedTime"] = graph_time(ended)
    status["steadyStateLastAchievedTime"] = graph_time(ended)
    status["synchronizedEntryCountByType"] = entry_counts
    status["progress"] = [{"completedUnits": stats.deltas, "totalUnits": stats.deltas, "units": "Entries",
                           "progressObservationDateTime": graph_time(ended)}]
    status.setdefault("escrowsPruned", False)
    status.setdefault("troubleshootingUrl", None)
    reason = escrow_reason(stats)
    if reason:
        quarantine(job, reason, reason.removeprefix("Encountered"),
                   f"{stats.escrowed} of {stats.exports} exports failed in the cycle that ended "
                   f"{graph_time(ended)}.", ended)
    else:
        status["quarantine"] = None
        status["code"] = "Active"
