"""Provisioning health checks on small tables: pass on a healthy job, fail on each planted condition."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from support import bridge_tables as bt
from idbridge.checks import load_all
from idbridge.checks.rules import provisioning as p
from idbridge.checks.runner import run_checks
from idbridge.snapshot.store import NotCollected

load_all()


def job_rows(**changes) -> dict:
    data = bt.rows()
    data["entra_sync_jobs"][0].update(changes)
    return data


def ids(data=None, **settings) -> set[str]:
    results = run_checks(bt.tables(data), bt.settings(token=date(2026, 3, 1), **settings), areas=["provisioning"])
    return {f.check_id for f in results.findings}


def test_a_healthy_job_passes_every_provisioning_check():
    assert ids() == set()


# --------------------------------------------------------------------------------------------- job status


def test_no_job_is_reported_as_not_active_only():
    data = bt.rows()
    data["entra_sync_jobs"] = []
    assert ids(data) == {"provisioning.job_not_active"}
    assert bt.run(p.job_not_active, data)[bt.APP].evidence == {"job": None}


@pytest.mark.parametrize("changes", [{"statusCode": "Paused"}, {"statusCode": "NotRun"},
                                     {"scheduleState": "Paused"}])
def test_job_not_active(changes):
    hit = bt.run(p.job_not_active, job_rows(**changes))[bt.APP]
    assert hit.evidence["statusCode"] == changes.get("statusCode", "Active")


def test_quarantine_reason_is_explained_with_the_error():
    status = {"quarantine": {"seriesCount": 3, "nextAttempt": "2026-06-02T00:00:00Z", "seriesBegan": "x"}}
    data = job_rows(statusCode="Quarantine", quarantineReason="EncounteredQuarantineException",
                    quarantineErrorCode="SystemForCrossDomainIdentityManagementCredentialValidationFailure",
                    quarantineErrorMessage="Response Status Code: Unauthorized",
                    quarantineCurrentBegan="2026-05-30T00:00:00Z", status_json=json.dumps(status))
    hit = bt.run(p.quarantined, data)[bt.APP]
    assert "secret token is invalid or expired" in hit.evidence["explanation"]
    assert hit.evidence["errorCode"] == "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    assert hit.evidence["errorMessage"] == "Response Status Code: Unauthorized"
    assert hit.evidence["seriesCount"] == 3 and hit.evidence["since"] == "2026-05-30T00:00:00Z"
    assert bt.run(p.job_not_active, data)  # a quarantined job is not active either


@pytest.mark.parametrize("reason", sorted(p.QUARANTINE_REASONS))
def test_every_documented_quarantine_reason_has_words(reason):
    hit = bt.run(p.quarantined, job_rows(statusCode="Quarantine", quarantineReason=reason))[bt.APP]
    assert hit.evidence["explanation"] == p.QUARANTINE_REASONS[reason] and hit.evidence["reason"] == reason


def test_not_quarantined_passes():
    assert bt.run(p.quarantined) == {}


def test_cycle_overdue_after_two_cycles():
    assert bt.run(p.cycle_overdue, job_rows(lastSuccessfulExecutionEnded="2026-06-01T10:41:00Z")) == {}  # 79 min
    hit = bt.run(p.cycle_overdue, job_rows(lastSuccessfulExecutionEnded="2026-06-01T09:20:00Z"))[bt.APP]
    assert hit.evidence["age_minutes"] == 160 and hit.evidence["limit_minutes"] == 80
    assert "2 h 40 min" in hit.detail


def test_cycle_overdue_follows_the_cycle_parameter():
    data = job_rows(lastSuccessfulExecutionEnded="2026-06-01T10:00:00Z")  # 2 h
    assert bt.run(p.cycle_overdue, data, provisioning_cycle_minutes=40)
    assert bt.run(p.cycle_overdue, data, provisioning_cycle_minutes=60) == {}


def test_cycle_overdue_when_no_cycle_ever_succeeded():
    hit = bt.run(p.cycle_overdue, job_rows(lastSuccessfulExecutionEnded=None))[bt.APP]
    assert hit.evidence["lastSuccessfulCycleEnded"] is None and "no successful cycle" in hit.detail


@pytest.mark.parametrize("value", [p.NEVER, None])
def test_steady_state_never(value):
    assert bt.run(p.steady_state_never, job_rows(steadyStateFirstAchievedTime=value))[bt.APP]
    assert bt.run(p.steady_state_never) == {}


def test_successive_failures():
    status = json.dumps({"lastExecution": {"error": {"code": "SomeCode"}}})
    hit = bt.run(p.successive_failures, job_rows(countSuccessiveCompleteFailures=7, status_json=status))[bt.APP]
    assert hit.evidence["countSuccessiveCompleteFailures"] == 7 and hit.evidence["lastExecutionError"] == "SomeCode"
    assert bt.run(p.successive_failures) == {}


def test_scope_all():
    data = bt.rows()
    data["idc_groups"].append({"groupId": "ig-o", "displayName": "Other", "externalIds": ["g-other"],
                               "createdBy": "7f3e9a2c-0d41-4b8e-9c55-2a6f1d8e4b70"})
    hit = bt.run(p.scope_all, data)[bt.APP]
    assert hit.evidence["provisioned_groups_not_assigned"] == ["Other"]
    assert bt.run(p.scope_all) == {}


# --------------------------------------------------------------------------------------------- errors


def log(source: str, status: str, at: str, code: str | None = None, detail: str | None = None,
        kind: str = "User", name: str = "") -> dict:
    reason = None
    if detail:
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail})
        reason = (f"StatusCode: BadRequest Message: Processing of the HTTP request resulted in an exception. "
                  f"Web Response: {body}. This operation was retried 0 times. It will be retried again after "
                  f"this date: 2026-06-01T12:40:00.0000000Z UTC")
    return {"id": f"{source}-{at}", "activityDateTime": at, "jobId": bt.JOB, "action": "Create",
            "provisioningAction": "create", "status": status, "errorCode": code, "errorReason": reason,
            "sourceId": source, "sourceDisplayName": name or source, "sourceType": kind}


BAD = "SystemForCrossDomainIdentityManagementBadRequest"
GIVEN = "1 validation errors detected: Value at 'name.givenName' failed to satisfy constraint: Member must have " \
        "length greater than or equal to 1"


def test_errors_group_the_current_failures_per_subject():
    data = bt.rows()
    data["entra_provisioning_logs"] = [
        log("u-bob", "failure", "2026-06-01T10:00:00Z", BAD, GIVEN),
        log("u-bob", "failure", "2026-06-01T11:00:00Z", BAD, GIVEN),
        log("u-bob", "failure", "2026-06-01T11:30:00Z", BAD, p.UNPARSABLE),
        log("g-aws-devs", "failure", "2026-06-01T11:00:00Z", "SystemForCrossDomainIdentityManagementConflict",
            "Refused to create a new, duplicate resource", kind="Group"),
        log("u-gone", "failure", "2026-06-01T11:00:00Z", BAD, GIVEN, name="Deleted Person"),
    ]
    hits = bt.run(p.errors, data)
    assert set(hits) == {"user:bob@contoso.com", "group:AWS-Devs", "user:Deleted Person"}
    bob = hits["user:bob@contoso.com"].evidence
    assert bob["failures"] == 3
    assert [(e["detail"], e["count"]) for e in bob["errors"]] == [(GIVEN, 2), (p.UNPARSABLE, 1)]
    assert "CloudTrail" in bob["errors"][1]["hint"]


def test_a_later_success_clears_the_failures_of_that_object():
    data = bt.rows()
    data["entra_provisioning_logs"] = [log("u-bob", "failure", "2026-06-01T10:00:00Z", BAD, GIVEN),
                                       log("u-bob", "success", "2026-06-01T10:40:00Z"),
                                       log("u-carol", "success", "2026-06-01T10:00:00Z"),
                                       log("u-carol", "failure", "2026-06-01T10:40:00Z", BAD, GIVEN)]
    assert set(bt.run(p.errors, data)) == {"user:carol@contoso.com"}


def test_no_failures_pass():
    data = bt.rows()
    data["entra_provisioning_logs"] = [log("u-bob", "success", "2026-06-01T10:00:00Z"),
                                       log("u-bob", "skipped", "2026-06-01T10:00:00Z")]
    assert bt.run(p.errors, data) == {}
    assert bt.run(p.errors) == {}  # an empty log


def test_error_detail_without_a_web_response():
    assert p.error_detail("Something broke. This operation was retried 2 times. It will be retried") == \
        "Something broke"
    assert p.error_detail(None) is None


# --------------------------------------------------------------------------------------------- SCIM token


def token_event(at: str, event_id: str = "e1", error: str | None = None) -> dict:
    return {"eventId": event_id, "eventTime": at, "eventName": "CreateBearerToken",
            "eventSource": "sso-directory.amazonaws.com", "userName": "admin@contoso.com", "errorCode": error}


@pytest.mark.parametrize("age_days, severity", [(200, None), (275, "low"), (340, "medium"), (360, "high"),
                                                (372, "critical")])
def test_token_expiry_severity_by_horizon(age_days, severity):
    created = (bt.NOW - timedelta(days=age_days)).date()
    hits = bt.run(p.scim_token_expiry, token=created)
    if severity is None:
        assert hits == {}
    else:
        hit = hits[bt.APP]
        assert hit.severity == severity and hit.evidence["days_left"] == 365 - age_days
        assert "parameters" in hit.evidence["source"]


def test_token_falls_back_to_cloudtrail_and_says_so():
    data = bt.rows()
    data["cloudtrail_events"] = [token_event("2025-06-20T10:00:00Z", "old"), token_event("2025-06-25T10:00:00Z", "new"),
                                 token_event("2025-12-01T10:00:00Z", "failed", error="AccessDenied")]
    hit = bt.run(p.scim_token_expiry, data)[bt.APP]
    assert "CreateBearerToken new" in hit.evidence["source"] and "no date recorded" in hit.evidence["source"]
    assert hit.evidence["days_left"] == 24 and hit.severity == "medium"


def test_token_recorded_date_is_cross_checked_against_cloudtrail():
    data = bt.rows()
    data["cloudtrail_events"] = [token_event("2026-04-01T10:00:00Z")]
    hit = bt.run(p.scim_token_expiry, data, token=date(2025, 6, 20))[bt.APP]
    assert hit.evidence["cloudtrail_created"] == "2026-04-01T10:00:00Z" and "mismatch" in hit.evidence
    data["cloudtrail_events"] = [token_event("2025-06-20T10:00:00Z")]
    assert "mismatch" not in bt.run(p.scim_token_expiry, data, token=date(2025, 6, 20))[bt.APP].evidence


def test_token_not_applicable_without_a_date_or_an_event():
    # A parameter left unset is "not applicable" (nothing configured to check), never "not collected": the data
    # (CloudTrail) was collected and holds no token event.
    results = run_checks(bt.tables(), bt.settings(), ids=["provisioning.scim_token_expiry"])
    outcome = results.outcomes[0]
    assert outcome.status == "not_applicable" and "no token creation date recorded" in outcome.reason


def test_token_with_cloudtrail_not_collected_uses_the_recorded_date():
    data = bt.tables(not_collected={"cloudtrail_events": "AccessDenied"})
    hits = list(p.scim_token_expiry(data, bt.settings(token=date(2025, 6, 20))))
    assert hits[0].evidence["cloudtrail"] == "not cross-checked: AccessDenied"
    with pytest.raises(NotCollected, match="AccessDenied") as caught:
        list(p.scim_token_expiry(data, bt.settings()))
    assert caught.value.source == "aws.cloudtrail"


def test_job_checks_are_not_checked_when_the_job_was_not_collected():
    data = bt.tables(not_collected={"entra_sync_jobs": "403 Forbidden"})
    results = run_checks(data, bt.settings(), ids=["provisioning.job_not_active", "provisioning.quarantined"])
    assert {o.status for o in results.outcomes} == {"not_checked"}
