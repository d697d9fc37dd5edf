"""Ed25519 public keys as JWKs (RFC 8037) and their thumbprints (RFC 7638).

Pure functions, no database: the key registry, the trust list and the stamp
token all name a key by the same thumbprint computed here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import InvalidJWK

KID_PREFIX_LENGTH = 8
_KEY_LENGTH = 32
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# "Ed25519" is the fully specified name of RFC 9864; older JWKs say "EdDSA".
_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`; raises ``ValueError`` on anything else.

    Only the canonical spelling passes: no padding, no white space, no set
    trailing bits. Otherwise two different strings would name one key.
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not base64url without padding") from error
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url (trailing bits set)")
    return data


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The bare OKP JWK of ``public_key``: only the members its thumbprint covers."""
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(_raw(public_key))}


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url: the key's ``kid``."""
    canonical = json.dumps(public_jwk(public_key), sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


@functools.cache
def kid_prefix(kid: str) -> bytes:
    """The first 8 bytes of a thumbprint: what a stamp carries to name its key.

    8 bytes keep the QR small; a verifier tries every key sharing them.
    """
    digest = b64url_decode(kid)
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError("a kid is a base64url SHA-256 thumbprint (43 characters)")
    return digest[:KID_PREFIX_LENGTH]


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 public key of an OKP JWK; raises :class:`InvalidJWK` naming the member.

    A JWK holding ``d`` is refused: private key material has no place in a
    published key, and accepting it quietly would hide the leak.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidJWK("(key)", "must be a JSON object")
    _expect(jwk, "kty", "OKP")
    _expect(jwk, "crv", "Ed25519")
    if "d" in jwk:
        raise InvalidJWK("d", "private key material must never be published")
    if "use" in jwk and jwk["use"] != "sig":
        raise InvalidJWK("use", 'must be "sig" when present')
    if "alg" in jwk and not (isinstance(jwk["alg"], str) and jwk["alg"] in _ALGORITHMS):
        raise InvalidJWK("alg", 'must be "EdDSA" when present')
    try:
        # A missing x reads as "": refused below as the wrong length, like any bad value.
        raw = b64url_decode(jwk.get("x", ""))
    except ValueError:
        raw = b""
    if len(raw) != _KEY_LENGTH:
        raise InvalidJWK("x", "must be the 32-byte public key in base64url without padding")
    return Ed25519PublicKey.from_public_bytes(raw)


def _expect(jwk: Mapping[str, Any], member: str, value: str) -> None:
    if jwk.get(member) != value:
        raise InvalidJWK(member, 'must be "%(value)s"', value=value)
