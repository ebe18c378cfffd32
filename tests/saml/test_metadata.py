"""Parsing the AWS SP metadata and Entra federation metadata: the values, and every bad or hostile file refused in
words that name the file and the place, fast, without crashing."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from idbridge.errors import InputError
from idbridge.saml.certs import CertificateError, parse_certificate
from idbridge.saml.metadata import IdpMetadata, SpMetadata, parse_idp_metadata, parse_sp_metadata
from idbridge.saml.safexml import MAX_BYTES

DATA = Path(__file__).resolve().parents[1] / "data" / "metadata"
NOW = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
STORE = "d-0cd9ddb6d1"
ACS_ID = "32bc8853-e495-5ffd-bdda-0cdef71d085a"
TENANT = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


def refused(parse, name: str, *patterns: str) -> InputError:
    path = DATA / name
    with pytest.raises(InputError) as err:
        parse(path, now=NOW)
    text = str(err.value)
    assert err.value.file == str(path) and text.startswith(str(path))
    for pattern in patterns:
        assert re.search(pattern, text), text
    return err.value


# ------------------------------------------------------------------------------------------------ AWS SP


def test_aws_sp_metadata():
    meta = parse_sp_metadata(DATA / "aws-sp-demo.xml", now=NOW)
    assert isinstance(meta, SpMetadata)
    assert meta.entity_id == f"https://eu-west-1.signin.aws.amazon.com/platform/saml/{STORE}"
    assert (meta.region, meta.identity_store_id) == ("eu-west-1", STORE)
    assert meta.acs_urls == [f"https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/{ACS_ID}"]
    assert meta.default_acs.is_default and meta.default_acs.index == 0
    assert meta.default_acs.binding == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert meta.name_id_formats == (EMAIL,) and meta.want_assertions_signed is True
    (cert,) = meta.signing_certificates
    assert cert.subject == "CN=AWS IAM Identity Center SAML signing" and not cert.expired
    assert meta.warnings == ()


def test_aws_sp_metadata_dual_stack_and_multi_region():
    dual = parse_sp_metadata(DATA / "aws-sp-dualstack.xml", now=NOW)
    assert dual.acs_urls == [f"https://eu-west-1.signin.aws/platform/saml/acs/{ACS_ID}"] and dual.warnings == ()
    multi = parse_sp_metadata(DATA / "aws-sp-multiregion.xml", now=NOW)
    assert [e.location.split("/")[2] for e in multi.acs] == ["eu-west-1.signin.aws.amazon.com",
                                                              "eu-central-1.signin.aws.amazon.com"]
    assert multi.signing_certificates == ()  # the SP certificate is optional


def test_sp_metadata_from_bytes_with_a_name():
    meta = parse_sp_metadata((DATA / "aws-sp-demo.xml").read_bytes(), name="upload.xml", now=NOW)
    assert meta.file == "upload.xml"
    with pytest.raises(InputError, match=r"^upload\.xml: "):
        parse_sp_metadata(b"<nope", name="upload.xml")


def test_sp_metadata_warnings():
    text = (DATA / "aws-sp-demo.xml").read_text()
    persistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    odd = text.replace("platform/saml/d-0cd9ddb6d1", "saml").replace(EMAIL, persistent)
    meta = parse_sp_metadata(odd.encode(), name="odd.xml", now=NOW)
    assert any("not an Identity Center issuer URL" in w for w in meta.warnings)
    assert any("requires " + EMAIL in w for w in meta.warnings)


def test_sp_parser_given_the_entra_file():
    refused(parse_sp_metadata, "entra-idp-demo.xml", "IDPSSODescriptor.*no <SPSSODescriptor>",
            "identity-provider metadata")


@pytest.mark.parametrize("name, patterns", [
    ("sp-missing-acs.xml", [r"line 3: <SPSSODescriptor> has no <AssertionConsumerService>"]),
    ("sp-acs-without-location.xml", [r"line 12: <AssertionConsumerService> #1 has no Location"]),
])
def test_sp_missing_required(name, patterns):
    refused(parse_sp_metadata, name, *patterns)


def test_sp_without_entity_id():
    text = (DATA / "aws-sp-demo.xml").read_text()
    bad = re.sub(r' entityID="[^"]+"', "", text)
    with pytest.raises(InputError, match="line 2: <EntityDescriptor> has no entityID"):
        parse_sp_metadata(bad.encode(), name="x.xml")


# ------------------------------------------------------------------------------------------------ Entra IdP


def test_entra_metadata_from_the_sandbox():
    meta = parse_idp_metadata(DATA / "entra-idp-demo.xml", now=NOW)
    assert isinstance(meta, IdpMetadata)
    assert meta.entity_id == f"https://sts.windows.net/{TENANT}/" and meta.tenant_id == TENANT
    assert {e.location for e in meta.sso_services} == {f"https://login.microsoftonline.com/{TENANT}/saml2"}
    assert {e.binding.rsplit(":", 1)[1] for e in meta.sso_services} == {"HTTP-Redirect", "HTTP-POST"}
    assert meta.slo_services[0].location == f"https://login.microsoftonline.com/{TENANT}/saml2"
    assert meta.name_id_formats == (EMAIL,)
    # Only the KeyDescriptor's certificate, not the one in the enveloped ds:Signature's KeyInfo (the same here).
    (cert,) = meta.signing_certificates
    assert cert is meta.signing_certificate and cert.subject == "CN=Microsoft Azure Federated SSO Certificate"
    assert cert.days_left == 20 and meta.warnings == ()


def test_entra_metadata_real_shape():
    """md elements unprefixed, RoleDescriptors with keys of their own (ignored), base64 wrapped over lines."""
    meta = parse_idp_metadata(DATA / "entra-idp-pretty.xml", now=NOW)
    (cert,) = meta.signing_certificates
    assert cert.thumbprint == "69B59415F2AC14043C6CA2B337510B1AC68DC412"
    text = (DATA / "entra-idp-pretty.xml").read_text()
    body = text.split("<IDPSSODescriptor", 1)[1].split("<X509Certificate>", 1)[1].split("</X509Certificate>")[0]
    der = base64.b64decode("".join(body.split()))
    assert cert.thumbprint == hashlib.sha1(der).hexdigest().upper()
    assert cert.sha256 == hashlib.sha256(der).hexdigest().upper()
    assert cert.not_before == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert cert.not_after == datetime(2028, 6, 1, tzinfo=timezone.utc)
    assert cert.days_left == (cert.not_after - NOW).days and not cert.expired
    assert cert.base64_chars < 2500


def test_expired_certificate_is_flagged_not_refused():
    meta = parse_idp_metadata(DATA / "entra-idp-expired.xml", now=NOW)
    cert = meta.signing_certificate
    assert cert.expired and cert.days_left < 0
    assert any("has expired" in w and cert.thumbprint in w for w in meta.warnings)


def test_entra_metadata_from_another_idp_is_a_warning():
    text = (DATA / "entra-idp-pretty.xml").read_text().replace(f"https://sts.windows.net/{TENANT}/",
                                                               "http://www.okta.com/exk1")
    meta = parse_idp_metadata(text.encode(), name="okta.xml", now=NOW)
    assert meta.tenant_id is None and any("not Entra's" in w for w in meta.warnings)


def test_idp_parser_given_the_aws_file():
    refused(parse_idp_metadata, "aws-sp-demo.xml", "no <IDPSSODescriptor>", "service-provider metadata")


@pytest.mark.parametrize("name, patterns", [
    ("idp-bad-base64.xml", [r"line 12: <X509Certificate> of the signing <KeyDescriptor>: not valid base64"]),
    ("idp-not-a-certificate.xml", [r"line 12: .*not a DER X\.509 certificate"]),
    ("idp-no-signing-key.xml", [r"line 8: <IDPSSODescriptor> has no signing <KeyDescriptor>"]),
    ("idp-missing-sso.xml", [r"line 8: <IDPSSODescriptor> has no <SingleSignOnService>"]),
])
def test_idp_bad_content(name, patterns):
    refused(parse_idp_metadata, name, *patterns)


def test_several_problems_are_reported_together():
    text = (DATA / "idp-missing-sso.xml").read_text().replace(
        (DATA / "idp-missing-sso.xml").read_text().split("<X509Certificate>\n", 2)[1].split("\n", 1)[0], "@@@")
    with pytest.raises(InputError) as err:
        parse_idp_metadata(text.encode(), name="two.xml")
    assert len(err.value.problems) == 2 and "2 problems" in str(err.value)


def test_certificate_text_variants():
    b64 = (DATA / "entra-idp-pretty.xml").read_text().split("<IDPSSODescriptor", 1)[1] \
        .split("<X509Certificate>", 1)[1].split("</X509Certificate>")[0]
    plain = parse_certificate(b64, NOW)
    pem = parse_certificate("-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----", NOW)
    assert plain == pem
    for bad in ("", "   ", "****", base64.b64encode(b"\x30\x03\x02\x01\x01").decode()):
        with pytest.raises(CertificateError):
            parse_certificate(bad, NOW)


# ------------------------------------------------------------------------------------------------ hostile / broken


@pytest.mark.parametrize("parse", [parse_sp_metadata, parse_idp_metadata])
@pytest.mark.parametrize("name, patterns", [
    ("xxe.xml", [r"line 3: declares the external entity 'xxe' \(file:///etc/passwd\)", "XXE"]),
    ("xxe-parameter-entity.xml", [r"line 3: .*external entity 'remote'", "XXE"]),
    ("billion-laughs.xml", [r"line 3: declares the entity 'lol'", "billion laughs"]),
    ("dtd.xml", [r"line 2: has a document type declaration", "DTDs are refused"]),
    ("external-dtd.xml", [r"line 2: refers to the external DTD 'http://attacker\.example/saml\.dtd'"]),
    ("wrong-root.xml", [r"line 2: the root element is <html>, expected a SAML 2\.0 <EntityDescriptor>"]),
    ("wrong-namespace.xml", [r"line 2: <EntityDescriptor> is in namespace urn:example:not-saml"]),
    ("truncated.xml", [r"not well-formed XML at line 7, column \d+: no element found", "truncated"]),
    ("empty.xml", ["the file is empty"]),
])
def test_bad_files_are_refused_in_words(parse, name, patterns):
    refused(parse, name, *patterns)


def test_billion_laughs_finishes_fast():
    # Ten levels of ten: a billion-character expansion if anything ever expanded it.
    levels = ['<!ENTITY a0 "dha">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 11)]
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE md:EntityDescriptor [\n' + "\n".join(levels) + "\n]>\n"
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&a10;"/>').encode()
    for payload, name in ((bomb, "bomb.xml"), ((DATA / "billion-laughs.xml").read_bytes(), "laughs.xml")):
        started = time.perf_counter()
        with pytest.raises(InputError, match="entity declarations are refused"):
            parse_sp_metadata(payload, name=name)
        assert time.perf_counter() - started < 0.5


def test_not_well_formed_names_line_and_column():
    with pytest.raises(InputError, match=r"line 3, column 3: mismatched tag"):
        parse_idp_metadata(b'<?xml version="1.0"?>\n<a>\n</b>', name="m.xml")


def test_oversized_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="far too large"):
        parse_sp_metadata(b" " * (MAX_BYTES + 1), name="big.xml")
    big = tmp_path / "big.xml"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="far too large"):
        parse_sp_metadata(big)
    with pytest.raises(InputError, match="file not found"):
        parse_idp_metadata(tmp_path / "nope.xml")
    with pytest.raises(InputError, match="not a file"):
        parse_idp_metadata(tmp_path)


def test_unknown_encoding():
    with pytest.raises(InputError, match="unknown encoding: bogus"):
        parse_idp_metadata(b'<?xml version="1.0" encoding="bogus"?><a/>', name="enc.xml")


@pytest.mark.parametrize("name", ["aws-sp-demo.xml", "entra-idp-demo.xml", "entra-idp-pretty.xml"])
def test_any_damage_is_an_input_error(name):
    """Cut or corrupt a good file anywhere: the answer is a parsed document or an InputError, never a crash."""
    good = (DATA / name).read_bytes()
    parse = parse_sp_metadata if name.startswith("aws") else parse_idp_metadata
    for cut in range(0, len(good), 37):
        for damaged in (good[:cut], good[:cut] + b"\x00" + good[cut + 1:], good[:cut] + b"<" + good[cut:]):
            try:
                parse(damaged, name="damaged.xml", now=NOW)
            except InputError as err:
                assert err.file == "damaged.xml" and err.problems


def test_aggregate_metadata_is_explained():
    doc = b'<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>'
    with pytest.raises(InputError, match="aggregate of several entities"):
        parse_sp_metadata(doc, name="agg.xml")
