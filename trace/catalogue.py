"""The public catalogue: certified products, their producers, and where to buy them.

A product is in the catalogue while it is approved and holds an OCOP certificate
that had begun; it is *certified* only while that certificate is valid
(:meth:`Certification.is_valid_on`, through :func:`ocop_certificates`). The SQL
below selects with the same rule, and each entry shown is checked again by the
model's own method, so a lapsed certificate never shows as certified.

Search ignores case and diacritics: SQLite compares ``products.search_text``,
folded by :func:`ocop.trace.folding.fold`; PostgreSQL its trigram index over
``ocop_fold`` (unaccent, migration 0011). Every word asked must appear.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased, joinedload

from .errors import CatalogueQueryRefused, NotFound
from .folding import fold
from .models import (
    PRODUCER_KINDS,
    Address,
    Certification,
    CertStatus,
    Facility,
    FacilityKind,
    Organisation,
    OrgKind,
    Product,
    Scheme,
)
from .queries import certificates_of, ocop_certificates
from .sellers import Seller, where_to_buy

PAGE_SIZE = 24
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
MAX_FILTER_LENGTH = 200
STARS = (3, 4, 5)

_T = TypeVar("_T")

# The indexed expression of migration 0011, written exactly as the index is.
_PG_FOLDED: ColumnClause[str] = literal_column(
    "ocop_fold(products.name || ' ' || coalesce(products.short_name, ''))"
)


@dataclass(frozen=True, slots=True)
class CatalogueQuery:
    """A search of the catalogue, well-formed by construction (:meth:`parse`)."""

    text: str = ""
    province: str | None = None
    stars: int | None = None
    sector: str | None = None
    kind: OrgKind | None = None
    include_lapsed: bool = False
    page: int = 1
    per_page: int = PAGE_SIZE

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(fold(self.text).split())

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> CatalogueQuery:
        """Read a query from request parameters; :class:`CatalogueQueryRefused` says why not.

        Keys: ``q``, ``province``, ``stars``, ``sector``, ``kind``, ``lapsed``,
        ``page``, ``per_page``; an empty value is the same as none.
        """
        text = _text(params.get("q"), "q", MAX_QUERY_LENGTH) or ""
        if len(text.split()) > MAX_TERMS:
            raise CatalogueQueryRefused("search with at most %(n)s words", field="q", n=MAX_TERMS)
        kind = _choice(params.get("kind"), "kind", {k.value: k for k in PRODUCER_KINDS})
        return cls(
            text=text,
            province=_text(params.get("province"), "province", MAX_FILTER_LENGTH),
            stars=_choice(params.get("stars"), "stars", {str(n): n for n in STARS}),
            sector=_text(params.get("sector"), "sector", MAX_FILTER_LENGTH),
            kind=kind,
            include_lapsed=bool(_choice(params.get("lapsed"), "lapsed", {"0": 0, "1": 1})),
            page=_whole(params.get("page"), "page", 1, MAX_PAGE) or 1,
            per_page=_whole(params.get("per_page"), "per_page", 1, MAX_PER_PAGE) or PAGE_SIZE,
        )


def _text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise CatalogueQueryRefused(
            "%(field)s has at most %(limit)s characters", field=name, limit=limit
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise CatalogueQueryRefused("%(field)s must not contain control characters", field=name)
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    return cleaned or None


def _choice(value: str | None, name: str, allowed: Mapping[str, _T]) -> _T | None:
    if value is None or not value.strip():
        return None
    if value.strip() not in allowed:
        raise CatalogueQueryRefused(
            "%(field)s must be one of %(allowed)s", field=name, allowed=", ".join(allowed)
        )
    return allowed[value.strip()]


def _whole(value: str | None, name: str, low: int, high: int) -> int | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not low <= int(text) <= high:
        raise CatalogueQueryRefused(
            "%(field)s must be a whole number from %(low)s to %(high)s",
            field=name,
            low=low,
            high=high,
        )
    return int(text)


@dataclass(frozen=True, slots=True)
class OcopStanding:
    """The OCOP certificate that speaks for a product today."""

    certificate_id: int
    number: str
    status: CertStatus  # as of today: a valid certificate past its end is expired
    stars: int  # of the certificate; shown only while it is valid
    valid_until: dt.date

    @property
    def certified(self) -> bool:
        return self.status is CertStatus.VALID


@dataclass(frozen=True, slots=True)
class ProducerRef:
    id: int
    name: str
    kind: OrgKind
    province: str | None


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    name: str
    image: str | None
    gtin: str | None
    sector: str | None
    group: str | None
    description: str | None
    producer: ProducerRef
    ocop: OcopStanding

    @property
    def certified(self) -> bool:
        return self.ocop.certified


@dataclass(frozen=True, slots=True)
class CataloguePage:
    query: CatalogueQuery
    entries: tuple[CatalogueEntry, ...]
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1


@dataclass(frozen=True, slots=True)
class Facets:
    """The values the filters offer: those of products in the catalogue today."""

    provinces: tuple[str, ...]
    sectors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """A facility of a producer: a raw-material area, farm, plant or warehouse."""

    code: str
    name: str
    kind: FacilityKind
    latitude: float | None
    longitude: float | None
    crop: str | None
    area_ha: Decimal | None
    planting_area_code: str | None
    address: str | None

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class ProductListing:
    entry: CatalogueEntry
    producer: Organisation
    certificates: tuple[Certification, ...]
    sellers: tuple[Seller, ...]


@dataclass(frozen=True, slots=True)
class ProducerListing:
    producer: Organisation
    province: str | None
    products: tuple[CatalogueEntry, ...]  # certified first, then lapsed, by name
    places: tuple[Place, ...] = field(default=())


# ---- the rules as SQL


def _valid_ocop(cert: type[Certification], today: dt.date) -> list[ColumnElement[bool]]:
    """:meth:`Certification.is_valid_on` as SQL, for an OCOP certificate."""
    return [
        cert.scheme == Scheme.OCOP,
        cert.status == CertStatus.VALID,
        cert.valid_from <= today,
        cert.valid_until >= today,
    ]


def _certified(today: dt.date) -> ColumnElement[bool]:
    cert = aliased(Certification)
    return exists().where(cert.product_id == Product.id, *_valid_ocop(cert, today))


def _listed(today: dt.date) -> ColumnElement[bool]:
    """Approved, with an OCOP certificate that had begun (valid or lapsed)."""
    cert = aliased(Certification)
    begun = exists().where(
        cert.product_id == Product.id, cert.scheme == Scheme.OCOP, cert.valid_from <= today
    )
    return and_(Product.approved.is_(True), begun)


def _rated(stars: int, today: dt.date) -> ColumnElement[bool]:
    """The newest valid OCOP certificate (by start, then id) has ``stars``."""
    cert, newer = aliased(Certification), aliased(Certification)
    newer_valid = exists().where(
        newer.product_id == cert.product_id,
        *_valid_ocop(newer, today),
        or_(
            newer.valid_from > cert.valid_from,
            and_(newer.valid_from == cert.valid_from, newer.id > cert.id),
        ),
    )
    return exists().where(
        cert.product_id == Product.id, *_valid_ocop(cert, today), cert.stars == stars, ~newer_valid
    )


def _in_province(province: str) -> ColumnElement[bool]:
    """The producer's current address (the newest, as pages show it) is in ``province``."""
    address, later = aliased(Address), aliased(Address)
    return exists().where(
        address.organisation_id == Product.producer_id,
        address.province == province,
        ~exists().where(
            later.organisation_id == address.organisation_id,
            later.effective_from > address.effective_from,
        ),
    )


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's own characters in ``term`` taken literally (escape ``\\``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(term: str, dialect: str) -> ColumnElement[bool]:
    pattern = like_pattern(term)
    if dialect == "postgresql":
        return _PG_FOLDED.like(func.ocop_fold(pattern), escape="\\")
    return Product.search_text.like(pattern, escape="\\")


def _filtered(session: Session, query: CatalogueQuery, today: dt.date) -> Select[int]:
    dialect = session.get_bind().dialect.name
    # The words first: on SQLite's scan the cheap LIKE spares most rows the EXISTS.
    conditions = [_matches(term, dialect) for term in query.terms]
    conditions.append(_listed(today))
    if not query.include_lapsed or query.stars is not None:
        conditions.append(_certified(today))
    if query.stars is not None:
        conditions.append(_rated(query.stars, today))
    if query.province is not None:
        conditions.append(_in_province(query.province))
    if query.sector is not None:
        conditions.append(Product.sector == query.sector)
    if query.kind is not None:
        conditions.append(Product.producer.has(Organisation.kind == query.kind))
    return select(Product.id).where(*conditions)


# ---- what the catalogue answers


def search_catalogue(session: Session, query: CatalogueQuery, today: dt.date) -> CataloguePage:
    """One page of the catalogue, by name.

    Past the last page raises :class:`NotFound` (the first page always exists,
    empty when nothing matches).
    """
    filtered = _filtered(session, query, today)
    # One pass gives the page and the total; only past the end is it counted alone.
    rows = session.execute(
        filtered.add_columns(func.count().over())
        .order_by(Product.name, Product.id)
        .limit(query.per_page)
        .offset(query.offset)
    ).all()
    if rows:
        total = rows[0][1]
    else:
        total = session.scalar(select(func.count()).select_from(filtered.subquery())) or 0
    page = CataloguePage(query, (), total)
    if query.page > page.pages:
        raise NotFound(
            "page %(page)s is past the last page of this search (%(pages)s)",
            page=query.page,
            pages=page.pages,
        )
    return CataloguePage(query, entries(session, [r[0] for r in rows], today), total)


def entries(
    session: Session, product_ids: Sequence[int], today: dt.date
) -> tuple[CatalogueEntry, ...]:
    """The catalogue entries of ``product_ids``, in that order; products that have no
    OCOP certificate that had begun are left out."""
    if not product_ids:
        return ()
    products = session.scalars(
        select(Product)
        .where(Product.id.in_(product_ids))
        .options(joinedload(Product.producer).selectinload(Organisation.addresses))
    ).unique()
    by_id = {p.id: p for p in products}
    certs = ocop_certificates(session, by_id)
    found = []
    for product_id in product_ids:
        product = by_id.get(product_id)
        standing = _standing(certs.get(product_id, []), today)
        if product is not None and standing is not None:
            found.append(_entry(product, standing))
    return tuple(found)


def _standing(certs: Iterable[Certification], today: dt.date) -> OcopStanding | None:
    """The newest valid certificate, else the newest that had begun; None if none had."""
    certs = list(certs)
    cert = next((c for c in certs if c.is_valid_on(today)), None) or next(
        (c for c in certs if c.valid_from <= today), None
    )
    if cert is None or cert.stars is None:
        return None
    return OcopStanding(cert.id, cert.number, cert.status_on(today), cert.stars, cert.valid_until)


def _entry(product: Product, standing: OcopStanding) -> CatalogueEntry:
    producer = product.producer
    address = producer.current_address
    return CatalogueEntry(
        code=product.code,
        name=product.name,
        image=product.image,
        gtin=product.gtin,
        sector=product.sector,
        group=product.group,
        description=product.description,
        producer=ProducerRef(
            producer.id, producer.name, producer.kind, address.province if address else None
        ),
        ocop=standing,
    )


def catalogue_facets(session: Session, today: dt.date) -> Facets:
    """The provinces and sectors of the products certified today, sorted by name."""
    certified = select(Product.producer_id).where(_listed(today), _certified(today))
    address, later = aliased(Address), aliased(Address)
    provinces = session.scalars(
        select(address.province)
        .distinct()
        .where(
            address.organisation_id.in_(certified),
            ~exists().where(
                later.organisation_id == address.organisation_id,
                later.effective_from > address.effective_from,
            ),
        )
    ).all()
    sectors = session.scalars(
        select(Product.sector)
        .distinct()
        .where(Product.sector.is_not(None), _listed(today), _certified(today))
    ).all()
    return Facets(
        tuple(sorted(provinces, key=fold)), tuple(sorted((s for s in sectors if s), key=fold))
    )


def catalogue_product(
    session: Session, code: str, now: dt.datetime, today: dt.date
) -> ProductListing:
    """A product's catalogue page: entry, every certificate, where to buy it."""
    product = session.scalars(
        select(Product).where(Product.code == code[:40], _listed(today))
    ).one_or_none()
    found = entries(session, [product.id], today) if product is not None else ()
    if product is None or not found:
        raise NotFound("no product %(code)s in the catalogue", code=code[:40])
    return ProductListing(
        found[0],
        product.producer,
        tuple(certificates_of(session, product)),
        where_to_buy(session, product, now),
    )


def producer_listing(session: Session, org_id: int, today: dt.date) -> ProducerListing:
    """A producer's page: their products in the catalogue and their places."""
    org = session.get(Organisation, org_id)
    if org is None or org.kind not in PRODUCER_KINDS:
        raise NotFound("no producer %(id)s in the catalogue", id=org_id)
    ids = session.scalars(
        select(Product.id)
        .where(Product.producer_id == org.id, _listed(today))
        .order_by(Product.name, Product.id)
    ).all()
    listed = entries(session, ids, today)
    products = tuple(sorted(listed, key=lambda e: not e.certified))
    facilities = session.scalars(
        select(Facility)
        .where(Facility.organisation_id == org.id, Facility.kind != FacilityKind.SHOP)
        .order_by(Facility.kind, Facility.name, Facility.id)
    ).all()
    address = org.current_address
    return ProducerListing(
        org, address.province if address else None, products, tuple(_place(f) for f in facilities)
    )


def _place(facility: Facility) -> Place:
    return Place(
        code=facility.code,
        name=facility.name,
        kind=facility.kind,
        latitude=facility.latitude,
        longitude=facility.longitude,
        crop=facility.crop,
        area_ha=facility.area_ha,
        planting_area_code=facility.planting_area_code,
        address=facility.address,
    )


def sitemap_entries(session: Session, today: dt.date) -> tuple[list[str], list[int]]:
    """The codes of the products certified today and the ids of their producers."""
    rows = session.execute(
        select(Product.code, Product.producer_id)
        .where(_listed(today), _certified(today))
        .order_by(Product.code)
    ).all()
    return [code for code, _ in rows], sorted({producer for _, producer in rows})


__all__ = [
    "MAX_QUERY_LENGTH",
    "PAGE_SIZE",
    "CatalogueEntry",
    "CataloguePage",
    "CatalogueQuery",
    "Facets",
    "OcopStanding",
    "Place",
    "ProducerListing",
    "ProducerRef",
    "ProductListing",
    "Seller",
    "catalogue_facets",
    "catalogue_product",
    "entries",
    "like_pattern",
    "producer_listing",
    "search_catalogue",
    "sitemap_entries",
    "where_to_buy",
]
