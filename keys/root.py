"""Root key ceremonies: create the root, certify keys, revoke them, hand the root over.

The root's private key lives in its own keystore (an encrypted key file, the
same scrypt and AES-GCM format as issuer keys: :mod:`.keyfile`), meant for an
offline machine or a removable disk, and is used rarely. What it signs is
recorded in the database (:class:`RootStatement`) and published in the signed
trust list (:mod:`.publishing`). Every function takes the caller's
:class:`Session` and only flushes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow

from .certificates import Purpose, certify, read_certificate, revoke, rotate
from .errors import KeyAlreadyRevoked, KeyNotFound, NoRoot, RootExists
from .keystore import Keystore
from .models import RootStatement, TrustRoot
from .registry import find_key, list_keys, revoke_key
from .signer import Ed25519Signer
from .trustlist import KeyStatus

CERTIFICATE = "certificate"
REVOCATION = "revocation"
# Stamps outlive the key that signed them (a retired key's stamps stay good), so an
# issuer certificate covers a key's signing years and its stamps' shelf life.
ISSUER_VALIDITY = dt.timedelta(days=3653)
# The list signer is online and renewed often: a stolen one is good for two years at most.
LIST_SIGNER_VALIDITY = dt.timedelta(days=730)
LIST_SIGNER_ORG = "OCOP trust list"


@dataclass(frozen=True, slots=True)
class Certified:
    kid: str
    purpose: Purpose
    certificate: str


def current_root(session: Session) -> TrustRoot | None:
    return session.scalars(
        select(TrustRoot).where(TrustRoot.replaced_at.is_(None)).order_by(TrustRoot.id.desc())
    ).first()


def require_root(session: Session) -> TrustRoot:
    root = current_root(session)
    if root is None:
        raise NoRoot("no root key is configured; create one with `ocop root init`")
    return root


def init_root(
    session: Session, root_store: Keystore, *, actor: str, now: dt.datetime | None = None
) -> TrustRoot:
    """The first root: its key file written (encrypted), its public half recorded."""
    existing = current_root(session)
    if existing is not None:
        raise RootExists(
            "a root key already exists (%(kid)s); a root is never overwritten: "
            "use `ocop root rotate` to replace it",
            kid=existing.kid,
        )
    if root_store.kids():
        raise RootExists(
            "the root key folder %(folder)s already holds a key; a root is never overwritten",
            folder=root_store.directory,
        )
    signer = root_store.generate()
    root = TrustRoot(
        kid=signer.kid, public_key=_raw(signer.public_key), created_by=actor,
        created_at=now or utcnow(),
    )
    session.add(root)
    session.flush()
    return root


def root_signer(session: Session, root_store: Keystore) -> Ed25519Signer:
    return root_store.load(require_root(session).kid)


def certify_issuer_key(
    session: Session, root_store: Keystore, kid: str, *, actor: str, now: dt.datetime | None = None
) -> Certified:
    """The root certifies the registered issuer key ``kid`` for its organisation."""
    now = now or utcnow()
    key = find_key(session, kid)
    if key.status is KeyStatus.REVOKED:
        raise KeyAlreadyRevoked("key %(kid)s is revoked; it cannot be certified", kid=key.kid)
    compact = certify(
        root_signer(session, root_store),
        Ed25519PublicKey.from_public_bytes(key.public_key),
        purpose=Purpose.STAMP_ISSUER,
        org_id=str(key.organisation.id),
        org_name=key.organisation.name,
        not_before=key.not_before,
        not_after=now + ISSUER_VALIDITY,
        now=now,
    )
    return _record(session, key.kid, Purpose.STAMP_ISSUER, compact, actor, now)


def certify_all(
    session: Session, root_store: Keystore, *, actor: str, now: dt.datetime | None = None
) -> list[Certified]:
    """Certify every registered issuer key not revoked and not yet certified by this root."""
    return [
        certify_issuer_key(session, root_store, key.kid, actor=actor, now=now)
        for key in list_keys(session)
        if key.status is not KeyStatus.REVOKED and certificate_of(session, key.kid) is None
    ]


def new_list_signer(
    session: Session,
    keystore: Keystore,
    root_store: Keystore,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> Certified:
    """A new online list-signing key (in the service's keystore) and its certificate."""
    now = now or utcnow()
    root = root_signer(session, root_store)
    signer = keystore.generate()
    compact = certify(
        root,
        signer.public_key,
        purpose=Purpose.LIST_SIGNER,
        org_id="ocop-trust-list",
        org_name=LIST_SIGNER_ORG,
        not_before=now,
        not_after=now + LIST_SIGNER_VALIDITY,
        now=now,
    )
    return _record(session, signer.kid, Purpose.LIST_SIGNER, compact, actor, now)


def revoke_by_root(
    session: Session,
    root_store: Keystore,
    kid: str,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> str:
    """A root-signed revocation of ``kid``; the registry marks the key revoked too."""
    now = now or utcnow()
    key = find_key(session, kid)
    if key.status is not KeyStatus.REVOKED:
        revoke_key(session, kid, reason=reason, actor=actor, now=now)
    signer = root_signer(session, root_store)
    reason = (key.revoked_reason or reason).strip()
    compact = revoke(signer, key.kid, reason=reason, revoked_at=key.revoked_at or now)
    session.add(
        RootStatement(
            kind=REVOCATION, root_kid=signer.kid, subject_kid=key.kid, purpose=None,
            statement=compact, created_by=actor, created_at=now,
        )
    )
    session.flush()
    return compact


def rotate_root(
    session: Session, root_store: Keystore, *, actor: str, now: dt.datetime | None = None
) -> TrustRoot:
    """A new root: the old one signs the hand-over, the new one certifies again every
    key the old one had certified (same purpose, same end of validity)."""
    now = now or utcnow()
    old = require_root(session)
    old_signer = root_store.load(old.kid)
    new_signer = root_store.generate()
    handover = rotate(old_signer, new_signer.public_key, now=now)
    old.replaced_at = now
    session.flush()
    new = TrustRoot(
        kid=new_signer.kid, public_key=_raw(new_signer.public_key), rotation=handover,
        created_by=actor, created_at=now,
    )
    session.add(new)
    session.flush()
    for row in _latest_certificates(session, old.kid):
        old_cert = read_certificate(
            row.statement, {old.kid: Ed25519PublicKey.from_public_bytes(old.public_key)}
        )
        compact = certify(
            new_signer,
            old_cert.public_key,
            purpose=old_cert.purpose,
            org_id=old_cert.org_id,
            org_name=old_cert.org_name,
            not_before=old_cert.not_before,
            not_after=old_cert.not_after,
            now=now,
        )
        _record(session, old_cert.kid, old_cert.purpose, compact, actor, now)
    return new


def certificate_of(
    session: Session, kid: str, purpose: Purpose = Purpose.STAMP_ISSUER
) -> RootStatement | None:
    """The latest certificate of ``kid`` by the current root, or None."""
    root = current_root(session)
    if root is None:
        return None
    return session.scalars(
        select(RootStatement)
        .where(
            RootStatement.kind == CERTIFICATE,
            RootStatement.root_kid == root.kid,
            RootStatement.subject_kid == kid,
            RootStatement.purpose == purpose.value,
        )
        .order_by(RootStatement.id.desc())
    ).first()


def current_list_signer(session: Session) -> RootStatement:
    root = require_root(session)
    row = session.scalars(
        select(RootStatement)
        .where(
            RootStatement.kind == CERTIFICATE,
            RootStatement.root_kid == root.kid,
            RootStatement.purpose == Purpose.LIST_SIGNER.value,
        )
        .order_by(RootStatement.id.desc())
    ).first()
    if row is None:
        raise KeyNotFound(
            "the root has certified no list-signing key; run `ocop root certify --list-signer`"
        )
    return row


def _latest_certificates(session: Session, root_kid: str) -> Sequence[RootStatement]:
    rows = session.scalars(
        select(RootStatement)
        .where(RootStatement.kind == CERTIFICATE, RootStatement.root_kid == root_kid)
        .order_by(RootStatement.id)
    ).all()
    # Revoked keys too: they must stay listed (and revoked) for their stamps to say so.
    return list({(row.subject_kid, row.purpose): row for row in rows}.values())


def _record(
    session: Session, kid: str, purpose: Purpose, compact: str, actor: str, now: dt.datetime
) -> Certified:
    root = require_root(session)
    session.add(
        RootStatement(
            kind=CERTIFICATE, root_kid=root.kid, subject_kid=kid, purpose=purpose.value,
            statement=compact, created_by=actor, created_at=now,
        )
    )
    session.flush()
    return Certified(kid, purpose, compact)


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
