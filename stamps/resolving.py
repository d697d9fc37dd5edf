"""What a GS1 Digital Link names: a product, a lot of it, or one stamped item.

The serial (AI 21) is the stamp's printed serial (``1234-000042-7``): it
names a stamp without its signature, so resolving it never hands out a
token. A serial is a number anyone can count up; the token is what proves a
stamp genuine, and only the printed QR carries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.digital_link import DigitalLink
from ocop.trace.errors import NotFound
from ocop.trace.models import Lot, Product

from .errors import InvalidSerial
from .models import BatchStatus, StampBatch
from .serial import Serial


@dataclass(frozen=True, slots=True)
class ResolvedItem:
    product: Product
    lot: Lot | None = None
    batch: StampBatch | None = None
    serial: Serial | None = None


def resolve_item(session: Session, link: DigitalLink) -> ResolvedItem:
    """The records ``link`` names; :class:`NotFound` when any part names nothing here.

    A lot must be of the GTIN's product, and a serial of a batch of that lot,
    within the batch's count: a Digital Link whose parts disagree names nothing.
    """
    product = session.scalars(
        select(Product).where(Product.gtin == link.gtin.digits)
    ).one_or_none()
    if product is None:
        raise NotFound("no product with GTIN %(gtin)s", gtin=link.gtin.digits)
    lot = None
    if link.lot is not None:
        lot = session.scalars(
            select(Lot).where(Lot.code == link.lot, Lot.product_id == product.id)
        ).one_or_none()
        if lot is None:
            raise NotFound("no lot %(lot)s of GTIN %(gtin)s", lot=link.lot, gtin=link.gtin.digits)
    if link.serial is None:
        return ResolvedItem(product, lot)
    batch, serial = _stamp(session, link.serial, product, lot)
    return ResolvedItem(product, lot or batch.lot, batch, serial)


def _stamp(
    session: Session, text: str, product: Product, lot: Lot | None
) -> tuple[StampBatch, Serial]:
    try:
        serial = Serial.parse(text)
    except InvalidSerial:
        raise NotFound("no stamp with serial %(serial)s", serial=text) from None
    batch = session.get(StampBatch, serial.batch)
    if (
        batch is None
        # Only printed stamps exist: a voided batch's did, a failed one's never did.
        or batch.status not in (BatchStatus.ISSUED, BatchStatus.VOIDED)
        or serial.index >= batch.count
        or batch.lot.product_id != product.id
        or (lot is not None and batch.lot_id != lot.id)
    ):
        raise NotFound("no stamp with serial %(serial)s", serial=text)
    return batch, serial


__all__ = ["ResolvedItem", "resolve_item"]
