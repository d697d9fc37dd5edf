"""The value-chain records: who made what, where, from what, under which certificate.

Nothing here is ever hard-deleted: a printed stamp may point at any of it for
years. Corrections are new rows (an event that corrects another, an address
with a later effective date, a certificate that supersedes another).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .db import Base, BigIntId, UtcDateTime, created_at, enum_column, intpk, str40, str200
from .folding import product_search_text


class OrgKind(StrEnum):
    AUTHORITY = "authority"
    ENTERPRISE = "enterprise"
    COOPERATIVE = "cooperative"
    COOPERATIVE_GROUP = "cooperative_group"
    HOUSEHOLD_BUSINESS = "household_business"
    DISTRIBUTOR = "distributor"
    RETAILER = "retailer"

    @property
    def is_producer(self) -> bool:
        return self in PRODUCER_KINDS


PRODUCER_KINDS = frozenset(
    {OrgKind.ENTERPRISE, OrgKind.COOPERATIVE, OrgKind.COOPERATIVE_GROUP, OrgKind.HOUSEHOLD_BUSINESS}
)


class FacilityKind(StrEnum):
    FARM = "farm"
    RAW_MATERIAL_AREA = "raw_material_area"
    PROCESSING_PLANT = "processing_plant"
    WAREHOUSE = "warehouse"
    SHOP = "shop"


class Scheme(StrEnum):
    OCOP = "ocop"
    VIETGAP = "vietgap"
    ORGANIC = "organic"
    HACCP = "haccp"
    ISO22000 = "iso22000"


class StandardKind(StrEnum):
    """The kinds of standard a product or a place applies (Circular 02/2024, field 10)."""

    TCVN = "tcvn"  # Vietnamese national standard
    QCVN = "qcvn"  # Vietnamese national technical regulation
    TCCS = "tccs"  # the producer's own published standard (tiêu chuẩn cơ sở)
    ISO = "iso"
    CODEX = "codex"
    OTHER = "other"


class CertLevel(StrEnum):
    CENTRAL = "central"
    PROVINCE = "province"
    DISTRICT = "district"  # only on certificates from before districts were abolished


class CertStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class EventType(StrEnum):
    OBJECT = "ObjectEvent"
    AGGREGATION = "AggregationEvent"
    TRANSFORMATION = "TransformationEvent"
    TRANSACTION = "TransactionEvent"


class EventAction(StrEnum):
    ADD = "ADD"
    OBSERVE = "OBSERVE"
    DELETE = "DELETE"


class LotRole(StrEnum):
    """How a lot takes part in an event."""

    OBJECT = "object"  # what an object or transaction event is about
    INPUT = "input"  # consumed by a transformation
    OUTPUT = "output"  # produced by a transformation
    PARENT = "parent"  # an aggregation's container
    CHILD = "child"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[intpk]
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind, "org_kind"))
    name: Mapped[str200]
    short_name: Mapped[str200 | None]
    # Tax code, or for a state body its budget-relation code: the natural key.
    tax_code: Mapped[str40] = mapped_column(unique=True)
    phone: Mapped[str40 | None]
    email: Mapped[str200 | None]
    website: Mapped[str200 | None]
    # The OCOP council (an authority) that governs this organisation: a producer's
    # or a distributor's provincial council, a provincial council's central office.
    # An authority with none above it is a central office. Who may act on what
    # follows from this link (ocop.workflows.access).
    council_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    sample: Mapped[bool] = mapped_column(default=False)
    # A distributor or shop may opt out of the catalogue's "where to buy".
    listed_as_seller: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[created_at]

    addresses: Mapped[list[Address]] = relationship(
        back_populates="organisation", order_by="Address.effective_from"
    )
    council: Mapped[Organisation | None] = relationship(remote_side="Organisation.id")

    @property
    def is_central_office(self) -> bool:
        """An authority that no other council governs: it governs every organisation."""
        return self.kind is OrgKind.AUTHORITY and self.council_id is None

    def address_on(self, day: dt.date) -> Address | None:
        """The address in force on ``day`` (the newest that had begun)."""
        current = None
        for address in self.addresses:
            if address.effective_from <= day:
                current = address
        return current

    @property
    def current_address(self) -> Address | None:
        return self.addresses[-1] if self.addresses else None

    @property
    def recorded_address(self) -> Address | None:
        return self.addresses[0] if self.addresses else None


class Address(Base):
    """One version of an organisation's address.

    Vietnam merged provinces and abolished districts in 2025, so the same farm
    gate has had two official addresses. Each is kept with the date it took
    effect; the first one is the address as recorded.
    """

    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("organisation_id", "effective_from"),)

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    street: Mapped[str200 | None]
    commune: Mapped[str200 | None]
    district: Mapped[str200 | None]
    province: Mapped[str200]
    country: Mapped[str] = mapped_column(String(2), default="VN")
    effective_from: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None]

    organisation: Mapped[Organisation] = relationship(back_populates="addresses")

    def __str__(self) -> str:
        parts = (self.street, self.commune, self.district, self.province)
        return ", ".join(p for p in parts if p)


class Facility(Base):
    """A place: farm, raw-material area, processing plant, warehouse or shop."""

    __tablename__ = "facilities"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
        CheckConstraint("area_ha IS NULL OR area_ha > 0", name="area_positive"),
    )

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind, "facility_kind"))
    name: Mapped[str200]
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    planting_area_code: Mapped[str40 | None]
    crop: Mapped[str200 | None]
    area_ha: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    address: Mapped[str | None]
    created_at: Mapped[created_at]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    standards: Mapped[list[AppliedStandard]] = relationship(
        primaryjoin="AppliedStandard.facility_id == Facility.id", order_by="AppliedStandard.id",
        viewonly=True,
    )


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        # PostgreSQL's search index (migration 0011 creates it, with its trigram
        # operator class); named here so that the schema and the models agree.
        Index(
            "ix_products_search_fold",
            # As PostgreSQL reflects it, so that Alembic's comparison agrees.
            text(
                "ocop_fold((name::text || ' '::text)"
                " || COALESCE(short_name, ''::character varying)::text)"
            ),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str200]
    short_name: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(Text)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    image: Mapped[str | None]
    # The OCOP taxonomy changes with its legal basis (1048/QĐ-TTg, then
    # 148/QĐ-TTg): a product is classified under the basis named beside it.
    sector: Mapped[str200 | None]
    group: Mapped[str200 | None]
    product_set: Mapped[str200 | None]
    taxonomy_basis: Mapped[str40 | None]
    approved: Mapped[bool] = mapped_column(default=True)
    # The name folded for search (trace.folding), kept by the setter below; SQLite
    # searches it, PostgreSQL its own unaccent index (migration 0011).
    search_text: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[created_at]

    producer: Mapped[Organisation] = relationship(lazy="joined")
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="product", order_by="Certification.valid_from"
    )
    standards: Mapped[list[AppliedStandard]] = relationship(
        primaryjoin="AppliedStandard.product_id == Product.id", order_by="AppliedStandard.id",
        viewonly=True,
    )
    trademarks: Mapped[list[Trademark]] = relationship(
        back_populates="product", order_by="Trademark.id"
    )
    photos: Mapped[list[ProductPhoto]] = relationship(
        back_populates="product", order_by="ProductPhoto.id"
    )

    @validates("name", "short_name")
    def _refold(self, key: str, value: str | None) -> str | None:
        name = value if key == "name" else self.name
        short_name = value if key == "short_name" else self.short_name
        self.search_text = product_search_text(name, short_name)
        return value

    @property
    def label_name(self) -> str:
        return self.short_name or self.name


class AppliedStandard(Base):
    """A standard or technical regulation that a product or a place applies.

    Not a certificate: a TCVN, QCVN or TCCS is declared by the producer (and a
    TCCS is theirs); certificates of conformity are :class:`Certification` rows.
    """

    __tablename__ = "applied_standards"
    __table_args__ = (
        CheckConstraint(
            "(product_id IS NULL) <> (facility_id IS NULL)", name="applies_to_one_thing"
        ),
        UniqueConstraint("product_id", "facility_id", "kind", "code"),
    )

    id: Mapped[intpk]
    kind: Mapped[StandardKind] = mapped_column(enum_column(StandardKind, "standard_kind"))
    # As written on the label: "TCVN 11041-2:2017", "QCVN 8-2:2011/BYT", "TCCS 01:2024/HTX".
    code: Mapped[str40]
    title: Mapped[str200 | None]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    created_at: Mapped[created_at]


class Trademark(Base):
    """A registered trademark a product is sold under (Circular 02/2024, field 8)."""

    __tablename__ = "trademarks"
    __table_args__ = (
        UniqueConstraint("product_id", "office", "number"),
        CheckConstraint(
            "granted_on IS NULL OR filed_on IS NULL OR granted_on >= filed_on",
            name="granted_after_filing",
        ),
    )

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    mark: Mapped[str200]
    # The registration certificate's number ("Giấy chứng nhận đăng ký nhãn hiệu số ...").
    number: Mapped[str40]
    owner: Mapped[str200]
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    granted_on: Mapped[dt.date | None] = mapped_column(Date)
    # Nice classes, as a list ("29, 30"): searching by class is not a need.
    classes: Mapped[str40 | None]
    office: Mapped[str200]
    created_at: Mapped[created_at]

    product: Mapped[Product] = relationship(back_populates="trademarks")


class ProductPhoto(Base):
    """A photo of a product as its producer uploaded it, kept as resized variants.

    The files (ocop.workflows.photos) are named by ``digest``, the SHA-256 of
    the upload, so an unchanged photo keeps its address and may be cached for
    good; the row says which product shows it and how large each variant is.
    """

    __tablename__ = "product_photos"
    __table_args__ = (UniqueConstraint("product_id", "digest"),)

    id: Mapped[intpk]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    small_width: Mapped[int]
    small_height: Mapped[int]
    large_width: Mapped[int]
    large_height: Mapped[int]
    created_at: Mapped[created_at]

    product: Mapped[Product] = relationship(back_populates="photos")


class Certification(Base):
    __tablename__ = "certifications"
    __table_args__ = (
        UniqueConstraint("scheme", "number"),
        CheckConstraint("stars IS NULL OR stars BETWEEN 3 AND 5", name="stars"),
        CheckConstraint("scheme <> 'ocop' OR stars IS NOT NULL", name="ocop_has_stars"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score"),
        CheckConstraint("valid_until > valid_from", name="period"),
        CheckConstraint(
            "product_id IS NOT NULL OR facility_id IS NOT NULL", name="certifies_something"
        ),
    )

    id: Mapped[intpk]
    scheme: Mapped[Scheme] = mapped_column(enum_column(Scheme, "cert_scheme"))
    number: Mapped[str40]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    stars: Mapped[int | None]
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    level: Mapped[CertLevel | None] = mapped_column(enum_column(CertLevel, "cert_level"))
    issuing_body: Mapped[str200]
    decision_number: Mapped[str40 | None]
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    legal_basis: Mapped[str200 | None]
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[CertStatus] = mapped_column(
        enum_column(CertStatus, "cert_status"), default=CertStatus.VALID
    )
    status_reason: Mapped[str | None]
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[created_at]

    product: Mapped[Product | None] = relationship(back_populates="certifications")
    facility: Mapped[Facility | None] = relationship()

    def status_on(self, day: dt.date) -> CertStatus:
        """The status as of ``day``: a valid certificate past its end has expired."""
        if self.status is CertStatus.VALID and not (self.valid_from <= day <= self.valid_until):
            return CertStatus.EXPIRED
        return self.status

    def is_valid_on(self, day: dt.date) -> bool:
        return self.status_on(day) is CertStatus.VALID


class Lot(Base):
    """A quantity of one thing made or harvested together.

    Raw-material lots (glutinous rice from an area) have no product; a lot of an
    OCOP product does, and only such a lot can carry stamps.
    """

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
        CheckConstraint(
            "best_before IS NULL OR produced_on IS NULL OR best_before >= produced_on",
            name="best_before_after_production",
        ),
    )

    id: Mapped[intpk]
    code: Mapped[str40] = mapped_column(unique=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    item: Mapped[str200 | None]
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    produced_on: Mapped[dt.date | None] = mapped_column(Date)
    best_before: Mapped[dt.date | None] = mapped_column(Date)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    unit: Mapped[str40 | None]
    created_at: Mapped[created_at]

    product: Mapped[Product | None] = relationship(lazy="joined")
    facility: Mapped[Facility | None] = relationship(lazy="joined")
    owner: Mapped[Organisation] = relationship(lazy="joined")
    recalls: Mapped[list[Recall]] = relationship(back_populates="lot", order_by="Recall.id")

    @property
    def description(self) -> str:
        return self.product.name if self.product else (self.item or self.code)

    @property
    def active_recall(self) -> Recall | None:
        return self.recalls[-1] if self.recalls else None


class Recall(Base):
    """A lot withdrawn from sale, with the notice every one of its stamps shows."""

    __tablename__ = "recalls"

    id: Mapped[intpk]
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    notice: Mapped[str] = mapped_column(Text)
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    recalled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[created_at]

    lot: Mapped[Lot] = relationship(back_populates="recalls")


class Event(Base):
    """What happened to which lots, when, where, why and by whom (EPCIS 2.0).

    Append-only: a mistake is fixed by a new event whose ``corrects_id`` names
    the old one, so what a stamp showed yesterday can still be explained.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_event_time", "event_time"),)

    id: Mapped[intpk]
    # The EPCIS eventID (a URI); the natural key that makes imports idempotent.
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[EventType] = mapped_column(enum_column(EventType, "event_type"))
    action: Mapped[EventAction | None] = mapped_column(enum_column(EventAction, "event_action"))
    biz_step: Mapped[str40]
    disposition: Mapped[str40 | None]
    event_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # The offset the event was recorded in ("+07:00"): EPCIS requires it, and
    # the page shows local time as the people there saw it.
    time_zone: Mapped[str] = mapped_column(String(6))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Indexed: genealogy and the journey skip events that a later one corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    reason: Mapped[str | None]
    documents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    sample: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]

    facility: Mapped[Facility | None] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    lots: Mapped[list[EventLot]] = relationship(
        back_populates="event", lazy="selectin", order_by="EventLot.id"
    )
    corrects: Mapped[Event | None] = relationship(remote_side="Event.id")

    def lots_in(self, role: LotRole) -> list[EventLot]:
        return [link for link in self.lots if link.role is role]


class EventLot(Base):
    __tablename__ = "event_lots"
    __table_args__ = (
        UniqueConstraint("event_id", "lot_id", "role"),
        Index("ix_event_lots_lot_role", "lot_id", "role"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    role: Mapped[LotRole] = mapped_column(enum_column(LotRole, "lot_role"))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    unit: Mapped[str40 | None]

    event: Mapped[Event] = relationship(back_populates="lots")
    lot: Mapped[Lot] = relationship(lazy="joined")


__all__ = [
    "PRODUCER_KINDS",
    "Address",
    "AppliedStandard",
    "CertLevel",
    "CertStatus",
    "Certification",
    "Event",
    "EventAction",
    "EventLot",
    "EventType",
    "Facility",
    "FacilityKind",
    "Lot",
    "LotRole",
    "OrgKind",
    "Organisation",
    "Product",
    "ProductPhoto",
    "Recall",
    "Scheme",
    "StandardKind",
    "Trademark",
]
