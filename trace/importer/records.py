"""The records of an import file, each read into a typed spec by its own rules.

A spec is a record that obeys every rule it can be held to alone: the fields it
must have, the values they may take, and how they go together (an OCOP
certificate's stars and score, a lot's production and best-before dates, an
event's type and its lots). What needs the other records or the database (does
that lot exist? is that certificate recorded differently?) is left to
``checking`` and ``comparing``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import GenealogyCycle, InvalidGtin, InvalidRecord, Phrase
from ..gtin import Gln, Gtin
from ..models import (
    CertLevel,
    CertStatus,
    EventAction,
    EventType,
    FacilityKind,
    LotRole,
    OrgKind,
    Scheme,
)
from .marks import StandardSpec, TrademarkSpec, read_standards, read_trademark
from .reading import ASCII_CODE, Fields, add_months
from .vocabulary import (
    BIZ_STEPS,
    CBV_DISPOSITIONS,
    DEFAULT_VALIDITY_MONTHS,
    DOCUMENT_TYPES,
    FIELDS,
    FORMAT,
    FUTURE_TOLERANCE,
    MAX_QUANTITY,
    SECTIONS,
    STAR_BANDS,
    UNITS,
)

# --------------------------------------------------------------------------- specs


@dataclass(slots=True)
class AddressSpec:
    path: str
    street: str | None
    commune: str | None
    district: str | None
    province: str
    country: str
    effective_from: dt.date
    note: str | None

    def content(self) -> tuple[Any, ...]:
        return (self.street, self.commune, self.district, self.province, self.country, self.note)


@dataclass(slots=True)
class OrgSpec:
    path: str
    tax_code: str
    kind: OrgKind
    name: str
    short_name: str | None
    phone: str | None
    email: str | None
    website: str | None
    addresses: list[AddressSpec]
    council: str | None = None  # the tax code of the authority that governs it


@dataclass(slots=True)
class FacilitySpec:
    path: str
    code: str
    organisation: str
    kind: FacilityKind
    name: str
    gln: str | None
    planting_area_code: str | None
    crop: str | None
    area_ha: Decimal | None
    latitude: float | None
    longitude: float | None
    address: str | None
    standards: list[StandardSpec] = field(default_factory=list)


@dataclass(slots=True)
class ProductSpec:
    path: str
    code: str
    producer: str
    name: str
    short_name: str | None
    description: str | None
    gtin: str | None
    image: str | None
    sector: str | None
    group: str | None
    product_set: str | None
    taxonomy_basis: str | None
    standards: list[StandardSpec] = field(default_factory=list)
    trademarks: list[TrademarkSpec] = field(default_factory=list)


@dataclass(slots=True)
class CertSpec:
    path: str
    scheme: Scheme
    number: str
    product: str | None
    facility: str | None
    stars: int | None
    score: Decimal | None
    level: CertLevel | None
    issuing_body: str
    decision_number: str | None
    decision_date: dt.date | None
    legal_basis: str | None
    valid_from: dt.date
    valid_until: dt.date
    status: CertStatus
    status_reason: str | None


@dataclass(slots=True)
class LotSpec:
    path: str
    code: str
    product: str | None
    item: str | None
    facility: str | None
    owner: str | None
    produced_on: dt.date | None
    best_before: dt.date | None
    quantity: Decimal | None
    unit: str | None


@dataclass(slots=True)
class LinkSpec:
    path: str
    role: LotRole
    lot: str
    quantity: Decimal | None
    unit: str | None


@dataclass(slots=True)
class EventSpec:
    path: str
    index: int
    event_id: str
    type: EventType
    action: EventAction | None
    biz_step: str
    disposition: str | None
    time: dt.datetime
    time_zone: str
    facility: str | None
    organisation: str | None
    links: list[LinkSpec]
    documents: list[dict[str, str]] | None
    corrects: str | None
    reason: str | None


@dataclass(slots=True)
class RecallSpec:
    path: str
    lot: str
    notice: str
    by: str | None
    at: dt.datetime


@dataclass(slots=True)
class Parsed:
    organisations: list[OrgSpec] = field(default_factory=list)
    facilities: list[FacilitySpec] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)
    certifications: list[CertSpec] = field(default_factory=list)
    lots: list[LotSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    recalls: list[RecallSpec] = field(default_factory=list)


# --------------------------------------------------------------------------- rules


def read_records(data: Mapping[str, Any], now: dt.datetime) -> Parsed:
    """Every record of ``data`` as a spec; the first broken rule raises InvalidRecord."""
    top = Fields(data, "$", frozenset((*SECTIONS, "format", "comment")))
    fmt = data.get("format")
    if fmt is not None and fmt != FORMAT:
        raise InvalidRecord(
            "unsupported format %(given)r; this version reads %(format)r",
            "$.format",
            given=fmt,
            format=FORMAT,
        )
    parsed = Parsed()
    readers: dict[str, Callable[[Fields, int], Any]] = {
        "organisations": lambda r, _i: _read_org(r),
        "facilities": lambda r, _i: _read_facility(r),
        "products": lambda r, _i: _read_product(r),
        "certifications": lambda r, _i: _read_cert(r),
        "lots": lambda r, _i: _read_lot(r),
        "events": lambda r, i: _read_event(r, i, now),
        "recalls": lambda r, _i: _read_recall(r),
    }
    for section in SECTIONS:
        out = getattr(parsed, section)
        for i, item in enumerate(top.array(section)):
            out.append(readers[section](Fields(item, f"$.{section}[{i}]", FIELDS[section]), i))
    return parsed


def _read_org(r: Fields) -> OrgSpec:
    kind = r.enum("kind", OrgKind)
    assert kind is not None
    addresses = [
        _read_address(Fields(item, f"{r.at('addresses')}[{i}]", FIELDS["addresses"]))
        for i, item in enumerate(r.array("addresses"))
    ]
    seen: dict[dt.date, str] = {}
    for address in addresses:
        if address.effective_from in seen:
            raise InvalidRecord(
                "another address of this organisation (%(other)s) already takes effect on %(date)s",
                f"{address.path}.effective_from",
                other=seen[address.effective_from],
                date=address.effective_from,
            )
        seen[address.effective_from] = address.path
    return OrgSpec(
        path=r.path,
        tax_code=r.required_code("tax_code"),
        kind=kind,
        name=r.required_text("name"),
        short_name=r.text("short_name"),
        phone=r.text("phone", limit=40),
        email=r.text("email"),
        website=r.text("website"),
        addresses=sorted(addresses, key=lambda a: a.effective_from),
        council=r.code("council", required=False),
    )


def _read_address(r: Fields) -> AddressSpec:
    country = r.text("country", limit=2) or "VN"
    if not (len(country) == 2 and country.isascii() and country.isupper()):
        raise InvalidRecord(
            "must be an ISO 3166 two-letter code such as VN; got %(value)r",
            r.at("country"),
            value=country,
        )
    return AddressSpec(
        path=r.path,
        street=r.text("street"),
        commune=r.text("commune"),
        district=r.text("district"),
        province=r.required_text("province"),
        country=country,
        effective_from=r.required_date("effective_from"),
        note=r.text("note", limit=500),
    )


def _read_facility(r: Fields) -> FacilitySpec:
    kind = r.enum("kind", FacilityKind)
    assert kind is not None
    gln = r.value.get("gln")
    if gln is not None:
        try:
            gln = Gln.parse(gln).digits
        except InvalidRecord as error:
            raise InvalidRecord(error.reason, r.at("gln")) from None
    # Coordinates come from maps and GPS readers, written 21.0285 everywhere.
    latitude = r.decimal(
        "latitude", places=7, minimum=Decimal(-90), maximum=Decimal(90), grouping=False
    )
    longitude = r.decimal(
        "longitude", places=7, minimum=Decimal(-180), maximum=Decimal(180), grouping=False
    )
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise InvalidRecord(
            "latitude and longitude go together; give both or neither", r.at(missing)
        )
    return FacilitySpec(
        path=r.path,
        code=r.required_code("code"),
        organisation=r.required_code("organisation"),
        kind=kind,
        name=r.required_text("name"),
        gln=gln,
        planting_area_code=r.code("planting_area_code", required=False),
        crop=r.text("crop"),
        area_ha=r.decimal("area_ha", places=4, above=Decimal(0), maximum=Decimal(10**7)),
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None,
        address=r.text("address", limit=500),
        standards=read_standards(r),
    )


def _read_product(r: Fields) -> ProductSpec:
    gtin = r.value.get("gtin")
    if gtin is not None:
        try:
            gtin = Gtin.parse(gtin).digits
        except InvalidGtin as error:
            raise InvalidGtin(error.reason, r.at("gtin")) from None
    return ProductSpec(
        path=r.path,
        code=r.required_code("code"),
        producer=r.required_code("producer"),
        name=r.required_text("name"),
        short_name=r.text("short_name", limit=60),
        description=r.text("description", limit=5000),
        gtin=gtin,
        image=r.text("image", limit=500),
        sector=r.text("sector"),
        group=r.text("group"),
        product_set=r.text("product_set"),
        taxonomy_basis=r.text("taxonomy_basis", limit=40),
        standards=read_standards(r),
        trademarks=[
            read_trademark(Fields(item, f"{r.at('trademarks')}[{i}]", FIELDS["trademarks"]))
            for i, item in enumerate(r.array("trademarks"))
        ],
    )


def _read_cert(r: Fields) -> CertSpec:
    scheme = r.enum("scheme", Scheme)
    assert scheme is not None
    product, facility = r.code("product", required=False), r.code("facility", required=False)
    if (product is None) == (facility is None):
        raise InvalidRecord(
            "a certificate names either a product or a facility (one of them)", r.path
        )
    stars = _read_stars(r, scheme)
    score = r.decimal("score", places=2, minimum=Decimal(0), maximum=Decimal(100))
    if stars is not None and score is not None:
        low, high = STAR_BANDS[stars]
        if not low <= score < high:
            raise InvalidRecord(
                "a score of %(score)s does not give %(stars)s stars "
                "(148/QĐ-TTg: 3 stars 50-69, 4 stars 70-89, 5 stars 90-100)",
                r.at("score"),
                score=score,
                stars=stars,
            )
    valid_from = r.required_date("valid_from")
    valid_until = r.date("valid_until") or (
        add_months(valid_from, DEFAULT_VALIDITY_MONTHS) - dt.timedelta(days=1)
    )
    if valid_until <= valid_from:
        raise InvalidRecord(
            "%(valid_until)s is not after valid_from %(valid_from)s; "
            "a certificate must end after it starts",
            r.at("valid_until"),
            valid_until=valid_until,
            valid_from=valid_from,
        )
    status = r.enum("status", CertStatus, required=False) or CertStatus.VALID
    reason = r.text("status_reason", limit=500)
    if status in (CertStatus.REVOKED, CertStatus.SUPERSEDED) and reason is None:
        raise InvalidRecord(
            "a %(status)s certificate needs a status_reason", r.at("status_reason"), status=status
        )
    return CertSpec(
        path=r.path,
        scheme=scheme,
        number=r.required_code("number", limit=40),
        product=product,
        facility=facility,
        stars=stars,
        score=score,
        level=r.enum("level", CertLevel, required=False),
        issuing_body=r.required_text("issuing_body"),
        decision_number=r.text("decision_number", limit=40),
        decision_date=r.date("decision_date"),
        legal_basis=r.text("legal_basis"),
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
        status_reason=reason,
    )


def _read_stars(r: Fields, scheme: Scheme) -> int | None:
    stars = r.integer("stars")
    if scheme is Scheme.OCOP:
        if stars is None:
            raise InvalidRecord("an OCOP certificate needs its stars (3, 4 or 5)", r.at("stars"))
        if not 3 <= stars <= 5:
            raise InvalidRecord(
                "OCOP certificates have 3, 4 or 5 stars; got %(stars)s "
                "(1 and 2 stars get no certificate)",
                r.at("stars"),
                stars=stars,
            )
    elif stars is not None:
        raise InvalidRecord(
            "stars are for OCOP certificates, not %(scheme)s", r.at("stars"), scheme=scheme
        )
    return stars


def _read_lot(r: Fields) -> LotSpec:
    product, item = r.code("product", required=False), r.text("item")
    if product is None and item is None:
        raise InvalidRecord(
            "a lot needs a product (its code) or, for raw materials, an item (what it is)", r.path
        )
    produced_on, best_before = r.date("produced_on"), r.date("best_before")
    if produced_on and best_before and best_before < produced_on:
        raise InvalidRecord(
            "%(best_before)s is before produced_on %(produced_on)s",
            r.at("best_before"),
            best_before=best_before,
            produced_on=produced_on,
        )
    return LotSpec(
        path=r.path,
        code=r.required_code("code"),
        product=product,
        item=item,
        facility=r.code("facility", required=False),
        owner=r.code("owner", required=False),
        produced_on=produced_on,
        best_before=best_before,
        quantity=r.decimal("quantity", places=3, minimum=Decimal(0), maximum=MAX_QUANTITY),
        unit=r.unit("unit"),
    )


def _read_event(r: Fields, index: int, now: dt.datetime) -> EventSpec:
    kind = r.enum("type", EventType)
    assert kind is not None
    action = r.enum("action", EventAction, required=False)
    if kind is EventType.TRANSFORMATION and action is not None:
        raise InvalidRecord("a TransformationEvent has no action", r.at("action"))
    if kind is not EventType.TRANSFORMATION and action is None:
        raise InvalidRecord(
            "a %(type)s needs an action (ADD, OBSERVE or DELETE)", r.at("action"), type=kind
        )
    time, zone = r.time("time")
    if time > now + FUTURE_TOLERANCE:
        raise InvalidRecord("%(time)s is in the future", r.at("time"), time=r.value["time"])
    documents = _read_documents(r)
    if kind is EventType.TRANSACTION and not documents:
        raise InvalidRecord(
            "a TransactionEvent needs at least one document (po, inv, desadv...)", r.at("documents")
        )
    corrects = r.uri("corrects", required=False)
    reason = r.text("reason", limit=500)
    if corrects is not None and reason is None:
        raise InvalidRecord("a correction needs a reason", r.at("reason"))
    event_id = r.uri("id")
    assert event_id is not None
    if corrects == event_id:
        raise InvalidRecord("an event cannot correct itself", r.at("corrects"))
    return EventSpec(
        path=r.path,
        index=index,
        event_id=event_id,
        type=kind,
        action=action,
        biz_step=r.choice("biz_step", BIZ_STEPS, required=True, what=Phrase("business step (CBV)"))
        or "",
        disposition=r.choice(
            "disposition", CBV_DISPOSITIONS, required=False, what=Phrase("disposition (CBV)")
        ),
        time=time,
        time_zone=zone,
        facility=r.code("facility", required=False),
        organisation=r.code("organisation", required=False),
        links=_read_links(r, kind),
        documents=documents or None,
        corrects=corrects,
        reason=reason,
    )


def _read_links(r: Fields, kind: EventType) -> list[LinkSpec]:
    if kind is EventType.TRANSFORMATION:
        for key in ("lots", "parent"):
            if key in r.value:
                raise InvalidRecord(
                    "a TransformationEvent has inputs and outputs, not %(member)s",
                    r.at(key),
                    member=key,
                )
        links = _link_list(r, "inputs", LotRole.INPUT) + _link_list(r, "outputs", LotRole.OUTPUT)
        inputs = {link.lot for link in links if link.role is LotRole.INPUT}
        for link in links:
            if link.role is LotRole.OUTPUT and link.lot in inputs:
                raise GenealogyCycle(
                    "lot %(lot)r is both an input and an output; a lot cannot be made from itself",
                    link.path,
                    lot=link.lot,
                )
        return links
    for key in ("inputs", "outputs"):
        if key in r.value:
            raise InvalidRecord(
                "only a TransformationEvent has %(member)s; use lots", r.at(key), member=key
            )
    role = LotRole.CHILD if kind is EventType.AGGREGATION else LotRole.OBJECT
    links = _link_list(r, "lots", role)
    parent = r.code("parent", required=False)
    if parent is not None:
        if kind is not EventType.AGGREGATION:
            raise InvalidRecord("only an AggregationEvent has a parent", r.at("parent"))
        links.append(LinkSpec(r.at("parent"), LotRole.PARENT, parent, None, None))
    return links


def _link_list(r: Fields, key: str, role: LotRole) -> list[LinkSpec]:
    items = r.array(key, required=True)
    if not items:
        raise InvalidRecord("must name at least one lot", r.at(key))
    links, seen = [], set()
    base = r.at(key)
    for i, item in enumerate(items):
        path = f"{base}[{i}]"
        link = _plain_link(item, path, role) or _careful_link(item, path, role)
        if link.lot in seen:
            raise InvalidRecord("lot %(lot)r is listed twice", f"{path}.lot", lot=link.lot)
        seen.add(link.lot)
        links.append(link)
    return links


def _plain_link(item: object, path: str, role: LotRole) -> LinkSpec | None:
    """The common case, read without ceremony; anything unusual goes the careful way."""
    if type(item) is not dict or not FIELDS["links"].issuperset(item):
        return None
    lot, quantity, unit = item.get("lot"), item.get("quantity"), item.get("unit")
    if type(lot) is not str or len(lot) > 40 or not ASCII_CODE.match(lot):
        return None
    if quantity is not None and not (type(quantity) is int and 0 <= quantity <= MAX_QUANTITY):
        return None
    if unit is not None and not (type(unit) is str and unit in UNITS):
        return None
    return LinkSpec(path, role, lot, None if quantity is None else Decimal(quantity), unit)


def _careful_link(item: object, path: str, role: LotRole) -> LinkSpec:
    f = Fields(item, path, FIELDS["links"])
    lot = f.required_code("lot")
    quantity = f.decimal("quantity", places=3, minimum=Decimal(0), maximum=MAX_QUANTITY)
    return LinkSpec(path, role, lot, quantity, f.unit("unit"))


def _read_documents(r: Fields) -> list[dict[str, str]]:
    documents = []
    for i, item in enumerate(r.array("documents")):
        f = Fields(item, f"{r.at('documents')}[{i}]", FIELDS["documents"])
        kind = f.choice("type", DOCUMENT_TYPES, required=True, what=Phrase("document type (CBV)"))
        assert kind is not None
        documents.append({"type": kind, "id": f.required_text("id")})
    return documents


def _read_recall(r: Fields) -> RecallSpec:
    at, _zone = r.time("at")
    return RecallSpec(
        path=r.path,
        lot=r.required_code("lot"),
        notice=r.required_text("notice", limit=5000),
        by=r.code("by", required=False),
        at=at,
    )


__all__ = [
    "AddressSpec",
    "CertSpec",
    "EventSpec",
    "FacilitySpec",
    "LinkSpec",
    "LotSpec",
    "OrgSpec",
    "Parsed",
    "ProductSpec",
    "RecallSpec",
    "read_records",
]
