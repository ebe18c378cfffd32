"""Sign-in correlation on hand-made events: matched, unmatched, the ±5 min window, IP rules, names AWS cannot
place, and sources not collected (never read as "never signed in")."""

from __future__ import annotations

import pandas as pd
import pytest

from idbridge.model import signins, signins_people
from idbridge.model.access.build import build_access
from idbridge.model.signins import AWS_COLUMNS, ENTRA_COLUMNS, correlate

T0 = pd.Timestamp("2026-06-01T10:00:00Z")
GONE = "not collected: AccessDenied on cloudtrail:LookupEvents"


def _bridge():
    """support/bridge_tables.py: a tiny organisation as rows (alice direct, bob and carol through AWS-Devs)."""
    from support import bridge_tables

    return bridge_tables


def entra(*rows: dict) -> pd.DataFrame:
    base = {"person": "u-bob", "user": "bob@contoso.com", "ip": "192.0.2.1", "ok": True, "error_code": 0,
            "failure_reason": None, "mfa": "multiFactorAuthentication", "conditional_access": "success"}
    return pd.DataFrame([{**base, **r} for r in rows], columns=ENTRA_COLUMNS)


def aws(*rows: dict) -> pd.DataFrame:
    base = {"person": "u-bob", "user": "bob@contoso.com", "ip": "192.0.2.1", "event": "UserAuthentication",
            "ok": True, "error_code": None, "error_message": None, "known": True}
    return pd.DataFrame([{**base, "aws_user_name": r.get("user", base["user"]), **r} for r in rows],
                        columns=AWS_COLUMNS)


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


# ----------------------------------------------------------------------------------------------- matching


def test_same_user_time_and_ip_is_one_sign_in():
    rows = correlate(entra({"time": at(0)}), aws({"time": at(6)}))
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["category"] == signins.BOTH and row["outcome"] == "signed in to AWS"
    assert row["matched_by"] == "user, time and IP" and row["seconds_apart"] == 6
    assert row["entra_result"] == "success" and row["aws_result"] == "signed in" and row["mfa"] == "multi-factor"


@pytest.mark.parametrize("seconds, matched", [(300, True), (-300, True), (301, False), (-301, False)])
def test_the_window_is_five_minutes_either_way(seconds, matched):
    rows = correlate(entra({"time": at(0)}), aws({"time": at(seconds)}))
    assert len(rows) == (1 if matched else 2)
    if not matched:
        by = rows.set_index("category")
        assert by.loc[signins.ENTRA_ONLY, "aws_result"] == "no AWS sign-in within ±5 min"
        assert by.loc[signins.AWS_ONLY, "entra_result"] == "no Entra sign-in to the app within ±5 min"


def test_different_ip_addresses_do_not_match():
    rows = correlate(entra({"time": at(0), "ip": "192.0.2.1"}), aws({"time": at(5), "ip": "198.51.100.7"}))
    assert sorted(rows["category"]) == sorted([signins.ENTRA_ONLY, signins.AWS_ONLY])
    assert (rows["matched_by"] == "").all()


@pytest.mark.parametrize("entra_ip, aws_ip, how", [
    (None, "192.0.2.1", "user and time (one side has no IP)"),
    ("2001:db8::1", "192.0.2.1", "user and time (IPv4 and IPv6: IPs not compared)")])
def test_ips_are_compared_only_when_both_sides_have_one_of_the_same_family(entra_ip, aws_ip, how):
    rows = correlate(entra({"time": at(0), "ip": entra_ip}), aws({"time": at(5), "ip": aws_ip}))
    assert len(rows) == 1 and rows.iloc[0]["matched_by"] == how


def test_another_person_at_the_same_time_and_ip_is_not_matched():
    rows = correlate(entra({"time": at(0)}),
                     aws({"time": at(5), "person": "u-carol", "user": "carol@contoso.com"}))
    assert len(rows) == 2


def test_matches_are_one_to_one_and_closest_first():
    rows = correlate(entra({"time": at(0)}, {"time": at(60)}), aws({"time": at(62)}))
    assert len(rows) == 2
    matched = rows[rows["category"] == signins.BOTH].iloc[0]
    assert matched["entra_time"] == at(60)
    assert rows[rows["category"] == signins.ENTRA_ONLY].iloc[0]["entra_time"] == at(0)


def test_a_name_aws_cannot_place_is_matched_on_time_and_ip_and_says_so():
    refused = {"time": at(6), "person": "aws:bob@old.contoso.com", "user": "bob@old.contoso.com", "known": False,
               "event": "ExternalIdPDirectoryLogin", "ok": False, "error_code": "AuthenticationFailed",
               "error_message": "No user in the identity store matches the SAML NameID"}
    rows = correlate(entra({"time": at(0)}), aws(refused))
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["category"] == signins.REFUSED and row["user"] == "bob@contoso.com"
    assert "time and IP only" in row["matched_by"] and "'bob@old.contoso.com'" in row["matched_by"]
    assert "NameID Entra sends must equal an Identity Center user name" in row["outcome"]


def test_entra_failures_are_explained_in_words():
    rows = correlate(entra({"time": at(0), "ok": False, "error_code": 50126},
                           {"time": at(100), "ok": False, "error_code": 53003},
                           {"time": at(200), "ok": False, "error_code": 90999, "failure_reason": "Something odd."}),
                     aws({"time": at(5000)}))
    failed = rows[rows["category"] == signins.ENTRA_FAILED].set_index("entra_time")
    assert failed.loc[at(0), "outcome"] == "Entra refused the sign-in: AADSTS50126: wrong user name or password"
    assert "blocked by a Conditional Access policy" in failed.loc[at(100), "entra_result"]
    assert failed.loc[at(200), "entra_result"] == "failure: AADSTS90999: Something odd."


@pytest.mark.parametrize("code", sorted(signins.AADSTS))
def test_every_common_aadsts_code_has_words(code):
    assert signins.explain_entra_error(code).startswith(f"AADSTS{code}: ")
    assert signins.explain_entra_error(0) == ""


def test_a_side_not_collected_says_so_and_never_reads_as_no_sign_in():
    rows = correlate(entra({"time": at(0)}), GONE)
    row = rows.iloc[0]
    assert row["aws_result"] == GONE and GONE in row["outcome"]
    rows = correlate("not collected: no Entra ID P1 licence", aws({"time": at(0)}))
    assert rows.iloc[0]["entra_result"] == "not collected: no Entra ID P1 licence"
    assert correlate(GONE, GONE).empty


# ----------------------------------------------------------------------------------------------- on tables


def _data(not_collected: dict | None = None, **extra):
    b = _bridge()
    data = b.rows()
    data["entra_sign_ins"] = [
        {"id": "s1", "createdDateTime": "2026-05-30T09:00:00Z", "userId": "u-bob", "userPrincipalName":
         "bob@contoso.com", "ipAddress": "192.0.2.1", "conditionalAccessStatus": "success",
         "authenticationRequirement": "multiFactorAuthentication", "errorCode": 0},
        {"id": "s2", "createdDateTime": "2026-05-31T09:00:00Z", "userId": "u-carol", "userPrincipalName":
         "carol@contoso.com", "ipAddress": "192.0.2.2", "errorCode": 50126,
         "failureReason": "Error validating credentials due to invalid username or password."}]
    data.update(extra)
    return b.tables(data, not_collected), b.settings()


def test_per_person_says_not_collected_where_a_source_is_missing():
    data, settings = _data({"cloudtrail_events": "AccessDenied", "entra_sign_in_activity": "needs Entra ID P1"})
    access = build_access(data, settings)
    act = signins.activity(data, settings)
    people = signins_people.per_person(data, settings, access, act).set_index("person")
    assert set(people.index) == {"alice@contoso.com", "bob@contoso.com", "carol@contoso.com"}
    assert (people["last AWS sign-in (CloudTrail)"] == "not collected: AccessDenied").all()
    assert (people["last Entra sign-in (any app)"] == "not collected: needs Entra ID P1").all()
    assert people.loc["bob@contoso.com", "last sign-in to the AWS app (Entra)"] == "2026-05-30 09:00"
    assert people.loc["alice@contoso.com", "last sign-in to the AWS app (Entra)"] == "none in the collection window"
    assert people.loc["carol@contoso.com", "failures in the window"] == 1
    assert "wrong user name or password" in people.loc["carol@contoso.com", "last failure"]
    assert "AWS side not collected: AccessDenied" in people.loc["alice@contoso.com", "last failure"]
    text = people.drop(columns=["days since last sign-in", "name"])
    assert not text.isna().any().any() and not (text == "").any().any(), "no blank cell"


def test_aws_events_are_placed_by_user_id_then_user_name():
    events = [
        {"eventId": "e1", "eventTime": "2026-05-30T09:00:06Z", "eventName": "UserAuthentication",
         "userName": "bob@contoso.com", "userId": "i-bob", "sourceIPAddress": "192.0.2.1"},
        {"eventId": "e2", "eventTime": "2026-05-31T09:00:06Z", "eventName": "ExternalIdPDirectoryLogin",
         "userName": "CAROL@contoso.com", "sourceIPAddress": "192.0.2.2", "errorCode": "AuthenticationFailed",
         "errorMessage": "No user in the identity store matches the SAML NameID"},
        {"eventId": "e3", "eventTime": "2026-05-31T09:00:07Z", "eventName": "ExternalIdPDirectoryLogin",
         "userName": "carol@contoso.com", "sourceIPAddress": "192.0.2.2"},  # no error: the success is e1's kind
        {"eventId": "e4", "eventTime": "2026-05-31T10:00:00Z", "eventName": "UserAuthentication",
         "userName": "mallory@elsewhere.com", "sourceIPAddress": "203.0.113.9"},
        {"eventId": "e5", "eventTime": "2026-05-31T10:00:00Z", "eventName": "CreateUser",
         "userName": "bob@contoso.com"}]
    data, settings = _data(cloudtrail_events=events, entra_sign_in_activity=[
        {"id": "u-alice", "lastSignInDateTime": None, "lastSuccessfulSignInDateTime": None},
        {"id": "u-bob", "lastSuccessfulSignInDateTime": "2026-05-30T09:00:00Z"}])
    act = signins.activity(data, settings)
    placed = act.aws.set_index("time")[["person", "known", "ok"]]
    assert len(act.aws) == 3
    assert placed.loc[pd.Timestamp("2026-05-30T09:00:06Z")].tolist() == ["u-bob", True, True]
    assert placed.loc[pd.Timestamp("2026-05-31T09:00:06Z")].tolist() == ["u-carol", True, False]
    assert placed.loc[pd.Timestamp("2026-05-31T10:00:00Z")].tolist() == ["aws:mallory@elsewhere.com", False, True]
    people = signins_people.per_person(data, settings, build_access(data, settings), act).set_index("person")
    assert people.loc["alice@contoso.com", "last Entra sign-in (any app)"] == "never"
    assert people.loc["alice@contoso.com", "last AWS sign-in (CloudTrail)"] == "none in the collection window"
    assert people.loc["bob@contoso.com", "last AWS sign-in (CloudTrail)"] == "2026-05-30 09:00"
    assert people.loc["carol@contoso.com", "last Entra sign-in (any app)"] == "no signInActivity record"
    assert people.loc["bob@contoso.com", "days since last sign-in"] == 2

    uses = signins_people.last_use(build_access(data, settings), people.reset_index())
    bob = uses[uses["person"] == "bob@contoso.com"]
    assert len(bob) and (bob["last AWS sign-in of the person (any account)"] == "2026-05-30 09:00").all()
    stale = signins_people.stale(people.reset_index(), after_days=1)
    assert set(stale["person"]) == {"alice@contoso.com", "bob@contoso.com", "carol@contoso.com"}
    # carol only failed: a failure is no sign-in
    assert sorted(signins_people.stale(people.reset_index(), after_days=30)["person"]) == ["alice@contoso.com",
                                                                                   "carol@contoso.com"]
