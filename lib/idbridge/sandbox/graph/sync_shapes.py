"""Synchronization (SCIM provisioning) objects of the AWS IAM Identity Center app: the template, jobs, their status
and schedule, the job schema with the default AWS attribute mappings (shared reference §1b) and the secrets.

Shapes follow Graph's synchronizationTemplate, synchronizationJob, synchronizationSchedule, synchronizationStatus,
synchronizationTaskExecution, synchronizationQuarantine and synchronizationSchema (v1.0).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from idbridge.sandbox import derived
from idbridge.sandbox.graph.store import Json
from idbridge.sandbox.timeexpr import graph_time

NEVER = "0001-01-01T00:00:00Z"  # Graph's value for "steady state never reached"
CYCLE = timedelta(minutes=40)
SOURCE_DIRECTORY = "Azure Active Directory"
TARGET_DIRECTORY = "customappsso"  # the SCIM connector every non-custom gallery SCIM app uses

# The scenario's external_id_source names Graph object properties; provisioning names them the AD way.
EXTERNAL_ID_SOURCES = {"objectId": "objectId", "mailNickname": "mailNickname",
                       "userPrincipalName": "userPrincipalName", "employeeId": "employeeId"}

QUARANTINE_ERRORS = {
    "EncounteredQuarantineException": (
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
        "The credentials provided are not valid or have expired: the SCIM endpoint answered 401 Unauthorized."),
    "EncounteredEscrowProportionThreshold": (
        "EscrowProportionThreshold", "More than 40% of the objects processed in the last cycle failed."),
    "EncounteredTotalEscrowThreshold": ("TotalEscrowThreshold", "More than 40,000 objects failed to provision."),
    "EncounteredBaseEscrowThreshold": ("BaseEscrowThreshold", "The number of failed objects passed the threshold."),
    "TooManyDeletes": ("TooManyDeletes", "The cycle would delete more objects than the accidental-deletion "
                                         "threshold allows."),
}


def template(sp_id: str, app_id: str) -> Json:
    return {
        "id": derived.AWS_SYNC_TEMPLATE_ID, "applicationId": app_id, "default": True,
        "description": "Provision users and groups to AWS IAM Identity Center (SCIM 2.0)",
        "discoverable": True, "factoryTag": derived.AWS_SYNC_TEMPLATE_ID,
        "metadata": [{"key": "supportsProvisionOnDemand", "value": "true"}],
    }


def _mapping(target: str, source_name: str | None = None, *, function: str | None = None,
             expression: str | None = None, matching: int = 0, flow: str = "Always") -> Json:
    if function:
        source = {"expression": expression, "name": function, "parameters": [], "type": "Function"}
    else:
        source = {"expression": f"[{source_name}]", "name": source_name, "parameters": [], "type": "Attribute"}
    return {"defaultValue": None, "exportMissingReferences": False, "flowBehavior": "FlowWhenChanged",
            "flowType": flow, "matchingPriority": matching, "source": source, "targetAttributeName": target}


def user_mappings(external_id_source: str, extra: list[tuple[str, str]]) -> list[Json]:
    work = 'addresses[type eq "work"]'
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    mappings = [
        _mapping("userName", "userPrincipalName", matching=1),
        _mapping("active", function="Switch",
                 expression='Switch([IsSoftDeleted], , "False", "True", "True", "False")'),
        _mapping("displayName", "displayName"),
        _mapping("title", "jobTitle"),
        _mapping('emails[type eq "work"].value', "mail"),
        _mapping("preferredLanguage", "preferredLanguage"),
        _mapping("name.givenName", "givenName"),
        _mapping("name.familyName", "surname"),
        _mapping("name.formatted", function="Join", expression='Join(" ", [givenName], [surname])'),
        _mapping(f"{work}.formatted", "physicalDeliveryOfficeName"),
        _mapping(f"{work}.streetAddress", "streetAddress"),
        _mapping(f"{work}.locality", "city"),
        _mapping(f"{work}.region", "state"),
        _mapping(f"{work}.postalCode", "postalCode"),
        _mapping(f"{work}.country", "country"),
        _mapping('phoneNumbers[type eq "work"].value', "telephoneNumber"),
        _mapping("externalId", EXTERNAL_ID_SOURCES[external_id_source]),
        _mapping(f"{enterprise}:employeeNumber", "employeeId"),
        _mapping(f"{enterprise}:department", "department"),
        _mapping(f"{enterprise}:manager", "manager"),
    ]
    mappings += [_mapping(target, source) for source, target in extra]
    return mappings


def group_mappings() -> list[Json]:
    return [_mapping("displayName", "displayName", matching=1), _mapping("externalId", "objectId"),
            _mapping("members", "members")]


def schema(job_id: str, external_id_source: str = "objectId", extra: list[tuple[str, str]] = (), *,
           removed: list[str] = (), flow_types: dict[str, str] | None = None) -> Json:
    """The gallery schema; `removed` drops User target attributes (e.g. active), `flow_types` sets an object
    mapping's target object actions (objectFlowTypes, "Add, Update, Delete" by default)."""
    def object_mapping(kind: str, mappings: list[Json]) -> Json:
        return {"enabled": True, "flowTypes": (flow_types or {}).get(kind, "Add, Update, Delete"), "metadata": [],
                "name": f"Provision Microsoft Entra ID {kind}s", "scope": None,
                "sourceObjectName": kind, "targetObjectName": kind, "attributeMappings": mappings}

    return {
        "id": job_id, "version": "Date:2024-06-01~",
        "directories": [{"name": SOURCE_DIRECTORY, "objects": [{"name": "User"}, {"name": "Group"}]},
                        {"name": TARGET_DIRECTORY, "objects": [{"name": "User"}, {"name": "Group"}]}],
        "synchronizationRules": [{
            "id": "6c409270-f78a-4bc6-af23-7cf3ab6482fe", "name": "USER_GROUP_TO_SCIM", "editable": True,
            "priority": 1, "sourceDirectoryName": SOURCE_DIRECTORY, "targetDirectoryName": TARGET_DIRECTORY,
            "containerFilter": {"includedContainers": []}, "groupFilter": {"includedGroups": []},
            "metadata": [{"key": "defaultSourceObjectMappings", "value": "User,Group"}],
            "objectMappings": [object_mapping("User", [m for m in user_mappings(external_id_source, list(extra))
                                                       if m["targetAttributeName"] not in set(removed)]),
                               object_mapping("Group", group_mappings())],
        }],
    }


def execution(activity: str, began: datetime, ended: datetime, *, entitled: int, state: str = "Succeeded",
              error: Json | None = None, exported: int = 0) -> Json:
    return {"activityIdentifier": activity, "countEntitled": entitled, "countEntitledForProvisioning": entitled,
            "countEscrowed": 0 if state == "Succeeded" else max(1, entitled), "countEscrowedRaw": 0,
            "countExported": exported, "countExports": exported, "countImported": entitled,
            "countImportedDeltas": 0, "countImportedReferenceDeltas": 0, "error": error, "state": state,
            "timeBegan": graph_time(began), "timeEnded": graph_time(ended)}


def empty_status(code: str = "NotConfigured") -> Json:
    return {"code": code, "countSuccessiveCompleteFailures": 0, "escrowsPruned": False, "lastExecution": None,
            "lastSuccessfulExecution": None, "lastSuccessfulExecutionWithExports": None, "progress": [],
            "quarantine": None, "steadyStateFirstAchievedTime": NEVER, "steadyStateLastAchievedTime": NEVER,
            "synchronizedEntryCountByType": [], "troubleshootingUrl": None}


def job(job_id: str, status: Json, schedule_state: str) -> Json:
    return {"id": job_id, "templateId": derived.AWS_SYNC_TEMPLATE_ID,
            "schedule": {"expiration": None, "interval": "PT40M", "state": schedule_state},
            "status": status,
            "synchronizationJobSettings": [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}]}


def secrets(base_address: str, token: str, notification_email: str | None, sync_all: bool, *,
            deletion_threshold: int | None = 500, skip_out_of_scope: bool = False) -> list[Json]:
    notify = {"Enabled": bool(notification_email), "Recipients": notification_email or "",
              "DeleteThresholdEnabled": deletion_threshold is not None,
              "DeleteThresholdValue": deletion_threshold or 0,
              "HumanResourcesLookaheadQueryEnabled": False}
    return [{"key": "BaseAddress", "value": base_address}, {"key": "SecretToken", "value": token},
            {"key": "SyncNotificationSettings", "value": json.dumps(notify, separators=(",", ":"))},
            {"key": "SyncAll", "value": "true" if sync_all else "false"}] + (
               [{"key": "SkipOutOfScopeDeletions", "value": "True"}] if skip_out_of_scope else [])
