"""Where to buy: recent receipts of genuine lots, and who is left out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import (
    Event,
    EventLot,
    EventType,
    Facility,
    FacilityKind,
    Lot,
    LotRole,
    Organisation,
    OrgKind,
    Product,
    Recall,
)
from ocop.trace.sellers import where_to_buy
from tests.factories import organisation
from tests.unit.trace.test_catalogue import _n, product


def _receipt(
    session: Session, item: Product, shop: Organisation, *, days_ago: int = 5, **kw: object
) -> Event:
    n = next(_n)
    lot = Lot(code=f"CAT-LOT-{n}", product=item, owner=item.producer)
    event = Event(
        event_id=f"urn:test:{n}", type=kw.pop("type", EventType.OBJECT), biz_step="receiving",
        event_time=utcnow() - dt.timedelta(days=days_ago), time_zone="+07:00",
        organisation=shop, **kw,
    )  # fmt: skip
    event.lots.append(EventLot(lot=lot, role=LotRole.OBJECT))
    session.add_all([lot, event])
    session.flush()
    return event


def test_where_to_buy_reads_recent_receipts(session: Session) -> None:
    item = product(session, "Bánh cáy")
    shop = organisation(session, OrgKind.RETAILER, name="Cửa hàng Quê")
    old = organisation(session, OrgKind.DISTRIBUTOR, name="Nhà phân phối cũ")
    hidden = organisation(session, OrgKind.RETAILER, name="Cửa hàng ẩn", listed_as_seller=False)
    recalled = organisation(session, OrgKind.RETAILER, name="Cửa hàng lô thu hồi")
    corrected = organisation(session, OrgKind.RETAILER, name="Cửa hàng ghi nhầm")
    authority = organisation(session, OrgKind.AUTHORITY, name="Sở NN")
    store = Facility(
        code=f"SHOP{next(_n)}",
        organisation=shop,
        kind=FacilityKind.SHOP,
        name="Quầy Hàng Đào",
        address="12 Hàng Đào",
    )
    session.add(store)
    _receipt(session, item, shop, facility=store)
    _receipt(session, item, old, days_ago=120)
    _receipt(session, item, hidden)
    _receipt(session, item, authority)
    _receipt(session, item, item.producer)
    bad = _receipt(session, item, recalled)
    session.add(Recall(lot=bad.lots[0].lot, notice="thu hồi", recalled_at=utcnow()))
    wrong = _receipt(session, item, corrected)
    fix = Event(event_id=f"urn:test:fix{wrong.id}", type=EventType.OBJECT, biz_step="receiving",
                event_time=utcnow(), time_zone="+07:00", organisation=corrected,
                corrects=wrong, reason="nhầm sản phẩm")  # fmt: skip
    session.add(fix)
    session.flush()
    sellers = where_to_buy(session, item, utcnow())
    assert [(s.name, s.place) for s in sellers] == [("Cửa hàng Quê", "Quầy Hàng Đào")]
    assert sellers[0].last_received == vietnam_today(utcnow() - dt.timedelta(days=5))
    # Opting back in shows the shop again.
    hidden.listed_as_seller = True
    session.flush()
    assert {s.name for s in where_to_buy(session, item, utcnow())} == {
        "Cửa hàng Quê",
        "Cửa hàng ẩn",
    }
