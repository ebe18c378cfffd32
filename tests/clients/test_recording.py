"""Recordings without a sandbox: pseudonyms (the same person on both sides, nothing else touched), removal of
secrets, matching a request to a recorded one, and reading a folder that is not a recording."""

from __future__ import annotations

import json

import pytest

from idbridge.clients.recording.pseudonyms import Pseudonymiser
from idbridge.clients.recording.store import (REDACTED, aws_key, graph_key, read_recording, remove_secrets,
                                              write_recording)
from idbridge.errors import InputError

ENTRA_USER = {"id": "0b6e2f0a-4c1d-4e8a-9f35-2d7c81a0e911", "userPrincipalName": "Alice.Smith@contoso.com",
              "displayName": "Alice Smith", "givenName": "Alice", "surname": "Can", "mail": "alice.smith@contoso.com",
              "mobilePhone": "+44 7700 900123", "department": "Finance", "jobTitle": "Controller"}
IDC_USER = {"UserId": "906712b4-0001-7070-a1b2-1234567890ab", "UserName": "alice.smith@contoso.com",
            "DisplayName": "Alice Smith", "Name": {"GivenName": "Alice", "FamilyName": "Can"},
            "Emails": [{"Value": "alice.smith@contoso.com", "Primary": True}],
            "ExternalIds": [{"Issuer": "https://scim.aws.com/x", "Id": "0b6e2f0a-4c1d-4e8a-9f35-2d7c81a0e911"}]}
TRAIL_EVENT = {"EventId": "6f1b5a0e-1111-2222-3333-444455556666", "EventName": "UserAuthentication",
               "EventSource": "signin.amazonaws.com", "Username": "alice.smith@contoso.com",
               "CloudTrailEvent": json.dumps({
                   "eventSource": "signin.amazonaws.com", "sourceIPAddress": "198.51.100.23",
                   "userIdentity": {"type": "Unknown", "principalId": "AROAEXAMPLEID123456789:alice.smith@contoso.com",
                                    "userName": "alice.smith@contoso.com",
                                    "onBehalfOf": {"userId": "906712b4-0001-7070-a1b2-1234567890ab"}},
                   "additionalEventData": {"UserName": "alice.smith@contoso.com", "CredentialType": "EXTERNAL_IDP"},
                   "requestParameters": {"givenName": "Alice", "action": "Cancel"}})}
SIGN_IN = {"id": "66ea54eb-6301-4ee5-be62-ff5a759b0100", "userPrincipalName": "alice.smith@contoso.com",
           "userDisplayName": "Alice Smith", "ipAddress": "2001:4860:4860::8888", "appDisplayName": "Cancel Sync"}


def learned(*answers) -> Pseudonymiser:
    pseudo = Pseudonymiser(b"k" * 32)
    pseudo.learn_answers(list(answers))
    return pseudo


def test_the_same_person_gets_the_same_pseudonym_on_both_sides():
    pseudo = learned(ENTRA_USER, IDC_USER, TRAIL_EVENT, SIGN_IN)
    entra, idc, trail, sign_in = (pseudo.apply(x) for x in (ENTRA_USER, IDC_USER, TRAIL_EVENT, SIGN_IN))
    upn = entra["userPrincipalName"]
    assert upn != ENTRA_USER["userPrincipalName"] and "@" in upn
    # Matching ignores case; the pseudonym keeps the case of what it replaced (so a case difference survives).
    assert upn.lower() == idc["UserName"] == entra["mail"] == idc["Emails"][0]["Value"] == sign_in["userPrincipalName"]
    assert upn[0].isupper() and idc["UserName"][0].islower()
    assert entra["displayName"] == idc["DisplayName"] == sign_in["userDisplayName"] != "Alice Smith"
    assert entra["givenName"] == idc["Name"]["GivenName"] != "Alice"
    assert entra["surname"] == idc["Name"]["FamilyName"] != "Can"
    assert trail["Username"] == idc["UserName"]
    assert entra["mobilePhone"] != ENTRA_USER["mobilePhone"] and entra["department"] != "Finance"
    # Ids stay: the checks join on them.
    assert entra["id"] == ENTRA_USER["id"] and idc["UserId"] == IDC_USER["UserId"]
    assert idc["ExternalIds"] == IDC_USER["ExternalIds"]
    # One domain, one pseudonym: the organisation's domain is replaced wherever it is.
    assert upn.split("@")[1].lower() == idc["UserName"].split("@")[1] != "contoso.com"


def test_cloudtrail_records_are_pseudonymised_inside_their_json_text():
    pseudo = learned(ENTRA_USER, IDC_USER, TRAIL_EVENT)
    event = pseudo.apply(TRAIL_EVENT)
    record = json.loads(event["CloudTrailEvent"])  # still JSON
    name = pseudo.apply(IDC_USER)["UserName"]
    assert record["userIdentity"]["userName"] == record["additionalEventData"]["UserName"] == name
    assert record["userIdentity"]["principalId"] == f"AROAEXAMPLEID123456789:{name}"
    assert record["sourceIPAddress"] != "198.51.100.23" and record["sourceIPAddress"].startswith("10.")
    assert record["requestParameters"] == {"givenName": pseudo.apply(ENTRA_USER)["givenName"], "action": "Cancel"}
    assert record["eventSource"] == event["EventSource"] == "signin.amazonaws.com"  # the services' names stay
    assert record["userIdentity"]["onBehalfOf"]["userId"] == "906712b4-0001-7070-a1b2-1234567890ab"


def test_a_short_name_is_replaced_only_as_a_whole_value():
    pseudo = learned(ENTRA_USER, SIGN_IN)
    assert pseudo.text("Can") != "Can"
    assert pseudo.text("Cancel Sync") == "Cancel Sync"
    assert pseudo.text("Candidates") == "Candidates"
    assert pseudo.text('{"surname":"Can","x":"Can do"}') == f'{{"surname":"{pseudo.text("Can")}","x":"Can do"}}'
    assert pseudo.apply(SIGN_IN)["appDisplayName"] == "Cancel Sync"
    # A multi-word name is replaced inside text, as a whole word sequence only.
    assert "Alice Smith" not in pseudo.text("Owner: Alice Smith (Finance)")
    assert pseudo.text("Alice Smithson") == "Alice Smithson"


def test_addresses_and_domains():
    pseudo = learned({"value": [{"id": "1", "displayName": "Contoso",
                                 "verifiedDomains": [{"name": "contoso.onmicrosoft.com"}, {"name": "contoso.com"}]}]},
                     {"userPrincipalName": "bob_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "bob@fabrikam.com"})
    guest = pseudo.text("bob_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert guest.endswith(".onmicrosoft.com") and "#EXT#@" in guest and "bob" not in guest and "contoso" not in guest
    assert guest.split("#EXT#")[0] == pseudo.text("bob@fabrikam.com").replace("@", "_")
    assert pseudo.text("https://sts.contoso.com/adfs") != "https://sts.contoso.com/adfs"
    assert pseudo.text("Contoso") != "Contoso"  # the organisation's name
    for kept in ("sso.amazonaws.com", "https://eu-west-1.signin.aws/platform/saml/acs/x", "127.0.0.1",
                 "arn:aws:sso:::permissionSet/ssoins-1/ps-2", "2026-05-01T12:00:00Z", "Chrome/120.0.6099.109"):
        assert pseudo.text(kept) == kept
    assert pseudo.text("from 203.0.113.10 and 2001:4860:4860::8888").startswith("from 10.")
    assert "2001:4860" not in pseudo.text("2001:4860:4860::8888")


def test_pseudonyms_are_stable_within_a_recording_and_differ_between_recordings():
    one, again, other = Pseudonymiser(b"a" * 32), Pseudonymiser(b"a" * 32), Pseudonymiser()
    for pseudo in (one, again, other):
        pseudo.learn_answers([ENTRA_USER])
    assert one.apply(ENTRA_USER) == again.apply(ENTRA_USER)
    assert one.text("alice.smith@contoso.com") != other.text("alice.smith@contoso.com")


def test_secrets_are_removed():
    answer = {"access_token": "abc.def.ghi", "Credentials": {"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG",
                                                              "SessionToken": "FQoGZXIvYXdzEJr", "AccessKeyId":
                                                              "ASIAIOSFODNN7EXAMPLE"},
              "secrets": [{"key": "BaseAddress", "value": "https://scim.eu-west-1.amazonaws.com/x/scim/v2/"},
                          {"key": "SecretToken", "value": "tok3n-value"}],
              "passwordCredentials": [{"hint": "Xy1", "secretText": None, "keyId": "k"}],
              "log": "sent Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.eyJhdWQiOiJodHRwczovL2dyY.sig-nature "
                     "and AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/sso/aws4_request, "
                     "SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5",
              "pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----", "NextToken": "eyJvIjogNTB9",
              "note": "the engagement's key is hunter2-long-enough"}
    cleaned = remove_secrets(answer, ["hunter2-long-enough"])
    text = json.dumps(cleaned)
    for secret in ("abc.def.ghi", "wJalrXUtnFEMI", "FQoGZXIvYXdzEJr", "ASIAIOSFODNN7EXAMPLE", "tok3n-value", "Xy1",
                   "eyJ0eXAi", "Signature=5d67", "AKIDEXAMPLE", "MIIEvQ", "hunter2"):
        assert secret not in text, secret
    assert cleaned["secrets"][0]["value"].startswith("https://scim.")  # not a secret
    assert cleaned["NextToken"] == "eyJvIjogNTB9"  # paging tokens are needed to replay
    assert cleaned["secrets"][1]["value"] == REDACTED


def test_requests_match_without_their_time_values():
    first = graph_key("GET", "/beta/auditLogs/signIns", [("$filter", "appId eq 'x' and createdDateTime ge "
                                                                    "2026-04-01T10:00:00Z"), ("$top", "1000")], None)
    later = graph_key("get", "/beta/auditLogs/signIns", [("$top", "1000"), ("$filter", "appId eq 'x' and "
                                                                            "createdDateTime ge 2026-04-01T10:00:07Z")],
                      None)
    assert first == later
    assert first != graph_key("GET", "/beta/auditLogs/signIns", [("$filter", "appId eq 'y' and createdDateTime ge "
                                                                            "2026-04-01T10:00:00Z"), ("$top", "1000")],
                              None)
    lookup = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}], "MaxResults": 50}
    assert aws_key("CloudTrail_20131101.LookupEvents", {**lookup, "StartTime": 1, "EndTime": 2}) == \
        aws_key("CloudTrail_20131101.LookupEvents", {**lookup, "StartTime": 5, "EndTime": 9})
    assert aws_key("CloudTrail_20131101.LookupEvents", lookup) != \
        aws_key("CloudTrail_20131101.LookupEvents", {**lookup, "NextToken": "t"})


def test_a_recording_is_written_whole_and_read_back(tmp_path):
    folder = write_recording(tmp_path / "rec", {"pseudonymised": True, "parameters": {"tenant_id": "t"}},
                             [{"seq": 1, "method": "GET", "path": "/v1.0/users", "query": [], "body": None,
                               "status": 200, "content_type": "application/json", "response": {"value": []}}], [])
    recording = read_recording(folder)
    assert recording.graph[0]["path"] == "/v1.0/users" and recording.aws == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]  # nothing left beside it
    with pytest.raises(InputError, match="already exists"):
        write_recording(folder, {"parameters": {"tenant_id": "t"}}, [], [])


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "recording.json").unlink(), "not a recording: no recording.json"),
    (lambda f: (f / "recording.json").write_text("{"), "recording.json: not JSON"),
    (lambda f: (f / "recording.json").write_text('{"format": "other"}'), "format: expected 'idbridge-recording'"),
    (lambda f: (f / "graph.jsonl").unlink(), "graph.jsonl: missing"),
    (lambda f: (f / "graph.jsonl").write_text('{"seq": 1}\n'), "graph.jsonl: line 1: missing body, content_type"),
    (lambda f: (f / "aws.jsonl").write_text('\n[1]\n'), "aws.jsonl: line 2: not a JSON object"),
])
def test_a_folder_that_is_not_a_recording_is_bad_input(tmp_path, damage, message):
    folder = write_recording(tmp_path / "rec", {"parameters": {"tenant_id": "t"}}, [], [])
    damage(folder)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_recording(folder)


def test_a_recording_with_an_answer_lost_is_not_written(tmp_path):
    from types import SimpleNamespace

    from idbridge.clients.recording.recorder import Recorder
    from idbridge.core.parameters import Parameters
    from idbridge.errors import IdbridgeError

    recorder = Recorder(Parameters.model_validate({"engagement": "x", "graph": {
        "tenant_id": "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"}}))
    events = {}
    client = SimpleNamespace(meta=SimpleNamespace(region_name="eu-west-1", events=SimpleNamespace(
        register=lambda name, handler, unique_id: events.__setitem__(name.split(".")[0], handler))))
    recorder.install_aws(client)
    model = SimpleNamespace(name="ListUsers", service_model=SimpleNamespace(service_name="identitystore",
                                                                            protocol="json"))
    events["after-call"](http_response=None, model=model, context={})  # no answer to read: kept as a failure
    with pytest.raises(IdbridgeError, match="1 answer\\(s\\) could not be kept, e.g. identitystore:ListUsers") as error:
        recorder.save(tmp_path / "rec")
    assert error.value.exit_code == 3
    assert not (tmp_path / "rec").exists()
