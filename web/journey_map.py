"""The journey as a picture: the places the goods went through, on a dot map.

No tiles, no script, nothing fetched: an inline SVG of a couple of kilobytes
drawn from data we hold. The panel spans the journey's places (numbered dots
joined in order) with the province centres that fall in it, named
(trace.provinces); an inset in its corner shows the whole country (the 34
provinces' centres, with the Hoàng Sa and Trường Sa archipelagos) and where
the panel lies in it. A place with no coordinates of its own is put at its
organisation's province centre, and the legend says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocop.trace.provinces import PROVINCES, Province, province

# The country, for the inset: mainland and both archipelagos, in degrees.
WEST, EAST, SOUTH, NORTH = 102.0, 115.0, 8.2, 23.6
WIDTH = 240  # the journey's panel, in SVG units; the page scales it
INSET = 48  # the country's inset, as wide
ISLANDS = (("Hoàng Sa", 16.5, 112.0), ("Trường Sa", 9.9, 114.0))
# The journey's panel spans at least this (degrees), so that one village is not
# drawn as if it were a country, and keeps a margin around the places.
MIN_SPAN = 0.6
MARGIN = 0.25
# Places closer than this (SVG units) share one dot on the map.
_NEAR = 7.0
_PREFIX = re.compile(r"^(tỉnh|thành phố|tp\.?)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Frame:
    """A part of the map in degrees, and how it is drawn: x to the east, y to the south."""

    west: float
    north: float
    unit: float  # SVG units per degree of latitude
    x_scale: float  # a degree of longitude is shorter than one of latitude
    width: float
    height: float

    @classmethod
    def around(cls, south: float, west: float, north: float, east: float, width: float) -> Frame:
        x_scale = math.cos(math.radians((north + south) / 2))
        unit = width / ((east - west) * x_scale)
        return cls(west, north, unit, x_scale, width, round((north - south) * unit, 1))

    def project(self, latitude: float, longitude: float) -> Dot:
        x = (longitude - self.west) * self.x_scale * self.unit
        y = (self.north - latitude) * self.unit
        return Dot(round(x, 1), round(y, 1))

    def holds(self, at: Dot) -> bool:
        return 0 <= at.x <= self.width and 0 <= at.y <= self.height


@dataclass(frozen=True, slots=True)
class Stop:
    """One place of the journey: its number in the legend, name, and where on the map."""

    number: int
    name: str
    kind: str
    province: str | None
    at: Dot | None
    approximate: bool  # placed at its province's centre


@dataclass(frozen=True, slots=True)
class Marker:
    at: Dot
    label: str  # "1" or "1–4" when several places share the dot


@dataclass(frozen=True, slots=True)
class JourneyMap:
    width: float
    height: float
    provinces: tuple[tuple[str, Dot], ...]  # those within the panel, named
    stops: tuple[Stop, ...]
    markers: tuple[Marker, ...]
    path: str  # SVG polyline points, journey order; "" for one place
    # The inset: the whole country in the panel's top right corner, and the
    # panel's own area outlined on it.
    inset_x: float
    inset_height: float
    country: tuple[Dot, ...]
    islands: tuple[tuple[str, Dot], ...]
    here: tuple[float, float, float, float]  # x, y, width, height on the inset


COUNTRY = Frame.around(SOUTH, WEST, NORTH, EAST, INSET)


def project(latitude: float, longitude: float) -> Dot:
    """Where a point is on the country's inset."""
    return COUNTRY.project(latitude, longitude)


def province_in(text: str | None) -> Province | None:
    """The province an address names ("tỉnh Hưng Yên", "thành phố Hà Nội"), if one of the 34."""
    if not text:
        return None
    return province(text) or province(_PREFIX.sub("", text.strip()))


def _position(place: dict[str, Any]) -> tuple[float, float, str | None, bool] | None:
    """(latitude, longitude, province, approximate) of a place, if it can be placed."""
    found = province_in(place.get("province"))
    name = found.name if found else None
    lat, lon = place.get("latitude"), place.get("longitude")
    if lat is not None and lon is not None:
        return lat, lon, name, False
    if found is not None:
        return found.latitude, found.longitude, name, True
    return None


def journey_map(places: Sequence[dict[str, Any]]) -> JourneyMap | None:
    """The map of ``places`` (presenters.place_json, in journey order); None if none is placed."""
    positions = [_position(p) for p in places]
    placed = [p for p in positions if p is not None]
    if not placed:
        return None
    frame = _frame([(lat, lon) for lat, lon, _p, _a in placed])
    stops = tuple(
        Stop(
            n, place["name"], place["kind"],
            at[2] if at else None,
            frame.project(at[0], at[1]) if at else None, at[3] if at else False,
        )
        for n, (place, at) in enumerate(zip(places, positions, strict=True), start=1)
    )  # fmt: skip
    on_map = [s for s in stops if s.at is not None]
    named = tuple(
        (p.name, at)
        for p in PROVINCES
        if frame.holds(at := frame.project(p.latitude, p.longitude))
    )
    corner = COUNTRY.project(frame.north, frame.west)
    far = COUNTRY.project(frame.north - frame.height / frame.unit,
                           frame.west + frame.width / frame.unit / frame.x_scale)
    inset_x = frame.width + 12  # beside the panel, never over a place
    return JourneyMap(
        width=frame.width,
        height=frame.height,
        provinces=named,
        stops=stops,
        markers=_markers(on_map),
        path=" ".join(f"{s.at.x},{s.at.y}" for s in on_map if s.at) if len(on_map) > 1 else "",
        inset_x=inset_x,
        inset_height=COUNTRY.height,
        country=tuple(COUNTRY.project(p.latitude, p.longitude) for p in PROVINCES),
        islands=tuple((name, COUNTRY.project(lat, lon)) for name, lat, lon in ISLANDS),
        here=(corner.x, corner.y, max(2.0, far.x - corner.x), max(2.0, far.y - corner.y)),
    )


def _frame(points: list[tuple[float, float]]) -> Frame:
    lats = [lat for lat, _ in points]
    lons = [lon for _, lon in points]
    lat_span = max(MIN_SPAN, (max(lats) - min(lats)) * (1 + 2 * MARGIN))
    lon_span = max(MIN_SPAN, (max(lons) - min(lons)) * (1 + 2 * MARGIN))
    # Not taller than one and a half times its width, nor flatter than half.
    x_scale = math.cos(math.radians(sum(lats) / len(lats)))
    ratio = lat_span / (lon_span * x_scale)
    if ratio > 1.5:
        lon_span = lat_span / (1.5 * x_scale)
    elif ratio < 0.5:
        lat_span = lon_span * x_scale * 0.5
    mid_lat, mid_lon = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    return Frame.around(
        mid_lat - lat_span / 2, mid_lon - lon_span / 2,
        mid_lat + lat_span / 2, mid_lon + lon_span / 2, WIDTH,
    )  # fmt: skip


def _markers(placed: list[Stop]) -> tuple[Marker, ...]:
    groups: list[tuple[Dot, list[int]]] = []
    for stop in placed:
        assert stop.at is not None
        for at, numbers in groups:
            if math.dist((at.x, at.y), (stop.at.x, stop.at.y)) < _NEAR:
                numbers.append(stop.number)
                break
        else:
            groups.append((stop.at, [stop.number]))
    return tuple(Marker(at, _label(numbers)) for at, numbers in groups)


def _label(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return str(numbers[0])
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}"
    return ",".join(map(str, numbers))
