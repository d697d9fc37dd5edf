"""The journey as a picture: the places the goods went through, on a dot map of Vietnam.

No tiles, no script, nothing fetched: an inline SVG of a few hundred bytes
drawn from data we hold. The country is the 34 provinces' centres
(trace.provinces), with the Hoàng Sa and Trường Sa archipelagos; the journey
is numbered dots joined in order. A place with no coordinates of its own is
put at its organisation's province centre, and says so in the legend.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocop.trace.provinces import PROVINCES, Province, province

# The frame: mainland and both archipelagos, in degrees.
WEST, EAST, SOUTH, NORTH = 102.0, 115.0, 8.2, 23.6
WIDTH = 150  # SVG units; the page scales it
_X_SCALE = math.cos(math.radians((NORTH + SOUTH) / 2))  # keep shapes true near 16°N
UNIT = WIDTH / ((EAST - WEST) * _X_SCALE)
HEIGHT = round((NORTH - SOUTH) * UNIT)

ISLANDS = (("Hoàng Sa", 16.5, 112.0), ("Trường Sa", 9.9, 114.0))
# Places closer than this (SVG units) share one dot on the map.
_NEAR = 5.0
_PREFIX = re.compile(r"^(tỉnh|thành phố|tp\.?)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float


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
    width: int
    height: int
    country: tuple[Dot, ...]
    islands: tuple[tuple[str, Dot], ...]
    stops: tuple[Stop, ...]
    markers: tuple[Marker, ...]
    path: str  # SVG polyline points, journey order; "" for one place


def project(latitude: float, longitude: float) -> Dot:
    x = (longitude - WEST) * _X_SCALE * UNIT
    y = (NORTH - latitude) * UNIT
    return Dot(round(x, 1), round(y, 1))


def province_in(text: str | None) -> Province | None:
    """The province an address names ("tỉnh Hưng Yên", "thành phố Hà Nội"), if one of the 34."""
    if not text:
        return None
    return province(text) or province(_PREFIX.sub("", text.strip()))


_COUNTRY = tuple(project(p.latitude, p.longitude) for p in PROVINCES)
_ISLANDS = tuple((name, project(lat, lon)) for name, lat, lon in ISLANDS)


def journey_map(places: Sequence[dict[str, Any]]) -> JourneyMap | None:
    """The map of ``places`` (presenters.place_json, in journey order); None if none is placed."""
    stops = [_stop(n, place) for n, place in enumerate(places, start=1)]
    placed = [s for s in stops if s.at is not None]
    if not placed:
        return None
    return JourneyMap(
        width=WIDTH,
        height=HEIGHT,
        country=_COUNTRY,
        islands=_ISLANDS,
        stops=tuple(stops),
        markers=_markers(placed),
        path=" ".join(f"{s.at.x},{s.at.y}" for s in placed if s.at) if len(placed) > 1 else "",
    )


def _stop(number: int, place: dict[str, Any]) -> Stop:
    found = province_in(place.get("province"))
    lat, lon = place.get("latitude"), place.get("longitude")
    if lat is not None and lon is not None:
        at, approximate = project(lat, lon), False
    elif found is not None:
        at, approximate = project(found.latitude, found.longitude), True
    else:
        at, approximate = None, False
    return Stop(
        number, place["name"], place["kind"], found.name if found else None, at, approximate
    )


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
