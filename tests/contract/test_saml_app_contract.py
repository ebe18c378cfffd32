"""Contract tests for the AWS app's SAML reads: documented Graph answers (tests/contract/fixtures/graph) run
through the collector's own table builders and the SAML checks, and compared in shape with the sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import idbridge.checks.rules.saml  # noqa: F401  (registers the SAML units)
from idbridge.checks.runner import MemoryTables, run_checks
from idbridge.checks.settings import CheckSettings
from idbridge.collect.entra.app import app_tables, find_service_principal
from idbridge.core.parameters import ChecksParams
from idbridge.saml.claims import single_policy
from tests.support import graph_harness as gh
from tests.support.contract import load_fixture, shape_differences

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server():
    s = gh.GraphServer(gh.world())
    yield s
    s.close()


async def _aws_sp(adapter) -> dict:
    return await find_service_principal(adapter, None, None)


def check(tables: dict, check_id: str):
    results = run_checks(MemoryTables(tables), CheckSettings(now=NOW, checks=ChecksParams()), ids=[check_id])
    (outcome,) = results.outcomes
    return outcome, results.findings


# ------------------------------------------------------------------ item 7: beta claimsPolicy, wrapped or not


def test_claims_policy_as_documented_wrapped_keeps_the_name_id():
    answer = load_fixture("beta_serviceprincipal_claimspolicy_get")["response"]
    assert "value" in answer  # the docs example answers a collection
    [row] = app_tables({"id": "sp1"}, None, answer)["entra_app_claims"].to_dict("records")
    assert row["nameIdFormat"] == "emailAddress"
    assert row["nameIdSource"] == "user.userprincipalname"
    outcome, findings = check({"entra_app_claims": app_tables({"id": "sp1"}, None, answer)["entra_app_claims"]},
                              "saml.name_id_format")
    assert outcome.status == "pass", [f.detail for f in findings]


def test_claims_policy_as_one_object_reads_the_same():
    wrapped = load_fixture("beta_serviceprincipal_claimspolicy_get")["response"]
    one = wrapped["value"][0]
    rows = app_tables({"id": "sp1"}, None, one)["entra_app_claims"].to_dict("records")
    assert rows == app_tables({"id": "sp1"}, None, wrapped)["entra_app_claims"].to_dict("records")
    assert single_policy({"value": []}) is None


def test_sandbox_claims_policy_has_the_documented_shape(server):
    documented = single_policy(load_fixture("beta_serviceprincipal_claimspolicy_get")["response"])

    async def read():
        adapter = server.adapter()
        sp = await _aws_sp(adapter)
        return await gh.raw(server.adapter("beta"), f"/servicePrincipals/{sp['id']}/claimsPolicy")

    served = gh.run(read())
    # The sandbox answers one object (as the SDKs type it); the collector accepts both forms.
    assert "value" not in served
    assert shape_differences(documented, served, nullable=frozenset({"condition", "audienceOverride"})) == []
    name_id = next(c for c in served["claims"] if c["@odata.type"] == "#microsoft.graph.samlNameIdClaim")
    assert name_id["nameIdFormat"] == "emailAddress"  # enum value and case as documented


# ------------------------------------------------------------------ item 2: custom signing keys


CUSTOM_KEY = "serviceprincipal_get_select_keycredentials_custom_key"


def _custom_key_tables(keys: list[dict], preferred: str) -> dict:
    sp = {"id": "sp1", "appId": "app1", "displayName": "AWS IAM Identity Center",
          "preferredTokenSigningKeyThumbprint": preferred, "keyCredentials": keys}
    tables = app_tables(sp, None, None)
    return {name: tables[name] for name in ("entra_service_principal", "entra_app_key_credentials")}


def _verify_certificate_thumbprint(keys: list[dict]) -> str:
    import base64
    import hashlib

    verify = next(k for k in keys if k["usage"] == "Verify")
    return hashlib.sha1(base64.b64decode(verify["key"])).hexdigest().upper()


def test_custom_signing_key_is_matched_by_its_certificate_and_expiry_checked():
    keys = load_fixture(CUSTOM_KEY)["response"]["keyCredentials"]
    # What the tutorial's customKeyIdentifier is: 32 bytes (SHA-256), not a 20-byte SHA-1 thumbprint.
    import base64
    assert {len(base64.b64decode(k["customKeyIdentifier"])) for k in keys} == {32}
    thumbprint = _verify_certificate_thumbprint(keys)  # what an admin sets as preferredTokenSigningKeyThumbprint
    tables = _custom_key_tables(keys, thumbprint)
    assert set(tables["entra_app_key_credentials"]["thumbprint"]) == {thumbprint}  # Sign takes Verify's
    outcome, findings = check(tables, "saml.certificate_expiry")
    assert outcome.status == "pass", [f.detail for f in findings]  # valid until 2028-01-15

    late = datetime(2027, 12, 20, tzinfo=timezone.utc)
    results = run_checks(MemoryTables(tables), CheckSettings(now=late, checks=ChecksParams()),
                         ids=["saml.certificate_expiry"])
    [finding] = results.findings
    assert "expires in 26 day(s)" in finding.detail and thumbprint in finding.detail


def test_custom_signing_key_read_from_a_list_is_not_checked_rather_than_a_false_high():
    keys = [{**k, "key": None} for k in load_fixture(CUSTOM_KEY)["response"]["keyCredentials"]]  # list read
    thumbprint = _verify_certificate_thumbprint(load_fixture(CUSTOM_KEY)["response"]["keyCredentials"])
    outcome, findings = check(_custom_key_tables(keys, thumbprint), "saml.certificate_expiry")
    assert findings == [] and outcome.status == "not_checked", outcome
    assert "$select=keyCredentials" in outcome.reason


def test_collector_reads_certificates_with_a_single_object_select(server):
    """The sandbox, like Graph, returns `key` only on the single-object $select=keyCredentials read; the
    collector's read gives every certificate its thumbprint, and the answer has the documented shape."""
    from idbridge.collect.entra.app import read_key_credentials

    async def read():
        adapter = server.adapter()
        sp = await _aws_sp(adapter)
        single = await gh.raw(adapter, f"/servicePrincipals/{sp['id']}?$select=keyCredentials")
        return sp, single, await read_key_credentials(adapter, sp["id"])

    sp, single, keys = gh.run(read())
    assert all(k.get("key") is None for k in sp["keyCredentials"])  # the list read: no certificates
    documented = load_fixture(CUSTOM_KEY)["response"]
    assert shape_differences(documented, single, nullable=frozenset({"key"})) == []
    assert {k["usage"] for k in single["keyCredentials"]} == {"Sign", "Verify"}  # enum case as documented
    assert any(k.get("key") for k in keys if k["usage"] == "Verify")
    table = app_tables({**sp, "keyCredentials": keys}, None, None)["entra_app_key_credentials"]
    assert table["thumbprint"].notna().all()
    assert sp["preferredTokenSigningKeyThumbprint"] in set(table["thumbprint"])


def test_sandbox_serves_a_custom_signing_key_as_documented():
    """signing_certificates[].custom: the sandbox answers as Graph does after the tutorial's PATCH (Sign key
    X509CertAndPassword, customKeyIdentifier the SHA-256 of the thumbprint); the collector matches it through the
    certificate, so a valid custom certificate passes saml.certificate_expiry (never 'matches none')."""
    import base64
    import copy

    from idbridge.collect.entra.app import read_key_credentials

    app = copy.deepcopy(gh.SCENARIO["entra"]["aws_app"])
    app["signing_certificates"] = [{"display_name": "CN=awsAPI", "start": "now-30d", "end": "now+700d",
                                    "active": True, "custom": True}]
    custom = gh.GraphServer(gh.world(gh.scenario(entra__aws_app=app)))
    try:
        async def read():
            adapter = custom.adapter()
            sp = await _aws_sp(adapter)
            single = await gh.raw(adapter, f"/servicePrincipals/{sp['id']}?$select=keyCredentials")
            return sp, single, await read_key_credentials(adapter, sp["id"])

        sp, single, keys = gh.run(read())
    finally:
        custom.close()
    documented = load_fixture(CUSTOM_KEY)["response"]
    assert shape_differences(documented, single, nullable=frozenset({"key"})) == []
    assert sorted((k["usage"], k["type"]) for k in single["keyCredentials"]) == \
        sorted((k["usage"], k["type"]) for k in documented["keyCredentials"])
    assert {len(base64.b64decode(k["customKeyIdentifier"])) for k in single["keyCredentials"]} == {32}
    tables = _custom_key_tables(keys, sp["preferredTokenSigningKeyThumbprint"])
    outcome, findings = check(tables, "saml.certificate_expiry")
    assert outcome.status == "pass", [f.detail for f in findings]


# ------------------------------------------------------------------ item 4: reply URLs per Region


MULTI_REGION = "application_list_filter_appid_web_multi_region"


def _instances(regions: list[str]):
    import pandas as pd

    from idbridge.snapshot.schema import SOURCES_BY_NAME, TABLE_SOURCE

    columns = SOURCES_BY_NAME[TABLE_SOURCE["idc_instances"]].tables["idc_instances"]
    rows = [{"instanceArn": "arn:aws:sso:::instance/ssoins-1111222233334444", "identityStoreId": "d-9067230c14",
             "region": regions[0], "regions": regions}]
    out = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    out["regions"] = [regions]
    return out


def test_reply_urls_per_region_as_aws_documents_them():
    [application] = load_fixture(MULTI_REGION)["response"]["value"]
    sp = {"id": "sp1", "appId": application["appId"], "replyUrls": application["web"]["redirectUris"]}
    tables = app_tables(sp, application, None)
    tables = {"entra_service_principal": tables["entra_service_principal"],
              "entra_application": tables["entra_application"],
              "idc_instances": _instances(["eu-west-1", "us-east-1", "ap-southeast-2"])}
    outcome, [finding] = check(tables, "saml.reply_url_missing")
    # eu-west-1 (primary, amazon.com form) and us-east-1 (signin.aws) are covered; ap-southeast-2 is not.
    assert finding.evidence["missing"] == ["ap-southeast-2"] and finding.severity == "high"
    assert "primary Region only" in finding.detail
    from idbridge.checks.base import REGISTRY
    fix = REGISTRY["saml.reply_url_missing"].meta.fix
    assert "<region>.signin.aws/platform/saml/acs/<id>" in fix and "primary Region only" in fix


def test_sandbox_application_and_additional_region_acs_form(server):
    from idbridge.collect.entra.app import find_application

    async def read():
        adapter = server.adapter()
        sp = await _aws_sp(adapter)
        return await find_application(adapter, sp["appId"])

    served = gh.run(read())
    [documented] = load_fixture(MULTI_REGION)["response"]["value"]
    assert shape_differences(documented, served, nullable=frozenset({"homePageUrl", "logoutUrl"})) == []
    primary, *additional = served["web"]["redirectUris"]
    assert primary.startswith("https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/")
    assert additional and all(u.startswith("https://us-east-1.signin.aws/platform/saml/acs/") for u in additional)


# ------------------------------------------------------------------ item 6: the freshly instantiated gallery app


INSTANTIATE = "applicationtemplate_instantiate_aws"
TEMPLATES = "applicationtemplates_list_filter_aws"


def test_a_fresh_gallery_app_has_no_reply_urls_and_no_wildcard_finding():
    created = load_fixture(INSTANTIATE)["response"]
    application, sp = created["application"], created["servicePrincipal"]
    assert application["web"]["redirectUris"] == [] and sp["replyUrls"] == []
    assert application["web"]["homePageUrl"].startswith("https://*.signin.aws.amazon.com/platform/saml/acs/*")
    assert sp["samlSingleSignOnSettings"] is None
    tables = app_tables(sp, application, None)
    tables = {"entra_service_principal": tables["entra_service_principal"],
              "entra_application": tables["entra_application"], "idc_instances": _instances(["eu-west-1"])}
    outcome, findings = check(tables, "saml.wildcard_reply_url")
    assert outcome.status == "pass", [f.detail for f in findings]  # the home-page wildcard is not a reply URL
    outcome, [missing] = check(tables, "saml.reply_url_missing")
    assert missing.severity == "critical" and missing.evidence["replyUrls"] == []
    outcome, [mode] = check(tables, "saml.sso_mode")
    assert mode.evidence["preferredSingleSignOnMode"] is None


def test_sandbox_instantiate_and_template_as_documented():
    server = gh.GraphServer(gh.world())  # its own: instantiating adds a second app from the template
    documented_templates = load_fixture(TEMPLATES)["response"]
    documented = load_fixture(INSTANTIATE)["response"]

    async def calls():
        adapter = server.adapter()
        name = documented_templates["value"][0]["displayName"]
        templates = await gh.raw(adapter, f"/applicationTemplates?$filter=displayName eq '{name}'")
        created = await gh.raw(adapter, f"/applicationTemplates/{templates['value'][0]['id']}/instantiate",
                               method="POST", body={"displayName": "AWS Contoso"})
        return templates, created

    try:
        templates, created = gh.run(calls())
    finally:
        server.close()
    assert shape_differences(documented_templates, templates) == []
    [template], [served_template] = documented_templates["value"], templates["value"]
    for key in ("id", "displayName", "supportedSingleSignOnModes", "publisher"):
        assert served_template[key] == template[key], key
    nullable = frozenset({"optionalClaims", "groupMembershipClaims", "isFallbackPublicClient"})
    assert shape_differences(documented, created, nullable=nullable) == []
    for part, key in (("application", "identifierUris"), ("servicePrincipal", "replyUrls"),
                      ("servicePrincipal", "homepage"), ("servicePrincipal", "samlSingleSignOnSettings"),
                      ("servicePrincipal", "preferredSingleSignOnMode"),
                      ("servicePrincipal", "appRoleAssignmentRequired")):
        assert created[part][key] == documented[part][key], (part, key)
    assert created["application"]["web"]["redirectUris"] == []
    assert created["application"]["web"]["homePageUrl"] == documented["application"]["web"]["homePageUrl"]
    assert sorted(r["displayName"] for r in created["servicePrincipal"]["appRoles"]) == ["User", "msiam_access"]


# ------------------------------------------------------------------ item 11: other partitions


GOVCLOUD = "application_list_filter_appid_web_govcloud"


def test_another_partition_is_not_checked_never_critical():
    import pandas as pd

    [application] = load_fixture(GOVCLOUD)["response"]["value"]
    sp = {"id": "sp1", "appId": application["appId"], "replyUrls": application["web"]["redirectUris"],
          "loginUrl": "https://portal.sso.us-gov-west-1.amazonaws-us-gov.com/saml/assertion/abc"}
    tables = app_tables(sp, application, None)
    instances = _instances(["us-gov-west-1"])
    instances["instanceArn"] = pd.Series(["arn:aws-us-gov:sso:::instance/ssoins-1111222233334444"], dtype=object)
    tables = {"entra_service_principal": tables["entra_service_principal"],
              "entra_application": tables["entra_application"], "idc_instances": instances}
    for check_id in ("saml.identifier_mismatch", "saml.reply_url_missing", "saml.login_url_mismatch"):
        outcome, findings = check(tables, check_id)
        assert findings == [] and outcome.status == "not_checked", (check_id, outcome)
        assert "partition not supported" in outcome.reason and "aws-us-gov" in outcome.reason


def test_china_region_is_named_as_its_partition():
    from idbridge.saml.urls import partition_of, unsupported_partition_host

    assert partition_of("cn-north-1") == "aws-cn" and partition_of("eu-west-1") == "aws"
    assert partition_of("eu-west-1", "arn:aws-us-gov:sso:::instance/ssoins-1") == "aws-us-gov"
    assert unsupported_partition_host("https://us-gov-west-1.signin.amazonaws-us-gov.com/platform/saml/d-1")
    assert not unsupported_partition_host("https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1")
