"""Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): the envelope of every
signed trust statement (certificates, revocations, root rotations, the trust list).

Pure, no database. Only what we sign is accepted: alg ``EdDSA``, a ``typ`` the
caller names, a ``kid`` (the signer's RFC 7638 thumbprint), nothing critical.
A generic JOSE library reads what this writes (docs/trust-list.md shows how).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import MalformedStatement
from .jwk import b64url_decode, b64url_encode
from .signer import Signer

# A trust list of a few thousand keys is a few MB; anything far past that is not ours.
MAX_JWS_LENGTH = 8_000_000
_HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})


@dataclass(frozen=True, slots=True)
class Jws:
    """A compact JWS split and decoded; its signature NOT yet checked."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    signing_input: bytes
    signature: bytes
    compact: str

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    def verified_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(self.signature, self.signing_input)
        except InvalidSignature:
            return False
        return True


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_compact(signer: Signer, typ: str, payload: Mapping[str, Any]) -> str:
    """``payload`` signed by ``signer`` as a compact JWS with ``typ`` in its header."""
    header = {"alg": "EdDSA", "kid": signer.kid, "typ": typ}
    signing_input = (
        b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))
    )
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def parse_compact(text: object, typ: str, what: str) -> Jws:
    """Split a compact JWS of type ``typ``; raises :class:`MalformedStatement` naming ``what``."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("ascii").strip()
        except UnicodeDecodeError:
            raise MalformedStatement(what, "is not ASCII text") from None
    if not isinstance(text, str):
        raise MalformedStatement(what, "must be a compact JWS string")
    if len(text) > MAX_JWS_LENGTH:
        raise MalformedStatement(what, "is longer than %(most)s characters", most=MAX_JWS_LENGTH)
    parts = text.strip().split(".")
    if len(parts) != 3:
        raise MalformedStatement(what, "is not a compact JWS (three base64url parts)")
    try:
        raw = [b64url_decode(part) for part in parts]
    except ValueError:
        raise MalformedStatement(what, "is not a compact JWS (three base64url parts)") from None
    header, payload = _object(raw[0], what, "header"), _object(raw[1], what, "payload")
    if header.get("alg") != "EdDSA":
        raise MalformedStatement(what, 'its header must say "alg": "EdDSA"')
    if header.get("typ") != typ:
        raise MalformedStatement(what, 'its header must say "typ": "%(typ)s"', typ=typ)
    if not isinstance(header.get("kid"), str):
        raise MalformedStatement(what, 'its header must name the signer ("kid")')
    if set(header) - _HEADER_MEMBERS:
        # "crit" and friends: we understand none, so we accept none.
        raise MalformedStatement(what, "its header has members we do not understand")
    if len(raw[2]) != 64:
        raise MalformedStatement(what, "its signature is not 64 bytes")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Jws(header, payload, signing_input, raw[2], text.strip())


def _object(data: bytes, what: str, part: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_bad)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedStatement(what, "its %(part)s is not JSON", part=part) from None
    if not isinstance(value, dict):
        raise MalformedStatement(what, "its %(part)s is not a JSON object", part=part)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise ValueError("repeated member")
        members[name] = value
    return members


def _bad(name: str) -> None:
    raise ValueError(name)
