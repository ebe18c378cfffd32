"""Metadata files against the app: the differences in words, none when they agree."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from idbridge.saml.compare import compare_idp_metadata_with_app, compare_sp_metadata_with_app
from idbridge.saml.metadata import parse_idp_metadata, parse_sp_metadata

DATA = Path(__file__).resolve().parents[1] / "data" / "metadata"
NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
STORE = "d-0cd9ddb6d1"
ACS_ID = "32bc8853-e495-5ffd-bdda-0cdef71d085a"
ISSUER = f"https://eu-west-1.signin.aws.amazon.com/platform/saml/{STORE}"
ACS = f"https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/{ACS_ID}"
WILDCARD = "https://*.signin.aws.amazon.com/platform/saml/acs/*"
PORTAL = "https://portal.sso.eu-west-1.amazonaws.com/saml/assertion/8mVcXNnm57FvcpZtftmchmR0xjAAdI0x"
TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
GOOD = "69B59415F2AC14043C6CA2B337510B1AC68DC412"   # entra-idp-pretty.xml
OLD = "C6B40F89511344825056573F1C900F566152DC23"    # entra-idp-expired.xml


@pytest.fixture(scope="module")
def sp_meta():
    return parse_sp_metadata(DATA / "aws-sp-demo.xml", now=NOW)


@pytest.fixture(scope="module")
def idp_meta():
    return parse_idp_metadata(DATA / "entra-idp-pretty.xml", now=NOW)


def rows(sp=None, app=None):
    sp_row = {"preferredSingleSignOnMode": "saml", "loginUrl": PORTAL, "replyUrls": [ACS], **(sp or {})}
    app_row = {"identifierUris": [ISSUER], "redirectUris": [ACS], **(app or {})}
    return sp_row, app_row


def test_sp_metadata_agrees(sp_meta):
    assert compare_sp_metadata_with_app(sp_meta, *rows()) == []
    # pandas rows, as notebooks pass them; list cells as numpy arrays (as read from Parquet)
    sp_row, app_row = rows()
    frame = pd.DataFrame([{**app_row}])
    frame["identifierUris"] = frame["identifierUris"].map(lambda v: pd.array(v).to_numpy())
    assert compare_sp_metadata_with_app(sp_meta, pd.Series(sp_row), frame.iloc[0]) == []
    # the dual-stack variant of the same instance agrees with its own reply URL
    dual = parse_sp_metadata(DATA / "aws-sp-dualstack.xml", now=NOW)
    assert compare_sp_metadata_with_app(dual, *rows(app={"redirectUris": dual.acs_urls})) == []


@pytest.mark.parametrize("sp, app, words", [
    ({"preferredSingleSignOnMode": None}, None, "single sign-on mode is not set"),
    (None, {"identifierUris": ["https://signin.aws.amazon.com/saml"]}, "issuer URL " + ISSUER + " is not among"),
    (None, {"identifierUris": [ISSUER, ISSUER.replace(STORE, "d-93670c2a1f")]}, "identity store d-93670c2a1f"),
    (None, {"redirectUris": [ACS.replace("eu-west-1", "eu-central-1")]}, ACS + " is not among the reply URLs"),
    (None, {"redirectUris": [ACS, ACS.replace(ACS_ID, "0000")]}, "ACS id 0000, the metadata's is " + ACS_ID),
    (None, {"redirectUris": [ACS, WILDCARD]}, "wildcard reply URL"),
    ({"loginUrl": "https://d-93670c2a1f.awsapps.com/start"}, None, "identity store d-93670c2a1f"),
    ({"loginUrl": PORTAL.replace("eu-west-1", "us-east-1")}, None, "Region us-east-1"),
])
def test_sp_metadata_differences(sp_meta, sp, app, words):
    differences = compare_sp_metadata_with_app(sp_meta, *rows(sp, app))
    assert len(differences) == 1 and words in differences[0], differences


def test_sp_metadata_without_application(sp_meta):
    sp_row, _ = rows()
    assert compare_sp_metadata_with_app(sp_meta, sp_row, None) == [
        "no application object was collected: identifierUris cannot be compared"]
    sp_row["replyUrls"] = float("nan")
    assert any("not among the reply URLs" in d for d in compare_sp_metadata_with_app(sp_meta, sp_row, None))


def keys(*thumbprints):
    return pd.DataFrame([{"keyId": str(i), "usage": u, "thumbprint": t} for i, t in enumerate(thumbprints)
                         for u in ("Sign", "Verify")])


def test_idp_metadata_agrees(idp_meta):
    assert compare_idp_metadata_with_app(idp_meta, keys(GOOD, OLD), GOOD, TENANT) == []
    assert compare_idp_metadata_with_app(idp_meta, [{"thumbprint": GOOD}], GOOD.lower(), TENANT.upper()) == []


@pytest.mark.parametrize("credentials, preferred, tenant, words", [
    (keys(GOOD, OLD), OLD, TENANT, "is one of the app's certificates but not the active one (" + OLD + ")"),
    (keys(OLD), OLD, TENANT, "not one of the app's certificates"),
    (keys(GOOD), GOOD, "00000000-0000-0000-0000-000000000000", "from tenant " + TENANT),
    (keys(GOOD), None, TENANT, "no active signing certificate"),
    (keys(GOOD), float("nan"), TENANT, "no active signing certificate"),
])
def test_idp_metadata_differences(idp_meta, credentials, preferred, tenant, words):
    differences = compare_idp_metadata_with_app(idp_meta, credentials, preferred, tenant)
    assert len(differences) == 1 and words in differences[0], differences


def test_idp_metadata_expired(idp_meta):
    expired = parse_idp_metadata(DATA / "entra-idp-expired.xml", now=NOW)
    differences = compare_idp_metadata_with_app(expired, keys(OLD), OLD, TENANT)
    assert len(differences) == 1 and "has expired" in differences[0]
    # No key credentials collected and no tenant given: only the active thumbprint is compared.
    assert compare_idp_metadata_with_app(idp_meta, None, GOOD, None) == []
