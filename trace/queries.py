"""Questions other packages ask of the records: which lots, which certificate, which recall.

The stamps and web packages call these instead of writing their own queries, so
"valid OCOP certificate" means one thing everywhere: what
:meth:`Certification.is_valid_on` says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from .errors import InvalidRecord, NotFound
from .models import Certification, Lot, Organisation, Product, Recall, Scheme


@dataclass(frozen=True, slots=True)
class LotSummary:
    """One line of ``ocop trace lots``."""

    code: str
    product: str | None  # the product's name; None for a raw-material lot
    product_code: str | None
    item: str  # what the lot is: the product's name or the raw material
    producer: str  # the product's producer, or the lot's owner for raw materials
    produced_on: dt.date | None
    best_before: dt.date | None
    stampable: bool  # the product holds a valid OCOP certificate today
    stars: int | None  # of that certificate
    recalled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "product": self.product,
            "product_code": self.product_code,
            "item": self.item,
            "producer": self.producer,
            "produced_on": self.produced_on.isoformat() if self.produced_on else None,
            "best_before": self.best_before.isoformat() if self.best_before else None,
            "stampable": self.stampable,
            "stars": self.stars,
            "recalled": self.recalled,
        }


def find_lot(session: Session, code: str) -> Lot:
    """The lot with this code; :class:`NotFound` names the code otherwise."""
    lot = session.scalars(select(Lot).where(Lot.code == code)).one_or_none()
    if lot is None:
        raise NotFound("no lot with code %(code)r", code=code)
    return lot


def find_product(session: Session, code: str) -> Product:
    product = session.scalars(select(Product).where(Product.code == code)).one_or_none()
    if product is None:
        raise NotFound("no product with code %(code)r", code=code)
    return product


def find_organisation(session: Session, tax_code: str) -> Organisation:
    org = session.scalars(
        select(Organisation).where(Organisation.tax_code == tax_code)
    ).one_or_none()
    if org is None:
        raise NotFound("no organisation with tax code %(tax_code)r", tax_code=tax_code)
    return org


def ocop_certificates(
    session: Session, product_ids: Iterable[int]
) -> dict[int, list[Certification]]:
    """OCOP certificates by product id, newest first (by start, then by id)."""
    ids = list(set(product_ids))
    found: dict[int, list[Certification]] = {i: [] for i in ids}
    if not ids:
        return found
    certs = session.scalars(
        select(Certification)
        .where(Certification.scheme == Scheme.OCOP, Certification.product_id.in_(ids))
        .order_by(Certification.valid_from.desc(), Certification.id.desc())
    )
    for cert in certs:
        assert cert.product_id is not None
        found[cert.product_id].append(cert)
    return found


def _newest_valid(certs: Iterable[Certification], today: dt.date) -> Certification | None:
    return next((c for c in certs if c.is_valid_on(today)), None)


def valid_ocop_certificate(
    session: Session, product: Product, today: dt.date
) -> Certification | None:
    """The newest OCOP certificate of ``product`` valid on ``today``, if any.

    Only while one exists may the product's lots get stamps and show the OCOP mark.
    """
    return _newest_valid(ocop_certificates(session, [product.id])[product.id], today)


def latest_ocop_certificate(
    session: Session, product: Product, today: dt.date
) -> Certification | None:
    """The OCOP certificate that speaks for ``product`` on ``today``.

    The valid one when there is one; otherwise the newest that had begun (expired,
    revoked or superseded), so a page can say why the mark is no longer shown.
    A certificate that starts after ``today`` does not count yet.
    """
    certs = ocop_certificates(session, [product.id])[product.id]
    valid = _newest_valid(certs, today)
    if valid is not None:
        return valid
    return next((c for c in certs if c.valid_from <= today), None)


def certificates_of(session: Session, product: Product) -> list[Certification]:
    """Every certificate of ``product``, OCOP first, then newest first."""
    certs = session.scalars(
        select(Certification)
        .where(Certification.product_id == product.id)
        .order_by(Certification.valid_from.desc(), Certification.id.desc())
    ).all()
    return sorted(certs, key=lambda c: c.scheme is not Scheme.OCOP)


def certificates_of_places(session: Session, facility_ids: list[int]) -> list[Certification]:
    """Every certificate of these places (VietGAP of an area, HACCP of a plant), newest first."""
    if not facility_ids:
        return []
    return list(
        session.scalars(
            select(Certification)
            .where(Certification.facility_id.in_(facility_ids))
            .order_by(Certification.valid_from.desc(), Certification.id.desc())
        )
    )


def list_lots(
    session: Session,
    today: dt.date,
    *,
    owner_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[LotSummary]:
    """Every lot (or ``owner_id``'s), newest production first, saying whether it may
    get stamps today; ``limit`` and ``offset`` give one page of them."""
    query = (
        select(Lot)
        .order_by(Lot.produced_on.desc().nulls_last(), Lot.code)
        # Few products and owners, many lots: one SELECT each, not a join per lot.
        .options(selectinload(Lot.product), selectinload(Lot.owner), lazyload(Lot.facility))
        .limit(limit)
        .offset(offset or None)
    )
    if owner_id is not None:
        query = query.where(Lot.owner_id == owner_id)
    lots = session.scalars(query).all()
    certs = ocop_certificates(session, {lot.product_id for lot in lots if lot.product_id})
    recalled = set(session.scalars(select(Recall.lot_id).distinct()))
    return [_summary(lot, certs, recalled, today) for lot in lots]


def _summary(
    lot: Lot, certs: dict[int, list[Certification]], recalled: set[int], today: dt.date
) -> LotSummary:
    product = lot.product
    cert = _newest_valid(certs.get(product.id, ()), today) if product else None
    return LotSummary(
        code=lot.code,
        product=product.name if product else None,
        product_code=product.code if product else None,
        item=lot.description,
        producer=product.producer.name if product else lot.owner.name,
        produced_on=lot.produced_on,
        best_before=lot.best_before,
        stampable=cert is not None,
        stars=cert.stars if cert else None,
        recalled=lot.id in recalled,
    )


def record_recall(
    session: Session,
    lot: Lot,
    notice: str,
    by: Organisation | None,
    at: dt.datetime,
) -> Recall:
    """Withdraw ``lot`` from sale; every stamp of it shows ``notice`` from now on."""
    notice = notice.strip()
    if not notice:
        raise InvalidRecord("a recall needs a notice that tells buyers what to do")
    if at.tzinfo is None:
        raise InvalidRecord("the recall time needs a time zone")
    recall = Recall(lot=lot, notice=notice, recalled_by_id=by.id if by else None, recalled_at=at)
    session.add(recall)
    session.flush()
    return recall


__all__ = [
    "LotSummary",
    "certificates_of",
    "certificates_of_places",
    "find_lot",
    "find_organisation",
    "find_product",
    "latest_ocop_certificate",
    "list_lots",
    "ocop_certificates",
    "record_recall",
    "valid_ocop_certificate",
]


def list_organisations(session: Session) -> list[Organisation]:
    """Every organisation, by id: the ids other commands ask for (``ocop users add --org``)."""
    return list(session.scalars(select(Organisation).order_by(Organisation.id)))
