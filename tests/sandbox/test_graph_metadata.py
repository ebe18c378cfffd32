"""The anonymous federation metadata document: shape, active certificate, and a signature that verifies."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from defusedxml.ElementTree import fromstring
from support.graph_harness import GraphServer, raw, run, world

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"md": MD, "ds": DS}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server():
    srv = GraphServer(world())
    yield srv
    srv.close()


def _metadata(srv: GraphServer, app_id: str, tenant: str | None = None) -> httpx.Response:
    return httpx.get(f"{srv.base}/{tenant or srv.tenant}/federationmetadata/2007-06/federationmetadata.xml",
                     params={"appid": app_id})


def _thumbprint(cert_b64: str) -> str:
    return x509.load_der_x509_certificate(base64.b64decode(cert_b64)).fingerprint(hashes.SHA1()).hex().upper()


def test_metadata_shape_and_active_certificate(server):
    sp = server.world.graph.service_principals[server.world.graph.aws_sp_id]
    response = _metadata(server, sp["appId"])
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    root = fromstring(response.content)
    assert root.tag == f"{{{MD}}}EntityDescriptor"
    assert root.get("entityID") == f"https://sts.windows.net/{server.tenant}/"
    idp = root.find("md:IDPSSODescriptor", NS)
    assert idp.get("protocolSupportEnumeration") == "urn:oasis:names:tc:SAML:2.0:protocol"
    key = idp.find("md:KeyDescriptor", NS)
    assert key.get("use") == "signing"
    cert = key.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    assert _thumbprint(cert) == sp["preferredTokenSigningKeyThumbprint"]
    # Entra's app metadata names no NameID format (the NameID is the claims policy's, not the metadata's).
    assert idp.find("md:NameIDFormat", NS) is None
    # The WS-Federation section carries the same signing certificate.
    role = root.find("md:RoleDescriptor", NS)
    assert role.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "fed:SecurityTokenServiceType"
    assert role.find("md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text == cert
    endpoint = f"https://login.microsoftonline.com/{server.tenant}/saml2"
    assert {e.get("Location") for e in idp.findall("md:SingleSignOnService", NS)} == {endpoint}
    assert idp.find("md:SingleLogoutService", NS).get("Location") == endpoint


def test_metadata_signature_verifies(server):
    sp = server.world.graph.service_principals[server.world.graph.aws_sp_id]
    text = _metadata(server, sp["appId"]).text
    signature = fromstring(text.encode()).find("ds:Signature", NS)
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha256")
    assert signature.find("ds:SignedInfo/ds:Reference", NS).get("URI") == "#" + fromstring(text.encode()).get("ID")
    # Digest: the document without its Signature, canonicalized (Python's C14N 2.0 matches exc-c14n here).
    body = ET.canonicalize(xml_data=text.split("?>", 1)[1], exclude_tags={f"{{{DS}}}Signature"})
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert digest == signature.find("ds:SignedInfo/ds:Reference/ds:DigestValue", NS).text
    # Signature: over the canonical SignedInfo (which inherits the dsig default namespace), by the signing cert.
    signed_info = re.search(r"<SignedInfo>.*?</SignedInfo>", text).group(0)
    signed_info = ET.canonicalize(signed_info.replace("<SignedInfo>", f'<SignedInfo xmlns="{DS}">', 1))
    cert = x509.load_der_x509_certificate(base64.b64decode(
        signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text))
    cert.public_key().verify(base64.b64decode(signature.find("ds:SignatureValue", NS).text),
                             signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_metadata_follows_the_preferred_certificate():
    srv = GraphServer(world())
    try:
        store = srv.world.graph
        sp = store.service_principals[store.aws_sp_id]
        newer = store.signing_keys[sp["id"]][1]
        run(raw(srv.adapter(), f"/servicePrincipals/{sp['id']}", "PATCH",
                {"preferredTokenSigningKeyThumbprint": newer.thumbprint}))
        root = fromstring(_metadata(srv, sp["appId"]).content)
        cert = root.find("md:IDPSSODescriptor/md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    finally:
        srv.close()
    assert _thumbprint(cert) == newer.thumbprint


def test_metadata_errors(server):
    sp = server.world.graph.service_principals[server.world.graph.aws_sp_id]
    assert _metadata(server, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert _metadata(server, sp["appId"], tenant="someone-else.onmicrosoft.com").status_code == 400
    assert _metadata(server, sp["appId"], tenant="contoso.com").status_code == 200  # tenant by domain
