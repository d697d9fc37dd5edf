"""What signs stamps: a protocol, and the in-memory Ed25519 implementation.

Issuance only needs ``kid`` and ``sign``, so a hardware module (PKCS#11, a
cloud KMS) can replace :class:`Ed25519Signer` without touching stamps/.
"""

from __future__ import annotations

from typing import NoReturn, Protocol, SupportsIndex

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .jwk import thumbprint


class Signer(Protocol):
    """Signs messages with one Ed25519 key, named by its full RFC 7638 thumbprint."""

    @property
    def kid(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer:
    """A :class:`Signer` over a private key held in this process's memory.

    It never shows its key: repr and str name the kid only, and it refuses to
    be pickled or copied, so the key cannot leave through a log line, a
    cache or a task queue by accident.
    """

    __slots__ = ("_key", "_kid")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("Ed25519Signer needs an Ed25519PrivateKey")
        self._key = private_key
        self._kid = thumbprint(private_key.public_key())

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer(kid={self._kid!r})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("an Ed25519Signer holds a private key and cannot be pickled or copied")
