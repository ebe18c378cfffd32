"""The two SAML metadata documents of the bridge, read safely into small dataclasses.

- AWS service-provider metadata: downloaded from IAM Identity Center (Settings › Identity source › Change identity
  source › External identity provider › Service provider metadata). entityID = the issuer URL, the ACS URL(s),
  NameIDFormat, and the SP signing certificate if present. No API reads it, so this file is how the ACS id and
  the issuer can be checked exactly.
- Entra federation metadata: https://login.microsoftonline.com/{tenant}/federationmetadata/2007-06/
  federationmetadata.xml?appid={appId}. entityID = https://sts.windows.net/{tenant}/, the token-signing
  certificate, the SAML endpoints.

Both are untrusted files: parsing refuses DTDs, entities and external references (metadata_xml). Every problem is
an InputError naming the file and where; an expired certificate is not an error (the file is still what it is)
but is reported in `warnings` and by `CertificateInfo.expired`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from idbridge.errors import InputError
from idbridge.saml.certs import IDC_CERTIFICATE_MAX_CHARS, CertificateError, CertificateInfo, parse_certificate
from idbridge.saml.safexml import XmlDocument, parse_xml, read_source
from idbridge.saml.urls import EMAIL_FORMAT, parse_acs, parse_issuer, unsupported_partition_host

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
_TENANT_ENTITY = re.compile(r"^https://sts\.windows\.net/(?P<tenant>[0-9a-fA-F-]{36})/$")

__all__ = ["CertificateInfo", "Endpoint", "IdpMetadata", "SpMetadata", "parse_idp_metadata", "parse_sp_metadata"]


@dataclass(frozen=True)
class Endpoint:
    binding: str | None
    location: str
    index: int | None = None
    is_default: bool | None = None


@dataclass(frozen=True)
class SpMetadata:
    file: str
    entity_id: str                              # the Identity Center issuer URL
    acs: tuple[Endpoint, ...]                   # AssertionConsumerService, document order
    name_id_formats: tuple[str, ...]
    signing_certificates: tuple[CertificateInfo, ...]
    want_assertions_signed: bool | None
    region: str | None                          # from the issuer URL, when it has the documented shape
    identity_store_id: str | None
    warnings: tuple[str, ...] = ()

    @property
    def acs_urls(self) -> list[str]:
        return [e.location for e in self.acs]

    @property
    def default_acs(self) -> Endpoint:
        return next((e for e in self.acs if e.is_default), None) or min(
            self.acs, key=lambda e: e.index if e.index is not None else 1 << 30)


@dataclass(frozen=True)
class IdpMetadata:
    file: str
    entity_id: str                              # https://sts.windows.net/{tenant}/
    tenant_id: str | None
    signing_certificates: tuple[CertificateInfo, ...]
    sso_services: tuple[Endpoint, ...]
    slo_services: tuple[Endpoint, ...]
    name_id_formats: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def signing_certificate(self) -> CertificateInfo:
        """The certificate Entra signs with: Entra's app metadata publishes the active one only."""
        return self.signing_certificates[0]


# ------------------------------------------------------------------------------------------------ helpers


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag


def _root(doc: XmlDocument, descriptor: str) -> Element:
    namespace, name = _local(doc.root.tag)
    if name != "EntityDescriptor":
        hint = " (an aggregate of several entities: give the single EntityDescriptor document)" \
            if name == "EntitiesDescriptor" else ""
        raise InputError(doc.file, f"{doc.where(doc.root)}the root element is <{name}>, expected a SAML 2.0 "
                                   f"<EntityDescriptor> with an {descriptor}{hint}")
    if namespace != MD:
        raise InputError(doc.file, f"{doc.where(doc.root)}<EntityDescriptor> is in namespace "
                                   f"{namespace or '(none)'}, expected the SAML 2.0 metadata namespace {MD}")
    return doc.root


def _descriptor(doc: XmlDocument, root: Element, wanted: str, other: str, other_is: str) -> Element:
    found = root.find(f"{{{MD}}}{wanted}")
    if found is not None:
        return found
    if root.find(f"{{{MD}}}{other}") is not None:
        raise InputError(doc.file, f"has an <{other}> and no <{wanted}>: this is {other_is}")
    raise InputError(doc.file, f"{doc.where(root)}<EntityDescriptor> has no <{wanted}>")


def _entity_id(doc: XmlDocument, root: Element, problems: list[str]) -> str:
    entity_id = (root.get("entityID") or "").strip()
    if not entity_id:
        problems.append(f"{doc.where(root)}<EntityDescriptor> has no entityID attribute")
    return entity_id


def _endpoints(doc: XmlDocument, parent: Element, name: str, problems: list[str]) -> tuple[Endpoint, ...]:
    out = []
    for number, element in enumerate(parent.findall(f"{{{MD}}}{name}"), start=1):
        location = (element.get("Location") or "").strip()
        if not location:
            problems.append(f"{doc.where(element)}<{name}> #{number} has no Location")
            continue
        index = element.get("index")
        default = element.get("isDefault")
        out.append(Endpoint(binding=element.get("Binding"), location=location,
                            index=int(index) if index and index.strip().isdigit() else None,
                            is_default=None if default is None else default.strip().lower() in ("true", "1")))
    return tuple(out)


def _certificates(doc: XmlDocument, descriptor: Element, now: datetime | None,
                  problems: list[str]) -> tuple[CertificateInfo, ...]:
    """Certificates of the KeyDescriptors used for signing (use="signing", or no use: both uses)."""
    out = []
    for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
        if (key.get("use") or "signing") != "signing":
            continue
        elements = key.findall(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
        if not elements:
            problems.append(f"{doc.where(key)}<KeyDescriptor use=\"signing\"> holds no "
                            "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>")
        for element in elements:
            try:
                out.append(parse_certificate(element.text or "", now))
            except CertificateError as exc:
                problems.append(f"{doc.where(element)}<X509Certificate> of the signing <KeyDescriptor>: {exc}")
    return tuple(out)


def _formats(descriptor: Element) -> tuple[str, ...]:
    return tuple((e.text or "").strip() for e in descriptor.findall(f"{{{MD}}}NameIDFormat") if (e.text or "").strip())


def _certificate_warnings(certificates: tuple[CertificateInfo, ...], who: str) -> list[str]:
    out = []
    for cert in certificates:
        if cert.expired:
            out.append(f"the {who} signing certificate {cert.describe()} has expired")
    return out


# ------------------------------------------------------------------------------------------------ parsers


def parse_sp_metadata(source: str | Path | bytes, *, name: str | None = None,
                      now: datetime | None = None) -> SpMetadata:
    """The AWS IAM Identity Center service-provider metadata file (a path, or bytes with a display name)."""
    data, file = read_source(source, name)
    doc = parse_xml(data, file)
    root = _root(doc, "SPSSODescriptor")
    descriptor = _descriptor(doc, root, "SPSSODescriptor", "IDPSSODescriptor",
                             "identity-provider metadata (e.g. Entra's federation metadata), not the AWS "
                             "service-provider metadata")
    problems: list[str] = []
    entity_id = _entity_id(doc, root, problems)
    acs = _endpoints(doc, descriptor, "AssertionConsumerService", problems)
    if not acs and not any("AssertionConsumerService" in p for p in problems):
        problems.append(f"{doc.where(descriptor)}<SPSSODescriptor> has no <AssertionConsumerService>")
    certificates = _certificates(doc, descriptor, now, problems)
    if problems:
        raise InputError(file, problems)

    warnings = _certificate_warnings(certificates, "service provider")
    issuer = parse_issuer(entity_id)
    if issuer is None and unsupported_partition_host(entity_id):
        warnings.append(f"entityID {entity_id} is in another AWS partition (GovCloud or China): partition not "
                        "supported, its URLs are not checked")
    elif issuer is None:
        warnings.append(f"entityID {entity_id} is not an Identity Center issuer URL "
                        "(https://<region>.signin.aws.amazon.com/platform/saml/<store id>)")
    warnings += [f"ACS URL {e.location} is not in the Identity Center form "
                 "https://<region>.signin.aws[.amazon.com]/platform/saml/acs/<id>"
                 for e in acs if not parse_acs(e.location) and not unsupported_partition_host(e.location)]
    formats = _formats(descriptor)
    if formats and EMAIL_FORMAT not in formats:
        warnings.append(f"NameIDFormat {', '.join(formats)}: Identity Center requires {EMAIL_FORMAT}")
    signed = descriptor.get("WantAssertionsSigned")
    return SpMetadata(file=file, entity_id=entity_id, acs=acs, name_id_formats=formats,
                      signing_certificates=certificates,
                      want_assertions_signed=None if signed is None else signed.strip().lower() in ("true", "1"),
                      region=issuer.region if issuer else None,
                      identity_store_id=issuer.store_id if issuer else None, warnings=tuple(warnings))


def parse_idp_metadata(source: str | Path | bytes, *, name: str | None = None,
                       now: datetime | None = None) -> IdpMetadata:
    """The Entra federation metadata XML of the AWS app (a path, or bytes with a display name)."""
    data, file = read_source(source, name)
    doc = parse_xml(data, file)
    root = _root(doc, "IDPSSODescriptor")
    descriptor = _descriptor(doc, root, "IDPSSODescriptor", "SPSSODescriptor",
                             "service-provider metadata (e.g. the AWS file), not Entra's federation metadata")
    problems: list[str] = []
    entity_id = _entity_id(doc, root, problems)
    certificates = _certificates(doc, descriptor, now, problems)
    if not certificates and not any("X509Certificate" in p for p in problems):
        problems.append(f"{doc.where(descriptor)}<IDPSSODescriptor> has no signing <KeyDescriptor> with a "
                        "certificate")
    sso = _endpoints(doc, descriptor, "SingleSignOnService", problems)
    if not sso and not any("SingleSignOnService" in p for p in problems):
        problems.append(f"{doc.where(descriptor)}<IDPSSODescriptor> has no <SingleSignOnService>")
    slo = _endpoints(doc, descriptor, "SingleLogoutService", problems)
    if problems:
        raise InputError(file, problems)

    warnings = _certificate_warnings(certificates, "Entra")
    match = _TENANT_ENTITY.match(entity_id)
    tenant = match["tenant"].lower() if match else None
    if tenant is None:
        warnings.append(f"entityID {entity_id} is not Entra's https://sts.windows.net/<tenant id>/")
    else:
        expected = f"https://login.microsoftonline.com/{tenant}/saml2"
        warnings += [f"SingleSignOnService {e.location} is not {expected}" for e in sso
                     if e.location.rstrip("/").lower() != expected]
    warnings += [f"the signing certificate {c.describe()} is {c.base64_chars} characters of base64: Identity Center "
                 f"accepts at most {IDC_CERTIFICATE_MAX_CHARS}" for c in certificates
                 if c.base64_chars > IDC_CERTIFICATE_MAX_CHARS]
    return IdpMetadata(file=file, entity_id=entity_id, tenant_id=tenant, signing_certificates=certificates,
                       sso_services=sso, slo_services=slo, name_id_formats=_formats(descriptor),
                       warnings=tuple(warnings))

