"""Vietnam's 34 provinces and centrally-run cities, as they are since 1 July 2025.

Resolution 202/2025/QH15 merged 63 provinces into 34 (Thái Bình into Hưng Yên,
Hà Giang into Tuyên Quang, and so on). A shopper who shares where they scan a
stamp picks one of these: coarse on purpose, a place nobody can be found by.

Each carries the rough position of its administrative centre, so that copy
detection can tell two places a person could not travel between in an hour
from two neighbours (stamps/copies.py). Merged provinces are large; the
positions are for distances of hundreds of kilometres, not for maps.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Province:
    name: str
    latitude: float
    longitude: float


# North to south, roughly; names as the resolution writes them (NFC).
PROVINCES: tuple[Province, ...] = tuple(
    Province(unicodedata.normalize("NFC", name), lat, lon)
    for name, lat, lon in (
        ("Lai Châu", 22.40, 103.46),
        ("Điện Biên", 21.39, 103.02),
        ("Sơn La", 21.33, 103.91),
        ("Lào Cai", 21.72, 104.90),
        ("Tuyên Quang", 21.82, 105.21),
        ("Cao Bằng", 22.67, 106.26),
        ("Lạng Sơn", 21.85, 106.76),
        ("Thái Nguyên", 21.59, 105.85),
        ("Phú Thọ", 21.32, 105.40),
        ("Bắc Ninh", 21.27, 106.19),
        ("Hà Nội", 21.03, 105.85),
        ("Quảng Ninh", 20.95, 107.08),
        ("Hải Phòng", 20.86, 106.68),
        ("Hưng Yên", 20.65, 106.05),
        ("Ninh Bình", 20.25, 105.97),
        ("Thanh Hóa", 19.81, 105.78),
        ("Nghệ An", 18.68, 105.68),
        ("Hà Tĩnh", 18.34, 105.91),
        ("Quảng Trị", 17.47, 106.62),
        ("Huế", 16.46, 107.59),
        ("Đà Nẵng", 16.05, 108.21),
        ("Quảng Ngãi", 15.12, 108.80),
        ("Gia Lai", 13.78, 109.22),
        ("Đắk Lắk", 12.67, 108.04),
        ("Khánh Hòa", 12.24, 109.19),
        ("Lâm Đồng", 11.94, 108.44),
        ("Đồng Nai", 10.95, 106.82),
        ("Tây Ninh", 10.54, 106.41),
        ("Thành phố Hồ Chí Minh", 10.78, 106.70),
        ("Đồng Tháp", 10.36, 106.36),
        ("Vĩnh Long", 10.25, 105.97),
        ("An Giang", 10.01, 105.08),
        ("Cần Thơ", 10.03, 105.78),
        ("Cà Mau", 9.18, 105.15),
    )
)

BY_NAME: dict[str, Province] = {p.name: p for p in PROVINCES}
assert len(BY_NAME) == 34


def province(name: str) -> Province | None:
    """The province called ``name`` (any Unicode normal form), or None."""
    return BY_NAME.get(unicodedata.normalize("NFC", name.strip()))


def distance_km(a: Province, b: Province) -> float:
    """Great-circle distance between two provinces' centres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2
    ) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


__all__ = ["BY_NAME", "PROVINCES", "Province", "distance_km", "province"]
