"""Stamp activation: printed rolls stay inert until their owner puts a range into use.

A batch made from a producer's stamp request is inert when printed; the
producer activates the stamps by range at packing (console page or
``ocop stamps activate``). A stamp whose index lies in no activated range
verifies as ``suspect`` with the reason ``not_activated``, and its scans show
to the producer as a possible theft: blank stamps taken from a print shop are
worthless until their owner activates them.

:func:`activate` is the one rule; the workflow around it (workflows/activation.py)
says who acts and writes the audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ActivationRefused, InvalidSerial, MalformedToken
from .models import BatchStatus, StampActivation, StampBatch
from .serial import Serial
from .token import StampToken

Range = tuple[int, int]

_MAX_TEXT = 300


def stamp_index(text: str, batch_id: int) -> int:
    """The 0-based index of a stamp of ``batch_id`` as a person gives it.

    A printed serial (``12-000042-7``), the stamp number alone (``42``, as
    printed, from 1), or what the stamp's QR code holds (its URL or token).
    """
    raw = (text or "").strip()[:_MAX_TEXT]
    if not raw:
        raise ActivationRefused("give the first and the last stamp of the range")
    if raw.isascii() and raw.isdigit():
        number = int(raw)
        if number < 1:
            raise ActivationRefused("stamp numbers start at 1")
        return number - 1
    try:
        serial = Serial.parse(raw)
        batch, index = serial.batch, serial.index
    except InvalidSerial:
        try:
            token = StampToken.parse(raw)
        except MalformedToken:
            raise ActivationRefused(
                "%(given)r is not a stamp: give its serial, its number or its QR code",
                given=raw[:60],
            ) from None
        batch, index = token.batch, token.index
    if batch != batch_id:
        raise ActivationRefused(
            "stamp %(given)s is of batch %(other)s, not of batch %(batch)s",
            given=raw[:60],
            other=batch,
            batch=batch_id,
        )
    return index


def ranges_of(session: Session, batch_id: int) -> list[Range]:
    rows = session.execute(
        select(StampActivation.first_index, StampActivation.last_index)
        .where(StampActivation.batch_id == batch_id)
        .order_by(StampActivation.first_index)
    )
    return [(first, last) for first, last in rows]


def is_active(ranges: Sequence[Range], index: int) -> bool:
    return any(first <= index <= last for first, last in ranges)


def _locked_batch(session: Session, batch_id: int) -> StampBatch | None:
    # Two activations of one batch take turns here (PostgreSQL row lock; SQLite
    # writers already take the database's lock at BEGIN): the second sees the
    # first's range and is refused as an overlap.
    return session.scalars(
        select(StampBatch).where(StampBatch.id == batch_id).with_for_update(of=StampBatch)
    ).one_or_none()


def activate(
    session: Session,
    batch_id: int,
    first: int,
    last: int,
    *,
    owner_id: int | None,
    actor: str,
    now: dt.datetime,
) -> StampActivation:
    """Activate stamps ``first`` .. ``last`` (0-based, inclusive) of a batch.

    ``owner_id`` is the organisation acting: it must own the batch's lot. None
    is the command line, run by whoever holds the server. Refuses, changing
    nothing, a reversed range, a range outside the batch, one that overlaps an
    activated range, a void or unfinished batch, and another producer's stamps.
    """
    batch = _locked_batch(session, batch_id)
    if batch is None:
        raise ActivationRefused("there is no batch %(batch)s", batch=batch_id)
    if owner_id is not None and batch.lot.owner_id != owner_id:
        # Said the same way as a batch that does not exist: no hint of others' stamps.
        raise ActivationRefused("there is no batch %(batch)s", batch=batch_id)
    if batch.status is BatchStatus.VOIDED:
        raise ActivationRefused("batch %(batch)s is void; its stamps cannot be activated",
                                batch=batch_id)
    if batch.status is not BatchStatus.ISSUED:
        raise ActivationRefused(
            "batch %(batch)s is not issued yet (it is %(status)s)", batch=batch_id,
            status=batch.status,
        )
    if first > last:
        raise ActivationRefused(
            "the first stamp (%(first)s) comes after the last (%(last)s)",
            first=str(Serial(batch_id, first)),
            last=str(Serial(batch_id, last)),
        )
    if first < 0 or last >= batch.count:
        raise ActivationRefused(
            "batch %(batch)s has stamps 1 to %(count)s; the range asked for goes past them",
            batch=batch_id,
            count=batch.count,
        )
    for done_first, done_last in ranges_of(session, batch_id):
        if done_first <= last and first <= done_last:
            raise ActivationRefused(
                "stamps %(first)s to %(last)s are already active; the range overlaps them",
                first=str(Serial(batch_id, done_first)),
                last=str(Serial(batch_id, done_last)),
            )
    row = StampActivation(
        batch_id=batch_id,
        first_index=first,
        last_index=last,
        activated_by=(actor.strip() or "unknown")[:200],
        activated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def activate_whole(session: Session, batch: StampBatch, *, actor: str, now: dt.datetime) -> None:
    """Every stamp of a batch issued straight to its printer (``ocop stamps issue``)."""
    session.add(
        StampActivation(
            batch_id=batch.id,
            first_index=0,
            last_index=batch.count - 1,
            activated_by=(actor.strip() or "unknown")[:200],
            activated_at=now,
        )
    )
    session.flush()
