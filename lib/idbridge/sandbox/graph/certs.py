"""Token-signing certificates: real self-signed X.509 (RSA 2048, SHA-256) made with `cryptography`.

RSA keys come from a small pool whose members are derived from their index by a hash-based generator (pure Python
prime search, ~0.4 s per key on a slow machine, cached per process). Certificates add the scenario's label to the
serial number, subject and dates, so the same scenario yields the same certificates and thumbprints on every run
(snapshots stay comparable) while a process pays for each pool key at most once.
"""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from idbridge.sandbox.graph.store import SigningKey

_E = 65537
_SMALL_PRIMES = [p for p in range(3, 3000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]
_PRIMORIAL = 1
for _p in _SMALL_PRIMES:
    _PRIMORIAL *= _p


class _Drbg:
    """SHA-256 in counter mode: a deterministic stream of bytes from a label (not for real secrets)."""

    def __init__(self, label: str):
        self._seed = hashlib.sha256(("idbridge-sandbox-rsa:" + label).encode()).digest()
        self._counter = 0

    def bytes(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return out[:n]

    def int_bits(self, bits: int) -> int:
        return int.from_bytes(self.bytes(bits // 8), "big")


def _probably_prime(n: int, rng: _Drbg, rounds: int = 6) -> bool:
    if math.gcd(n, _PRIMORIAL) != 1:  # one gcd instead of a loop of trial divisions
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for i in range(rounds):
        a = 2 if i == 0 else 3 + rng.int_bits(1024) % (n - 4)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: _Drbg, bits: int) -> int:
    while True:
        # Top two bits set so that p*q has exactly 2*bits bits; odd.
        candidate = rng.int_bits(bits) | (0b11 << (bits - 2)) | 1
        if candidate % _E != 1 and _probably_prime(candidate, rng):
            return candidate


@lru_cache(maxsize=32)
def rsa_key(index: int) -> rsa.RSAPrivateKey:
    """Pool key number `index`: a 2048-bit RSA key that depends only on the index."""
    rng = _Drbg(f"pool-{index}")
    p = _prime(rng, 1024)
    q = _prime(rng, 1024)
    while q == p:
        q = _prime(rng, 1024)
    d = pow(_E, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d, dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q), iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(_E, p * q),
    )
    return numbers.private_key()


def _subject(display_name: str) -> x509.Name:
    try:
        return x509.Name.from_rfc4514_string(display_name)
    except ValueError:  # not "CN=..." — Entra keeps the display name, the subject is then a plain CN
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, display_name.removeprefix("CN="))])


@lru_cache(maxsize=256)
def _certificate(pool_index: int, label: str, display_name: str, start: datetime, end: datetime) -> x509.Certificate:
    key = rsa_key(pool_index)
    name = _subject(display_name)
    serial = int.from_bytes(hashlib.sha256(("serial:" + label).encode()).digest()[:16], "big") >> 1 or 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(max(end, start))
    )
    # PKCS#1 v1.5 signatures are deterministic, so the whole certificate is.
    return builder.sign(key, hashes.SHA256())


def make_signing_key(pool_index: int, label: str, key_id: str, display_name: str, start: datetime,
                     end: datetime) -> SigningKey:
    """A signing certificate on pool key `pool_index`; `label` (unique per certificate) sets its serial number."""
    cert = _certificate(pool_index % 8, label, display_name, start, end)
    key = rsa_key(pool_index % 8)
    return SigningKey(
        key_id=key_id,
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        private_key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
        start=start,
        end=end,
    )


def certificate_der_b64(key: SigningKey) -> str:
    """The certificate as Graph's keyCredential.key and the metadata's X509Certificate carry it: base64 DER."""
    cert = x509.load_pem_x509_certificate(key.certificate_pem)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def custom_key_identifier(key: SigningKey) -> str:
    """Graph's customKeyIdentifier for a SAML signing certificate: the SHA-1 thumbprint bytes, base64."""
    return base64.b64encode(bytes.fromhex(key.thumbprint)).decode()


def custom_signing_key_identifier(key: SigningKey) -> str:
    """customKeyIdentifier of a signing key added the documented custom way (PATCH keyCredentials and
    passwordCredentials, application-saml-sso-configure-api): base64 of the SHA-256 of the thumbprint's ASCII hex,
    as the tutorial's sample computes it, 32 bytes, so no SHA-1 thumbprint can be read from it."""
    return base64.b64encode(hashlib.sha256(key.thumbprint.encode("ascii")).digest()).decode()


def load_private_key(key: SigningKey) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(key.private_key_pem, password=None)  # type: ignore[return-value]
