"""What the home page shows each role: the things waiting for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ocop.stamps.models import StampBatch
from ocop.trace.models import Lot, Product

from .access import Actor
from .models import FakeReport, RequestStatus, StampRequest


def summary(session: Session, who: Actor) -> dict[str, int]:
    """Counts for the home page, scoped to the actor's organisation unless an authority."""

    def count(query: Select[int]) -> int:
        return session.scalar(query) or 0

    pending = (
        select(func.count())
        .select_from(StampRequest)
        .where(StampRequest.status == RequestStatus.PENDING)
    )
    unapproved = select(func.count()).select_from(Product).where(Product.approved.is_(False))
    reports = (
        select(func.count())
        .select_from(FakeReport)
        .outerjoin(StampBatch, FakeReport.batch_id == StampBatch.id)
        .outerjoin(Lot, StampBatch.lot_id == Lot.id)
        .where(FakeReport.handled_at.is_(None))
    )
    products = select(func.count()).select_from(Product)
    if not who.is_authority:
        pending = pending.where(StampRequest.organisation_id == who.organisation_id)
        unapproved = unapproved.where(Product.producer_id == who.organisation_id)
        reports = reports.where(Lot.owner_id == who.organisation_id)
        products = products.where(Product.producer_id == who.organisation_id)
    return {
        "pending_requests": count(pending),
        "unapproved_products": count(unapproved),
        "open_reports": count(reports),
        "products": count(products),
    }


RECENT_DAYS = 30
RECENT_DECISIONS = 10
# A request an officer has decided on: approved (signing, then issued or failed) or rejected.
_DECIDED = (
    RequestStatus.SIGNING,
    RequestStatus.ISSUED,
    RequestStatus.REJECTED,
    RequestStatus.FAILED,
)


def recent_decisions(
    session: Session,
    organisation_id: int,
    now: dt.datetime,
    *,
    days: int = RECENT_DAYS,
    limit: int = RECENT_DECISIONS,
) -> Sequence[StampRequest]:
    """The organisation's stamp requests decided in the last ``days``, newest decision first."""
    return session.scalars(
        select(StampRequest)
        .where(
            StampRequest.organisation_id == organisation_id,
            StampRequest.status.in_(_DECIDED),
            StampRequest.decided_at.is_not(None),
            StampRequest.decided_at >= now - dt.timedelta(days=days),
        )
        .order_by(StampRequest.decided_at.desc(), StampRequest.id.desc())
        .limit(limit)
    ).all()
