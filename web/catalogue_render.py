"""The catalogue's values turned into JSON, schema.org JSON-LD and a map of places.

No request here: every URL is built by the caller's ``url`` function (absolute,
canonical), so the API, the pages and the sitemap name a page the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocop.trace.catalogue import (
    CatalogueEntry,
    CataloguePage,
    OcopStanding,
    Place,
    ProducerListing,
    ProductListing,
    Seller,
)
from ocop.trace.models import Organisation

from .presenters import address_json, certificate_json

# endpoint, values -> absolute URL
Url = Callable[..., str]


def standing_json(ocop: OcopStanding) -> dict[str, Any]:
    """The OCOP standing; ``stars`` only while the certificate is valid."""
    return {
        "certified": ocop.certified,
        "stars": ocop.stars if ocop.certified else None,
        "status": ocop.status.value,
        "certificate": ocop.number,
        "valid_until": ocop.valid_until.isoformat(),
    }


def entry_json(entry: CatalogueEntry, url: Url) -> dict[str, Any]:
    producer = entry.producer
    return {
        "code": entry.code,
        "name": entry.name,
        "url": url("catalogue.product", code=entry.code),
        "image": url("public.media", name=entry.image) if entry.image else None,
        "gtin": entry.gtin,
        "sector": entry.sector,
        "group": entry.group,
        "producer": {
            "id": producer.id,
            "name": producer.name,
            "kind": producer.kind.value,
            "province": producer.province,
            "url": url("catalogue.producer", org_id=producer.id),
        },
        "ocop": standing_json(entry.ocop),
    }


def page_json(page: CataloguePage, url: Url, args: dict[str, Any]) -> dict[str, Any]:
    query = page.query

    def link(number: int) -> str:
        return url("catalogue.api_products", **{**args, "page": number})

    return {
        "items": [entry_json(e, url) for e in page.entries],
        "page": query.page,
        "per_page": query.per_page,
        "total": page.total,
        "pages": page.pages,
        "links": {
            "self": link(query.page),
            "next": link(query.page + 1) if page.has_next else None,
            "prev": link(query.page - 1) if page.has_previous else None,
        },
    }


def seller_json(seller: Seller) -> dict[str, Any]:
    return {
        "name": seller.name,
        "kind": seller.kind.value,
        "province": seller.province,
        "address": seller.address,
        "place": seller.place,
        "place_address": seller.place_address,
        "last_received": seller.last_received.isoformat(),
    }


def place_json(place: Place) -> dict[str, Any]:
    return {
        "code": place.code,
        "name": place.name,
        "kind": place.kind.value,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "crop": place.crop,
        "area_ha": float(place.area_ha) if place.area_ha is not None else None,
        "planting_area_code": place.planting_area_code,
        "address": place.address,
    }


def product_listing_json(listing: ProductListing, url: Url, today: dt.date) -> dict[str, Any]:
    return {
        **entry_json(listing.entry, url),
        "description": listing.entry.description,
        "certificates": [certificate_json(c, today) for c in listing.certificates],
        "where_to_buy": [seller_json(s) for s in listing.sellers],
    }


def producer_listing_json(listing: ProducerListing, url: Url) -> dict[str, Any]:
    org = listing.producer
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind.value,
        "url": url("catalogue.producer", org_id=org.id),
        "address": address_json(org.current_address),
        "products": [entry_json(e, url) for e in listing.products],
        "places": [place_json(p) for p in listing.places],
    }


# ---- schema.org


def _organisation_ld(org: Organisation, url: Url) -> dict[str, Any]:
    address = org.current_address
    page = url("catalogue.producer", org_id=org.id)
    data: dict[str, Any] = {
        "@type": "Organization",
        "@id": f"{page}#organization",
        "name": org.name,
        "url": page,
    }
    if address is not None:
        data["address"] = {
            "@type": "PostalAddress",
            "streetAddress": address.street,
            "addressLocality": address.commune,
            "addressRegion": address.province,
            "addressCountry": address.country,
        }
    if org.website:
        data["sameAs"] = org.website
    return data


def _product_ld(entry: CatalogueEntry, url: Url) -> dict[str, Any]:
    page = url("catalogue.product", code=entry.code)
    producer_page = url("catalogue.producer", org_id=entry.producer.id)
    data: dict[str, Any] = {
        "@type": "Product",
        "@id": f"{page}#product",
        "name": entry.name,
        "url": page,
        "sku": entry.code,
        "brand": {"@type": "Brand", "name": entry.producer.name},
        "manufacturer": {"@id": f"{producer_page}#organization"},
    }
    if entry.gtin:
        data["gtin"] = entry.gtin
    if entry.image:
        data["image"] = url("public.media", name=entry.image)
    if entry.description:
        data["description"] = entry.description
    if entry.sector:
        data["category"] = " > ".join(x for x in (entry.sector, entry.group) if x)
    data["additionalProperty"] = [_rating_ld(entry.ocop)]
    return data


def _rating_ld(ocop: OcopStanding) -> dict[str, Any]:
    if ocop.certified:
        return {
            "@type": "PropertyValue",
            "propertyID": "OCOP",
            "name": "OCOP rating",
            "value": ocop.stars,
            "minValue": 3,
            "maxValue": 5,
            "unitText": "stars",
            "description": f"OCOP certificate {ocop.number}, valid until "
            f"{ocop.valid_until.isoformat()}",
        }
    # A lapsed certificate: say so, with no rating.
    return {
        "@type": "PropertyValue",
        "propertyID": "OCOP",
        "name": "OCOP certificate status",
        "value": ocop.status.value,
    }


def product_ld(listing: ProductListing, url: Url) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@graph": [_product_ld(listing.entry, url), _organisation_ld(listing.producer, url)],
    }


def producer_ld(listing: ProducerListing, url: Url) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@graph": [
            _organisation_ld(listing.producer, url),
            *(_product_ld(e, url) for e in listing.products),
        ],
    }


# ---- the map of places


@dataclass(frozen=True, slots=True)
class MapPoint:
    number: int
    x: float
    y: float
    place: Place


@dataclass(frozen=True, slots=True)
class PlaceMap:
    """Where a producer's places lie, to draw as an inline SVG: no tiles, no script."""

    width: int
    height: int
    points: tuple[MapPoint, ...]
    scale_km: float  # the scale bar's length in km
    scale_px: float


KM_PER_DEGREE = 111.32
_NICE_KM = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
# At least about 1 km across, so one place is not drawn at an absurd zoom.
_MIN_SPAN = 0.01


def place_map(places: Sequence[Place], width: int = 320, height: int = 200) -> PlaceMap | None:
    """The located ``places`` projected (equirectangular) into a ``width`` x ``height`` box."""
    located = [p for p in places if p.located]
    if not located:
        return None
    lats = [p.latitude for p in located if p.latitude is not None]
    lons = [p.longitude for p in located if p.longitude is not None]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [lon * shrink for lon in lons]
    span_x = max(max(xs) - min(xs), _MIN_SPAN)
    span_y = max(max(lats) - min(lats), _MIN_SPAN)
    pad = 24
    per_degree = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(lats) + min(lats)) / 2
    points = tuple(
        MapPoint(
            number=n,
            x=round(width / 2 + (x - mid_x) * per_degree, 1),
            y=round(height / 2 - (lat - mid_y) * per_degree, 1),
            place=place,
        )
        for n, (place, x, lat) in enumerate(zip(located, xs, lats, strict=True), start=1)
    )
    km_per_px = KM_PER_DEGREE / per_degree
    scale_km = max((k for k in _NICE_KM if k / km_per_px <= width / 3), default=_NICE_KM[0])
    return PlaceMap(width, height, points, scale_km, round(scale_km / km_per_px, 1))
