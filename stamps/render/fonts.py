"""The one font labels print with, and how wide text set in it is.

Layout rules (does "kiểm tra" fit beside the code?) and the PDF writer measure
with the same advances, so what the layout promises is what the page shows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "DejaVuSans.ttf"


@dataclass(frozen=True, slots=True)
class FontMetrics:
    cmap: dict[int, str]
    advances: dict[str, int]
    units_per_em: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int


@functools.cache
def font_metrics() -> FontMetrics:
    font = TTFont(FONT_PATH, lazy=True)
    head, hhea = font["head"], font["hhea"]
    return FontMetrics(
        cmap=dict(font.getBestCmap()),
        advances={name: advance for name, (advance, _) in font["hmtx"].metrics.items()},
        units_per_em=head.unitsPerEm,
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        ascent=hhea.ascent,
        descent=hhea.descent,
        cap_height=getattr(font["OS/2"], "sCapHeight", 0) or font["glyf"]["H"].yMax,
    )


def text_width_pt(text: str, size: float) -> float:
    """Width in points of ``text`` at ``size`` points; a character the font lacks
    counts as the "?" it is printed as."""
    metrics = font_metrics()
    cmap, advances = metrics.cmap, metrics.advances
    fallback = cmap[ord("?")]
    units = sum(advances[cmap.get(ord(ch), fallback)] for ch in text)
    return units * size / metrics.units_per_em
