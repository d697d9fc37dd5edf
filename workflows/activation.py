"""Activating a range of stamps, by a producer in the console or an operator on the CLI.

The rule is :func:`ocop.stamps.activation.activate`; here is who may act and
the audit entry that goes with it, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.stamps.activation import Range, activate, ranges_of, stamp_index
from ocop.stamps.models import BatchStatus, StampActivation, StampBatch
from ocop.stamps.serial import Serial
from ocop.trace.models import Lot

from . import audit
from .access import Actor


@dataclass(frozen=True, slots=True)
class BatchRanges:
    """A producer's batch as the activation page lists it."""

    id: int
    lot_code: str
    product: str | None
    count: int
    active: tuple[Range, ...]

    @property
    def active_count(self) -> int:
        return sum(last - first + 1 for first, last in self.active)

    def serial(self, index: int) -> str:
        return str(Serial(self.id, index))


def _detail(row: StampActivation) -> dict[str, object]:
    return {
        "batch": row.batch_id,
        "first": str(Serial(row.batch_id, row.first_index)),
        "last": str(Serial(row.batch_id, row.last_index)),
        "stamps": row.last_index - row.first_index + 1,
    }


def activate_for_producer(
    session: Session, actor: Actor, batch_id: int, first: str, last: str, now: dt.datetime
) -> StampActivation:
    """The console's activation: the actor's organisation must own the batch's lot."""
    row = activate(
        session,
        batch_id,
        stamp_index(first, batch_id),
        stamp_index(last, batch_id),
        owner_id=actor.organisation_id,
        actor=actor.email,
        now=now,
    )
    audit.record(session, actor, "stamps.activate", f"batch {batch_id}", _detail(row))
    return row


def activate_from_cli(
    session: Session, who: str, batch_id: int, first: str, last: str, now: dt.datetime
) -> StampActivation:
    """``ocop stamps activate``: whoever runs the server's command line acts for the owner."""
    row = activate(
        session,
        batch_id,
        stamp_index(first, batch_id),
        stamp_index(last, batch_id),
        owner_id=None,
        actor=who,
        now=now,
    )
    batch = session.get_one(StampBatch, batch_id)
    audit.record_system(
        session, who, "stamps.activate", f"batch {batch_id}", _detail(row),
        organisation_id=batch.lot.owner_id,
    )
    return row


def batches_to_activate(session: Session, organisation_id: int) -> Sequence[BatchRanges]:
    """The organisation's issued batches, newest first, with what is active of each."""
    batches = session.scalars(
        select(StampBatch)
        .join(Lot, Lot.id == StampBatch.lot_id)
        .where(Lot.owner_id == organisation_id, StampBatch.status == BatchStatus.ISSUED)
        .order_by(StampBatch.id.desc())
        .limit(200)
    ).all()
    return [
        BatchRanges(
            id=b.id,
            lot_code=b.lot.code,
            product=b.lot.product.name if b.lot.product else None,
            count=b.count,
            active=tuple(ranges_of(session, b.id)),
        )
        for b in batches
    ]
