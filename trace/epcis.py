"""Export as GS1 EPCIS 2.0 JSON-LD: what a partner's traceability system can read.

Lots are class-level identifiers (EPCIS quantity lists): a GS1 Digital Link URI
``https://id.gs1.org/01/{gtin}/10/{lot}`` when the product has a GTIN. Facilities
are identified by their GLN as a Digital Link (``https://id.gs1.org/414/{gln}``),
which, unlike ``urn:epc:id:sgln:``, needs no company-prefix length. What has no
GS1 identifier (a lot without GTIN, a place without GLN, a party, a document
without a URI) and the words CBV lacks are HTTP URIs under the deployment's base
URL (``{base}/id/...`` and ``{base}/voc/...``), declared as the ``ocop:`` prefix
in ``@context``: no unregistered ``urn:`` namespace.

A standard consumer must read the document as we mean it: business steps and
dispositions are CBV 2.0 words wherever one fits; a corrected event carries an
``errorDeclaration`` naming its ``correctiveEventIDs`` (EPCIS 2.0 section 7.4.1.4),
so it is not counted twice; shipping and receiving name their source and
destination parties and places; a lot's best-before travels as ILMD.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .genealogy import EVENT_PARTS, events_touching, related_lot_ids
from .importer.vocabulary import CBV_BIZ_STEPS, CBV_DISPOSITIONS, UNITS, is_uri
from .models import Event, EventAction, EventLot, EventType, Facility, Lot, LotRole, Organisation
from .queries import find_lot

# Pinned: the unversioned context follows whatever GS1 publishes next.
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
OCOP_PREFIX = "ocop"

# Our steps, mapped to the CBV 2.0 step that means the same to a consumer: a
# harvest makes a quantity of a lot out of nothing that was identified before,
# and a transformation commissions its outputs (as GS1's own example 9.6.4 does).
# The step as recorded stays in the ocop:bizStep extension.
CBV_STEP_FOR = {"harvesting": "creating_class_instance", "transforming": "commissioning"}

# Steps after which the goods are on the road: CBV gives them no business location.
_IN_TRANSIT_STEPS = frozenset({"shipping", "departing", "transporting", "void_shipping"})

_LOCATION_VTYPE = "urn:epcglobal:epcis:vtype:BusinessLocation"
_CLASS_VTYPE = "urn:epcglobal:epcis:vtype:EPCClass"
_MDA = "urn:epcglobal:cbv:mda#"
# CBV 2.0 error reason for an event whose data were wrong.
_INCORRECT_DATA = "incorrect_data"


@dataclass(frozen=True, slots=True)
class Namespace:
    """Our identifiers and words as HTTP URIs under a deployment's public base URL."""

    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/").lower())

    @property
    def vocabulary(self) -> str:
        return f"{self.base}/voc/"

    def id(self, kind: str, *parts: str) -> str:
        return "/".join([f"{self.base}/id/{kind}", *(quote(p, safe="") for p in parts)])

    def lot(self, lot: Lot) -> str:
        """The class-level identifier of ``lot``: GTIN plus lot number, or ours."""
        if lot.product is not None and lot.product.gtin:
            return f"https://id.gs1.org/01/{lot.product.gtin}/10/{quote(lot.code, safe='')}"
        return self.id("lot", lot.code)

    def location(self, facility: Facility) -> str:
        if facility.gln:
            return f"https://id.gs1.org/414/{facility.gln}"
        return self.id("facility", facility.code)

    def party(self, org: Organisation) -> str:
        return self.id("org", org.tax_code)

    def biz_step(self, step: str) -> str:
        step = CBV_STEP_FOR.get(step, step)
        return step if step in CBV_BIZ_STEPS else f"{self.vocabulary}bizstep-{quote(step, safe='')}"

    def disposition(self, value: str) -> str:
        if value in CBV_DISPOSITIONS:
            return value
        return f"{self.vocabulary}disp-{quote(value, safe='')}"

    def document(self, kind: str, ident: str) -> str:
        return ident if is_uri(ident) else self.id("doc", kind, ident)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _quantities(ns: Namespace, links: Iterable[EventLot]) -> list[dict[str, Any]]:
    out = []
    for link in links:
        element: dict[str, Any] = {"epcClass": ns.lot(link.lot)}
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


@dataclass(frozen=True, slots=True)
class Context:
    """What one event's export needs to know of the others in the document."""

    # event id -> the events that correct it, and when the first was recorded
    corrected_by: dict[int, list[Event]] = field(default_factory=dict)
    # shipping or receiving event id -> the event at the other end
    counterpart: dict[int, Event] = field(default_factory=dict)


def event_json(event: Event, ns: Namespace, context: Context | None = None) -> dict[str, Any]:
    """One event in EPCIS 2.0 JSON-LD."""
    context = context or Context()
    out: dict[str, Any] = {
        "type": event.type.value,
        "eventID": event.event_id,
        "eventTime": local_event_time(event).isoformat(),
        "eventTimeZoneOffset": event.time_zone,
        "recordTime": event.created_at.isoformat(),
    }
    fixes = context.corrected_by.get(event.id)
    if fixes:
        out["errorDeclaration"] = {
            "declarationTime": min(f.created_at for f in fixes).isoformat(),
            "reason": _INCORRECT_DATA,
            "correctiveEventIDs": [f.event_id for f in fixes],
        }
    out.update(_what(event, ns))
    if event.action is not None and event.type is not EventType.TRANSFORMATION:
        out["action"] = event.action.value
    out["bizStep"] = ns.biz_step(event.biz_step)
    if event.disposition:
        out["disposition"] = ns.disposition(event.disposition)
    if event.facility is not None:
        place = {"id": ns.location(event.facility)}
        out["readPoint"] = place
        if event.biz_step not in _IN_TRANSIT_STEPS:
            out["bizLocation"] = dict(place)
    if event.documents:
        out["bizTransactionList"] = [
            {"type": d["type"], "bizTransaction": ns.document(d["type"], d["id"])}
            for d in event.documents
        ]
    out.update(_parties(event, ns, context.counterpart.get(event.id)))
    ilmd = _ilmd(event)
    if ilmd:
        out["ilmd"] = ilmd
    out[f"{OCOP_PREFIX}:organisation"] = ns.party(event.organisation)
    if event.biz_step != CBV_STEP_FOR.get(event.biz_step, event.biz_step):
        out[f"{OCOP_PREFIX}:bizStep"] = event.biz_step
    if event.corrects is not None:
        out[f"{OCOP_PREFIX}:corrects"] = event.corrects.event_id
    if event.reason:
        out[f"{OCOP_PREFIX}:reason"] = event.reason
    return out


def _parties(event: Event, ns: Namespace, other: Event | None) -> dict[str, Any]:
    """sourceList and destinationList (CBV 2.0 owning_party and location) of a move.

    The side we recorded is the event's own organisation and place; the other
    side is the matching receiving (for a shipment) or shipping (for a receipt)
    event of the same lot by another organisation, when the records hold one.
    """
    if event.biz_step not in ("shipping", "receiving"):
        return {}
    own = _ends(event, ns)
    ends = {"shipping": ("source", own), "receiving": ("destination", own)}
    mine, mine_list = ends[event.biz_step]
    out = {f"{mine}List": [{"type": t, mine: uri} for t, uri in mine_list]}
    if other is not None:
        theirs = "destination" if mine == "source" else "source"
        out[f"{theirs}List"] = [{"type": t, theirs: uri} for t, uri in _ends(other, ns)]
    return out


def _ends(event: Event, ns: Namespace) -> list[tuple[str, str]]:
    ends = [("owning_party", ns.party(event.organisation))]
    if event.facility is not None:
        ends.append(("location", ns.location(event.facility)))
    return ends


def _ilmd(event: Event) -> dict[str, Any]:
    """Instance/lot master data of what the event brings into being: best-before."""
    if event.type is EventType.TRANSFORMATION:
        made = event.lots_in(LotRole.OUTPUT)
    elif event.action is EventAction.ADD and event.type is EventType.OBJECT:
        made = event.lots_in(LotRole.OBJECT)
    else:
        return {}
    # ILMD speaks for every output at once: only a date they all share is true of each.
    dates = {link.lot.best_before for link in made}
    if len(dates) != 1 or None in dates:
        return {}
    (day,) = dates
    assert day is not None
    return {"cbvmda:bestBeforeDate": day.isoformat()}


def _what(event: Event, ns: Namespace) -> dict[str, Any]:
    if event.type is EventType.TRANSFORMATION:
        return {
            "inputQuantityList": _quantities(ns, event.lots_in(LotRole.INPUT)),
            "outputQuantityList": _quantities(ns, event.lots_in(LotRole.OUTPUT)),
        }
    if event.type is EventType.AGGREGATION:
        out: dict[str, Any] = {
            "childQuantityList": _quantities(ns, event.lots_in(LotRole.CHILD))
        }
        parents = event.lots_in(LotRole.PARENT)
        if parents:
            out["parentID"] = ns.lot(parents[0].lot)
        return out
    return {"quantityList": _quantities(ns, event.lots_in(LotRole.OBJECT))}


def context_of(events: Sequence[Event]) -> Context:
    """Corrections and the two ends of each move, among ``events``."""
    context = Context()
    for event in events:
        if event.corrects_id is not None:
            context.corrected_by.setdefault(event.corrects_id, []).append(event)
    live = [e for e in events if e.id not in context.corrected_by]
    for shipment in (e for e in live if e.biz_step == "shipping"):
        receipt = _next_receipt(shipment, live)
        if receipt is not None:
            context.counterpart[shipment.id] = receipt
            context.counterpart.setdefault(receipt.id, shipment)
    return context


def _next_receipt(shipment: Event, events: Sequence[Event]) -> Event | None:
    shipped = {link.lot_id for link in shipment.lots}
    for event in events:
        if (
            event.biz_step == "receiving"
            and event.event_time >= shipment.event_time
            and event.organisation_id != shipment.organisation_id
            and shipped & {link.lot_id for link in event.lots}
        ):
            return event
    return None


def _master_data(ns: Namespace, events: Sequence[Event]) -> dict[str, Any]:
    """Names of the places and lots the events mention, so the document reads on its own."""
    places: dict[str, Facility] = {}
    lots: dict[str, Lot] = {}
    for event in events:
        if event.facility is not None:
            places.setdefault(ns.location(event.facility), event.facility)
        for link in event.lots:
            lots.setdefault(ns.lot(link.lot), link.lot)
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
    # Corrected events stay in the export, each with its error declaration.
    return events_touching(session, related_lot_ids(session, lot), corrected_too=True)


def _context_header(ns: Namespace) -> list[Any]:
    return [EPCIS_CONTEXT, {OCOP_PREFIX: ns.vocabulary}]


def epcis_document(
    session: Session,
    lot_code: str | None = None,
    *,
    base_url: str,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """An EPCISDocument of every event, or of those touching ``lot_code``'s genealogy.

    With a lot: the events of the lot, of every lot it was made from and of every
    lot made from it. :class:`NotFound` when there is no such lot. ``base_url``
    is the deployment's public URL, under which our own identifiers live.
    """
    ns = Namespace(base_url)
    events = _events(session, lot_code)
    context = context_of(events)
    return {
        "@context": _context_header(ns),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or utcnow()).isoformat(),
        "epcisHeader": _master_data(ns, events),
        "epcisBody": {"eventList": [event_json(e, ns, context) for e in events]},
    }


def query_document(
    events: Sequence[Event], *, base_url: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An EPCISQueryDocument (EPCIS 2.0 REST binding) holding ``events``, in order.

    Corrections among ``events`` become error declarations; a correction
    outside them is still named, by the corrected event's ``ocop:corrects``.
    """
    ns = Namespace(base_url)
    context = context_of(events)
    return {
        "@context": _context_header(ns),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or utcnow()).isoformat(),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [event_json(e, ns, context) for e in events]},
            }
        },
    }


__all__ = [
    "CBV_STEP_FOR",
    "EPCIS_CONTEXT",
    "Context",
    "Namespace",
    "context_of",
    "epcis_document",
    "event_json",
    "local_event_time",
    "query_document",
]
