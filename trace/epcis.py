"""Export as GS1 EPCIS 2.0 JSON-LD: what a partner's traceability system can read.

Lots are class-level identifiers (EPCIS quantity lists): a GS1 Digital Link URI
``https://id.gs1.org/01/{gtin}/10/{lot}`` when the product has a GTIN, else a
private URN. Facilities are identified by their GLN as a Digital Link
(``https://id.gs1.org/414/{gln}``), which, unlike ``urn:epc:id:sgln:``, does not
need the length of the company prefix that we do not record. What EPCIS has no
field for (who recorded the event, which event it corrects) goes into extension
fields under the ``ocop:`` prefix declared in ``@context``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .genealogy import EVENT_PARTS, events_touching, related_lot_ids
from .importer.vocabulary import CBV_BIZ_STEPS, UNITS, is_uri
from .models import Event, EventLot, EventType, Facility, Lot, LotRole
from .queries import find_lot

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
OCOP_PREFIX = "ocop"
OCOP_NAMESPACE = "urn:ocop:epcis:"

# Steps after which the goods are on the road: CBV gives them no business location.
_IN_TRANSIT_STEPS = frozenset({"shipping", "departing", "transporting", "void_shipping"})

_LOCATION_VTYPE = "urn:epcglobal:epcis:vtype:BusinessLocation"
_CLASS_VTYPE = "urn:epcglobal:epcis:vtype:EPCClass"
_MDA = "urn:epcglobal:cbv:mda#"


def lot_uri(lot: Lot) -> str:
    """The class-level identifier of ``lot``: GTIN plus lot number, or a private URN."""
    code = quote(lot.code, safe="")
    if lot.product is not None and lot.product.gtin:
        return f"https://id.gs1.org/01/{lot.product.gtin}/10/{code}"
    return f"urn:ocop:lot:{code}"


def location_uri(facility: Facility) -> str:
    if facility.gln:
        return f"https://id.gs1.org/414/{facility.gln}"
    return f"urn:ocop:facility:{quote(facility.code, safe='')}"


def biz_step_uri(step: str) -> str:
    """A CBV short name as it is; our own steps as URNs (the schema forbids unknown names)."""
    return step if step in CBV_BIZ_STEPS else f"urn:ocop:bizstep:{quote(step, safe='')}"


def _document_uri(kind: str, ident: str) -> str:
    if is_uri(ident):
        return ident
    return f"urn:ocop:doc:{quote(kind, safe='')}:{quote(ident, safe='')}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _quantities(links: Iterable[EventLot]) -> list[dict[str, Any]]:
    out = []
    for link in links:
        element: dict[str, Any] = {"epcClass": lot_uri(link.lot)}
        if link.quantity is not None:
            element["quantity"] = _number(link.quantity)
            uom = UNITS.get(link.unit, link.unit) if link.unit else None
            if uom:
                element["uom"] = uom
        out.append(element)
    return out


def local_event_time(event: Event) -> dt.datetime:
    """When ``event`` happened, in the offset it was recorded in (as people there saw it)."""
    sign = -1 if event.time_zone.startswith("-") else 1
    hours, minutes = event.time_zone[1:].split(":")
    zone = dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))
    return event.event_time.astimezone(zone)


def event_json(event: Event) -> dict[str, Any]:
    """One event in EPCIS 2.0 JSON-LD."""
    out: dict[str, Any] = {
        "type": event.type.value,
        "eventID": event.event_id,
        "eventTime": local_event_time(event).isoformat(),
        "eventTimeZoneOffset": event.time_zone,
        "recordTime": event.created_at.isoformat(),
    }
    out.update(_what(event))
    if event.action is not None and event.type is not EventType.TRANSFORMATION:
        out["action"] = event.action.value
    out["bizStep"] = biz_step_uri(event.biz_step)
    if event.disposition:
        out["disposition"] = event.disposition
    if event.facility is not None:
        place = {"id": location_uri(event.facility)}
        out["readPoint"] = place
        if event.biz_step not in _IN_TRANSIT_STEPS:
            out["bizLocation"] = dict(place)
    if event.documents:
        out["bizTransactionList"] = [
            {"type": d["type"], "bizTransaction": _document_uri(d["type"], d["id"])}
            for d in event.documents
        ]
    out[f"{OCOP_PREFIX}:organisation"] = (
        f"urn:ocop:org:{quote(event.organisation.tax_code, safe='')}"
    )
    if event.corrects is not None:
        out[f"{OCOP_PREFIX}:corrects"] = event.corrects.event_id
    if event.reason:
        out[f"{OCOP_PREFIX}:reason"] = event.reason
    return out


def _what(event: Event) -> dict[str, Any]:
    if event.type is EventType.TRANSFORMATION:
        return {
            "inputQuantityList": _quantities(event.lots_in(LotRole.INPUT)),
            "outputQuantityList": _quantities(event.lots_in(LotRole.OUTPUT)),
        }
    if event.type is EventType.AGGREGATION:
        out: dict[str, Any] = {"childQuantityList": _quantities(event.lots_in(LotRole.CHILD))}
        parents = event.lots_in(LotRole.PARENT)
        if parents:
            out["parentID"] = lot_uri(parents[0].lot)
        return out
    return {"quantityList": _quantities(event.lots_in(LotRole.OBJECT))}


def _master_data(events: Sequence[Event]) -> dict[str, Any]:
    """Names of the places and lots the events mention, so the document reads on its own."""
    places: dict[str, Facility] = {}
    lots: dict[str, Lot] = {}
    for event in events:
        if event.facility is not None:
            places.setdefault(location_uri(event.facility), event.facility)
        for link in event.lots:
            lots.setdefault(lot_uri(link.lot), link.lot)
    return {
        "epcisMasterData": {
            "vocabularyList": [
                {
                    "type": _LOCATION_VTYPE,
                    "vocabularyElementList": [
                        {"id": uri, "attributes": _place_attributes(f)} for uri, f in places.items()
                    ],
                },
                {
                    "type": _CLASS_VTYPE,
                    "vocabularyElementList": [
                        {"id": uri, "attributes": _lot_attributes(lot)} for uri, lot in lots.items()
                    ],
                },
            ]
        }
    }


def _place_attributes(facility: Facility) -> list[dict[str, Any]]:
    attributes: list[dict[str, Any]] = [{"id": f"{_MDA}name", "attribute": facility.name}]
    if facility.latitude is not None and facility.longitude is not None:
        attributes.append({"id": f"{_MDA}latitude", "attribute": facility.latitude})
        attributes.append({"id": f"{_MDA}longitude", "attribute": facility.longitude})
    if facility.address:
        attributes.append({"id": f"{_MDA}streetAddressOne", "attribute": facility.address})
    return attributes


def _lot_attributes(lot: Lot) -> list[dict[str, Any]]:
    attributes: list[dict[str, Any]] = [
        {"id": f"{_MDA}descriptionShort", "attribute": lot.description}
    ]
    if lot.best_before:
        attributes.append({"id": f"{_MDA}bestBeforeDate", "attribute": lot.best_before.isoformat()})
    return attributes


def _events(session: Session, lot_code: str | None) -> list[Event]:
    if lot_code is None:
        query = select(Event).order_by(Event.event_time, Event.id).options(*EVENT_PARTS)
        return list(session.scalars(query))
    lot = find_lot(session, lot_code)
    # Corrected events stay in the export: the correction points at them.
    return events_touching(session, related_lot_ids(session, lot), corrected_too=True)


def epcis_document(
    session: Session, lot_code: str | None = None, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An EPCISDocument of every event, or of those touching ``lot_code``'s genealogy.

    With a lot: the events of the lot, of every lot it was made from and of every
    lot made from it. :class:`NotFound` when there is no such lot.
    """
    events = _events(session, lot_code)
    return {
        "@context": [EPCIS_CONTEXT, {OCOP_PREFIX: OCOP_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or utcnow()).isoformat(),
        "epcisHeader": _master_data(events),
        "epcisBody": {"eventList": [event_json(e) for e in events]},
    }


__all__ = [
    "EPCIS_CONTEXT",
    "OCOP_NAMESPACE",
    "biz_step_uri",
    "epcis_document",
    "event_json",
    "local_event_time",
    "location_uri",
    "lot_uri",
]
