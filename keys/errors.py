"""Errors of ``ocop.keys``.

The CLI and the HTTP layer catch the domain base class only and show the
message as one line, in the reader's language, so every message is written for
the person who made the mistake.
"""

from __future__ import annotations

from ocop.trace.errors import DomainError, Renderable, as_phrase


class KeysError(DomainError):
    """Base of every error this package raises on purpose; ``str()`` is the user message."""

    code = "keys_error"


class InvalidJWK(KeysError):
    """A JWK that is not an Ed25519 public key in the form RFC 8037 gives it."""

    code = "invalid_jwk"
    template_arg = 1

    def __init__(self, member: str, reason: str | Renderable, /, **params: object) -> None:
        self.member = member
        self.reason = as_phrase(reason, params)
        super().__init__("invalid JWK: %(member)s: %(reason)s", member=member, reason=self.reason)


class InvalidTrustList(KeysError):
    """A trust list that cannot be trusted as written; ``where`` names the bad member."""

    code = "invalid_trust_list"
    template_arg = 1

    def __init__(self, where: str, reason: str | Renderable, /, **params: object) -> None:
        self.where = where
        self.reason = as_phrase(reason, params)
        super().__init__(
            "invalid trust list: %(where)s: %(reason)s", where=where, reason=self.reason
        )


# --- keystore, passphrase and registry -------------------------------------------


class PassphraseUnavailable(KeysError):
    """No usable key passphrase: not set where it must be, or its file cannot be read."""

    code = "passphrase_unavailable"


class WeakPassphrase(KeysError):
    """A production passphrase too short to protect the keys."""

    code = "weak_passphrase"


class WrongPassphrase(KeysError):
    """The passphrase does not decrypt the keystore's keys."""

    code = "wrong_passphrase"


class KeyFileCorrupt(KeysError):
    """A key file that is truncated, damaged or not what its name says."""

    code = "key_file_corrupt"
    template_arg = 1

    def __init__(self, path: object, reason: str | Renderable, /, **params: object) -> None:
        self.path = path
        self.reason = as_phrase(reason, params)
        super().__init__("key file %(path)s is corrupt: %(reason)s", path=path, reason=self.reason)


class FileAccessError(KeysError):
    """A key file, the keystore folder or an output file cannot be read or written."""

    code = "file_access"


class KeyNotFound(KeysError):
    """No key with the kid given, in the registry or in the keystore."""

    code = "key_not_found"


class KeyAlreadyRevoked(KeysError):
    """Revoking a key that is revoked already."""

    code = "key_already_revoked"


class NoKeyToRotate(KeysError):
    """Rotating the key of an organisation that has none: create one first."""

    code = "no_key_to_rotate"


class NoActiveKey(KeysError):
    """The organisation holds no active key, so it cannot sign."""

    code = "no_active_key"


class ActiveKeyExists(KeysError):
    """Creating a key for an organisation that has an active one: rotate instead."""

    code = "active_key_exists"


class NotAnAuthority(KeysError):
    """Only authorities hold issuer keys."""

    code = "not_an_authority"


class OrganisationNotFound(KeysError):
    """No organisation, or no authority, matches what was asked."""

    code = "organisation_not_found"


class AmbiguousOrganisation(KeysError):
    """Several authorities exist and none was named; the message lists them."""

    code = "ambiguous_organisation"


class InvalidReason(KeysError):
    """A revocation reason that is empty or too long: the audit trail needs a real one."""

    code = "invalid_reason"


# --- signed trust statements: certificates, revocations, the signed trust list -----


class MalformedStatement(KeysError):
    """A signed statement (certificate, revocation, trust list) that is not well formed."""

    code = "malformed_statement"
    template_arg = 1

    def __init__(self, what: str, reason: str | Renderable, /, **params: object) -> None:
        self.what = what
        self.reason = as_phrase(reason, params)
        super().__init__("%(what)s: %(reason)s", what=what, reason=self.reason)


class TrustListRefused(KeysError):
    """A signed trust list that a verifier must not use; the subclass names why."""

    code = "trust_list_refused"


class BadListSignature(TrustListRefused):
    """The trust list's own signature, or a certificate's, does not verify."""

    code = "bad_signature"


class UnknownRoot(TrustListRefused):
    """The list is certified by a root the verifier has not pinned (nor reached by rotation)."""

    code = "unknown_root"


class SignerNotCertified(TrustListRefused):
    """The key that signed the list holds no valid root certificate for signing lists."""

    code = "list_signer_not_certified"


class CertificateExpired(TrustListRefused):
    """A certificate the list depends on is outside its validity."""

    code = "certificate_expired"


class SequenceRollback(TrustListRefused):
    """A list older than one the verifier has already seen: a replay or a rollback."""

    code = "sequence_rollback"


class TrustListExpired(TrustListRefused):
    """A list past its next update and past the grace period: too old to vouch for keys."""

    code = "trust_list_expired"


# --- the root and its ceremonies ---------------------------------------------------


class RootError(KeysError):
    """A root key ceremony that cannot be done as asked."""

    code = "root_error"


class RootExists(RootError):
    """``ocop root init`` where a root key already is: never overwrite a root."""

    code = "root_exists"


class NoRoot(RootError):
    """A ceremony or a signed list that needs a root, where none is configured."""

    code = "no_root"


class KeyNotCertified(RootError):
    """An issuer key that the root has not certified, where a root is configured."""

    code = "key_not_certified"

class LogProblem(KeysError):
    """A transparency log question that has no answer, or a proof, head or leaf that fails."""

    code = "log_problem"
