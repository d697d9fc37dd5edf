"""Errors of ``ocop.keys``.

The CLI and the HTTP layer catch :class:`KeysError` only and show ``str(error)``
as one line, so every message is written for the person who made the mistake.
"""

from __future__ import annotations

from ocop.trace.errors import DomainError


class KeysError(DomainError):
    """Base of every error this package raises on purpose; ``str()`` is the user message."""


class InvalidJWK(KeysError):
    """A JWK that is not an Ed25519 public key in the form RFC 8037 gives it."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"invalid JWK: {member}: {reason}")
        self.member = member
        self.reason = reason


class InvalidTrustList(KeysError):
    """A trust list that cannot be trusted as written; ``where`` names the bad member."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"invalid trust list: {where}: {reason}")
        self.where = where
        self.reason = reason


# --- keystore, passphrase and registry -------------------------------------------


class PassphraseUnavailable(KeysError):
    """No usable key passphrase: not set where it must be, or its file cannot be read."""


class WeakPassphrase(KeysError):
    """A production passphrase too short to protect the keys."""


class WrongPassphrase(KeysError):
    """The passphrase does not decrypt the keystore's keys."""


class KeyFileCorrupt(KeysError):
    """A key file that is truncated, damaged or not what its name says."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"key file {path} is corrupt: {reason}")
        self.path = path
        self.reason = reason


class FileAccessError(KeysError):
    """A key file, the keystore folder or an output file cannot be read or written."""


class KeyNotFound(KeysError):
    """No key with the kid given, in the registry or in the keystore."""


class KeyAlreadyRevoked(KeysError):
    """Revoking a key that is revoked already."""


class NoKeyToRotate(KeysError):
    """Rotating the key of an organisation that has none: create one first."""


class NoActiveKey(KeysError):
    """The organisation holds no active key, so it cannot sign."""


class ActiveKeyExists(KeysError):
    """Creating a key for an organisation that has an active one: rotate instead."""


class NotAnAuthority(KeysError):
    """Only authorities hold issuer keys."""


class OrganisationNotFound(KeysError):
    """No organisation, or no authority, matches what was asked."""


class AmbiguousOrganisation(KeysError):
    """Several authorities exist and none was named; the message lists them."""


class InvalidReason(KeysError):
    """A revocation reason that is empty or too long: the audit trail needs a real one."""
