"""Verdicts and records turned into what the page and the API show.

Circular 02/2024/TT-BKHCN lists what a traceability label must lead to:
product name and image, producer and address, the stages with place and time,
production and expiry dates, the trace code and serial, and the standards
applied. :func:`stamp_details` gathers exactly that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.keys.models import IssuerKey
from ocop.stamps import Verdict
from ocop.trace.epcis import context_of
from ocop.trace.genealogy import journey
from ocop.trace.models import (
    Address,
    AppliedStandard,
    Certification,
    Event,
    Facility,
    Lot,
    Organisation,
    Product,
    ProductPhoto,
    Trademark,
)
from ocop.trace.queries import certificates_of, certificates_of_places
from ocop.workflows.photos import photo_file


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def address_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "text": str(address),
        "province": address.province,
        "effective_from": _date(address.effective_from),
        "note": address.note,
    }


def organisation_json(org: Organisation) -> dict[str, Any]:
    recorded, current = org.recorded_address, org.current_address
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind.value,
        "address": address_json(current),
        "address_as_recorded": address_json(recorded) if recorded is not current else None,
    }


def certificate_json(cert: Certification, today: dt.date) -> dict[str, Any]:
    return {
        "id": cert.id,
        "scheme": cert.scheme.value,
        "number": cert.number,
        "stars": cert.stars,
        "score": float(cert.score) if cert.score is not None else None,
        "level": cert.level.value if cert.level else None,
        "issuing_body": cert.issuing_body,
        "decision": cert.decision_number,
        "decision_date": _date(cert.decision_date),
        "legal_basis": cert.legal_basis,
        "valid_from": _date(cert.valid_from),
        "valid_until": _date(cert.valid_until),
        "status": cert.status_on(today).value,
        "status_reason": cert.status_reason,
    }


def event_json(event: Event, other: Event | None = None) -> dict[str, Any]:
    """One step of the journey; ``other`` is the far end of a shipment or a receipt."""
    local = event.event_time.astimezone(_zone(event.time_zone))
    place = event.facility
    out = {
        "time": local.isoformat(),
        "biz_step": event.biz_step,
        "type": event.type.value,
        "place": place.name if place else None,
        "place_kind": place.kind.value if place else None,
        # Circular 02/2024 field 5: each stage's location code and product code.
        "place_code": place_code(place) if place else None,
        "organisation": event.organisation.name,
        "lots": [
            {
                "lot": link.lot.code,
                "role": link.role.value,
                "item": link.lot.description,
                "gtin": link.lot.product.gtin if link.lot.product else None,
                "quantity": float(link.quantity) if link.quantity is not None else None,
                "unit": link.unit,
            }
            for link in event.lots
        ],
        "corrects": event.corrects.event_id if event.corrects else None,
    }
    # To whom a shipment went, from whom a receipt came: the matching event of
    # the other organisation (trace.epcis pairs them as the EPCIS export does).
    if other is not None and event.biz_step in ("shipping", "receiving"):
        far = {
            "name": other.organisation.name,
            "place": other.facility.name if other.facility else None,
        }
        out["to" if event.biz_step == "shipping" else "from"] = far
    return out


def place_code(facility: Facility) -> str:
    """The code a place is known by: its GLN, else its planting-area code, else ours."""
    return facility.gln or facility.planting_area_code or facility.code


def standard_json(standard: AppliedStandard, where: str | None = None) -> dict[str, Any]:
    return {
        "kind": standard.kind.value,
        "code": standard.code,
        "title": standard.title,
        "where": where,
    }


def trademark_json(mark: Trademark) -> dict[str, Any]:
    return {
        "mark": mark.mark,
        "number": mark.number,
        "owner": mark.owner,
        "filed_on": _date(mark.filed_on),
        "granted_on": _date(mark.granted_on),
        "classes": mark.classes,
        "office": mark.office,
    }


def _places(lot: Lot, events: list[Event]) -> list[Facility]:
    """The places of the lot's journey, in order of first appearance, its own first."""
    places: dict[int, Facility] = {}
    for place in [lot.facility, *(e.facility for e in events)]:
        if place is not None:
            places.setdefault(place.id, place)
    return list(places.values())


def _compliance(
    session: Session, product: Product, places: list[Facility], today: dt.date
) -> dict[str, Any]:
    """Standards applied and the places' certificates (Circular 02/2024 field 10), marks (8)."""
    standards = [standard_json(s) for s in product.standards]
    for place in places:
        standards += [standard_json(s, place.name) for s in place.standards]
    place_certs = [
        {**certificate_json(c, today), "where": c.facility.name if c.facility else None}
        for c in certificates_of_places(session, [p.id for p in places])
        if c.is_valid_on(today)
    ]
    return {
        "standards": standards,
        "place_certificates": place_certs,
        "trademarks": [trademark_json(m) for m in product.trademarks],
    }


def _zone(offset: str) -> dt.timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))


def lot_json(lot: Lot) -> dict[str, Any]:
    return {
        "code": lot.code,
        "produced_on": _date(lot.produced_on),
        "best_before": _date(lot.best_before),
        "quantity": float(lot.quantity) if lot.quantity is not None else None,
        "unit": lot.unit,
        "facility": lot.facility.name if lot.facility else None,
    }


def product_json(product: Product) -> dict[str, Any]:
    return {
        "code": product.code,
        "name": product.name,
        "gtin": product.gtin,
        "description": product.description,
        "image": product.image,
        "photos": [photo_json(p) for p in product.photos],
        "sector": product.sector,
        "group": product.group,
        "product_set": product.product_set,
        "taxonomy_basis": product.taxonomy_basis,
    }


def photo_json(photo: ProductPhoto) -> dict[str, Any]:
    """A photo's two variants (file names under /photos/) and their sizes, for srcset."""
    return {
        "id": photo.id,
        "small": photo_file(photo.digest, "small"),
        "small_width": photo.small_width,
        "large": photo_file(photo.digest, "large"),
        "large_width": photo.large_width,
        "large_height": photo.large_height,
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The summary every API answer carries: status, reasons, serial, scans."""
    out: dict[str, Any] = {
        "status": verdict.status.value,
        "reasons": [r.value for r in verdict.reasons],
        "serial": str(verdict.serial) if verdict.serial else None,
    }
    if verdict.serial is not None and verdict.token is not None:
        out["batch"] = verdict.token.batch
        out["index"] = verdict.token.index
    if verdict.key is not None:
        out["issuer"] = {"kid": verdict.key.kid, "name": verdict.key.org_name}
    if verdict.scans is not None:
        out["scans"] = verdict.scans.to_json()
    return out


def lot_details(session: Session, lot_id: int, today: dt.date) -> dict[str, Any]:
    """What every stamp of a lot shows and no scan changes: product, producer, journey."""
    lot = session.get_one(Lot, lot_id)
    product = lot.product
    assert product is not None
    events = journey(session, lot)
    ends = context_of(events).counterpart
    return {
        "product": product_json(product),
        "producer": organisation_json(product.producer),
        "lot": lot_json(lot),
        "certificates": [certificate_json(c, today) for c in certificates_of(session, product)],
        "journey": [event_json(e, ends.get(e.id)) for e in events],
        "places": [place_json(p) for p in _journey_places(lot, events)],
        **_compliance(session, product, _places(lot, events), today),
    }


def _journey_places(lot: Lot, events: list[Event]) -> list[Facility]:
    """The journey's places in the order the goods reached them (for the map)."""
    places: dict[int, Facility] = {}
    for place in [*(e.facility for e in events), lot.facility]:
        if place is not None:
            places.setdefault(place.id, place)
    return list(places.values())


def place_json(facility: Facility) -> dict[str, Any]:
    address = facility.organisation.current_address
    return {
        "name": facility.name,
        "kind": facility.kind.value,
        "latitude": facility.latitude,
        "longitude": facility.longitude,
        "province": address.province if address else None,
    }


def issuer_json(session: Session, kid: str) -> dict[str, Any] | None:
    """The council whose key signed a batch: who vouches for the stamp."""
    org = session.scalars(
        select(Organisation)
        .join(IssuerKey, IssuerKey.organisation_id == Organisation.id)
        .where(IssuerKey.kid == kid)
    ).one_or_none()
    return organisation_json(org) if org is not None else None


def stamp_details(
    session: Session,
    verdict: Verdict,
    today: dt.date,
    cached: Callable[[Hashable, Callable[[], dict[str, Any]]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything behind a known stamp, for the page and the single-code API.

    The lot's record (``cached`` may keep it a few seconds) is joined with what
    the verdict read fresh: the OCOP certificate's state and any recall, which
    must show at once.
    """
    batch = verdict.batch
    if batch is None or not verdict.known:
        return {}
    compute = lambda: lot_details(session, batch.lot_id, today)  # noqa: E731
    details = dict(cached(("lot", batch.lot_id, today), compute) if cached else compute())
    ocop = verdict.certificate
    # The OCOP mark may be shown only while the certificate is valid.
    valid = ocop is not None and ocop.is_valid_on(today)
    details["ocop"] = certificate_json(ocop, today) if ocop and valid else None
    details["ocop_lapsed"] = certificate_json(ocop, today) if ocop and not valid else None
    details["recall"] = (
        {"notice": batch.recall_notice, "at": batch.recalled_at.isoformat()}
        if batch.recall_notice is not None and batch.recalled_at is not None
        else None
    )
    # Not "issuer": the verdict's summary has that key (the key's id and name).
    details["signed_by"] = issuer_json(session, batch.kid)
    details["batch"] = {
        "number": batch.id,
        "issued_at": batch.issued_at.isoformat() if batch.issued_at else None,
        "void_reason": batch.void_reason,
    }
    return details
