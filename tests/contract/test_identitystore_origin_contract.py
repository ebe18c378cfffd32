"""Contract: who made an Identity Center user, decided from documented answers (fixtures/aws/): a ListUsers answer
(CreatedBy / ExternalIds as botocore's model and the API reference give them; AWS publishes no CreatedBy value for
SCIM-made users), the SCIM CreateUser CloudTrail event (names masked, the new id returned) and the Identity Store
API's CreateUser event. Each evidence kind decides alone, conflicting evidence is said to be conflicting, and the
sandbox's DescribeUser / ListUsers answer has the documented shape."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from support import bridge_tables as b

from idbridge.checks.rules import reconcile as r
from idbridge.collect.aws.collectors import _user_row
from idbridge.collect.aws.trail import event_row, keep
from idbridge.model.origin import CONFLICT, HAND, SCIM, STRONG, WEAK, live_user_origin, origins

FIXTURES = Path(__file__).parent / "fixtures" / "aws"
SCIM_ID = "c4488478-a0e1-700e-3d75-96c6bb641596"      # the SCIM event's responseElements.id
HAND_ID = "1234567890-9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
ENTRA_ID = "6b1f7c1e-8e2a-4c3b-9a57-3f6c2d1e0a11"     # the SCIM-made user's externalId
OPAQUE = "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"       # the fixture's stand-in CreatedBy of the SCIM-made user


def fixture(name: str) -> dict:
    doc = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["source"].startswith("https://") and doc["note"].startswith(("verbatim", "trimmed", "composed"))
    return copy.deepcopy(doc["response"])


def _parsed(user: dict) -> dict:
    """The user as boto3 hands it to the collector: timestamps parsed to datetimes."""
    return {**user, **{k: datetime.fromtimestamp(user[k], timezone.utc) for k in ("CreatedAt", "UpdatedAt")
                       if k in user}}


def lookup_item(record: dict) -> dict:
    return {"EventId": record["eventID"], "EventName": record["eventName"],
            "EventTime": pd.Timestamp(record["eventTime"]).to_pydatetime(), "EventSource": record["eventSource"],
            "CloudTrailEvent": json.dumps(record)}


def _data(users: list[dict], events: list[dict] | None, *, entra_ids=(ENTRA_ID,)):
    """The bridge test tenant with Identity Center holding exactly these ListUsers items (through the collector's
    row builder) and CloudTrail holding these records (None: CloudTrail not collected)."""
    data = b.rows()
    data["entra_users"] += [b._user(f"extra{i}", id=i) for i in entra_ids]
    data["idc_users"] = [_user_row(_parsed(u)) for u in users]
    data["idc_groups"], data["idc_group_memberships"] = [], []
    not_collected = None
    if events is None:
        not_collected = {"cloudtrail_events": "not selected for this collection"}
        data.pop("cloudtrail_events")
    else:
        items = [lookup_item(e) for e in events]
        data["cloudtrail_events"] = [event_row(i) for i in items if keep(i)]
    return b.tables(data, not_collected)


def _users(**changes) -> list[dict]:
    scim_user, hand_user = fixture("identitystore_list_users")["Users"]
    for key, value in changes.items():
        who, _, field = key.partition("__")
        target = scim_user if who == "scim" else hand_user
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value
    return [scim_user, hand_user]


def test_the_documented_answer_reads_and_decides():
    users = _users()
    assert users[0]["CreatedBy"] != "SCIM", "no published value: the fixture must not pretend to know one"
    made = origins(_data(users, []))
    assert made.verdict("user", SCIM_ID) == (SCIM, STRONG)
    assert made.verdict("user", HAND_ID) == (HAND, STRONG)
    why = made.explain("user", HAND_ID)
    assert why["createdBySCIM"] is False and why["originDecidedBy"].startswith("made by hand: CreatedBy value arn:")


def test_only_the_external_id_decides():
    # CloudTrail not collected, CreatedBy an undocumented value nobody else carries: the externalId decides.
    made = origins(_data(_users(scim__CreatedBy="some-system", hand=None)[:1], None))
    why = made.explain("user", SCIM_ID)
    assert why["createdBySCIM"] is True and why["originConfidence"] == STRONG
    assert why["originDecidedBy"] == f"externalId matches Entra object id: {ENTRA_ID} (Entra user extra{ENTRA_ID}" \
                                     "@contoso.com)"
    evidence = " | ".join(why["originEvidence"])
    assert "CloudTrail not collected (not selected for this collection)" in evidence
    assert "CreatedBy value 'some-system': AWS publishes no value" in evidence


def test_only_cloudtrail_decides():
    # No externalId (which alone would say "by hand", weakly), an undocumented CreatedBy: the SCIM event decides.
    event = fixture("scim_create_user")
    made = origins(_data(_users(scim__ExternalIds=None, scim__CreatedBy="some-system")[:1], [event]))
    why = made.explain("user", SCIM_ID)
    assert why["createdBySCIM"] is True and why["originConfidence"] == STRONG
    assert why["originDecidedBy"] == ("created by SCIM: CloudTrail CreateUser event of 2024-10-10T13:23:45Z from "
                                      "identitystore-scim.amazonaws.com returned this user's id")
    assert any(e.startswith("no externalId") for e in why["originEvidence"])


def test_the_identity_store_api_event_says_by_hand_and_the_scim_event_is_matched_by_id_only():
    api = fixture("identitystore_api_create_user_event")
    scim = fixture("scim_create_user")
    scim["responseElements"]["id"] = "someone-else"  # a SCIM creation of another object says nothing here
    made = origins(_data(_users(hand__CreatedBy="some-system"), [api, scim]))
    why = made.explain("user", HAND_ID)
    assert why["createdBySCIM"] is False and why["originConfidence"] == STRONG
    assert why["originDecidedBy"].startswith("made by hand: CloudTrail CreateUser event of 2026-05-20T08:15:00Z "
                                             "from identitystore.amazonaws.com (the Identity Store API")


def test_a_refused_scim_create_made_nothing():
    event = fixture("scim_create_user")
    event.update(errorCode="ValidationException", errorMessage="Request is unparsable")
    made = origins(_data(_users(scim__ExternalIds=None, scim__CreatedBy="some-system")[:1], [event]))
    assert made.verdict("user", SCIM_ID) == (HAND, WEAK), "only the missing externalId is left, weakly"


def test_conflicting_evidence_is_said_and_reported_low():
    # CloudTrail says SCIM created it; CreatedBy names an administrator's role session.
    admin = _users()[1]["CreatedBy"]
    users = _users(scim__ExternalIds=None, scim__CreatedBy=admin)[:1]
    data = _data(users, [fixture("scim_create_user")])
    made = origins(data)
    why = made.explain("user", SCIM_ID)
    assert why["createdBySCIM"] is None and why["originConfidence"] == CONFLICT
    assert why["originDecidedBy"].startswith("evidence conflicts: created by SCIM: CloudTrail CreateUser") and \
        "but made by hand: CreatedBy value arn:" in why["originDecidedBy"]
    [hit] = list(r.created_by_hand(data, b.settings()))
    assert hit.severity == "low" and hit.detail.startswith("origin unclear, evidence conflicts")
    assert made.scim("user", [SCIM_ID]).tolist() == [False], "a conflict never counts as SCIM-made"


def test_createdby_is_learned_from_principals_proven_scim_made():
    # A second user with the opaque value and no externalId: SCIM made it, because the proven one carries it too.
    second = {**_users()[0], "UserId": "11111111-2222-4333-8444-555555555555", "UserName": "bob@contoso.com"}
    second.pop("ExternalIds")
    made = origins(_data(_users() + [second], None))
    why = made.explain("user", second["UserId"])
    assert why["createdBySCIM"] is True
    assert why["originDecidedBy"] == (f"CreatedBy value {OPAQUE!r} is the one 1 other principal(s) proven SCIM-made "
                                      "(CloudTrail or externalId) carry")
    # ... unless a principal proven hand-made (CloudTrail) carries the same value: then the value tells nothing
    hand = _users(hand__CreatedBy=OPAQUE)[1]
    made = origins(_data(_users()[:1] + [hand, second], [fixture("identitystore_api_create_user_event")]))
    assert made.learned == {} and made.verdict("user", second["UserId"]) == (HAND, WEAK)


@pytest.mark.parametrize("value, expected", [("SCIM", True), ("scim", True), (None, None), ("x", None)])
def test_the_console_literal_counts_when_the_api_returns_it(value, expected):
    user = _users(scim__ExternalIds=None, scim__CreatedBy=value)[0]
    made = origins(_data([user], None))
    assert made.explain("user", SCIM_ID)["createdBySCIM"] is (expected if expected else False)
    assert live_user_origin(user)[0] is expected


def test_live_reading_of_the_documented_answer():
    scim_user, hand_user = _users()
    assert live_user_origin(scim_user, ENTRA_ID) == (True, f"externalId matches Entra object id {ENTRA_ID}")
    assert live_user_origin(hand_user)[0] is False


# --------------------------------------------------------------------------------------------- the sandbox


@pytest.fixture
def served():
    from idbridge.sandbox.aws.server import start_moto_server
    from idbridge.sandbox.aws.testkit import build_aws_world, client, small_scenario

    world = build_aws_world(small_scenario())
    handle = start_moto_server(world)
    try:
        api = client(handle, "identitystore", "eu-west-1")
        sid = world.aws.identity_store_id
        users = api.list_users(IdentityStoreId=sid)["Users"]
        yield api, sid, users
    finally:
        handle.stop()


def _keys_and_types(documented: dict, served: dict, path: str = "$") -> list[str]:
    out = []
    for key, value in documented.items():
        if key not in served:
            out.append(f"{path}.{key}: documented, omitted by the sandbox")
        elif key in ("CreatedAt", "UpdatedAt"):
            if not isinstance(served[key], datetime):
                out.append(f"{path}.{key}: not a timestamp")
        elif isinstance(value, dict):
            out += _keys_and_types(value, served[key], f"{path}.{key}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out += _keys_and_types(value[0], served[key][0], f"{path}.{key}[0]")
        elif type(value) is not type(served[key]):
            out.append(f"{path}.{key}: documented {type(value).__name__}, sandbox {type(served[key]).__name__}")
    return out


def test_the_sandbox_answers_list_users_and_describe_user_as_documented(served):
    api, sid, users = served
    scim_doc, hand_doc = fixture("identitystore_list_users")["Users"]
    scim_made = [u for u in users if u.get("ExternalIds")]
    hand_made = [u for u in users if not u.get("ExternalIds")]
    assert scim_made and hand_made
    for documented, answer in ((scim_doc, scim_made[0]), (hand_doc, hand_made[0])):
        assert _keys_and_types({k: v for k, v in documented.items() if k != "IdentityStoreId"}, answer) == []
        described = api.describe_user(IdentityStoreId=sid, UserId=answer["UserId"])
        assert _keys_and_types(documented, described) == []
    # What AWS does not publish, the sandbox does not invent: SCIM-made users do not read "SCIM".
    assert {u["CreatedBy"] for u in scim_made} != {"SCIM"} and not scim_made[0]["CreatedBy"].startswith("arn:")
    assert hand_made[0]["CreatedBy"].startswith("arn:aws:sts::")
    assert live_user_origin(scim_made[0])[0] is True and live_user_origin(hand_made[0])[0] is False
