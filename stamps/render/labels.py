"""What goes on a label, and how labels sit on a sheet or a roll.

All lengths are millimetres. A label is the QR code (with its 4-module quiet
zone) in the top-left corner; beside it a column with the word OCOP, the stars,
"Quét để kiểm tra" and the scratch-off PIN box; under it two lines: the serial
with the lot code, and the product name.

The code's modules are whole printer dots: a 0.5 mm module is 4 dots of a
203 dpi thermal printer, 0.508 mm is 6 dots at 300 dpi and 12 at 600 dpi. A
module of 4.4 dots would be printed as 4 or 5 dots by turns, and uneven modules
are what makes a cheap code hard to read. The code gets error correction Q (25%
of it may be scratched or smudged) when the label has room for the version 8
symbol that takes at that module size, M (15%, version 6) otherwise.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

from ocop.stamps.qr import QrMatrix

from .fonts import text_width_pt

# A module under 0.3 mm is beyond what office printers and phone cameras do well.
MIN_MODULE_MM = 0.3
QUIET_MODULES = 4
PADDING_MM = 1.0  # inside the cut line: cutting is never exact
PT_MM = 25.4 / 72
TEXT_PT = 6.5  # serial, lot and product name when there is room; about 1.6 mm capitals
SMALLEST_PT = 4.5  # about 1.1 mm capitals: the least a 203 dpi printer prints legibly
LINE_MM = TEXT_PT * 1.3 * PT_MM
MIN_LINE_MM = SMALLEST_PT * 1.05 * PT_MM
OCOP_STARS = frozenset({0, 3, 4, 5})  # 0: print no stars
OCOP_WORD = "OCOP"
SCAN_HINT = "Quét để kiểm tra"  # printed in Vietnamese only: the label is for Vietnam
SCAN_HINT_LINES = ("Quét để", "kiểm tra")
LOT_PREFIX = "Lô "
SIDE_GAP_MM = 0.8  # between the quiet zone and the side column's text

PRINTER_DPI = (203, 300, 600)
# Dots a module when none is chosen: 0.5 mm at 203 dpi, 0.508 mm at 300 and 600 dpi.
DEFAULT_MODULE_DOTS = {203: 4, 300: 6, 600: 12}
# What a stamp's URL needs (STAMP-FORMAT.md): version 8 at Q, or version 6 at M.
STAMP_SYMBOLS = (("Q", 8), ("M", 6))
# How far from a whole number of dots a module may be: 0.5 mm is 3.997 dots at 203 dpi.
_DOT_TOLERANCE = 0.02

PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "LETTER": (215.9, 279.4)}
ROLL = "ROLL"  # one label a page, the page the size of the label


@dataclass(frozen=True, slots=True)
class Label:
    """One stamp as printed. Texts are kept in NFC, as Vietnamese text should be."""

    matrix: QrMatrix
    serial: str
    title: str
    stars: int = 0
    pin: str | None = None
    lot: str = ""

    def __post_init__(self) -> None:
        if self.stars not in OCOP_STARS:
            raise ValueError(f"OCOP stars are 3, 4 or 5 (0 for none), not {self.stars}")
        if not self.serial:
            raise ValueError("a label needs a serial")
        object.__setattr__(self, "title", unicodedata.normalize("NFC", self.title.strip()))
        object.__setattr__(self, "lot", unicodedata.normalize("NFC", self.lot.strip()))


def dots_to_mm(dots: int, dpi: int) -> float:
    return dots * 25.4 / dpi


def side_min_mm() -> float:
    """The narrowest side column: "kiểm tra" in the smallest type, with the gap before it."""
    widest = max(text_width_pt(line, SMALLEST_PT) for line in (*SCAN_HINT_LINES, OCOP_WORD))
    return widest * PT_MM + SIDE_GAP_MM


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """Equal labels in a grid centred on a sheet, or one label a page on a roll.

    `margin_mm` is the least space kept clear at each page edge; `rows` follow from
    the page height. `module_mm` is the side of one QR module; `None` takes the
    printer's usual size (:data:`DEFAULT_MODULE_DOTS`), or the largest whole-dot
    module under it that fits the label. `dpi` is the printer's resolution:
    modules are whole dots of it, and the code is placed on its dot grid.
    `ec_level` and `max_version` follow: Q and 8 when the label has room, else M and 6.
    """

    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    label_width_mm: float = 38.0
    label_height_mm: float = 33.0
    columns: int = 5
    margin_mm: float = 6.0
    gap_mm: float = 2.0
    module_mm: float | None = None
    dpi: int = 600
    roll: bool = False
    ec_level: str = field(init=False, default="M")
    max_version: int = field(init=False, default=6)

    def __post_init__(self) -> None:
        _check_positive(self)
        if self.roll:
            _check_roll(self)
        module = _module(self)
        ec_level, version = _symbol(self, module)
        object.__setattr__(self, "module_mm", module)
        object.__setattr__(self, "ec_level", ec_level)
        object.__setattr__(self, "max_version", version)
        _check_page(self)

    @classmethod
    def for_roll(
        cls,
        label_width_mm: float,
        label_height_mm: float,
        *,
        module_mm: float | None = None,
        dpi: int = 203,
    ) -> LabelLayout:
        """Roll labels for a label printer: each label a page of its own size."""
        return cls(
            page_width_mm=label_width_mm,
            page_height_mm=label_height_mm,
            label_width_mm=label_width_mm,
            label_height_mm=label_height_mm,
            columns=1,
            margin_mm=0.0,
            gap_mm=0.0,
            module_mm=module_mm,
            dpi=dpi,
            roll=True,
        )

    @classmethod
    def from_options(
        cls,
        *,
        paper: str = "A4",
        label: str | None = None,
        label_width_mm: float | None = None,
        label_height_mm: float | None = None,
        columns: int | None = None,
        margin_mm: float | None = None,
        gap_mm: float | None = None,
        module_mm: float | None = None,
        dpi: int | None = None,
    ) -> LabelLayout:
        """Build from command-line options; `None` keeps the default.

        `paper` is A4, A5, Letter or roll; `label` a size such as `"38x33"`
        (millimetres), overridden by `label_width_mm` / `label_height_mm`.
        Rolls default to 50x30 mm labels and a 203 dpi printer, sheets to 600 dpi.
        """
        if label is not None:
            label_width_mm = label_width_mm or _label_size(label)[0]
            label_height_mm = label_height_mm or _label_size(label)[1]
        if paper.upper() == ROLL:
            if columns not in (None, 1) or margin_mm or gap_mm:
                raise ValueError("roll labels come one a page: no columns, margins or gaps")
            return cls.for_roll(
                label_width_mm or 50.0,
                label_height_mm or 30.0,
                module_mm=module_mm,
                dpi=dpi or 203,
            )
        width, height = _paper(paper)
        given = {
            "label_width_mm": label_width_mm,
            "label_height_mm": label_height_mm,
            "columns": columns,
            "margin_mm": margin_mm,
            "gap_mm": gap_mm,
            "module_mm": module_mm,
            "dpi": dpi,
        }
        chosen = {name: value for name, value in given.items() if value is not None}
        return cls(page_width_mm=width, page_height_mm=height, **chosen)  # type: ignore[arg-type]

    @property
    def module(self) -> float:
        """`module_mm`, never `None` once the layout exists."""
        assert self.module_mm is not None
        return self.module_mm

    @property
    def module_dots(self) -> int:
        return round(self.module * self.dpi / 25.4)

    @property
    def largest_modules(self) -> int:
        """Modules a side of the largest symbol this layout prints."""
        return 17 + 4 * self.max_version

    @property
    def qr_mm(self) -> float:
        """Side of the largest symbol without its quiet zone."""
        return self.largest_modules * self.module

    @property
    def qr_box_mm(self) -> float:
        """Side of the square given to the code, quiet zone included."""
        return (self.largest_modules + 2 * QUIET_MODULES) * self.module

    @property
    def side_width_mm(self) -> float:
        """The column beside the code, from the quiet zone to the padding."""
        return self.label_width_mm - 2 * PADDING_MM - self.qr_box_mm

    @property
    def line_mm(self) -> float:
        """The height of each of the two lines under the code."""
        room = self.label_height_mm - 2 * PADDING_MM - self.qr_box_mm
        return min(LINE_MM, room / 2)

    @property
    def text_pt(self) -> float:
        return min(TEXT_PT, max(SMALLEST_PT, self.line_mm / PT_MM / 1.3))

    @property
    def rows(self) -> int:
        usable = self.page_height_mm - 2 * self.margin_mm + self.gap_mm
        return math.floor(usable / (self.label_height_mm + self.gap_mm) + 1e-9)

    @property
    def per_page(self) -> int:
        return self.rows * self.columns

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner of the `slot`-th label on a page, from the page's top left."""
        row, column = divmod(slot, self.columns)
        left = (self.page_width_mm - _span(self.columns, self.label_width_mm, self.gap_mm)) / 2
        top = (self.page_height_mm - _span(self.rows, self.label_height_mm, self.gap_mm)) / 2
        return (
            left + column * (self.label_width_mm + self.gap_mm),
            top + row * (self.label_height_mm + self.gap_mm),
        )

    def describe(self) -> str:
        """One line for people: sizes, module, printer, error correction."""
        paper = "roll" if self.roll else f"{self.columns} x {self.rows} a page"
        return (
            f"{self.label_width_mm:g} x {self.label_height_mm:g} mm labels ({paper}), "
            f"{self.module:.3f} mm modules ({self.module_dots} dots at {self.dpi} dpi), "
            f"error correction {self.ec_level}"
        )


def _span(count: int, size: float, gap: float) -> float:
    return count * size + (count - 1) * gap


def _check_positive(layout: LabelLayout) -> None:
    sizes = ("page_width_mm", "page_height_mm", "label_width_mm", "label_height_mm")
    for name in sizes:
        if not getattr(layout, name) > 0:
            raise ValueError(f"{name} must be positive, not {getattr(layout, name)}")
    if not layout.margin_mm >= 0 or not layout.gap_mm >= 0:
        raise ValueError("margins and gaps cannot be negative")
    if layout.columns < 1:
        raise ValueError(f"a sheet needs at least one column, not {layout.columns}")
    if layout.dpi not in PRINTER_DPI:
        raise ValueError(
            f"printers here are 203, 300 or 600 dpi, not {layout.dpi}: "
            "label printers are 203 or 300, office lasers 600"
        )
    if layout.module_mm is not None and not layout.module_mm > 0:
        raise ValueError(f"the module size must be positive, not {layout.module_mm} mm")


def _check_roll(layout: LabelLayout) -> None:
    same = (layout.page_width_mm, layout.page_height_mm) == (
        layout.label_width_mm,
        layout.label_height_mm,
    )
    if not same or layout.columns != 1 or layout.margin_mm or layout.gap_mm:
        raise ValueError("a roll prints one label a page, the page the size of the label")


def _module(layout: LabelLayout) -> float:
    """The module size in whole printer dots: the one asked for, or the largest that fits."""
    dpi = layout.dpi
    if layout.module_mm is not None:
        dots = layout.module_mm * dpi / 25.4
        whole = round(dots)
        if whole < 1 or abs(dots - whole) > _DOT_TOLERANCE:
            near = sorted({max(1, math.floor(dots)), math.ceil(dots)})
            choices = " or ".join(f"{dots_to_mm(d, dpi):.3f} mm ({d} dots)" for d in near)
            raise ValueError(
                f"a {layout.module_mm:g} mm module is {dots:.2f} dots of a {dpi} dpi "
                f"printer, which prints it unevenly: use {choices}"
            )
        module = dots_to_mm(whole, dpi)
        if module < MIN_MODULE_MM - 1e-9:
            raise ValueError(
                f"{module:.3f} mm modules are too small: printers and phones need at "
                f"least {MIN_MODULE_MM} mm"
            )
        return module
    dots = DEFAULT_MODULE_DOTS[dpi]
    while (
        dots > 1
        and dots_to_mm(dots - 1, dpi) >= MIN_MODULE_MM
        and not _fits(layout, dots_to_mm(dots, dpi), STAMP_SYMBOLS[-1][1])
    ):
        dots -= 1
    return dots_to_mm(dots, dpi)


def _fits(layout: LabelLayout, module: float, version: int) -> bool:
    box = (17 + 4 * version + 2 * QUIET_MODULES) * module
    need_width = 2 * PADDING_MM + box + side_min_mm()
    need_height = 2 * PADDING_MM + box + 2 * MIN_LINE_MM
    return (
        layout.label_width_mm + 1e-9 >= need_width and layout.label_height_mm + 1e-9 >= need_height
    )


def _symbol(layout: LabelLayout, module: float) -> tuple[str, int]:
    for ec_level, version in STAMP_SYMBOLS:
        if _fits(layout, module, version):
            return ec_level, version
    _ec, version = STAMP_SYMBOLS[-1]
    box = (17 + 4 * version + 2 * QUIET_MODULES) * module
    need_width = 2 * PADDING_MM + box + side_min_mm()
    need_height = 2 * PADDING_MM + box + 2 * MIN_LINE_MM
    raise ValueError(
        f"a {layout.label_width_mm:g}x{layout.label_height_mm:g} mm label cannot hold the "
        f"code at {module:.3f} mm a module with its quiet zone, the side column and two "
        f"lines of text: it needs at least {need_width:.1f}x{need_height:.1f} mm "
        "(or choose a smaller module)"
    )


def _check_page(layout: LabelLayout) -> None:
    width = 2 * layout.margin_mm + _span(layout.columns, layout.label_width_mm, layout.gap_mm)
    if width > layout.page_width_mm + 1e-9:
        raise ValueError(
            f"{layout.columns} labels of {layout.label_width_mm:g} mm with {layout.gap_mm:g} mm "
            f"gaps and {layout.margin_mm:g} mm margins need {width:.1f} mm, but the page is "
            f"{layout.page_width_mm:g} mm wide"
        )
    if layout.rows < 1:
        raise ValueError(
            f"a {layout.label_height_mm:g} mm label does not fit a {layout.page_height_mm:g} mm "
            f"page with {layout.margin_mm:g} mm margins"
        )


def _paper(name: str) -> tuple[float, float]:
    try:
        return PAPER_MM[name.upper()]
    except KeyError:
        papers = ", ".join([*PAPER_MM, "roll"])
        raise ValueError(f"unknown paper {name!r}: use one of {papers}") from None


def _label_size(text: str) -> tuple[float, float]:
    width, sep, height = text.lower().replace("mm", "").partition("x")
    try:
        if sep:
            return float(width), float(height)
    except ValueError:
        pass
    raise ValueError(f"label size must look like 38x33 (millimetres), not {text!r}")
