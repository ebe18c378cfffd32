"""SAML trust checks on small hand-made tables: each check's pass and fail, severity by horizon, absent data."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import idbridge.checks.rules.saml  # noqa: F401  (registers the units; other areas' modules are not needed)
from idbridge.checks.runner import MemoryTables, run_checks
from idbridge.checks.settings import CheckSettings
from idbridge.core.parameters import ChecksParams
from idbridge.snapshot.schema import SOURCES_BY_NAME, TABLE_SOURCE


NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
STORE = "d-0123456789"
OTHER_STORE = "d-93670c2a1f"
ARN = "arn:aws:sso:::instance/ssoins-1111222233334444"
ACS_ID = "32bc8853-e495-5ffd-bdda-0cdef71d085a"
ISSUER = f"https://eu-west-1.signin.aws.amazon.com/platform/saml/{STORE}"
WILDCARD = "https://*.signin.aws.amazon.com/platform/saml/acs/*"
PORTAL = "https://portal.sso.eu-west-1.amazonaws.com/saml/assertion/8mVcXNnm57FvcpZtftmchmR0xjAAdI0x"
SUBJECT = "app:AWS IAM Identity Center"
ACTIVE = "AAEBDA0D386575F8A3B12C66D422687D2D3AF070"
NEWER = "AE964EC3AA8AB2653CFA9427D26E8076B66930EF"
SAML_IDS = ["saml.certificate_expiry", "saml.certificate_rotation_pending", "saml.identifier_mismatch",
            "saml.login_url_mismatch", "saml.name_id_format", "saml.reply_url_missing", "saml.sign_in_refused",
            "saml.sso_mode", "saml.wildcard_reply_url"]


def acs(region: str, host: str = "signin.aws.amazon.com") -> str:
    return f"https://{region}.{host}/platform/saml/acs/{ACS_ID}"


def t(days: float) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


LIST_COLUMNS = {"identifierUris", "redirectUris", "replyUrls", "notificationEmailAddresses"}


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A table with the catalogue's columns; text columns as pandas 3 strings (missing -> NaN), as from Parquet."""
    columns = SOURCES_BY_NAME[TABLE_SOURCE[table]].tables[table]
    out = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    for column in columns:
        if column not in LIST_COLUMNS:
            out[column] = out[column].astype("str")
    return out


def key_pair(thumbprint: str, start: float, end: float) -> list[dict]:
    common = {"type": "AsymmetricX509Cert", "displayName": "CN=Microsoft Azure Federated SSO Certificate",
              "startDateTime": t(start), "endDateTime": t(end), "thumbprint": thumbprint}
    return [{**common, "keyId": thumbprint[:8] + "-s", "usage": "Sign"},
            {**common, "keyId": thumbprint[:8] + "-v", "usage": "Verify"}]


def healthy(**changes) -> dict[str, list[dict]]:
    rows = {
        "entra_service_principal": [{"id": "sp1", "appId": "app1", "displayName": "AWS IAM Identity Center",
                                     "preferredSingleSignOnMode": "saml", "loginUrl": PORTAL,
                                     "replyUrls": [acs("eu-west-1")], "preferredTokenSigningKeyThumbprint": ACTIVE}],
        "entra_application": [{"id": "a1", "appId": "app1", "displayName": "AWS IAM Identity Center",
                               "identifierUris": [ISSUER], "redirectUris": [acs("eu-west-1")]}],
        "entra_app_key_credentials": key_pair(ACTIVE, -400, 700),
        "entra_app_claims": [{"nameIdFormat": "emailAddress", "nameIdSource": "user.userprincipalname",
                              "guestNameIdSource": "user.mail", "claims_json": "[]"}],
        "idc_instances": [{"instanceArn": ARN, "identityStoreId": STORE, "ownerAccountId": "111122223333",
                           "name": "main", "status": "ACTIVE", "region": "eu-west-1"}],
        "cloudtrail_events": [{"eventId": "e1", "eventTime": t(-20), "eventName": "UserAuthentication",
                               "eventSource": "signin.amazonaws.com", "awsRegion": "eu-west-1", "event_json": "{}"}],
    }
    for table, value in changes.items():
        if isinstance(value, dict):  # change fields of the single row
            rows[table] = [{**rows[table][0], **value}]
        else:
            rows[table] = value
    return rows


def data(rows: dict[str, list[dict]], not_collected: dict[str, str] | None = None) -> MemoryTables:
    return MemoryTables({name: frame(name, value) for name, value in rows.items()}, not_collected)


def settings(horizons: list[int] | None = None) -> CheckSettings:
    checks = ChecksParams(certificate_horizons_days=horizons) if horizons else ChecksParams()
    return CheckSettings(now=NOW, checks=checks)


def run(rows_or_data, check_id: str, horizons: list[int] | None = None):
    source = rows_or_data if isinstance(rows_or_data, MemoryTables) else data(rows_or_data)
    results = run_checks(source, settings(horizons), ids=[check_id])
    (outcome,) = results.outcomes
    assert outcome.status != "error", outcome.reason
    return outcome, results.findings


def hit(rows, check_id: str, horizons: list[int] | None = None):
    outcome, findings = run(rows, check_id, horizons)
    assert outcome.status == "fail" and len(findings) == 1, (outcome, findings)
    assert findings[0].subject == SUBJECT
    json.dumps(findings[0].evidence)  # evidence goes into reports as JSON
    return findings[0]


def passes(rows, check_id: str, horizons: list[int] | None = None) -> None:
    outcome, findings = run(rows, check_id, horizons)
    assert outcome.status == "pass", (outcome, [f.detail for f in findings])


# ------------------------------------------------------------------------------------------------ catalogue


def test_units_are_registered_with_full_metadata():
    from idbridge.checks.base import REGISTRY

    ids = sorted(i for i, c in REGISTRY.items() if c.meta.area == "saml")
    assert ids == SAML_IDS
    documented = (Path(__file__).resolve().parents[2] / "docs" / "check-ids.md").read_text(encoding="utf-8")
    for check_id in ids:
        meta = REGISTRY[check_id].meta
        kind = "user" if check_id == "saml.sign_in_refused" else "app"  # per person; the others are the app's
        assert f"| {check_id} | {kind} |" in documented
        assert meta.subject_kind == kind and meta.title and meta.meaning and meta.fix
        assert meta.references and all(r.startswith("https://") for r in meta.references)
        assert meta.tables and all(table in TABLE_SOURCE for table in meta.tables)


def test_healthy_app_passes_every_check():
    results = run_checks(data(healthy()), settings(), areas=["saml"])
    assert {o.check_id: o.status for o in results.outcomes} == {i: "pass" for i in SAML_IDS}


# ------------------------------------------------------------------------------------------------ sso mode


@pytest.mark.parametrize("mode", ["password", "oidc", "notSupported", None])
def test_sso_mode_not_saml(mode):
    finding = hit(healthy(entra_service_principal={"preferredSingleSignOnMode": mode}), "saml.sso_mode")
    assert (mode or "not set") in finding.detail


def test_sso_mode_case_insensitive():
    passes(healthy(entra_service_principal={"preferredSingleSignOnMode": "SAML"}), "saml.sso_mode")


def test_no_service_principal_row_is_not_checked():
    outcome, _ = run(healthy(entra_service_principal=[]), "saml.sso_mode")
    assert outcome.status == "not_checked" and "no service principal" in outcome.reason


# ------------------------------------------------------------------------------------------------ identifier


def test_identifier_from_iam_federation():
    finding = hit(healthy(entra_application={"identifierUris": ["https://signin.aws.amazon.com/saml"]}),
                  "saml.identifier_mismatch")
    assert finding.severity == "critical" and ISSUER in finding.detail
    assert finding.evidence["expected"] == ISSUER


def test_identifier_of_another_store_or_region_is_named():
    other = f"https://eu-west-1.signin.aws.amazon.com/platform/saml/{OTHER_STORE}"
    finding = hit(healthy(entra_application={"identifierUris": [other]}), "saml.identifier_mismatch")
    assert OTHER_STORE in finding.evidence["otherIssuers"][0]
    wrong_region = f"https://us-east-1.signin.aws.amazon.com/platform/saml/{STORE}"
    hit(healthy(entra_application={"identifierUris": [wrong_region]}), "saml.identifier_mismatch")


@pytest.mark.parametrize("value", [None, []])
def test_identifier_absent(value):
    assert "(none)" in hit(healthy(entra_application={"identifierUris": value}), "saml.identifier_mismatch").detail


def test_identifier_extra_values_are_fine():
    passes(healthy(entra_application={"identifierUris": ["urn:example", ISSUER]}), "saml.identifier_mismatch")


def test_identifier_without_application_or_instance_is_not_checked():
    outcome, _ = run(healthy(entra_application=[]), "saml.identifier_mismatch")
    assert outcome.status == "not_checked" and "another tenant" in outcome.reason
    outcome, _ = run(healthy(idc_instances=[]), "saml.identifier_mismatch")
    assert outcome.status == "not_checked"
    outcome, _ = run(data(healthy(), not_collected={"idc_instances": "AccessDenied"}), "saml.identifier_mismatch")
    assert outcome.status == "not_checked" and "AccessDenied" in outcome.reason


# ------------------------------------------------------------------------------------------------ reply URLs


def _replies(urls: list[str], **more) -> dict:
    return healthy(entra_application={"redirectUris": urls}, entra_service_principal={"replyUrls": urls}, **more)


TWO_REGIONS = [{"instanceArn": ARN, "identityStoreId": STORE, "region": "eu-west-1"},
               {"instanceArn": ARN, "identityStoreId": STORE, "region": "eu-central-1"}]


def test_reply_urls_cover_every_region():
    passes(_replies([acs("eu-west-1"), acs("eu-central-1", "signin.aws")], idc_instances=TWO_REGIONS),
           "saml.reply_url_missing")
    passes(_replies([acs("eu-west-1", "signin.aws"), acs("eu-central-1", "sso.signin.aws")],
                    idc_instances=TWO_REGIONS), "saml.reply_url_missing")


def test_the_amazon_com_acs_form_serves_the_primary_region_only():
    finding = hit(_replies([acs("eu-west-1"), acs("eu-central-1")], idc_instances=TWO_REGIONS),
                  "saml.reply_url_missing")
    assert finding.severity == "high" and finding.evidence["missing"] == ["eu-central-1"]
    assert finding.evidence["primaryFormOnly"] == ["eu-central-1"]
    assert "primary Region only" in finding.detail


def test_additional_region_missing_is_high():
    finding = hit(_replies([acs("eu-west-1"), WILDCARD], idc_instances=TWO_REGIONS), "saml.reply_url_missing")
    assert finding.severity == "high" and finding.evidence["missing"] == ["eu-central-1"]
    assert "ACS id itself cannot be read" in finding.evidence["compared"]
    assert "wildcard does not count" in finding.evidence["compared"]


def test_regions_from_a_regions_column():
    rows = _replies([acs("eu-west-1")])
    tables = data(rows)
    tables.tables["idc_instances"]["regions"] = [["eu-west-1", "eu-central-1"]]
    _, findings = run(tables, "saml.reply_url_missing")
    assert findings[0].evidence["missing"] == ["eu-central-1"]


@pytest.mark.parametrize("urls", [["https://signin.aws.amazon.com/saml"], [WILDCARD], [],
                                  [acs("eu-central-1")], [acs("eu-west-1") + "?x=1"]])
def test_primary_region_missing_is_critical(urls):
    finding = hit(_replies(urls), "saml.reply_url_missing")
    assert finding.severity == "critical" and "primary" in finding.detail


@pytest.mark.parametrize("host", ["signin.aws.amazon.com", "signin.aws", "sso.signin.aws"])
def test_documented_acs_host_forms_count(host):
    passes(_replies([acs("eu-west-1", host)]), "saml.reply_url_missing")


def test_reply_urls_fall_back_to_service_principal():
    rows = healthy(entra_application=[], entra_service_principal={"replyUrls": [acs("eu-west-1")]})
    passes(rows, "saml.reply_url_missing")


def test_reply_urls_nan():
    rows = _replies([])
    tables = data(rows)
    tables.tables["entra_application"]["redirectUris"] = [float("nan")]
    tables.tables["entra_service_principal"]["replyUrls"] = [None]
    assert run(tables, "saml.reply_url_missing")[0].status == "fail"


# ------------------------------------------------------------------------------------------------ wildcard


def test_wildcard_reply_url():
    finding = hit(_replies([acs("eu-west-1"), WILDCARD]), "saml.wildcard_reply_url")
    assert finding.evidence["wildcards"] == [WILDCARD]
    passes(_replies([acs("eu-west-1")]), "saml.wildcard_reply_url")
    other = hit(_replies(["https://*.signin.aws/platform/saml/acs/*"]), "saml.wildcard_reply_url")
    assert "gallery template" not in other.detail
    copied = hit(_replies([acs("eu-west-1"), WILDCARD]), "saml.wildcard_reply_url")
    assert "copied into the reply URLs" in copied.detail


# ------------------------------------------------------------------------------------------------ sign-on URL


@pytest.mark.parametrize("url", [PORTAL, f"https://{STORE}.awsapps.com/start", f"https://{STORE}.awsapps.com/start/",
                                 "https://northwind.awsapps.com/start", None, "",
                                 "https://ssoins-1111222233334444.portal.eu-west-1.app.aws",
                                 "https://ssoins-1111222233334444.eu-west-1.portal.amazonaws.com"])
def test_login_url_accepted(url):
    passes(healthy(entra_service_principal={"loginUrl": url}), "saml.login_url_mismatch")


@pytest.mark.parametrize("url, words", [
    (f"https://{OTHER_STORE}.awsapps.com/start", OTHER_STORE),
    ("https://portal.sso.us-east-1.amazonaws.com/saml/assertion/abc", "us-east-1"),
    ("https://signin.aws.amazon.com/saml", "IAM SAML federation"),
    ("https://ssoins-9999888877776666.portal.eu-west-1.app.aws", "ssoins-9999888877776666"),
    ("https://intranet.example.com/aws", "not an AWS access portal URL"),
])
def test_login_url_mismatch(url, words):
    finding = hit(healthy(entra_service_principal={"loginUrl": url}), "saml.login_url_mismatch")
    assert words in finding.detail and finding.evidence["identityStoreId"] == STORE


def test_login_url_in_an_additional_region_is_fine():
    url = "https://portal.sso.eu-central-1.amazonaws.com/saml/assertion/abc"
    passes(healthy(entra_service_principal={"loginUrl": url}, idc_instances=TWO_REGIONS), "saml.login_url_mismatch")


# ------------------------------------------------------------------------------------------------ NameID


@pytest.mark.parametrize("fmt, source", [("emailAddress", "user.userprincipalname"),
                                         ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                                          "user.UserPrincipalName")])
def test_name_id_ok(fmt, source):
    passes(healthy(entra_app_claims={"nameIdFormat": fmt, "nameIdSource": source}), "saml.name_id_format")


def test_name_id_unspecified_from_mail():
    finding = hit(healthy(entra_app_claims={"nameIdFormat": "unspecified", "nameIdSource": "user.mail"}),
                  "saml.name_id_format")
    assert finding.severity == "high" and "unspecified" in finding.detail and "user.mail" in finding.detail


def test_name_id_persistent_format_only():
    finding = hit(healthy(entra_app_claims={"nameIdFormat": "persistent"}), "saml.name_id_format")
    assert finding.severity == "high" and "source" not in finding.detail


@pytest.mark.parametrize("fmt", ["default", None])
def test_name_id_default_format_is_medium(fmt):
    finding = hit(healthy(entra_app_claims={"nameIdFormat": fmt}), "saml.name_id_format")
    assert finding.severity == "medium"


def test_name_id_source_missing():
    finding = hit(healthy(entra_app_claims={"nameIdSource": None}), "saml.name_id_format")
    assert "not a plain user attribute" in finding.detail


def test_name_id_without_claims_policy_is_not_checked():
    outcome, _ = run(healthy(entra_app_claims=[]), "saml.name_id_format")
    assert outcome.status == "not_checked" and "no claims policy" in outcome.reason


# ------------------------------------------------------------------------------------------------ expiry


@pytest.mark.parametrize("days, severity", [(100, None), (61, None), (59, "medium"), (31, "medium"), (29, "high"),
                                            (8, "high"), (6.5, "critical"), (0.5, "critical"), (-3, "critical")])
def test_certificate_expiry_by_horizon(days, severity):
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, days))
    if severity is None:
        passes(rows, "saml.certificate_expiry")
        return
    finding = hit(rows, "saml.certificate_expiry")
    assert finding.severity == severity and finding.evidence["thumbprint"] == ACTIVE
    assert ("has expired" in finding.detail) == (days < 0)


def test_certificate_expiry_custom_horizons():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, 80))
    assert hit(rows, "saml.certificate_expiry", horizons=[90, 14]).severity == "high"
    passes(rows, "saml.certificate_expiry", horizons=[30])
    assert hit(healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, 10)), "saml.certificate_expiry",
               horizons=[90, 14]).severity == "critical"


def test_expiry_reads_the_active_certificate_not_the_newest():
    keys = key_pair(ACTIVE, -1000, 20) + key_pair(NEWER, -6, 1089)
    assert hit(healthy(entra_app_key_credentials=keys), "saml.certificate_expiry").severity == "high"
    keys = key_pair(ACTIVE, -10, 1000) + key_pair(NEWER, -1000, 5)  # an old inactive one about to expire
    passes(healthy(entra_app_key_credentials=keys), "saml.certificate_expiry")


def test_expiry_thumbprint_case_and_verify_row_dates():
    keys = key_pair(ACTIVE, -1000, 20)
    keys[0]["endDateTime"] = t(500)  # the Sign row disagrees; the Verify row (the certificate) wins
    rows = healthy(entra_app_key_credentials=keys,
                   entra_service_principal={"preferredTokenSigningKeyThumbprint": ACTIVE.lower()})
    assert hit(rows, "saml.certificate_expiry").severity == "high"


def test_no_active_certificate():
    finding = hit(healthy(entra_service_principal={"preferredTokenSigningKeyThumbprint": None}),
                  "saml.certificate_expiry")
    assert "no certificate is active" in finding.detail
    finding = hit(healthy(entra_service_principal={"preferredTokenSigningKeyThumbprint": NEWER}),
                  "saml.certificate_expiry")
    assert "matches none" in finding.detail
    passes(healthy(entra_service_principal={"preferredTokenSigningKeyThumbprint": None},
                   entra_app_key_credentials=[]), "saml.certificate_expiry")


def test_expiry_with_missing_end_date_is_not_checked():
    keys = key_pair(ACTIVE, -1000, 20)
    for key in keys:
        key["endDateTime"] = None
    outcome, _ = run(healthy(entra_app_key_credentials=keys), "saml.certificate_expiry")
    assert outcome.status == "not_checked" and "no end date" in outcome.reason


# ------------------------------------------------------------------------------------------------ rotation


def _upload(days: float, name: str = "UpdateExternalIdPConfigurationForDirectory") -> dict:
    return {"eventId": f"u{days}", "eventTime": t(days), "eventName": name,
            "eventSource": "sso-directory.amazonaws.com", "awsRegion": "eu-west-1", "event_json": "{}"}


def test_newer_inactive_certificate():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, 20) + key_pair(NEWER, -6, 1089))
    finding = hit(rows, "saml.certificate_rotation_pending")
    assert finding.severity == "medium" and finding.evidence["newerInactive"] == [NEWER]
    # The finding says no API reads AWS's copy and what to compare in the console.
    assert "No API can read" in finding.detail and "Manage authentication" in finding.detail
    assert ACTIVE in finding.detail


def test_staged_certificate_while_the_active_one_is_far_from_expiry_is_fine():
    # Good practice: the next certificate is created early; the active one has 1,000+ days left.
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -30, 1065) + key_pair(NEWER, -6, 1089),
                   cloudtrail_events=[_upload(-29)])
    passes(rows, "saml.certificate_rotation_pending")
    # Just outside the widest horizon (60 days by default): still fine; inside it: reported.
    rows["entra_app_key_credentials"] = key_pair(ACTIVE, -1000, 61) + key_pair(NEWER, -6, 1089)
    passes(rows, "saml.certificate_rotation_pending")
    rows["entra_app_key_credentials"] = key_pair(ACTIVE, -1000, 59) + key_pair(NEWER, -6, 1089)
    finding = hit(rows, "saml.certificate_rotation_pending")
    assert finding.evidence["activeDaysLeft"] == 59 and finding.evidence["rotationHorizonDays"] == 60
    assert "expires in 59 day(s)" in finding.detail


def test_rotation_horizon_follows_the_parameters():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, 80) + key_pair(NEWER, -6, 1089),
                   cloudtrail_events=[_upload(-29)])
    passes(rows, "saml.certificate_rotation_pending")
    assert hit(rows, "saml.certificate_rotation_pending", horizons=[90, 14]).evidence["newerInactive"] == [NEWER]


def test_older_inactive_certificate_is_fine():
    rows = healthy(entra_app_key_credentials=key_pair(NEWER, -1000, -10) + key_pair(ACTIVE, -30, 1000),
                   cloudtrail_events=[_upload(-29)])
    passes(rows, "saml.certificate_rotation_pending")


@pytest.mark.parametrize("name", ["UpdateExternalIdPConfigurationForDirectory",
                                  "CreateExternalIdPConfigurationForDirectory"])
def test_active_created_after_last_upload(name):
    rows = healthy(entra_app_key_credentials=key_pair(NEWER, -1000, 30) + key_pair(ACTIVE, -3, 1000),
                   cloudtrail_events=[_upload(-25, name), _upload(-40, name)])
    finding = hit(rows, "saml.certificate_rotation_pending")
    assert finding.severity == "critical" and finding.evidence["lastUpload"] == t(-25)
    assert "after the last upload" in finding.detail


def test_active_uploaded_after_creation():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -3, 1000), cloudtrail_events=[_upload(-2)])
    passes(rows, "saml.certificate_rotation_pending")


def test_cloudtrail_covers_the_certificate_and_saw_no_upload():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -3, 1000))  # the trail's only event is 20 days old
    finding = hit(rows, "saml.certificate_rotation_pending")
    assert finding.severity == "critical" and "no upload" in finding.detail


def test_cloudtrail_not_reaching_back_is_no_evidence():
    passes(healthy(entra_app_key_credentials=key_pair(ACTIVE, -100, 1000)), "saml.certificate_rotation_pending")
    passes(healthy(entra_app_key_credentials=key_pair(ACTIVE, -3, 1000), cloudtrail_events=[]),
           "saml.certificate_rotation_pending")


def test_rotation_without_cloudtrail_still_sees_a_newer_certificate():
    rows = healthy(entra_app_key_credentials=key_pair(ACTIVE, -1000, 20) + key_pair(NEWER, -6, 1089))
    del rows["cloudtrail_events"]
    finding = hit(data(rows, not_collected={"cloudtrail_events": "AccessDenied"}), "saml.certificate_rotation_pending")
    assert "upload time unknown" in finding.evidence["uploadSource"]


def test_rotation_without_active_certificate_defers_to_expiry():
    rows = healthy(entra_service_principal={"preferredTokenSigningKeyThumbprint": None},
                   entra_app_key_credentials=key_pair(ACTIVE, -1000, 20) + key_pair(NEWER, -6, 1089))
    passes(rows, "saml.certificate_rotation_pending")


# ------------------------------------------------------------------------------------------------ NaN


def test_all_nan_rows_never_crash():
    """Every optional cell missing: each check fails, passes or is not checked, never errors."""
    blank = {name: [{}] for name in ("entra_service_principal", "entra_application", "entra_app_key_credentials",
                                     "entra_app_claims", "idc_instances", "cloudtrail_events")}
    results = run_checks(data(blank), settings(), areas=["saml"])
    assert {o.status for o in results.outcomes} <= {"pass", "fail", "not_checked"}, results.outcomes_frame()
    assert len(results.outcomes) == len(SAML_IDS)


def test_nullable_string_dtype():
    tables = data(healthy(entra_service_principal={"loginUrl": None, "preferredSingleSignOnMode": None}))
    sp = tables.tables["entra_service_principal"]
    for column in ("loginUrl", "preferredSingleSignOnMode", "preferredTokenSigningKeyThumbprint"):
        sp[column] = sp[column].astype("string")  # pd.NA rather than NaN
    assert run(tables, "saml.sso_mode")[0].status == "fail"
    assert run(tables, "saml.login_url_mismatch")[0].status == "pass"
    assert run(tables, "saml.certificate_expiry")[0].status == "pass"
