"""Certificates reaching their end: marked ``expired`` by the daily job, and shown to
their producer ahead of time.

The verifier never waits for the mark: :meth:`Certification.status_on` already
treats a valid certificate past its last day as expired. The mark makes the
record say so too (lists, exports, the public certificate page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import rowcount, utcnow
from .models import Certification, CertStatus, Product

WARN_DAYS = 90  # a producer hears of a certificate's end this many days before


def expire_certificates(session: Session, today: dt.date) -> int:
    """Mark every valid certificate whose last day is before ``today``; how many were."""
    return rowcount(session,
        update(Certification)
        .where(Certification.status == CertStatus.VALID, Certification.valid_until < today)
        .values(
            status=CertStatus.EXPIRED,
            status_reason="reached the end of its validity",
            status_changed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def certificates_ending(
    session: Session, producer_id: int | None, today: dt.date, *, days: int = WARN_DAYS
) -> Sequence[Certification]:
    """Valid certificates of ``producer_id``'s products (everyone's for ``None``) whose
    last day falls within ``days`` from ``today``, soonest first."""
    query = (
        select(Certification)
        .join(Product, Certification.product_id == Product.id)
        .where(
            Certification.status == CertStatus.VALID,
            Certification.valid_until >= today,
            Certification.valid_until <= today + dt.timedelta(days=days),
        )
        .order_by(Certification.valid_until, Certification.id)
        .limit(100)
    )
    if producer_id is not None:
        query = query.where(Product.producer_id == producer_id)
    return session.scalars(query).all()


__all__ = ["WARN_DAYS", "certificates_ending", "expire_certificates"]
