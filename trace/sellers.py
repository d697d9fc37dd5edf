"""Where to buy a product: who received a genuine lot of it lately.

Read from receiving ObjectEvents, which ``workflows.receiving`` records only for
lots whose every code verified genuine. A shop may opt out of being shown
(``Organisation.listed_as_seller``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from .db import vietnam_today
from .models import (
    Event,
    EventLot,
    EventType,
    Facility,
    Lot,
    LotRole,
    Organisation,
    OrgKind,
    Product,
    Recall,
)

# "Where to buy" shows shops that received a genuine lot this recently.
SELLER_WINDOW = dt.timedelta(days=90)
MAX_SELLERS = 50


@dataclass(frozen=True, slots=True)
class Seller:
    """A distributor or shop that received a genuine lot of the product lately."""

    organisation_id: int
    name: str
    kind: OrgKind
    province: str | None
    address: str | None
    place: str | None  # the shop or warehouse the receipt names
    place_address: str | None
    last_received: dt.date  # in Vietnam


def where_to_buy(session: Session, product: Product, now: dt.datetime) -> tuple[Seller, ...]:
    """Who received a lot of ``product`` in the last 90 days, latest first.

    From receiving ObjectEvents (a receipt is recorded only for lots whose every
    code verified genuine); a corrected event, a recalled lot, the producer itself,
    an authority and an organisation that opted out are left out.
    """
    corrected = aliased(Event)
    last = func.max(Event.event_time).label("last")
    rows = session.execute(
        select(Event.organisation_id, Event.facility_id, last)
        .join(EventLot, EventLot.event_id == Event.id)
        .join(Lot, Lot.id == EventLot.lot_id)
        .join(Organisation, Organisation.id == Event.organisation_id)
        .where(
            Event.biz_step == "receiving",
            Event.type == EventType.OBJECT,
            Event.event_time >= now - SELLER_WINDOW,
            Event.event_time <= now,
            EventLot.role == LotRole.OBJECT,
            Lot.product_id == product.id,
            Event.organisation_id != product.producer_id,
            Organisation.kind != OrgKind.AUTHORITY,
            Organisation.listed_as_seller.is_(True),
            ~exists().where(corrected.corrects_id == Event.id),
            ~exists().where(Recall.lot_id == Lot.id),
        )
        .group_by(Event.organisation_id, Event.facility_id)
        .order_by(last.desc(), Event.organisation_id)
        .limit(MAX_SELLERS)
    ).all()
    return _sellers(session, rows)


def _sellers(
    session: Session, rows: Sequence[tuple[int, int | None, dt.datetime]]
) -> tuple[Seller, ...]:
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organisation)
            .where(Organisation.id.in_({r[0] for r in rows}))
            .options(selectinload(Organisation.addresses))
        )
    }
    facility_ids = {r[1] for r in rows if r[1] is not None}
    places = {
        f.id: f for f in session.scalars(select(Facility).where(Facility.id.in_(facility_ids)))
    }
    sellers = []
    for org_id, facility_id, last in rows:
        org = orgs[org_id]
        place = places.get(facility_id) if facility_id is not None else None
        address = org.current_address
        sellers.append(
            Seller(
                organisation_id=org.id,
                name=org.name,
                kind=org.kind,
                province=address.province if address else None,
                address=str(address) if address else None,
                place=place.name if place else None,
                place_address=place.address if place else None,
                last_received=vietnam_today(last),
            )
        )
    return tuple(sellers)


__all__ = ["MAX_SELLERS", "SELLER_WINDOW", "Seller", "where_to_buy"]
