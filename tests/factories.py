"""Records for tests, built directly on the models: a certified lot and its key."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from ocop.keys.jwk import kid_prefix
from ocop.keys.models import IssuerKey
from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus
from ocop.stamps.activation import activate_whole
from ocop.stamps.issuance import log_batch
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import (
    Address,
    Certification,
    CertLevel,
    Lot,
    Organisation,
    OrgKind,
    Product,
    Scheme,
)

_serial = itertools.count(1)


def _n() -> int:
    return next(_serial)


def organisation(session: Session, kind: OrgKind = OrgKind.COOPERATIVE, **kw) -> Organisation:
    n = _n()
    org = Organisation(kind=kind, name=kw.pop("name", f"HTX thử nghiệm {n}"),
                       tax_code=kw.pop("tax_code", f"TEST{n:08d}"), **kw)
    org.addresses.append(Address(province="Hưng Yên", commune="Nguyên Xá",
                                 effective_from=dt.date(2023, 1, 1)))
    session.add(org)
    session.flush()
    return org


def certified_lot(
    session: Session,
    *,
    stars: int = 4,
    valid: bool = True,
    best_before: dt.date | None = None,
    produced_on: dt.date | None = None,
) -> Lot:
    producer = organisation(session)
    n = _n()
    product = Product(code=f"P{n}", producer=producer, name=f"Bánh cáy {n}", short_name="Bánh cáy")
    today = vietnam_today()
    start = today - dt.timedelta(days=400) if valid else today - dt.timedelta(days=1200)
    session.add(
        Certification(
            scheme=Scheme.OCOP, number=f"OCOP-{n}", product=product, stars=stars, score=78,
            level=CertLevel.PROVINCE, issuing_body="UBND tỉnh Thái Bình", valid_from=start,
            valid_until=start + dt.timedelta(days=1095),
        )
    )
    lot = Lot(code=f"LOT-{n}", product=product, owner=producer,
              produced_on=produced_on or today - dt.timedelta(days=10), best_before=best_before)
    session.add(lot)
    session.flush()
    return lot


@dataclass
class AuthorityKey:
    org: Organisation
    row: IssuerKey
    signer: Ed25519Signer


def authority_key(session: Session, status: KeyStatus = KeyStatus.ACTIVE) -> AuthorityKey:
    org = organisation(session, OrgKind.AUTHORITY, name=f"Hội đồng OCOP {_n()}")
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    raw = signer.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    row = IssuerKey(
        kid=signer.kid, kid_prefix=kid_prefix(signer.kid), organisation=org, public_key=raw,
        status=status, not_before=utcnow(), created_by="test",
        revoked_at=utcnow() if status is KeyStatus.REVOKED else None,
    )
    session.add(row)
    session.flush()
    return AuthorityKey(org, row, signer)


def issued_batch(
    session: Session, lot: Lot, key: AuthorityKey, count: int = 10, *, pin: bool = False,
    status: BatchStatus = BatchStatus.ISSUED, active: bool = True,
) -> StampBatch:
    """A batch as ``ocop stamps issue`` leaves it: logged, and active unless ``active=False``."""
    batch = StampBatch(lot=lot, key=key.row, count=count, pin=pin, status=status,
                       issued_at=utcnow(), created_by="test")
    session.add(batch)
    session.flush()
    log_batch(session, batch)
    if active:
        activate_whole(session, batch, actor="test", now=utcnow())
    return batch
