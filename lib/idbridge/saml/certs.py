"""X.509 certificates as SAML metadata carries them (base64 DER in ds:X509Certificate), read with `cryptography`.

The SHA-1 thumbprint is upper-case hex, the form Graph uses for preferredTokenSigningKeyThumbprint and Entra and
the Identity Center console show, so a certificate from a file can be matched with the app's keyCredentials.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

_WHITESPACE = re.compile(r"\s+")
_PEM_ARMOUR = re.compile(r"-----(BEGIN|END) CERTIFICATE-----")
_DAY = timedelta(days=1)
IDC_CERTIFICATE_MAX_CHARS = 2500  # Identity Center's IdP certificate quota (shared reference §1c, archived page)


class CertificateError(ValueError):
    """Not a certificate: the message says why, in words."""


@dataclass(frozen=True)
class CertificateInfo:
    thumbprint: str          # SHA-1, upper-case hex (Graph / Entra / console form)
    sha256: str              # SHA-256, upper-case hex
    subject: str             # RFC 4514, e.g. "CN=Microsoft Azure Federated SSO Certificate"
    issuer: str
    serial: str
    not_before: datetime     # UTC
    not_after: datetime      # UTC
    days_left: int           # whole days from `now` to not_after; negative once expired
    base64_chars: int        # length of the base64 text (Identity Center refuses certificates over 2500)

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def describe(self) -> str:
        return f"{self.subject} (thumbprint {self.thumbprint}, valid until {self.not_after:%Y-%m-%d})"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_certificate(b64_text: str, now: datetime | None = None) -> CertificateInfo:
    """A base64 DER certificate (whitespace allowed, as in pretty-printed metadata) -> CertificateInfo.
    Raises CertificateError for text that is not base64 or not a DER X.509 certificate."""
    # Some tools paste PEM into the element: keep the base64 between the armour lines.
    compact = _WHITESPACE.sub("", _PEM_ARMOUR.sub("", b64_text or ""))
    if not compact:
        raise CertificateError("the certificate element is empty")
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateError(f"not valid base64 ({exc})") from None
    try:
        cert = x509.load_der_x509_certificate(der)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    except Exception:  # untrusted bytes: whatever cryptography objects to, the answer is "not a certificate"
        raise CertificateError(f"base64 of {len(der)} bytes that are not a DER X.509 certificate") from None
    now = _utc(now or datetime.now(timezone.utc))
    # Floor division: a certificate ending in 12 hours has 0 days left, one that ended an hour ago has -1.
    days_left = (not_after - now) // _DAY
    return CertificateInfo(
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        sha256=cert.fingerprint(hashes.SHA256()).hex().upper(),
        subject=subject, issuer=issuer, serial=format(cert.serial_number, "X"),
        not_before=not_before, not_after=not_after, days_left=int(days_left),
        base64_chars=len(base64.b64encode(cert.public_bytes(Encoding.DER))),
    )


def key_credential_thumbprint(key: dict) -> str | None:
    """SHA-1 thumbprint of a certificate keyCredential, upper-case hex as Graph writes thumbprints elsewhere.

    keyCredential has no thumbprint property: for certificates Entra stores the thumbprint bytes base64 in
    customKeyIdentifier; when the certificate itself (`key`) came back, its hash is the surer source."""
    if key.get("key"):
        try:
            return hashlib.sha1(base64.b64decode(key["key"])).hexdigest().upper()
        except (binascii.Error, ValueError):
            pass
    custom = key.get("customKeyIdentifier")
    if custom:
        try:
            raw = base64.b64decode(custom)
        except (binascii.Error, ValueError):
            return None
        if len(raw) == 20:
            return raw.hex().upper()
    return None
