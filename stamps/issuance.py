"""Issuing a batch of stamps for a certified lot.

A batch is written in two short transactions around the long part: the row is
committed as ``issuing`` (so its number is reserved and no write lock is held
while a million labels render), the output file is written under a temporary
name, and only then is the batch marked ``issued``. A crash in between leaves
an ``issuing`` or ``failed`` batch, which verifies as unknown: nothing printed
from it can pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ocop.keys.models import IssuerKey
from ocop.keys.signer import Signer
from ocop.keys.transparency import append, batch_fields
from ocop.keys.trustlist import KeyStatus
from ocop.trace.db import rowcount, utcnow
from ocop.trace.errors import UnreadableNumber
from ocop.trace.models import Lot, OrgKind
from ocop.trace.numbers import read_whole_number
from ocop.trace.queries import valid_ocop_certificate

from .activation import activate_whole
from .errors import IssuanceRefused
from .models import BatchStatus, StampBatch
from .pin import PinSecret
from .serial import Serial
from .token import UINT32_MAX, StampToken, qr_text


def parse_count(raw: object, maximum: int) -> int:
    """A stamp count from user input: a whole number from 1 to ``maximum``, written
    as people write numbers (``10.000``; :mod:`ocop.trace.numbers`)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        count: int = raw
    else:
        try:
            count = read_whole_number(str(raw))
        except UnreadableNumber as error:
            raise IssuanceRefused(
                "the count must be a whole number: %(reason)s", reason=error
            ) from None
    if not 1 <= count <= maximum:
        # Grouped with thin spaces, which every reader (and read_number) takes for thousands.
        raise IssuanceRefused(
            "the count must be from 1 to %(most)s, not %(given)s",
            most=f"{maximum:,}".replace(",", "\u202f"),
            given=f"{count:,}".replace(",", "\u202f"),
        )
    return count


def check_issuable(session: Session, lot: Lot, key: IssuerKey, today: dt.date) -> None:
    """Refuse, with the reason, unless this key may sign stamps for this lot today."""
    check_lot_issuable(session, lot, today)
    if key.status is not KeyStatus.ACTIVE:
        raise IssuanceRefused(
            "key %(kid)s is %(status)s; only an active key signs batches",
            kid=key.kid,
            status=key.status,
        )
    if key.organisation.kind is not OrgKind.AUTHORITY:
        raise IssuanceRefused("key %(kid)s does not belong to an OCOP authority", kid=key.kid)


def check_lot_issuable(session: Session, lot: Lot, today: dt.date) -> None:
    """Refuse, with the reason, unless this lot may get stamps today, whoever signs them.

    A producer's stamp request is checked against this before any key is involved.
    """
    if lot.product is None:
        raise IssuanceRefused(
            "lot %(lot)s is a raw-material lot; only product lots get stamps", lot=lot.code
        )
    if not lot.product.approved:
        raise IssuanceRefused(
            "lot %(lot)s: product %(product)r is not approved by the OCOP council yet",
            lot=lot.code,
            product=lot.product.name,
        )
    if lot.recalls:
        raise IssuanceRefused("lot %(lot)s has been recalled; it gets no new stamps", lot=lot.code)
    if valid_ocop_certificate(session, lot.product, today) is None:
        raise IssuanceRefused(
            "lot %(lot)s: product %(product)r holds no valid OCOP certificate today",
            lot=lot.code,
            product=lot.product.name,
        )


def open_batch(
    session: Session,
    lot: Lot,
    key: IssuerKey,
    *,
    count: int,
    pin: bool,
    actor: str,
    today: dt.date,
) -> StampBatch:
    check_issuable(session, lot, key, today)
    batch = StampBatch(
        lot=lot, key=key, count=count, pin=pin, status=BatchStatus.ISSUING, created_by=actor
    )
    session.add(batch)
    session.flush()
    if batch.id > UINT32_MAX:
        raise IssuanceRefused("batch numbers are exhausted (they must fit 32 bits)")
    log_batch(session, batch)
    return batch


def log_batch(session: Session, batch: StampBatch, now: dt.datetime | None = None) -> None:
    """Append the batch to the transparency log, in the transaction that creates it.

    Before a single stamp is signed: a batch the public log does not show
    verifies as unknown (stamps/verify.py), so even a stolen council key
    cannot make stamps that pass without everyone being able to see them.
    """
    at = now or utcnow()
    append(
        session,
        batch_fields(
            batch=batch.id,
            kid=batch.key.kid,
            organisation=batch.key.organisation_id,
            lot=batch.lot.code,
            count=batch.count,
            first=str(Serial(batch.id, 0)),
            last=str(Serial(batch.id, batch.count - 1)),
            at=at,
        ),
        batch_id=batch.id,
        kid=batch.key.kid,
        now=at,
    )


def finish_batch(
    session: Session,
    batch_id: int,
    *,
    ok: bool,
    now: dt.datetime,
    activated_by: str | None = None,
) -> StampBatch:
    """Mark the batch issued (or failed). With ``activated_by``, all its stamps are active
    at once; without, they stay inert until their owner activates them (stamps/activation.py).
    """
    batch = session.get_one(StampBatch, batch_id)
    if ok:
        batch.status = BatchStatus.ISSUED
        batch.issued_at = now
        if activated_by is not None:
            activate_whole(session, batch, actor=activated_by, now=now)
    else:
        batch.status = BatchStatus.FAILED
    return batch


def void_batch(session: Session, batch_id: int, *, reason: str, now: dt.datetime) -> StampBatch:
    batch = session.get(StampBatch, batch_id)
    if batch is None:
        raise IssuanceRefused("there is no batch %(batch)s", batch=batch_id)
    if not reason.strip():
        raise IssuanceRefused("say why the batch is void: the verify page shows the reason")
    # One conditional UPDATE decides: of two officers voiding at once, one voids the
    # batch and the other is refused (a read, then a write, would let both "void" it
    # and the second overwrite the first's reason on PostgreSQL).
    changed = rowcount(
        session,
        update(StampBatch)
        .where(StampBatch.id == batch_id, StampBatch.status != BatchStatus.VOIDED)
        .values(status=BatchStatus.VOIDED, voided_at=now, void_reason=reason.strip())
        .execution_options(synchronize_session=False),
    )
    session.refresh(batch)
    if changed != 1:
        raise IssuanceRefused("batch %(batch)s is already void", batch=batch_id)
    return batch


def batches_of_lot(session: Session, lot: Lot) -> list[StampBatch]:
    return list(session.scalars(select(StampBatch).where(StampBatch.lot_id == lot.id)))


@dataclass(frozen=True, slots=True)
class IssuedStamp:
    serial: Serial
    token: StampToken
    text: str  # the token's 130 characters, encoded once
    url: str
    pin: str | None


def generate_stamps(
    signer: Signer,
    batch_id: int,
    count: int,
    *,
    base_url: str,
    pin_secret: PinSecret | None,
    start: int = 0,
) -> Iterator[IssuedStamp]:
    """Stamps ``start`` .. ``count - 1`` of a batch: a pure function of (key, batch, index)."""
    prefix = qr_text(base_url, "")
    for index in range(start, count):
        token = StampToken.issue(signer, batch_id, index)
        text = token.encode()
        yield IssuedStamp(
            serial=Serial(batch_id, index),
            token=token,
            text=text,
            url=prefix + text,
            pin=pin_secret.pin_for(batch_id, index) if pin_secret else None,
        )
