"""Contract: AWS's documented CloudTrail record of a refused SAML sign-in, run through the collector's row builder
and the sign-in correlation, and the sandbox's record of the same event compared with it (keys, types, values).

"The emulator is not the truth; the services are": the fixture in fixtures/aws/ is what AWS documents."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from idbridge.collect.aws.trail import event_row
from idbridge.model import signins
from idbridge.sandbox.aws.testkit import build_aws_world, small_scenario

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(area: str, name: str) -> dict:
    doc = json.loads((FIXTURES / area / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["source"].startswith("https://") and doc["note"].split(":")[0].split(" ")[0] in (
        "verbatim", "trimmed", "composed")
    return doc["response"]


def lookup_item(record: dict) -> dict:
    """The LookupEvents item CloudTrail returns for a record (CloudTrailEvent is the record as a JSON string)."""
    return {"EventId": record["eventID"], "EventName": record["eventName"],
            "EventTime": pd.Timestamp(record["eventTime"]).to_pydatetime(), "EventSource": record["eventSource"],
            "CloudTrailEvent": json.dumps(record)}


def _tables(cloudtrail_rows: list[dict]):
    from support import bridge_tables as b

    data = b.rows()
    data["entra_sign_ins"] = [  # Entra let alice in, 4 seconds before AWS refused the SAML response
        {"id": "s1", "createdDateTime": "2026-05-31T09:00:00Z", "userId": "u-alice",
         "userPrincipalName": "alice@contoso.com", "ipAddress": "192.0.2.44", "conditionalAccessStatus": "success",
         "authenticationRequirement": "multiFactorAuthentication", "errorCode": 0}]
    data["cloudtrail_events"] = cloudtrail_rows
    return b.tables(data), b.settings()


def test_a_refused_saml_response_without_error_code_is_entra_let_in_aws_refused():
    record = fixture("aws", "externalidp_directory_login_failure")
    assert "errorCode" not in record
    row = event_row(lookup_item(record))
    assert row["eventName"] == "ExternalIdPDirectoryLogin" and row["errorCode"] is None
    data, settings = _tables([row])
    act = signins.activity(data, settings)
    assert len(act.aws) == 1 and not act.aws.iloc[0]["ok"], "the refusal is kept, as a failure"
    [match] = act.correlation.to_dict("records")
    assert match["category"] == signins.REFUSED
    assert match["outcome"].startswith("Entra issued the SAML response, AWS refused it: Unable to validate")
    assert match["aws_result"].startswith("refused: ") and match["entra_result"] == "success"


def test_an_external_idp_login_that_says_success_is_left_to_user_authentication():
    record = fixture("aws", "externalidp_directory_login_failure")
    record = {**record, "responseElements": {"ExternalIdPDirectoryLogin": "Success"}}
    record.pop("errorMessage")
    data, settings = _tables([event_row(lookup_item(record))])
    assert len(signins.activity(data, settings).aws) == 0


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


def test_the_sandbox_records_a_refusal_the_way_aws_documents_it():
    documented = fixture("aws", "externalidp_directory_login_failure")
    world = build_aws_world(small_scenario())
    [served] = [e for e in world.aws.cloudtrail.events() if e["eventName"] == "ExternalIdPDirectoryLogin"]
    for key in ("eventSource", "eventType", "responseElements"):
        assert served[key] == documented[key], key
    assert "errorCode" not in served, "AWS sends no errorCode for this event"
    for key, kind in _shape(documented).items():
        if key in ("userIdentity",):
            assert served[key]["type"] == documented[key]["type"]
            continue
        assert key in served, key
        assert _shape(served[key]) == kind or served[key] is None and kind == "NoneType", key
    # and the collector reads the served record exactly as it reads the documented one
    served_row = event_row(lookup_item({**served, "eventID": served["eventID"]}))
    assert served_row["errorCode"] is None and served_row["errorMessage"]
