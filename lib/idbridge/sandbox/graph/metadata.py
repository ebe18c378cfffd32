"""The app-specific SAML federation metadata document Entra publishes at
https://login.microsoftonline.com/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}.

Its elements are the ones Microsoft's federation-metadata page documents (tests/contract/fixtures/login/
federationmetadata.json): the enveloped signature, the WS-Federation RoleDescriptor (SecurityTokenServiceType) with
the signing key and the passive requestor endpoint, and the IDPSSODescriptor with the signing key, the logout and
sign-on endpoints; no NameIDFormat (Entra's app metadata has none). The document is written without whitespace
between elements and empty elements as start/end pairs; the digest is taken over its exclusive canonical form,
and the signature is a real RSA-SHA256 XML-DSig signature by the application's active token-signing certificate,
which a SAML library can verify.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from idbridge.sandbox.graph.certs import certificate_der_b64, load_private_key
from idbridge.sandbox.graph.store import GraphStore, Json, SigningKey
from idbridge.sandbox.scenario import stable_id

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FED = "http://docs.oasis-open.org/wsfed/federation/200706"
WSA = "http://www.w3.org/2005/08/addressing"


def _attr(value: str) -> str:
    # c14n attribute escaping: & < " and the whitespace characters tab, LF, CR.
    return escape(value, {'"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;"})


def _text(value: str) -> str:
    return escape(value, {"\r": "&#xD;"})


def _empty(name: str, **attrs: str) -> str:
    rendered = "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items())
    return f"<{name}{rendered}></{name}>"


def active_key(store: GraphStore, sp: Json) -> SigningKey | None:
    """The preferred token-signing key, else the newest one."""
    keys = store.signing_keys.get(sp["id"], [])
    preferred = sp.get("preferredTokenSigningKeyThumbprint")
    match = next((k for k in keys if preferred and k.thumbprint == preferred.upper()), None)
    return match or (max(keys, key=lambda k: k.start) if keys else None)


def federation_metadata(store: GraphStore, sp: Json, key: SigningKey) -> bytes:
    tenant = store.tenant["id"]
    entity_id = f"https://sts.windows.net/{tenant}/"
    endpoint = f"https://login.microsoftonline.com/{tenant}/saml2"
    ref_id = "_" + stable_id(tenant, "metadata", sp["appId"], key.thumbprint)
    cert = certificate_der_b64(key)
    key_info = f'<KeyInfo xmlns="{DS}"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo>'
    wsfed = f"https://login.microsoftonline.com/{tenant}/wsfed"
    role = (  # the WS-Federation section: the same signing key, and where passive (browser) sign-in goes
        f'<RoleDescriptor xmlns:xsi="{XSI}" xmlns:fed="{FED}" xsi:type="fed:SecurityTokenServiceType" '
        f'protocolSupportEnumeration="{FED}"><KeyDescriptor use="signing">{key_info}</KeyDescriptor>'
        f'<fed:PassiveRequestorEndpoint><EndpointReference xmlns="{WSA}"><Address>{_text(wsfed)}</Address>'
        "</EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor>"
    )
    descriptor = (
        f'<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<KeyDescriptor use="signing">{key_info}</KeyDescriptor>'
        + _empty("SingleLogoutService", Binding=REDIRECT, Location=endpoint)
        + _empty("SingleSignOnService", Binding=REDIRECT, Location=endpoint)
        + _empty("SingleSignOnService", Binding=POST, Location=endpoint)
        + "</IDPSSODescriptor>"
    )
    head = f'<EntityDescriptor xmlns="{MD}" ID="{_attr(ref_id)}" entityID="{_attr(entity_id)}">'
    tail = "</EntityDescriptor>"

    # Enveloped signature: the digest covers the document without the Signature element in exclusive canonical
    # form (which moves xmlns:fed down to the element that uses the prefix; Python's C14N 2.0 does the same).
    canonical = ET.canonicalize(head + role + descriptor + tail)
    digest = base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()
    signed_info_body = (
        _empty("CanonicalizationMethod", Algorithm=EXC_C14N)
        + _empty("SignatureMethod", Algorithm=RSA_SHA256)
        + f'<Reference URI="#{_attr(ref_id)}"><Transforms>'
        + _empty("Transform", Algorithm=ENVELOPED) + _empty("Transform", Algorithm=EXC_C14N)
        + "</Transforms>" + _empty("DigestMethod", Algorithm=SHA256)
        + f"<DigestValue>{digest}</DigestValue></Reference>"
    )
    # Canonicalized on its own, SignedInfo carries the dsig default namespace declaration.
    canonical_signed_info = f'<SignedInfo xmlns="{DS}">{signed_info_body}</SignedInfo>'
    signature_value = base64.b64encode(load_private_key(key).sign(
        canonical_signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    signature = (f'<Signature xmlns="{DS}"><SignedInfo>{signed_info_body}</SignedInfo>'
                 f"<SignatureValue>{signature_value}</SignatureValue>"
                 f"<KeyInfo><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></Signature>")
    return ('<?xml version="1.0" encoding="utf-8"?>' + head + signature + role + descriptor + tail).encode()
