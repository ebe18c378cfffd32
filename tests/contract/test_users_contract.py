"""Contract: Microsoft's documented v1.0 answers for users' signInActivity and for userRegistrationDetails, run
through the collector's frame builders, the per-person sign-in model and the access.no_mfa check, and the
sandbox's answers compared with them.

Graph writes "no such sign-in" as 0001-01-01T00:00:00Z with an empty request id (lastSuccessfulSignInDateTime,
not backfilled before 2023-12-01, can be ""), and "nothing registered" as an empty preferred method."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from support import bridge_tables as bt
from support.graph_harness import GraphServer, raw, raw_all, run, world

from idbridge.checks.rules import access as access_checks
from idbridge.collect.entra.collectors import mfa_registration_frame, sign_in_activity_frame
from idbridge.model import signins_people

FIXTURES = Path(__file__).parent / "fixtures"
NEVER = "0001-01-01T00:00:00Z"


def fixture(area: str, name: str) -> dict:
    doc = json.loads((FIXTURES / area / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["source"].startswith("https://")
    assert doc["note"].split(":")[0].split(" ")[0] in ("verbatim", "trimmed", "composed")
    return doc["response"]


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def test_documented_sign_in_activity_reads_as_the_last_interactive_sign_in_and_never():
    items = fixture("graph", "users_sign_in_activity")["value"]
    adele, alex = items
    never = {**adele, "id": "u-never", "signInActivity": {**adele["signInActivity"],  # same shapes, no sign-in
                                                           "lastSignInDateTime": NEVER, "lastSignInRequestId": ""}}
    rows = _records(sign_in_activity_frame([adele, alex, never]))
    assert rows[0]["lastNonInteractiveSignInDateTime"] == NEVER and rows[0]["lastSuccessfulSignInDateTime"] is None
    keys = pd.Index([adele["id"], alex["id"], "u-never", "u-absent"], dtype=object)
    data = bt.tables({"entra_sign_in_activity": rows})
    last, recorded = signins_people._entra_any_app(data, keys)
    # "" lastSuccessful falls back to lastSignInDateTime; 0001-01-01 is no sign-in at all
    assert last.iloc[0] == pd.Timestamp("2021-06-17T16:41:33Z") and last.iloc[1] == pd.Timestamp("2021-07-29T15:53:27Z")
    assert pd.isna(last.iloc[2]) and bool(recorded.iloc[2]), "has a record, and it says never"
    assert not bool(recorded.iloc[3])


def test_documented_registration_without_methods_is_a_user_without_mfa():
    items = fixture("graph", "user_registration_details_list")["value"]
    alex, allan, bianca = _records(mfa_registration_frame(items))
    assert allan["isMfaRegistered"] is False and allan["defaultMfaMethod"] in ("", None)
    assert (alex["defaultMfaMethod"], bianca["defaultMfaMethod"]) == ("push", "voiceMobile")
    data = bt.rows()  # alice holds AWS access directly; she is registered as the documented Allan is
    data["entra_mfa_registration"] = [{**allan, "id": "u-alice", "userPrincipalName": "alice@contoso.com"}]
    hits = bt.run(access_checks.no_mfa, data)
    assert list(hits) == ["user:alice@contoso.com"]
    assert hits["user:alice@contoso.com"].evidence["methodsRegistered"] == []


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def test_the_sandbox_answers_in_the_documented_shapes():
    [documented_user, _] = fixture("graph", "users_sign_in_activity")["value"]
    documented_reg = fixture("graph", "user_registration_details_list")["value"]
    server = GraphServer(world())
    try:
        users = run(raw_all(server.adapter(), "/users?$select=id,signInActivity"))
        regs = run(raw_all(server.adapter(), "/reports/authenticationMethods/userRegistrationDetails"))
    finally:
        server.close()
    activity_keys = set(documented_user["signInActivity"])
    for user in users:
        served = user["signInActivity"]
        assert set(served) - {"@odata.type"} == activity_keys
        assert all(isinstance(v, str) for v in served.values()), "never null: a date, 0001-01-01, or an empty id"
        for name in ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime"):
            request_id = served[name.replace("DateTime", "RequestId")]
            assert (served[name] == NEVER) == (request_id == ""), (name, served)
    assert any(u["signInActivity"]["lastNonInteractiveSignInDateTime"] == NEVER for u in users)
    reg_shape = _shape(documented_reg[0])
    for reg in regs:
        assert set(reg) == set(reg_shape), set(reg) ^ set(reg_shape)
        assert {k: _shape(v) for k, v in reg.items()} == reg_shape
        if not reg["methodsRegistered"]:
            assert reg["userPreferredMethodForSecondaryAuthentication"] == ""
            assert reg["systemPreferredAuthenticationMethods"] == [] and reg["isMfaRegistered"] is False
    assert any(not r["methodsRegistered"] for r in regs), "the sandbox has someone with nothing registered"
