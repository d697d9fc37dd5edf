"""What the offline root signs: key certificates, revocations and root rotations.

Each is a compact JWS (:mod:`.jws`) signed by a root key, in the EU DCC's
CSCA/DSC model: the root, kept offline, vouches for each council's issuer
keys and for the online key that signs the trust list. Pure functions, no
database; docs/trust-list.md is the format's description.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import (
    BadListSignature,
    CertificateExpired,
    InvalidJWK,
    MalformedStatement,
    UnknownRoot,
)
from .jwk import public_jwk, public_key_from_jwk, thumbprint
from .jws import Jws, parse_compact, sign_compact
from .signer import Signer

CERTIFICATE_TYP = "ocop-key-cert+jws"
REVOCATION_TYP = "ocop-key-revocation+jws"
ROTATION_TYP = "ocop-root-rotation+jws"
_MAX_TEXT = 500


class Purpose(StrEnum):
    """What a certified key may sign."""

    STAMP_ISSUER = "stamp-issuer"
    LIST_SIGNER = "trust-list-signer"


@dataclass(frozen=True, slots=True)
class Certificate:
    """The root's word that ``kid`` belongs to ``org`` and may sign for ``purpose``."""

    root_kid: str
    kid: str
    public_key: Ed25519PublicKey = field(hash=False, compare=False)
    purpose: Purpose
    org_id: str
    org_name: str
    issued_at: dt.datetime
    not_before: dt.datetime
    not_after: dt.datetime
    compact: str = field(repr=False)

    def valid_at(self, now: dt.datetime) -> bool:
        return self.not_before <= now <= self.not_after


@dataclass(frozen=True, slots=True)
class Revocation:
    """The root's word that ``kid`` is revoked from ``revoked_at``."""

    root_kid: str
    kid: str
    revoked_at: dt.datetime
    reason: str
    compact: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Rotation:
    """The old root's word that ``new_kid`` succeeds it."""

    old_kid: str
    new_kid: str
    new_key: Ed25519PublicKey = field(hash=False, compare=False)
    issued_at: dt.datetime
    compact: str = field(repr=False)


# --- signing (the root's side) -------------------------------------------------------


def certify(
    root: Signer,
    public_key: Ed25519PublicKey,
    *,
    purpose: Purpose,
    org_id: str,
    org_name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    now: dt.datetime,
) -> str:
    """A certificate for ``public_key``, signed by ``root``."""
    payload = {
        "iss": root.kid,
        "sub": thumbprint(public_key),
        "jwk": public_jwk(public_key),
        "purpose": purpose.value,
        "org": {"id": org_id, "name": org_name},
        "iat": _seconds(now),
        "nbf": _seconds(not_before),
        "exp": _seconds(not_after),
    }
    return sign_compact(root, CERTIFICATE_TYP, payload)


def revoke(root: Signer, kid: str, *, reason: str, revoked_at: dt.datetime) -> str:
    payload = {
        "iss": root.kid,
        "sub": kid,
        "revoked_at": _seconds(revoked_at),
        "reason": reason,
        "iat": _seconds(revoked_at),
    }
    return sign_compact(root, REVOCATION_TYP, payload)


def rotate(old_root: Signer, new_key: Ed25519PublicKey, *, now: dt.datetime) -> str:
    payload = {
        "iss": old_root.kid,
        "sub": thumbprint(new_key),
        "jwk": public_jwk(new_key),
        "iat": _seconds(now),
    }
    return sign_compact(old_root, ROTATION_TYP, payload)


# --- reading (the verifier's side) ---------------------------------------------------


def read_certificate(
    compact: object, roots: Mapping[str, Ed25519PublicKey], what: str = "certificate"
) -> Certificate:
    """A certificate whose signature one of ``roots`` (by kid) verified. Validity in time
    is the caller's to check (:func:`check_valid`): a list's signer and its issuer keys
    are judged differently."""
    jws = parse_compact(compact, CERTIFICATE_TYP, what)
    root = _root_of(jws, roots, what)
    body = jws.payload
    key = _jwk(body.get("jwk"), what)
    kid = thumbprint(key)
    if body.get("sub") != kid:
        raise MalformedStatement(what, '"sub" is not the thumbprint of its "jwk"')
    try:
        purpose = Purpose(str(body.get("purpose")))
    except ValueError:
        raise MalformedStatement(what, '"purpose" is not one we know') from None
    org = body.get("org")
    if not isinstance(org, dict) or not all(
        isinstance(org.get(m), str) and 0 < len(org[m]) <= _MAX_TEXT for m in ("id", "name")
    ):
        raise MalformedStatement(what, '"org" must be an object with "id" and "name"')
    not_before, not_after = _time(body, "nbf", what), _time(body, "exp", what)
    if not_after < not_before:
        raise MalformedStatement(what, '"exp" is before "nbf"')
    _verified(jws, root, what)
    return Certificate(
        root_kid=jws.kid,
        kid=kid,
        public_key=key,
        purpose=purpose,
        org_id=org["id"],
        org_name=org["name"],
        issued_at=_time(body, "iat", what),
        not_before=not_before,
        not_after=not_after,
        compact=jws.compact,
    )


def check_valid(certificate: Certificate, now: dt.datetime, what: str) -> None:
    if not certificate.valid_at(now):
        raise CertificateExpired(
            "%(what)s for key %(kid)s is valid from %(start)s to %(end)s UTC, not now",
            what=what,
            kid=certificate.kid,
            start=_show(certificate.not_before),
            end=_show(certificate.not_after),
        )


def read_revocation(
    compact: object, roots: Mapping[str, Ed25519PublicKey], what: str = "revocation"
) -> Revocation:
    jws = parse_compact(compact, REVOCATION_TYP, what)
    root = _root_of(jws, roots, what)
    body = jws.payload
    kid, reason = body.get("sub"), body.get("reason")
    if not isinstance(kid, str) or len(kid) != 43:
        raise MalformedStatement(what, '"sub" must be a key id')
    if not isinstance(reason, str) or len(reason) > _MAX_TEXT:
        raise MalformedStatement(what, '"reason" must be a short text')
    revoked_at = _time(body, "revoked_at", what)
    _verified(jws, root, what)
    return Revocation(jws.kid, kid, revoked_at, reason, jws.compact)


def read_rotation(
    compact: object, roots: Mapping[str, Ed25519PublicKey], what: str = "root rotation"
) -> Rotation:
    jws = parse_compact(compact, ROTATION_TYP, what)
    root = _root_of(jws, roots, what)
    key = _jwk(jws.payload.get("jwk"), what)
    if jws.payload.get("sub") != thumbprint(key):
        raise MalformedStatement(what, '"sub" is not the thumbprint of its "jwk"')
    issued_at = _time(jws.payload, "iat", what)
    _verified(jws, root, what)
    return Rotation(jws.kid, thumbprint(key), key, issued_at, jws.compact)


def statement_kid(compact: object, typ: str, what: str) -> str:
    """Who signed a statement (its header's kid), signature unchecked."""
    return parse_compact(compact, typ, what).kid


def _root_of(jws: Jws, roots: Mapping[str, Ed25519PublicKey], what: str) -> Ed25519PublicKey:
    root = roots.get(jws.kid)
    if root is None:
        raise UnknownRoot(
            "%(what)s is signed by %(kid)s, which is not a trusted root", what=what, kid=jws.kid
        )
    if jws.payload.get("iss") != jws.kid:
        raise MalformedStatement(what, '"iss" is not the key that signed it')
    return root


def _verified(jws: Jws, key: Ed25519PublicKey, what: str) -> None:
    if not jws.verified_by(key):
        raise BadListSignature("the signature of %(what)s does not verify", what=what)


def _jwk(value: Any, what: str) -> Ed25519PublicKey:
    try:
        return public_key_from_jwk(value)
    except InvalidJWK as error:
        raise MalformedStatement(what, error) from None


def _time(body: Mapping[str, Any], member: str, what: str) -> dt.datetime:
    value = body.get(member)
    # NumericDate (RFC 7519): whole seconds since 1970, within years 1970 to 9999.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 253402300800:
        raise MalformedStatement(what, '"%(member)s" must be a NumericDate', member=member)
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _show(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
