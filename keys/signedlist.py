"""The signed trust list: today's JWK Set, signed by a root-certified list signer.

Pure, no database. :func:`build_signed_trust_list` is the server's side;
:func:`verify_signed_trust_list` is every verifier's (the CLI here, the offline
page in JavaScript, anyone with a JOSE library: docs/trust-list.md). A verifier
pinned to the root accepts only root-certified issuer keys, so a compromised
server can at worst withhold a revocation until its list goes stale.

Policy, the same in every verifier of ours:

- an issuer key without a valid root certificate (none, another key's, another
  purpose, expired) is DROPPED, not the whole list: its stamps then verify as
  "unknown key", and :attr:`VerifiedTrustList.dropped` says why;
- everything else wrong refuses the list: its signature, an unknown root, a
  signer without a valid list-signing certificate, a sequence lower than one
  already seen, a list older than its ``next_update`` plus the grace period;
- between ``next_update`` and the end of the grace period the list is STALE:
  usable, with a visible warning that revocations may be missing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocop.trace.errors import DomainError

from .certificates import (
    Certificate,
    Purpose,
    Revocation,
    check_valid,
    read_certificate,
    read_revocation,
    read_rotation,
)
from .errors import (
    BadListSignature,
    InvalidJWK,
    MalformedStatement,
    SequenceRollback,
    SignerNotCertified,
    TrustListExpired,
    UnknownRoot,
)
from .jwk import public_key_from_jwk, thumbprint
from .jws import parse_compact, sign_compact
from .signer import Signer
from .trustlist import KeyStatus, TrustedKey, TrustList

TRUST_LIST_TYP = "ocop-trust-list+jws"
DEFAULT_VALIDITY = dt.timedelta(hours=24)
# A shop with weak signal may go a week without a refresh; past that, a list may
# be missing too many revocations to vouch for anything.
DEFAULT_GRACE = dt.timedelta(days=7)
_MAX_STATEMENTS = 10_000
# A pinned root: its RFC 7638 thumbprint, its public JWK, or the key itself.
Pin = str | Mapping[str, Any] | Ed25519PublicKey


class Freshness(StrEnum):
    FRESH = "fresh"
    # Past next_update, within the grace period: use it, say so.
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class DroppedKey:
    kid: str
    reason: str


@dataclass(frozen=True, slots=True)
class VerifiedTrustList:
    """A signed list that passed every check, with what the verifier must show."""

    trust: TrustList
    freshness: Freshness
    sequence: int
    issued_at: dt.datetime
    next_update: dt.datetime
    usable_until: dt.datetime
    root_kid: str
    signer_kid: str
    dropped: tuple[DroppedKey, ...]

    def candidates(self, prefix: bytes) -> tuple[TrustedKey, ...]:
        return self.trust.candidates(prefix)


@dataclass(frozen=True, slots=True)
class ListStatements:
    """What the root signed that a list carries, besides each key's own certificate."""

    # Every root's public key: a verifier pinned to a thumbprint finds its key here.
    root_jwks: Sequence[Mapping[str, str]]
    signer_certificate: str
    revocations: Sequence[str] = ()
    root_rotations: Sequence[str] = ()


def build_signed_trust_list(
    trust: TrustList,
    certificates: Mapping[str, str],
    statements: ListStatements,
    signer: Signer,
    *,
    sequence: int,
    now: dt.datetime,
    validity: dt.timedelta = DEFAULT_VALIDITY,
) -> str:
    """The list as a compact JWS. Keys without a certificate in ``certificates`` (by
    kid) are left out: a verifier would drop them anyway."""
    document = json.loads(TrustList(k for k in trust.keys if k.kid in certificates).to_json())
    for entry in document["keys"]:
        entry["cert"] = certificates[entry["kid"]]
    document.update(
        {
            "iat": int(now.timestamp()),
            "next_update": int((now + validity).timestamp()),
            "sequence": sequence,
            "roots": [dict(jwk) for jwk in statements.root_jwks],
            "signer_certificate": statements.signer_certificate,
            "revocations": list(statements.revocations),
            "root_rotations": list(statements.root_rotations),
        }
    )
    return sign_compact(signer, TRUST_LIST_TYP, document)


def verify_signed_trust_list(
    document: str | bytes,
    pinned_roots: Iterable[Pin],
    now: dt.datetime,
    *,
    last_sequence: int | None = None,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> VerifiedTrustList:
    """Check a signed list against the pinned roots (thumbprints, JWKs or keys).

    Raises a :class:`~.errors.TrustListRefused` (or :class:`MalformedStatement`)
    naming the reason; see the module's docstring for the policy.
    """
    jws = parse_compact(document, TRUST_LIST_TYP, "trust list")
    body = jws.payload
    issued_at, next_update = _time(body, "iat"), _time(body, "next_update")
    sequence = body.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 < sequence < 2**53:
        raise MalformedStatement("trust list", '"sequence" must be a positive whole number')
    if next_update <= issued_at:
        raise MalformedStatement("trust list", '"next_update" must be after "iat"')
    roots = _trusted_roots(pinned_roots, body)
    certificate = _signer_certificate(body.get("signer_certificate"), roots, jws.kid, now)
    if not jws.verified_by(certificate.public_key):
        raise BadListSignature("the trust list's signature does not verify")
    if last_sequence is not None and sequence < last_sequence:
        raise SequenceRollback(
            "the trust list has sequence %(sequence)s, older than %(last)s seen before",
            sequence=sequence,
            last=last_sequence,
        )
    usable_until = next_update + grace
    if now > usable_until:
        raise TrustListExpired(
            "the trust list was due for renewal on %(due)s UTC and the grace period ended "
            "on %(end)s UTC; fetch a new one",
            due=_show(next_update),
            end=_show(usable_until),
        )
    trust, dropped = _certified_keys(body, {certificate.root_kid: roots[certificate.root_kid]}, now)
    trust = _apply_revocations(trust, _array(body, "revocations"), roots)
    return VerifiedTrustList(
        trust=trust,
        freshness=Freshness.FRESH if now <= next_update else Freshness.STALE,
        sequence=sequence,
        issued_at=issued_at,
        next_update=next_update,
        usable_until=usable_until,
        root_kid=certificate.root_kid,
        signer_kid=certificate.kid,
        dropped=dropped,
    )


def pin_for(value: Pin) -> tuple[str, Ed25519PublicKey | None]:
    """A pinned root as (thumbprint, key or None when only the thumbprint was given)."""
    if isinstance(value, Ed25519PublicKey):
        return thumbprint(value), value
    if isinstance(value, Mapping):
        try:
            key = public_key_from_jwk(value)
        except InvalidJWK as error:
            raise MalformedStatement("pinned root", error) from None
        return thumbprint(key), key
    text = str(value).strip()
    if len(text) != 43:
        raise MalformedStatement("pinned root", "must be a 43-character RFC 7638 thumbprint")
    return text, None


def _trusted_roots(
    pinned: Iterable[Pin], body: Mapping[str, Any]
) -> dict[str, Ed25519PublicKey]:
    """The pinned roots' keys, plus every root a pinned one handed over to by rotation."""
    pins = [pin_for(value) for value in pinned]
    if not pins:
        raise UnknownRoot("no root is pinned: a signed list cannot be checked without one")
    offered: dict[str, Ed25519PublicKey] = {}
    for jwk in _array(body, "roots", 16):
        try:
            key = public_key_from_jwk(jwk)
        except InvalidJWK as error:
            raise MalformedStatement("trust list", error) from None
        offered[thumbprint(key)] = key
    roots: dict[str, Ed25519PublicKey] = {}
    for kid, pinned_key in pins:
        found = pinned_key or offered.get(kid)
        if found is not None:
            roots[kid] = found
    rotations = _array(body, "root_rotations", 64)
    # Each pass follows one more hand-over; a chain is at most as long as the array.
    for _ in range(len(rotations)):
        added = False
        for position, compact in enumerate(rotations):
            try:
                rotation = read_rotation(compact, roots, f"root_rotations[{position}]")
            except UnknownRoot:
                continue
            if rotation.new_kid not in roots:
                roots[rotation.new_kid] = rotation.new_key
                added = True
        if not added:
            break
    if not roots:
        raise UnknownRoot("the trust list offers no root that is pinned here")
    return roots


def _signer_certificate(
    compact: object, roots: Mapping[str, Ed25519PublicKey], signer_kid: str, now: dt.datetime
) -> Certificate:
    if not isinstance(compact, str):
        raise SignerNotCertified("the trust list carries no certificate for its signer")
    certificate = read_certificate(compact, roots, "the list signer's certificate")
    if certificate.kid != signer_kid or certificate.purpose is not Purpose.LIST_SIGNER:
        raise SignerNotCertified(
            "the key %(kid)s that signed the trust list is not certified to sign lists",
            kid=signer_kid,
        )
    check_valid(certificate, now, "the list signer's certificate")
    return certificate


def _certified_keys(
    body: Mapping[str, Any], root: Mapping[str, Ed25519PublicKey], now: dt.datetime
) -> tuple[TrustList, tuple[DroppedKey, ...]]:
    try:
        listed = TrustList.from_json(json.dumps(body))
    except (RecursionError, ValueError):
        raise MalformedStatement("trust list", "is nested too deeply") from None
    entries = body["keys"]
    kept, dropped = [], []
    for position, key in enumerate(listed.keys):
        reason = None
        try:
            where = f"keys[{position}].cert"
            certificate = read_certificate(entries[position].get("cert"), root, where)
            if certificate.kid != key.kid:
                reason = "its certificate is for another key"
            elif certificate.purpose is not Purpose.STAMP_ISSUER:
                reason = "its certificate does not allow signing stamps"
            else:
                check_valid(certificate, now, "the certificate")
        except DomainError as error:
            reason = str(error)
        if reason is not None:
            dropped.append(DroppedKey(key.kid, reason))
            continue
        kept.append(replace(key, org_id=certificate.org_id, org_name=certificate.org_name))
    return TrustList(kept), tuple(dropped)


def _apply_revocations(
    trust: TrustList, statements: list[Any], roots: Mapping[str, Ed25519PublicKey]
) -> TrustList:
    revoked: dict[str, Revocation] = {}
    for position, compact in enumerate(statements):
        revocation = read_revocation(compact, roots, f"revocations[{position}]")
        revoked.setdefault(revocation.kid, revocation)
    keys = []
    for key in trust.keys:
        found = revoked.get(key.kid)
        if found is not None:
            # The root's word beats the server's: a revoked key stays revoked.
            key = replace(key, status=KeyStatus.REVOKED, revoked_at=found.revoked_at)
        keys.append(key)
    return TrustList(keys)


def _array(body: Mapping[str, Any], member: str, most: int = _MAX_STATEMENTS) -> list[Any]:
    value = body.get(member, [])
    if not isinstance(value, list) or len(value) > most:
        raise MalformedStatement(
            "trust list",
            '"%(member)s" must be an array of at most %(most)s',
            member=member,
            most=most,
        )
    return value


def _time(body: Mapping[str, Any], member: str) -> dt.datetime:
    value = body.get(member)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 253402300800:
        raise MalformedStatement("trust list", '"%(member)s" must be a NumericDate', member=member)
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _show(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
