"""What an officer must know to sign a stamp request, in one place.

The approval page shows it; nothing here decides (``approve_request`` checks the
rules again when it signs). Three questions: is the product still certified (its
stars, and the certificate valid, expiring soon or expired, with its decision
number); does the lot hold that many items (its quantity against the stamps
already issued for it, those asked for in other open requests, and this one);
and how has this producer's asking gone so far.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocop.stamps.models import BatchStatus, StampBatch
from ocop.trace.expiry import WARN_DAYS
from ocop.trace.models import Certification
from ocop.trace.queries import latest_ocop_certificate

from .models import RequestStatus, StampRequest

HISTORY = 5  # the producer's last requests shown beside the one being decided


class CertificateState(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"  # valid, but its last day is within WARN_DAYS
    EXPIRED = "expired"  # past its last day, or expired, revoked or superseded
    NONE = "none"  # the product never had an OCOP certificate (or the lot has no product)


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    state: CertificateState
    certificate: Certification | None
    days_left: int | None  # to the last day of validity, when valid


@dataclass(frozen=True, slots=True)
class QuantityCheck:
    """The lot's quantity against its stamps; ``quantity`` is ``None`` when not recorded."""

    quantity: Decimal | None
    unit: str | None
    issued: int  # stamps of the lot's issued or issuing batches
    asked_elsewhere: int  # stamps of the lot's other pending requests
    this_request: int

    @property
    def total(self) -> int:
        return self.issued + self.asked_elsewhere + self.this_request

    @property
    def over(self) -> bool:
        """More stamps than items, counting this request: one item, one stamp."""
        return self.quantity is not None and self.total > self.quantity


@dataclass(frozen=True, slots=True)
class ProducerHistory:
    counts: dict[RequestStatus, int]  # every status, zero included
    recent: Sequence[StampRequest]  # the last few decided or open, newest first, not this one


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    stars: int | None
    certificate: CertificateCheck
    quantity: QuantityCheck
    history: ProducerHistory


def approval_facts(session: Session, request: StampRequest, today: dt.date) -> ApprovalFacts:
    """Everything the approval page shows about ``request``, as of ``today``."""
    certificate = certificate_check(session, request, today)
    stars = certificate.certificate.stars if certificate.certificate else None
    return ApprovalFacts(
        stars=stars,
        certificate=certificate,
        quantity=quantity_check(session, request),
        history=producer_history(session, request),
    )


def certificate_check(session: Session, request: StampRequest, today: dt.date) -> CertificateCheck:
    product = request.lot.product
    found = latest_ocop_certificate(session, product, today) if product is not None else None
    if found is None:
        return CertificateCheck(CertificateState.NONE, None, None)
    valid = found.status == "valid" and found.valid_from <= today <= found.valid_until
    if not valid:
        return CertificateCheck(CertificateState.EXPIRED, found, None)
    days_left = (found.valid_until - today).days
    state = CertificateState.EXPIRING if days_left <= WARN_DAYS else CertificateState.VALID
    return CertificateCheck(state, found, days_left)


def quantity_check(session: Session, request: StampRequest) -> QuantityCheck:
    lot = request.lot
    issued = session.scalar(
        select(func.coalesce(func.sum(StampBatch.count), 0)).where(
            StampBatch.lot_id == lot.id,
            StampBatch.status.in_((BatchStatus.ISSUED, BatchStatus.ISSUING)),
        )
    )
    # A request being signed already has its batch (counted above); a pending one not yet.
    asked = session.scalar(
        select(func.coalesce(func.sum(StampRequest.count), 0)).where(
            StampRequest.lot_id == lot.id,
            StampRequest.status == RequestStatus.PENDING,
            StampRequest.id != request.id,
        )
    )
    mine = request.count if request.status is RequestStatus.PENDING else 0
    return QuantityCheck(lot.quantity, lot.unit, int(issued or 0), int(asked or 0), mine)


def producer_history(
    session: Session, request: StampRequest, *, limit: int = HISTORY
) -> ProducerHistory:
    rows = session.execute(
        select(StampRequest.status, func.count())
        .where(StampRequest.organisation_id == request.organisation_id)
        .where(StampRequest.id != request.id)
        .group_by(StampRequest.status)
    ).all()
    counts = dict.fromkeys(RequestStatus, 0)
    counts.update({RequestStatus(status): n for status, n in rows})
    recent = session.scalars(
        select(StampRequest)
        .where(
            StampRequest.organisation_id == request.organisation_id,
            StampRequest.id != request.id,
        )
        .order_by(StampRequest.requested_at.desc(), StampRequest.id.desc())
        .limit(limit)
    ).all()
    return ProducerHistory(counts, recent)


__all__ = [
    "ApprovalFacts",
    "CertificateCheck",
    "CertificateState",
    "ProducerHistory",
    "QuantityCheck",
    "approval_facts",
    "certificate_check",
    "producer_history",
    "quantity_check",
]
