"""The setup notebooks' plan as a reader reads it: fields before and after, no raw JSON, no None, no secret."""

from __future__ import annotations

from idbridge.core.secrets import Secret
from idbridge.plan import Change, Plan
from idbridge.runbooks.results import change_fields, plan_table


def _plan() -> Plan:
    return Plan("saml", [
        Change("update", "entra.service_principal", "AWS IAM Identity Center", "SAML single sign-on",
               before={"preferredSingleSignOnMode": None, "loginUrl": None, "tags": ["a"]},
               after={"preferredSingleSignOnMode": "saml", "loginUrl": "https://portal.example/saml",
                      "tags": ["a"]}),
        Change("create", "entra.app", "AWS IAM Identity Center", "create the app",
               after={"displayName": "AWS IAM Identity Center", "redirectUris": [], "token": Secret("s3cr3t-x"),
                      "boundary": {"name": "Boundary", "path": "/"}}),
    ])


def test_an_update_shows_only_the_fields_that_change_in_words():
    fields = change_fields(_plan().changes[0])
    assert fields == [("preferredSingleSignOnMode", "not set", "saml"),
                      ("loginUrl", "not set", "https://portal.example/saml")]


def test_a_create_shows_every_field_flattened_and_secrets_redacted():
    fields = {f: a for f, _, a in change_fields(_plan().changes[1])}
    assert fields["boundary.name"] == "Boundary" and fields["redirectUris"] == "none"
    assert "s3cr3t-x" not in str(fields) and fields["token"] == "***"


def test_the_html_is_key_value_rows_without_json_or_none():
    html = plan_table(_plan())._repr_html_()
    assert "<td>loginUrl</td><td class='before'>not set</td><td class='after'>https://portal.example/saml</td>" \
        in html
    for raw in ("{&quot;", "{\"", "None", "null", "s3cr3t-x"):
        assert raw not in html, raw
    frame = plan_table(_plan()).frame()
    assert list(frame["field"])[:2] == ["preferredSingleSignOnMode", "loginUrl"]


def test_json_text_is_read_as_what_it_holds():
    change = Change("update", "entra.job", "job", "settings",
                    before={"notifications": '{"Enabled":false,"Recipients":""}', "policy": None},
                    after={"notifications": '{"Enabled":true,"Recipients":"cloud@example.com"}',
                           "policy": '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*"}]}'})
    fields = {f: (b, a) for f, b, a in change_fields(change)}
    assert fields["notifications.Enabled"] == ("no", "yes")
    assert fields["notifications.Recipients"] == ("not set", "cloud@example.com")
    assert fields["policy"][1].startswith('{\n  "Version": "2012-10-17"')
    html = plan_table(Plan("x", [change]))._repr_html_()
    assert "<pre>{\n" in html and '{"Enabled"' not in html
