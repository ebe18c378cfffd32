"""The app-specific SAML federation metadata document Entra publishes at
https://login.microsoftonline.com/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}.

The document is written directly in Exclusive XML Canonicalization form (no whitespace between elements,
attributes in canonical order, namespace declarations where c14n puts them, empty elements as start/end pairs),
so its own text is the canonical form the enveloped signature covers. The signature is a real RSA-SHA256
XML-DSig signature by the application's active token-signing certificate, which a SAML library can verify.
"""

from __future__ import annotations

import base64
import hashlib
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
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
_FORMAT_URNS = {"emailAddress": EMAIL_FORMAT,
                "persistent": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                "unspecified": "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
                "windowsDomainQualifiedName": "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName"}


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


def name_id_format(store: GraphStore, sp: Json) -> str:
    """The NameID format the app's claims policy emits (Entra's default for gallery SAML apps: emailAddress)."""
    policy = store.claims_policies.get(sp["id"]) or {}
    for claim in policy.get("claims", []):
        if claim.get("@odata.type") == "#microsoft.graph.samlNameIdClaim":
            fmt = claim.get("nameIdFormat") or "emailAddress"
            return _FORMAT_URNS.get(fmt, fmt if fmt.startswith("urn:") else EMAIL_FORMAT)
    return EMAIL_FORMAT


def federation_metadata(store: GraphStore, sp: Json, key: SigningKey) -> bytes:
    tenant = store.tenant["id"]
    entity_id = f"https://sts.windows.net/{tenant}/"
    endpoint = f"https://login.microsoftonline.com/{tenant}/saml2"
    ref_id = "_" + stable_id(tenant, "metadata", sp["appId"], key.thumbprint)
    cert = certificate_der_b64(key)
    key_info = f'<KeyInfo xmlns="{DS}"><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo>'
    descriptor = (
        f'<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<KeyDescriptor use="signing">{key_info}</KeyDescriptor>'
        + _empty("SingleLogoutService", Binding=REDIRECT, Location=endpoint)
        + f"<NameIDFormat>{_text(name_id_format(store, sp))}</NameIDFormat>"
        + _empty("SingleSignOnService", Binding=REDIRECT, Location=endpoint)
        + _empty("SingleSignOnService", Binding=POST, Location=endpoint)
        + "</IDPSSODescriptor>"
    )
    head = f'<EntityDescriptor xmlns="{MD}" ID="{_attr(ref_id)}" entityID="{_attr(entity_id)}">'
    tail = "</EntityDescriptor>"

    # Enveloped signature: the digest covers the document without the Signature element, canonicalized.
    digest = base64.b64encode(hashlib.sha256((head + descriptor + tail).encode()).digest()).decode()
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
    return ('<?xml version="1.0" encoding="utf-8"?>' + head + signature + descriptor + tail).encode()
