"""Where each thing goes on a label, as PDF content-stream operators.

:mod:`.pdf` writes the file; this module draws one page's labels into a content
stream: the code as a 1-bit image mask on the printer's dot grid, the side
column (OCOP, the stars, "Quét để kiểm tra", the PIN box) and the two lines
under the code, every line measured with the font and fitted (:func:`_fit`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ocop.stamps.errors import QrTooLarge
from ocop.stamps.qr import QrMatrix
from ocop.stamps.render.fonts import FontMetrics, text_width_pt
from ocop.stamps.render.labels import (
    LOT_PREFIX,
    OCOP_WORD,
    PADDING_MM,
    QUIET_MODULES,
    SCAN_HINT,
    SCAN_HINT_LINES,
    SIDE_GAP_MM,
    SMALLEST_PT,
    Label,
    LabelLayout,
)

PT_PER_MM = 72 / 25.4
ELLIPSIS = "…"
STAR = "★"

_OCOP_PT = 8.0
_HINT_PT = 6.0
_STARS_PT = 9.0
_PIN_PT = 10.0
_PIN_LABEL_PT = 4.5
_PIN_MIN_PT = 3 * 4.5 * 1.2  # "PIN:" and two groups of digits, smallest
_LOT_GAP_PT = 4.0
_GUIDE_GREY = 0.75  # cut guides and the PIN box: visible, never mistaken for the code
_LINE_WIDTH_PT = 0.25
_CACHE_SIZE = 256  # fitted and encoded strings: titles repeat, serials do not


# -- drawing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Style:
    """How a line of text is set: its size in points, the width it may take, and
    what happens when it is wider: shrink only, or shrink then cut with "…"."""

    size: float
    room: float
    truncate: bool = False
    align: str = "centre"  # or "left", "right": where x is


@dataclass(frozen=True, slots=True)
class _Side:
    """The column beside the code, top to bottom: what it says and at what size."""

    ocop_pt: float
    stars_pt: float
    hint_pt: float
    hint: tuple[str, ...]
    pin_top: float  # points below the label's top where the PIN box begins


@dataclass(frozen=True, slots=True)
class _Geometry:
    """Where things go on a label, in points from the label's top-left corner."""

    box: float  # the code's square, quiet zone included
    module: float
    largest: int  # modules a side of the largest symbol the layout allows
    dot: float | None  # one printer dot, when the code is put on the dot grid
    line: float
    text_pt: float
    side_x: float
    side_width: float

    @property
    def top(self) -> float:
        return PADDING_MM * PT_PER_MM

    @property
    def code_top(self) -> float:
        return self.top + QUIET_MODULES * self.module

    @property
    def code_bottom(self) -> float:
        return self.code_top + self.largest * self.module

    @property
    def box_bottom(self) -> float:
        return self.top + self.box


def _geometry(layout: LabelLayout) -> _Geometry:
    box = layout.qr_box_mm
    side_x = PADDING_MM + box + SIDE_GAP_MM
    return _Geometry(
        box=box * PT_PER_MM,
        module=layout.module * PT_PER_MM,
        largest=layout.largest_modules,
        dot=72 / layout.dpi,
        line=layout.line_mm * PT_PER_MM,
        text_pt=layout.text_pt,
        side_x=side_x * PT_PER_MM,
        side_width=(layout.label_width_mm - PADDING_MM - side_x) * PT_PER_MM,
    )


def _side(at: _Geometry, pin: bool, stars: bool) -> _Side:
    """Sizes for the side column: the natural ones, shrunk together when the code is short."""
    hint: tuple[str, ...] = (SCAN_HINT,)
    if _text_width(SCAN_HINT, _HINT_PT) > at.side_width:
        hint = SCAN_HINT_LINES
    natural = _OCOP_PT * 1.2 + (_STARS_PT * 1.15 if stars else 0) + len(hint) * _HINT_PT * 1.2
    room = at.box - (_PIN_MIN_PT if pin else 0) - 2
    scale = min(1.0, room / natural)
    ocop, stars_pt, hint_pt = (
        max(SMALLEST_PT, size * scale) for size in (_OCOP_PT, _STARS_PT, _HINT_PT)
    )
    used = ocop * 1.2 + (stars_pt * 1.15 if stars else 0) + len(hint) * hint_pt * 1.2
    return _Side(ocop, stars_pt, hint_pt, hint, at.top + used + 2)


def _text_width(text: str, size: float) -> float:
    return text_width_pt(text, size)


class LabelPainter:
    """Content-stream operators for each label of a page."""

    def __init__(self, layout: LabelLayout, glyphs: Glyphs) -> None:
        self.glyphs = glyphs
        self.width = layout.label_width_mm * PT_PER_MM
        self.height = layout.label_height_mm * PT_PER_MM
        self.page_height = layout.page_height_mm * PT_PER_MM
        self.origins = [_pt(layout.label_origin(slot)) for slot in range(layout.per_page)]
        self.guides = not layout.roll  # a roll's labels are die-cut already
        self.at = at = _geometry(layout)
        inner = self.width - 2 * at.top
        self.serial_style = _Style(at.text_pt, inner, align="left")
        self.title_style = _Style(at.text_pt, inner, True)
        self._sides: dict[tuple[bool, bool], _Side] = {}
        self._fitted: dict[tuple[str, _Style], tuple[str, float, float]] = {}

    def page(self, labels: list[Label], on_label: Callable[[], None] | None) -> bytes:
        parts = [f"0 g {_GUIDE_GREY} G {_LINE_WIDTH_PT} w\n"]
        if self.guides:
            parts.append(self._guides(len(labels)))
        for (x, y), label in zip(self.origins, labels, strict=False):
            parts.append(self.label(label, x, y))
            if on_label is not None:
                on_label()
        return "".join(parts).encode("ascii")

    def _guides(self, count: int) -> str:
        size = f"{self.width:.2f} {self.height:.2f}"
        bottoms = ((x, self.page_height - y - self.height) for x, y in self.origins[:count])
        return " ".join(f"{x:.2f} {y:.2f} {size} re" for x, y in bottoms) + " S\n"

    def label(self, label: Label, left: float, from_top: float) -> str:
        """Operators for one label whose top-left corner is `left` points from the page's
        left and `from_top` points below its top."""
        top = self.page_height - from_top
        parts = [self._code(label.matrix, left, from_top)]
        parts.append(self._lines(label, left, top))
        parts.append(self._side_column(label, left, top))
        return "".join(parts)

    def _code(self, matrix: QrMatrix, left: float, from_top: float) -> str:
        if matrix.size > self.at.largest:
            raise QrTooLarge(
                "a version %(version)s code does not fit labels laid out for version "
                "%(most)s at most",
                version=matrix.version,
                most=(self.at.largest - 17) // 4,
            )
        n = matrix.size
        side = n * self.at.module
        inset = (self.at.box - side) / 2 + self.at.top
        x, y = left + inset, from_top + inset
        if self.at.dot:
            # On the printer's dot grid, counted from the page's top left where it
            # starts: each module is then exactly its whole dots.
            x, y = (round(v / self.at.dot) * self.at.dot for v in (x, y))
        return (
            f"q {side:.4f} 0 0 {side:.4f} {x:.4f} {self.page_height - y - side:.4f} cm "
            # Image mask, 1 = paint (/D [1 0]); hex so no binary byte can look like "EI".
            f"BI /W {n} /H {n} /IM true /D [1 0] /I false /F /AHx "
            f"ID {matrix.packed_rows().hex()}> EI Q\n"
        )

    def _lines(self, label: Label, left: float, top: float) -> str:
        """Under the code: the serial and the lot code, then the product name."""
        at = self.at
        x = left + at.top
        first = top - at.box_bottom - 0.8 * at.line
        second = first - at.line
        serial = self.text(label.serial, x, first, self.serial_style)
        parts = [serial]
        if label.lot:
            used = self.fitted(label.serial, self.serial_style)[2]
            room = self.width - 2 * at.top - used - _LOT_GAP_PT
            style = _Style(at.text_pt, room, True, align="right")
            if room > _text_width(LOT_PREFIX + ELLIPSIS, SMALLEST_PT):
                parts.append(
                    self.text(LOT_PREFIX + label.lot, left + self.width - at.top, first, style)
                )
        parts.append(self.text(label.title, left + self.width / 2, second, self.title_style))
        return "".join(parts)

    def _side_column(self, label: Label, left: float, top: float) -> str:
        at = self.at
        key = (label.pin is not None, bool(label.stars))
        side = self._sides.get(key)
        if side is None:
            side = self._sides[key] = _side(at, *key)
        centre = left + at.side_x + at.side_width / 2
        y = top - at.top - side.ocop_pt
        parts = [self.text(OCOP_WORD, centre, y, _Style(side.ocop_pt, at.side_width))]
        if label.stars:
            y -= side.stars_pt * 1.15
            parts.append(
                self.text(STAR * label.stars, centre, y, _Style(side.stars_pt, at.side_width))
            )
        for line in side.hint:
            y -= side.hint_pt * 1.2
            parts.append(self.text(line, centre, y, _Style(side.hint_pt, at.side_width)))
        if label.pin:
            parts.append(self._pin(label.pin, left, top, side))
        return "".join(parts)

    def _pin(self, pin: str, left: float, top: float, side: _Side) -> str:
        """The PIN in a box of its own, which the scratch-off layer will cover."""
        at = self.at
        box_top, box_bottom = top - side.pin_top, top - at.code_bottom
        x, width = left + at.side_x, at.side_width
        label_y = box_top - 1.2 * _PIN_LABEL_PT
        lines = pin.split()
        step = (label_y - box_bottom) / (len(lines) + 0.5)
        style = _Style(min(_PIN_PT, step / 1.1), width - 3)
        parts = [
            f"{x:.2f} {box_bottom:.2f} {width:.2f} {box_top - box_bottom:.2f} re S\n",
            self.text("PIN:", x + 1.5, label_y, _Style(_PIN_LABEL_PT, width - 2, align="left")),
        ]
        for row, line in enumerate(lines, 1):
            parts.append(self.text(line, x + width / 2, label_y - row * step, style))
        return "".join(parts)

    def fitted(self, text: str, style: _Style) -> tuple[str, float, float]:
        fitted = self._fitted.get((text, style))
        if fitted is None:
            if len(self._fitted) >= _CACHE_SIZE:
                self._fitted.clear()
            fitted = self._fitted[text, style] = _fit(self.glyphs, text, style)
        return fitted

    def text(self, text: str, x: float, baseline: float, style: _Style) -> str:
        """One line of text starting at `x`, centred on it, or ending at it."""
        shown, size, width = self.fitted(text, style)
        if style.align == "centre":
            x -= width / 2
        elif style.align == "right":
            x -= width
        hexed = self.glyphs.hex(shown)
        return f"BT /F1 {size:.2f} Tf 1 0 0 1 {x:.2f} {baseline:.2f} Tm <{hexed}> Tj ET\n"


def _pt(point_mm: tuple[float, float]) -> tuple[float, float]:
    return point_mm[0] * PT_PER_MM, point_mm[1] * PT_PER_MM


def _fit(glyphs: Glyphs, text: str, style: _Style) -> tuple[str, float, float]:
    """Shrink `text` to fit the style's room; below the smallest size, cut it and add "…"
    if the style allows. Returns the text shown, its size and its width, in points."""
    text = glyphs.printable(text)
    natural = glyphs.width(text, style.size)
    if natural <= style.room:
        return text, style.size, natural
    shrunk = style.size * style.room / natural
    if shrunk >= SMALLEST_PT or not style.truncate:
        return text, shrunk, style.room
    while text and glyphs.width(text + ELLIPSIS, SMALLEST_PT) > style.room:
        text = _cut_last(text)
    text = text.rstrip() + ELLIPSIS
    return text, SMALLEST_PT, glyphs.width(text, SMALLEST_PT)


def _cut_last(text: str) -> str:
    """`text` without its last character, and without the marks that sat on it: a cut
    never leaves a letter without its accent (a decomposed "ệ" loses all of it)."""
    while text:
        last, text = text[-1], text[:-1]
        if not unicodedata.combining(last):
            break
    return text



class Glyphs:
    """The characters a document prints, numbered (CIDs) in the order first used."""

    def __init__(self, metrics: FontMetrics) -> None:
        self.metrics = metrics
        self.cids: dict[str, int] = {}
        self._hex: dict[str, str] = {}

    def printable(self, text: str) -> str:
        """`text` with characters the font lacks replaced by "?"."""
        cmap = self.metrics.cmap
        return "".join(ch if ord(ch) in cmap else "?" for ch in text)

    def width(self, text: str, size: float) -> float:
        """Width in points of printable `text` at `size` points."""
        cmap, advances = self.metrics.cmap, self.metrics.advances
        units = sum([advances[cmap[ord(ch)]] for ch in text])
        return units * size / self.metrics.units_per_em

    def hex(self, text: str) -> str:
        hexed = self._hex.get(text)
        if hexed is None:
            if len(self._hex) >= _CACHE_SIZE:
                self._hex.clear()
            hexed = self._hex[text] = "".join([f"{self._cid(ch):04x}" for ch in text])
        return hexed

    def _cid(self, ch: str) -> int:
        cid = self.cids.get(ch)
        if cid is None:
            cid = self.cids[ch] = len(self.cids) + 1  # CID 0 is .notdef
        return cid
