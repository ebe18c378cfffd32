"""Provisioning (synchronization) jobs of the app: job status flattened to one row per job, the object mappings
of the job's schema (enabled, target actions) and their attribute mappings, one row per mapping.

Nothing here reads /synchronization/secrets (the SCIM endpoint and its bearer token): an audit needs the job's
behaviour, not its credentials. The settings that live only there (notification email, accidental-deletion
threshold, SkipOutOfScopeDeletions, SyncAll) are therefore guided checkpoints, not collected.
"""

from __future__ import annotations

import pandas as pd

from idbridge.collect.entra.frames import dig, frame, to_json

JOB_TIMES = ("lastExecutionEnded", "lastSuccessfulExecutionEnded", "quarantineCurrentBegan",
             "steadyStateFirstAchievedTime", "steadyStateLastAchievedTime")


def jobs_frame(jobs: list[dict]) -> pd.DataFrame:
    return frame("entra_sync_jobs", jobs, times=JOB_TIMES, derived={
        "statusCode": lambda j: dig(j, "status", "code"),
        "scheduleState": lambda j: dig(j, "schedule", "state"),
        "scheduleInterval": lambda j: dig(j, "schedule", "interval"),
        "lastExecutionState": lambda j: dig(j, "status", "lastExecution", "state"),
        "lastExecutionEnded": lambda j: dig(j, "status", "lastExecution", "timeEnded"),
        "lastSuccessfulExecutionEnded": lambda j: dig(j, "status", "lastSuccessfulExecution", "timeEnded"),
        "countSuccessiveCompleteFailures": lambda j: dig(j, "status", "countSuccessiveCompleteFailures"),
        "quarantineReason": lambda j: dig(j, "status", "quarantine", "reason"),
        "quarantineCurrentBegan": lambda j: dig(j, "status", "quarantine", "currentBegan"),
        "quarantineErrorCode": lambda j: dig(j, "status", "quarantine", "error", "code"),
        "quarantineErrorMessage": lambda j: dig(j, "status", "quarantine", "error", "message"),
        "steadyStateFirstAchievedTime": lambda j: dig(j, "status", "steadyStateFirstAchievedTime"),
        "steadyStateLastAchievedTime": lambda j: dig(j, "status", "steadyStateLastAchievedTime"),
        "status_json": lambda j: to_json(j.get("status")),
    })


def mapping_rows(job_id: str, schema: dict) -> list[dict]:
    rows = []
    for rule in schema.get("synchronizationRules") or []:
        for mapping in rule.get("objectMappings") or []:
            for attribute in mapping.get("attributeMappings") or []:
                source = attribute.get("source") or {}
                rows.append({
                    "jobId": job_id, "objectMapping": mapping.get("name"),
                    "sourceObjectName": mapping.get("sourceObjectName"),
                    "targetObjectName": mapping.get("targetObjectName"),
                    "targetAttributeName": attribute.get("targetAttributeName"),
                    "sourceExpression": source.get("expression"), "mappingType": source.get("type"),
                    "flowBehavior": attribute.get("flowBehavior"),
                    "matchingPriority": attribute.get("matchingPriority"),
                })
    return rows


def mappings_frame(rows: list[dict]) -> pd.DataFrame:
    return frame("entra_sync_mappings", rows)


def object_mapping_rows(job_id: str, schema: dict) -> list[dict]:
    """One row per objectMapping: `enabled` and `flowTypes` (objectFlowTypes, a flags enum Graph writes as
    "Add, Update, Delete"; Graph's default when absent is all three)."""
    return [{"jobId": job_id, "objectMapping": mapping.get("name"),
             "sourceObjectName": mapping.get("sourceObjectName"), "targetObjectName": mapping.get("targetObjectName"),
             "enabled": mapping.get("enabled"), "flowTypes": mapping.get("flowTypes")}
            for rule in schema.get("synchronizationRules") or [] for mapping in rule.get("objectMappings") or []]


def object_mappings_frame(rows: list[dict]) -> pd.DataFrame:
    return frame("entra_sync_object_mappings", rows)
