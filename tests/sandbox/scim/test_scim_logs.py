"""Provisioning-log entries, provisionOnDemand results and job status (scim_logs.py, scim_jobstatus.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from idbridge.sandbox.scim import jobstatus
from idbridge.sandbox.scim import logs

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
INFO = logs.cycle_info(tenant_id="t", job_id="aWSSingleSignon.t.j", cycle_id="c",
                       sp={"id": "sp", "appId": "app", "displayName": "AWS IAM Identity Center"},
                       source_id="src", target_id="tgt")


def test_error_information_is_worded_like_entra():
    body = {"schema": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "x", "status": "400"}
    error = logs.error_information(400, body, at=AT, retried=2)
    assert error["errorCode"] == "SystemForCrossDomainIdentityManagementBadRequest"
    assert error["errorCategory"] == "nonServiceFailure"
    assert error["reason"] == (
        "StatusCode: BadRequest Message: Processing of the HTTP request resulted in an exception. Please see the HTTP "
        "response returned by the 'Response' property of this exception for details. Web Response: "
        '{"schema":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"x","status":"400"}. This operation was '
        "retried 2 times. It will be retried again after this date: 2026-03-01T12:40:00.0000000Z UTC")
    assert logs.error_information(409, body, at=AT, retried=0)["errorCode"] == \
        "SystemForCrossDomainIdentityManagementConflict"


def test_entry_shape():
    steps = [logs.import_step("User", "adele@contoso.com", "Add"),
             logs.scoping_step("User", active=True, assigned=True),
             logs.not_matched_step(INFO, "User", "adele@contoso.com"),
             logs.export_step(INFO, "User", "adele@contoso.com", "create", ok=True)]
    entry = logs.entry(INFO, entry_id="e", change_id="ch", at=AT, duration_ms=312, kind="User",
                       source={"id": "u1", "displayName": "Adele Vance"}, target_id="idc-1",
                       target_name="adele@contoso.com", action="create", status="success", steps=steps,
                       modified=logs.modified_properties({"userName": "adele@contoso.com", "active": True}))
    assert set(entry) == {"id", "activityDateTime", "tenantId", "jobId", "cycleId", "changeId", "action",
                          "durationInMilliseconds", "initiatedBy", "servicePrincipal", "sourceSystem", "targetSystem",
                          "sourceIdentity", "targetIdentity", "provisioningAction", "provisioningStatusInfo",
                          "provisioningSteps", "modifiedProperties"}
    assert entry["activityDateTime"] == "2026-03-01T12:00:00Z"
    assert entry["servicePrincipal"] == {"id": "sp", "displayName": "AWS IAM Identity Center"}
    assert entry["initiatedBy"] == {"id": "", "displayName": "Azure AD Provisioning Service",
                                    "initiatorType": "system"}
    assert entry["sourceIdentity"] == {"id": "u1", "displayName": "Adele Vance", "identityType": "User",
                                       "details": {}}
    assert entry["targetIdentity"]["identityType"] == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert entry["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
    assert [s["name"] for s in entry["provisioningSteps"]] == ["EntryImportAdd", "EntrySynchronizationScoping",
                                                               "EntrySynchronizationAdd", "EntryExportAdd"]
    assert entry["provisioningSteps"][3]["description"] == \
        "User 'adele@contoso.com' was created in AWS IAM Identity Center"
    assert entry["modifiedProperties"] == [
        {"displayName": "userName", "oldValue": None, "newValue": "adele@contoso.com"},
        {"displayName": "active", "oldValue": None, "newValue": "True"}]


def test_modified_properties_of_an_update_list_changes_only():
    old = {"displayName": "Emily Carter", "name": {"givenName": "Emily", "familyName": "Carter"},
           "emails": [{"type": "work", "value": "e@x.com", "primary": True}]}
    new = {"displayName": "Emily Carter-Nwosu", "name": {"givenName": "Emily", "familyName": "Carter-Nwosu"},
           "emails": [{"type": "work", "value": "e@x.com", "primary": True}]}
    assert logs.modified_properties(new, old) == [
        {"displayName": "displayName", "oldValue": "Emily Carter", "newValue": "Emily Carter-Nwosu"},
        {"displayName": "name.familyName", "oldValue": "Carter", "newValue": "Carter-Nwosu"}]
    assert logs.flatten(new)[-1] == ('emails[type eq "work"].value', "e@x.com")


def test_on_demand_result_matches_graph_example_shape():
    steps = [logs.import_step("User", "bill@contoso.com", "Update"),
             logs.skip_step("User", "bill@contoso.com", "RedundantExport", "already the same")]
    entry = logs.entry(INFO, entry_id="e", change_id="ch", at=AT, duration_ms=1, kind="User",
                       source={"id": "u1", "displayName": "Bill"}, target_id="idc", target_name="bill@contoso.com",
                       action="other", status="skipped", steps=steps, modified=[])
    result = logs.on_demand_result(entry, started=AT, ended=AT, reportable="bill@contoso.com",
                                   skip=("RedundantExport", "The state of the user in both the source and target "
                                                            "systems already match."))
    assert json.loads(result["key"]) == {"result": "Skipped", "details": {
        "errorCode": "RedundantExport",
        "errorMessage": "The state of the user in both the source and target systems already match."}}
    value = json.loads(result["value"])
    assert value["action"] == "Other" and value["reportableIdentifier"] == "bill@contoso.com"
    assert value["statusInfo"]["status"] == "Skipped"
    assert value["provisioningSteps"][1] == {
        "name": "EntrySynchronizationSkip", "type": "Export", "status": "Skipped",
        "description": "User 'bill@contoso.com' was skipped: already the same",
        "timestamp": "2026-03-01T12:00:00.0000000Z", "details": {"SkipReason": "RedundantExport"}}
    assert value["sourceSystem"]["name"] == "Azure Active Directory"


# --------------------------------------------------------------------------------------------- job status


def test_record_cycle():
    job = {"status": {"code": "NotRun", "steadyStateFirstAchievedTime": jobstatus.NEVER}}
    stats = jobstatus.CycleStats(imported=10, entitled=10, deltas=3, exports=3, exported=2, escrowed=1)
    jobstatus.record_cycle(job, activity="c1", began=AT, ended=AT + timedelta(minutes=2), stats=stats,
                           entry_counts=[{"key": "user to User", "value": 9}])
    status = job["status"]
    assert status["code"] == "Active" and status["quarantine"] is None
    assert status["lastExecution"]["state"] == "EntryLevelErrors"
    assert status["lastExecution"]["countEscrowed"] == 1 and status["lastExecution"]["countExported"] == 2
    assert status["lastSuccessfulExecution"] is status["lastExecution"]
    assert status["steadyStateFirstAchievedTime"] == status["steadyStateLastAchievedTime"] == "2026-03-01T12:02:00Z"
    assert status["synchronizedEntryCountByType"] == [{"key": "user to User", "value": 9}]
    assert status["progress"][0]["completedUnits"] == 3


def test_failed_cycle_quarantines():
    job = {"status": {"code": "Active", "countSuccessiveCompleteFailures": 0, "quarantine": None}}
    for n in range(2):
        jobstatus.record_failed_cycle(job, activity=f"c{n}", began=AT + timedelta(hours=n),
                                      ended=AT + timedelta(hours=n), stats=jobstatus.CycleStats(),
                                      reason="EncounteredQuarantineException",
                                      code="SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                                      message="401")
    status = job["status"]
    assert status["code"] == "Quarantine" and status["countSuccessiveCompleteFailures"] == 2
    assert status["lastExecution"]["state"] == "Failed"
    assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["quarantine"]["error"]["code"] == \
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert status["quarantine"]["seriesCount"] == 2 and status["quarantine"]["seriesBegan"] == "2026-03-01T12:00:00Z"
    assert status["quarantine"]["nextAttempt"] == "2026-03-01T14:20:00Z"  # retries slow down


def test_escrow_thresholds():
    assert jobstatus.escrow_reason(jobstatus.CycleStats(exports=100, escrowed=90)) is None  # below 5,000
    assert jobstatus.escrow_reason(jobstatus.CycleStats(exports=10_000, escrowed=5_000)) == \
        "EncounteredEscrowProportionThreshold"
    assert jobstatus.escrow_reason(jobstatus.CycleStats(exports=200_000, escrowed=40_001)) == \
        "EncounteredTotalEscrowThreshold"
    job = {"status": {}}
    jobstatus.record_cycle(job, activity="c", began=AT, ended=AT, entry_counts=[],
                           stats=jobstatus.CycleStats(exports=10_000, escrowed=6_000))
    assert job["status"]["code"] == "Quarantine"
    assert job["status"]["quarantine"]["reason"] == "EncounteredEscrowProportionThreshold"
