"""The signed trust list the service publishes: issued, kept, and renewed when due.

A list is signed again when keys or the root's statements changed since the
last one, or when half its validity has passed, so a verifier that fetches it
now and then never holds a stale one. Each list gets the next sequence number;
the table's primary key keeps the sequence growing when several processes
renew at once (one wins, the others serve its list).
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow

from .certificates import Purpose
from .jwk import public_jwk
from .keystore import Keystore
from .models import RootStatement, SignedTrustListRow, TrustRoot
from .registry import trust_list, trust_list_changed_at
from .root import CERTIFICATE, REVOCATION, current_list_signer, require_root
from .signedlist import DEFAULT_VALIDITY, ListStatements, build_signed_trust_list


def signed_trust_list(
    session: Session,
    keystore: Keystore,
    *,
    now: dt.datetime | None = None,
    validity: dt.timedelta = DEFAULT_VALIDITY,
) -> SignedTrustListRow:
    """The list to serve now: the last one while it is current, else a new one.

    Raises :class:`~.errors.NoRoot` when no root is configured.
    """
    now = now or utcnow()
    root = require_root(session)
    latest = session.scalars(
        select(SignedTrustListRow).order_by(SignedTrustListRow.sequence.desc()).limit(1)
    ).first()
    if latest is not None and _current(session, latest, now, validity):
        return latest
    sequence = (latest.sequence if latest else 0) + 1
    document = _build(session, keystore, root, sequence, now, validity)
    row = SignedTrustListRow(
        sequence=sequence,
        issued_at=now,
        next_update=now + validity,
        document=document,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process signed this sequence number first: serve its list.
        return session.scalars(
            select(SignedTrustListRow).order_by(SignedTrustListRow.sequence.desc()).limit(1)
        ).one()
    return row


def _current(
    session: Session, latest: SignedTrustListRow, now: dt.datetime, validity: dt.timedelta
) -> bool:
    if now >= latest.issued_at + validity / 2:
        return False
    changes = [
        trust_list_changed_at(session),
        session.scalar(select(func.max(RootStatement.created_at))),
        session.scalar(select(func.max(TrustRoot.created_at))),
    ]
    return all(change is None or change < latest.issued_at for change in changes)


def _build(
    session: Session,
    keystore: Keystore,
    root: TrustRoot,
    sequence: int,
    now: dt.datetime,
    validity: dt.timedelta,
) -> str:
    signer_row = current_list_signer(session)
    signer = keystore.load(signer_row.subject_kid)
    rows = session.scalars(
        select(RootStatement)
        .where(
            RootStatement.kind == CERTIFICATE,
            RootStatement.root_kid == root.kid,
            RootStatement.purpose == Purpose.STAMP_ISSUER.value,
        )
        .order_by(RootStatement.id)
    ).all()
    certificates = {row.subject_kid: row.statement for row in rows}
    revocations = session.scalars(
        select(RootStatement.statement)
        .where(RootStatement.kind == REVOCATION)
        .order_by(RootStatement.id)
    ).all()
    rotations = session.scalars(
        select(TrustRoot.rotation).where(TrustRoot.rotation.is_not(None)).order_by(TrustRoot.id)
    ).all()
    every_root = session.scalars(select(TrustRoot.public_key).order_by(TrustRoot.id)).all()
    statements = ListStatements(
        root_jwks=[public_jwk(Ed25519PublicKey.from_public_bytes(raw)) for raw in every_root],
        signer_certificate=signer_row.statement,
        revocations=list(revocations),
        root_rotations=[r for r in rotations if r is not None],
    )
    return build_signed_trust_list(
        trust_list(session), certificates, statements, signer,
        sequence=sequence, now=now, validity=validity,
    )
