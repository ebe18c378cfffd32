"""Entra provisioning log entries (Graph provisioningObjectSummary, v1.0) and provisionOnDemand results.

Shape and texts follow Graph's reference and its examples (List provisioningObjectSummary, provisionOnDemand):
steps EntryImport* / EntrySynchronizationScoping / EntryImport (matching) / EntrySynchronization* / EntryExport*,
a failure's errorInformation with Entra's "StatusCode: … Message: Processing of the HTTP request resulted in an
exception… Web Response: {SCIM error body}" reason. The error code is Entra's SCIM connector name followed by the
HTTP status name (SystemForCrossDomainIdentityManagementBadRequest, …Conflict): the documented credential code
has that form; the per-status ones are the sandbox's reading of it.

One entry per object and cycle; the constant parts of a cycle's entries (service principal, systems, initiator)
are shared dicts, which keeps a 100k-object cycle's log small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from idbridge.sandbox.timeexpr import graph_time

SOURCE_SYSTEM_NAME = "Azure Active Directory"
CONNECTOR = "SystemForCrossDomainIdentityManagement"
CREDENTIAL_ERROR = f"{CONNECTOR}CredentialValidationFailure"
HTTP_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
              429: "TooManyRequests", 500: "InternalServerError"}
USER_TARGET_TYPE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_TARGET_TYPE = "urn:ietf:params:scim:schemas:core:2.0:Group"
RETRY_INTERVAL = timedelta(minutes=40)


@dataclass(frozen=True)
class CycleInfo:
    """What every entry of one cycle (or one on-demand run) has in common."""

    tenant_id: str
    job_id: str
    cycle_id: str
    target_name: str          # the app's display name, as Entra names the target system in its texts
    service_principal: dict   # {id, displayName}
    source_system: dict
    target_system: dict
    initiated_by: dict


def cycle_info(*, tenant_id: str, job_id: str, cycle_id: str, sp: dict, source_id: str, target_id: str,
               on_demand: bool = False) -> CycleInfo:
    name = sp.get("displayName") or "AWS IAM Identity Center"
    return CycleInfo(
        tenant_id=tenant_id, job_id=job_id, cycle_id=cycle_id, target_name=name,
        service_principal={"id": sp["id"], "displayName": name},
        source_system={"id": source_id, "displayName": SOURCE_SYSTEM_NAME, "details": {}},
        target_system={"id": target_id, "displayName": name,
                       "details": {"ApplicationId": sp.get("appId"), "ServicePrincipalId": sp["id"],
                                   "ServicePrincipalDisplayName": name}},
        initiated_by={"id": "", "displayName": "Provision on demand" if on_demand else "Azure AD Provisioning Service",
                      "initiatorType": "user" if on_demand else "system"})


def step(name: str, kind: str, status: str, description: str, details: dict | None = None) -> dict:
    return {"name": name, "provisioningStepType": kind, "status": status, "description": description,
            "details": details if details is not None else {}}


def scoping_step(kind: str, *, active: bool, assigned: bool) -> dict:
    entitled = active and assigned
    return step("EntrySynchronizationScoping", "scoping", "success" if entitled else "skipped",
                f"Determine if {kind} in scope by evaluating against each scoping filter",
                {"IsActive": str(active), "Assigned": str(assigned),
                 "IsEffectivelyEntitledForProvisioning": str(entitled),
                 "IsInProvisioningScopeDisplayName": str(entitled), "ScopeEvaluationResult": "{}"})


def import_step(kind: str, rid: str, change: str) -> dict:
    """change: Add | Update | Delete (the change Entra saw on the source object)."""
    return step(f"EntryImport{change}", "import", "success",
                f"Received {kind} '{rid}' change of type ({change}) from {SOURCE_SYSTEM_NAME}")


def matched_step(info: CycleInfo, rid: str) -> dict:
    return step("EntryImport", "matching", "success", f"Retrieved '{rid}' from {info.target_name}")


def not_matched_step(info: CycleInfo, kind: str, rid: str) -> dict:
    return step("EntrySynchronizationAdd", "matching", "success",
                f"{kind} '{rid}' will be created in {info.target_name} ({kind} is active and assigned in "
                f"{SOURCE_SYSTEM_NAME}, but no matching {kind} was found in {info.target_name})")


_EXPORT = {  # action -> (step name, verb on success, verb on failure)
    "create": ("EntryExportAdd", "was created in", "create"),
    "update": ("EntryExportUpdate", "was updated in", "update"),
    "disable": ("EntryExportUpdateSoftDelete", "was disabled in", "disable"),
    "delete": ("EntryExportDelete", "was deleted from", "delete"),
}


def export_step(info: CycleInfo, kind: str, rid: str, action: str, ok: bool) -> dict:
    name, done, verb = _EXPORT[action]
    text = f"{kind} '{rid}' {done} {info.target_name}" if ok else f"Failed to {verb} {kind} '{rid}' in " \
                                                                  f"{info.target_name}"
    return step(name, "export", "success" if ok else "failure", text, {"ReportableIdentifier": rid})


def skip_step(kind: str, rid: str, reason: str, text: str) -> dict:
    return step("EntrySynchronizationSkip", "export", "skipped", f"{kind} '{rid}' was skipped: {text}",
                {"SkipReason": reason})


def error_information(status: int, body: dict | None, *, at: datetime, retried: int) -> dict:
    """errorInformation of a SCIM call AWS refused, worded as Entra words it."""
    phrase = HTTP_NAMES.get(status, str(status))
    web = json.dumps(body, separators=(",", ":")) if body is not None else ""
    retry = (at + RETRY_INTERVAL).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    reason = (f"StatusCode: {phrase} Message: Processing of the HTTP request resulted in an exception. Please see "
              f"the HTTP response returned by the 'Response' property of this exception for details. Web Response: "
              f"{web}. This operation was retried {retried} times. It will be retried again after this date: "
              f"{retry} UTC")
    return {"errorCode": f"{CONNECTOR}{phrase}", "reason": reason, "additionalDetails": None,
            "errorCategory": "nonServiceFailure", "recommendedAction": None}


def flatten(resource: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """A SCIM resource as (target attribute, value) pairs, named the way mappings name targets."""
    out: list[tuple[str, Any]] = []
    for key, value in resource.items():
        if key in _NOT_ATTRIBUTES:
            continue
        kind = type(value)
        if kind is dict:
            if key.startswith("urn:"):
                out += [(f"{key}:{k}", v) for k, v in value.items()]
            else:
                out += flatten(value, f"{prefix}{key}.")
        elif kind is list and value and type(value[0]) is dict:
            for entry in value:
                kind_name = entry.get("type")
                head = f'{key}[type eq "{kind_name}"]' if kind_name else key
                out += [(f"{head}.{k}", v) for k, v in entry.items() if k != "type" and k != "primary"]
        else:
            out.append((f"{prefix}{key}", value))
    return out


_NOT_ATTRIBUTES = frozenset({"schemas", "id", "meta"})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def modified_properties(new: dict, old: dict | None = None) -> list[dict]:
    """The exported attributes (target names); for an update only those that change."""
    before = dict(flatten(old)) if old else {}
    return [{"displayName": name, "oldValue": _text(before.get(name)), "newValue": _text(value)}
            for name, value in flatten(new) if old is None or before.get(name) != value]


def entry(info: CycleInfo, *, entry_id: str, change_id: str, at: datetime, duration_ms: int, kind: str,
          source: dict, target_id: str, target_name: str, action: str, status: str, steps: list[dict],
          modified: list[dict], error: dict | None = None) -> dict:
    """source: {id, displayName}; kind: User | Group; action: create|update|disable|delete|other."""
    target_type = USER_TARGET_TYPE if kind == "User" else GROUP_TARGET_TYPE
    return {
        "id": entry_id, "activityDateTime": graph_time(at), "tenantId": info.tenant_id, "jobId": info.job_id,
        "cycleId": info.cycle_id, "changeId": change_id, "action": action.capitalize(),
        "durationInMilliseconds": duration_ms, "initiatedBy": info.initiated_by,
        "servicePrincipal": info.service_principal, "sourceSystem": info.source_system,
        "targetSystem": info.target_system,
        "sourceIdentity": {"id": source["id"], "displayName": source.get("displayName") or "", "identityType": kind,
                           "details": {}},
        "targetIdentity": {"id": target_id or "", "displayName": target_name or "", "identityType": target_type,
                           "details": {}},
        "provisioningAction": action,
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": steps, "modifiedProperties": modified,
    }


# --------------------------------------------------------------------------------------------- on demand


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def on_demand_result(log: dict, *, started: datetime, ended: datetime, reportable: str,
                     skip: tuple[str, str] | None = None) -> dict:
    """provisionOnDemand's stringKeyStringValuePair: key = {"result", "details"}, value = the provisioning
    object with Capitalised statuses and step types, as Graph's example shows it. skip: (code, message)."""
    status = log["provisioningStatusInfo"]["status"].capitalize()
    error = log["provisioningStatusInfo"]["errorInformation"] or {}
    details: dict[str, Any] = {}
    if skip:
        details = {"errorCode": skip[0], "errorMessage": skip[1]}
    elif error:
        details = {"errorCode": error.get("errorCode"), "errorMessage": error.get("reason")}
    value = {
        "action": log["provisioningAction"].capitalize(), "changeId": log["changeId"], "endTime": _stamp(ended),
        "modifiedProperties": log["modifiedProperties"],
        "provisioningSteps": [{"name": s["name"], "type": s["provisioningStepType"].capitalize(),
                               "status": s["status"].capitalize(), "description": s["description"],
                               "timestamp": _stamp(started), "details": s["details"]}
                              for s in log["provisioningSteps"]],
        "reportableIdentifier": reportable, "startTime": _stamp(started),
        "statusInfo": {"status": status, "errorCode": error.get("errorCode"), "reason": error.get("reason"),
                       "additionalDetails": error.get("additionalDetails"),
                       "errorCategory": error.get("errorCategory"),
                       "recommendedAction": error.get("recommendedAction")},
        "sourceIdentity": {"id": log["sourceIdentity"]["id"], "type": log["sourceIdentity"]["identityType"],
                           "displayName": log["sourceIdentity"]["displayName"], "details": None},
        "sourceSystem": {"id": log["sourceSystem"]["id"], "name": SOURCE_SYSTEM_NAME, "details": None},
        "targetIdentity": {"id": log["targetIdentity"]["id"], "type": log["targetIdentity"]["identityType"],
                           "displayName": log["targetIdentity"]["displayName"], "details": None},
        "targetSystem": {"id": log["targetSystem"]["id"], "name": log["targetSystem"]["displayName"],
                         "details": None},
    }
    key = {"result": status, "details": details}
    return {"key": json.dumps(key, separators=(",", ":")), "value": json.dumps(value, separators=(",", ":"))}
