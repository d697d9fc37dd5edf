"""Tree heads of the transparency log, signed with the log key (Ed25519); no database.

The signature covers ``b"OCOP-LOG-STH-v1\\n" || size (8 bytes, big-endian) ||
timestamp in ms (8 bytes, big-endian) || root hash (32 bytes)``: fixed-size
fields, nothing to parse. Ed25519 signatures are deterministic, so the head of
a given size signs to the same bytes every time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import LogProblem
from .jwk import public_jwk, thumbprint
from .keystore import Keystore
from .signer import Ed25519Signer, Signer

CONTEXT = b"OCOP-LOG-STH-v1\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise LogProblem("%(what)s must be a base64 string", what=what)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise LogProblem("%(what)s is not valid base64", what=what) from None


@dataclass(frozen=True, slots=True)
class TreeHead:
    size: int
    timestamp: dt.datetime
    root: bytes

    @property
    def millis(self) -> int:
        return int(self.timestamp.timestamp() * 1000)

    def signed_bytes(self) -> bytes:
        return CONTEXT + struct.pack(">QQ", self.size, self.millis) + self.root

    def sign(self, signer: Signer) -> SignedTreeHead:
        return SignedTreeHead(self, signer.kid, signer.sign(self.signed_bytes()))


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    kid: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.head.size,
            "timestamp": self.head.millis,
            "root_hash": b64(self.head.root),
            "kid": self.kid,
            "signature": b64(self.signature),
        }

    @classmethod
    def from_json(cls, data: object) -> SignedTreeHead:
        if not isinstance(data, dict):
            raise LogProblem("a signed tree head must be a JSON object")
        size, millis = data.get("tree_size"), data.get("timestamp")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < 2**63:
            raise LogProblem("tree_size must be a whole number")
        if not isinstance(millis, int) or isinstance(millis, bool) or not 0 <= millis < 2**53:
            raise LogProblem("timestamp must be milliseconds since 1970")
        root = unb64(data.get("root_hash"), "root_hash")
        if len(root) != 32:
            raise LogProblem("root_hash must be 32 bytes")
        kid = data.get("kid")
        if not isinstance(kid, str):
            raise LogProblem("kid must be a string")
        at = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
        return cls(TreeHead(size, at, root), kid, unb64(data.get("signature"), "signature"))

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise :class:`LogProblem` unless the log key signed this head."""
        try:
            public_key.verify(self.signature, self.head.signed_bytes())
        except InvalidSignature:
            raise LogProblem(
                "the tree head of size %(size)s is not signed by the log key", size=self.head.size
            ) from None


def log_key_jwk(signer: Ed25519Signer) -> dict[str, Any]:
    jwk = dict(public_jwk(signer.public_key))
    jwk["kid"] = thumbprint(signer.public_key)
    jwk["use"] = "sig"
    return jwk


# --- the log key: alone in its own folder of the instance, under the keys' passphrase ---

LOG_KEY_FOLDER = "log-key"


def ensure_log_key(keystore: Keystore, instance: Path, configured: str = "") -> Ed25519Signer:
    """The log's signer; the first call on an instance without one makes it (init, demo).

    Kept apart from the issuer keys so that no list of issuer keys ever shows
    it; ``configured`` (OCOP_LOG_KEY) names its kid when the folder holds several.
    """
    store = keystore.beside(Path(instance) / LOG_KEY_FOLDER)
    if configured.strip():
        return store.load(configured.strip())
    if not store.kids():
        store.generate()
    # Two processes that both found no key both made one: each takes the first by
    # name, so they sign with the same key.
    return store.load(store.kids()[0])
