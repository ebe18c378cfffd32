"""The CloudTrail checks on small tables built from the documented records (tests/contract/fixtures/aws/):
saml.sign_in_refused (ExternalIdPDirectoryLogin failures, per person) and aws.identity_source_changed (who changed
the identity source or the external IdP configuration, and when). Each with a planted fault, a clean counterpart
and "not checked" when CloudTrail was not collected."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
from support import bridge_tables as bt

from idbridge.checks import load_all
from idbridge.checks.rules import aws_config as a
from idbridge.checks.rules import saml as s
from idbridge.checks.runner import run_checks
from idbridge.collect.aws.trail import LOOKUPS, event_row, keep

load_all()
FIXTURES = Path(__file__).resolve().parents[1] / "contract" / "fixtures" / "aws"
ADMIN = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_abc/sanne@contoso.com"


def _record(name: str, **changes) -> dict:
    record = copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["response"])
    record.update(changes)
    return record


def _row(record: dict) -> dict:
    item = {"EventId": record["eventID"], "EventName": record["eventName"], "EventSource": record["eventSource"],
            "EventTime": pd.Timestamp(record["eventTime"]).to_pydatetime(), "CloudTrailEvent": json.dumps(record)}
    assert keep(item)
    return event_row(item)


def _refusal(when: str, user: str = "alice@contoso.com", n: int = 0, **changes) -> dict:
    return _row(_record("externalidp_directory_login_failure", eventTime=when, eventID=f"e-{when}-{n}",
                        additionalEventData={"UserName": user}, **changes))


def _change(name: str, when: str, source: str = "sso-directory.amazonaws.com", **changes) -> dict:
    return _row({"eventVersion": "1.08", "eventID": f"c-{name}-{when}", "eventTime": when, "eventName": name,
                 "eventSource": source, "awsRegion": "eu-west-1", "sourceIPAddress": "203.0.113.18",
                 "userIdentity": {"type": "AssumedRole", "arn": ADMIN, "accountId": "111122223333"},
                 "eventType": "AwsApiCall", **changes})


# --------------------------------------------------------------------------------------------- refused sign-ins


def test_refused_sign_ins_are_one_finding_per_person_with_times_count_and_message():
    data = bt.rows()
    data["cloudtrail_events"] = [_refusal("2026-05-31T09:00:04Z"), _refusal("2026-05-31T09:05:00Z", n=1),
                                 _refusal("2026-05-30T08:00:00Z", user="nobody@contoso.com")]
    hits = bt.run(s.sign_in_refused, data)
    assert set(hits) == {"user:alice@contoso.com", "user:nobody@contoso.com"}
    alice = hits["user:alice@contoso.com"].evidence
    assert alice["count"] == 2 and alice["first"] == "2026-05-31 09:00" and alice["last"] == "2026-05-31 09:05"
    assert alice["errorMessages"] == ["Unable to validate the SAML response from the external identity provider"]
    assert alice["knownToIdentityCenter"] is True and alice["sourceIPs"] == ["192.0.2.44"]
    assert hits["user:nobody@contoso.com"].evidence["knownToIdentityCenter"] is False
    assert hits["user:alice@contoso.com"].detail.startswith("2 refused sign-in(s), last 2026-05-31 09:05: Unable")


def test_accepted_sign_ins_are_silent():
    data = bt.rows()
    accepted = _record("externalidp_directory_login_failure", responseElements={"ExternalIdPDirectoryLogin": "Success"},
                       additionalEventData={"UserName": "alice@contoso.com"})
    accepted.pop("errorMessage")
    data["cloudtrail_events"] = [_row(accepted), _change("CreateBearerToken", "2026-05-01T10:00:00Z")]
    assert bt.run(s.sign_in_refused, data) == {}


def test_refused_sign_ins_not_checked_without_cloudtrail():
    tables = bt.tables(not_collected={"cloudtrail_events": "AccessDenied: cloudtrail:LookupEvents"})
    [outcome] = run_checks(tables, bt.settings(), ids=["saml.sign_in_refused"]).outcomes
    assert outcome.status == "not_checked" and "AccessDenied" in outcome.reason


# --------------------------------------------------------------------------------------------- identity source


def test_identity_source_changes_say_who_and_when_and_the_worst_decides():
    data = bt.rows()
    data["cloudtrail_events"] = [
        _change("DisableExternalIdPConfigurationForDirectory", "2026-05-20T10:00:00Z"),
        _change("EnableExternalIdPConfigurationForDirectory", "2026-05-20T10:07:00Z"),
        _change("AssociateDirectory", "2026-05-21T10:00:00Z", source="sso.amazonaws.com",
                errorCode="AccessDeniedException", errorMessage="not allowed")]
    hit = bt.run(a.identity_source_changed, data)["app:AWS IAM Identity Center"]
    assert hit.severity == "high" and hit.evidence["count"] == 3
    first, second, third = hit.evidence["changes"]
    assert first == {"event": "DisableExternalIdPConfigurationForDirectory",
                     "what": "external IdP (SAML) configuration disabled", "time": "2026-05-20T10:00:00Z",
                     "who": ADMIN, "sourceIPAddress": "203.0.113.18", "result": "succeeded"}
    assert third["result"] == "refused: AccessDeniedException"
    assert hit.detail.endswith("at 2026-05-21T10:00:00Z (refused: AccessDeniedException)")


def test_a_certificate_upload_alone_is_low():
    data = bt.rows()
    data["cloudtrail_events"] = [_change("UpdateExternalIdPConfigurationForDirectory", "2026-05-20T10:00:00Z")]
    assert bt.run(a.identity_source_changed, data)["app:AWS IAM Identity Center"].severity == "low"


def test_no_identity_source_change_is_silent():
    data = bt.rows()
    data["cloudtrail_events"] = [_refusal("2026-05-31T09:00:04Z"), _change("CreateBearerToken", "2026-05-01T10:00Z"),
                                 _change("AssociateDirectory", "2026-05-01T10:00:00Z", source="ds.amazonaws.com")]
    assert bt.run(a.identity_source_changed, data) == {}


def test_identity_source_changes_not_checked_without_cloudtrail():
    tables = bt.tables(not_collected={"cloudtrail_events": "AccessDenied: cloudtrail:LookupEvents"})
    [outcome] = run_checks(tables, bt.settings(), ids=["aws.identity_source_changed"]).outcomes
    assert outcome.status == "not_checked" and "AccessDenied" in outcome.reason


def test_the_collector_looks_up_every_identity_source_event():
    names = {lookup["AttributeValue"] for lookup in LOOKUPS}
    assert set(a.IDENTITY_SOURCE_CHANGES) <= names
