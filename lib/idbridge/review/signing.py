"""Signed review packs: a returned decision counts only in the pack it was sent in.

An unkeyed checksum lets a reviewer who copies another pack's row and key into their own pack recompute it, and
get a Remove on another owner's access accepted. So each pack is bound to its round, reviewer and rows with
HMAC-SHA256 under a key the engagement keeps (`review.signing_key` of the parameters, a secret reference such as
`env:IDBRIDGE_REVIEW_KEY`), written into the hidden _meta sheet:

    signature   "hmac-sha256:" + HMAC(key, the pack's fields (SIGNED_FIELDS) and its sorted keys)
    key_id      HMAC(key, a constant), 16 hex digits: which key signed, so that a changed key is told apart
                from an edited pack; it reveals nothing of the key
    E column    per key, HMAC(key, the pack's round, scope, reviewer and that key), 32 hex digits: a row copied
                in from another pack is named by its cell

The key itself is never written anywhere. Without a key packs are written "unsigned" (logged, and said in
_meta); reading them back is refused unless `review.allow_unsigned: true`.

The sandbox's parameters use `sandbox:review-signing-key` (core/secrets.py): a fixed, public key, allowed only
when `sandbox: true`, so that the demo, JupyterLab on the sandbox and the tests sign and verify packs with
nothing to set up.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

from idbridge.core import secrets
from idbridge.errors import InputError
from idbridge.review.layout import cell_text, clean

SCHEME = "hmac-sha256:"
UNSIGNED = "unsigned: written without review.signing_key, so its decisions could be forged"
SIGNED_FIELDS = ("format", "engagement", "snapshot_id", "collected_at", "scope", "scope_key", "reviewer",
                 "written_at", "deadline", "requested_by")
ROW_FIELDS = ("engagement", "snapshot_id", "scope", "scope_key", "reviewer")
MIN_KEY_CHARS = 16
PARAMETER = "review.signing_key"


def _canonical(value) -> str:
    """A _meta value as written (layout.cell_text) and as read back."""
    return clean(cell_text(clean(value)))


@dataclass(frozen=True, repr=False, eq=False)
class SigningKey:
    """The engagement's review signing key. Its repr and str never show it."""

    secret: bytes

    def __repr__(self) -> str:
        return f"SigningKey(id={self.id})"

    __str__ = __repr__

    def _mac(self, *parts) -> str:
        message = json.dumps([_canonical(p) if not isinstance(p, list) else p for p in parts],
                             ensure_ascii=False, separators=(",", ":"))
        return hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).hexdigest()

    @property
    def id(self) -> str:
        return self._mac("idbridge review signing key id")[:16]

    def pack(self, fields: dict, keys: Iterable[str]) -> str:
        """The pack's signature: its fields and its (sorted) keys."""
        return SCHEME + self._mac("pack", *(fields.get(f) for f in SIGNED_FIELDS), sorted(map(_canonical, keys)))

    def row(self, fields: dict, key: str) -> str:
        """The tag of one key in one pack."""
        return self._mac("row", *(fields.get(f) for f in ROW_FIELDS), key)[:32]

    @staticmethod
    def verifies(expected: str, given: str) -> bool:
        """Constant-time comparison of a signature or tag with the one a pack holds."""
        return hmac.compare_digest(expected.encode(), _canonical(given).encode())


def signing_key(value: SigningKey | str | bytes | None) -> SigningKey | None:
    if value is None or isinstance(value, SigningKey):
        return value
    secret = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(secret) < MIN_KEY_CHARS:
        raise ValueError(f"a review signing key needs at least {MIN_KEY_CHARS} characters")
    return SigningKey(secret)


def from_parameters(params, file: str = "parameters") -> SigningKey | None:
    """The key `review.signing_key` refers to, resolved now; None when the parameters name none. Errors
    (InputError) name the file and key, never the value."""
    reference = params.review.signing_key
    if not reference:
        return None
    value = secrets.resolve(reference, file=str(file), key=PARAMETER, aws=params.aws)
    if len(value.encode("utf-8")) < MIN_KEY_CHARS:
        raise InputError(file, f"{PARAMETER}: the key {reference} refers to is shorter than {MIN_KEY_CHARS} "
                               "characters: use a long random one, e.g. the output of "
                               "`python -c \"import secrets; print(secrets.token_urlsafe(32))\"`")
    return SigningKey(value.encode("utf-8"))
