"""What goes on a label, and how labels sit on a sheet.

All lengths are millimetres. A label is the QR code (with its 4-module quiet
zone) in the top-left corner, the serial under it, the product name along the
bottom, and a side column with the OCOP stars and the scratch-off PIN box.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from ocop.stamps.qr import MAX_STAMP_VERSION, QrMatrix

# A module under 0.3 mm is beyond what office printers and phone cameras do well.
MIN_MODULE_MM = 0.3
QUIET_MODULES = 4
PADDING_MM = 1.0  # inside the cut line: cutting is never exact
TEXT_PT = 6.5  # serial and product name; about 1.6 mm capitals
LINE_MM = TEXT_PT * 1.3 * 25.4 / 72
SIDE_MIN_MM = 10.0  # the stars and the PIN box
OCOP_STARS = frozenset({0, 3, 4, 5})  # 0: print no stars

PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "LETTER": (215.9, 279.4)}


@dataclass(frozen=True, slots=True)
class Label:
    """One stamp as printed. The title is kept in NFC, as Vietnamese text should be."""

    matrix: QrMatrix
    serial: str
    title: str
    stars: int = 0
    pin: str | None = None

    def __post_init__(self) -> None:
        if self.stars not in OCOP_STARS:
            raise ValueError(f"OCOP stars are 3, 4 or 5 (0 for none), not {self.stars}")
        if not self.serial:
            raise ValueError("a label needs a serial")
        object.__setattr__(self, "title", unicodedata.normalize("NFC", self.title.strip()))


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """A sheet of equal labels in a grid, centred on the page.

    `margin_mm` is the least space kept clear at each page edge; `rows` follow from
    the page height. `qr_mm` is the side of a version-`max_version` symbol without
    its quiet zone; smaller versions keep the same module size.
    """

    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    label_width_mm: float = 38.0
    label_height_mm: float = 33.0
    columns: int = 5
    margin_mm: float = 6.0
    gap_mm: float = 2.0
    qr_mm: float = 20.0
    max_version: int = MAX_STAMP_VERSION

    def __post_init__(self) -> None:
        _check_positive(self)
        _check_qr(self)
        _check_label(self)
        _check_page(self)

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
        qr_mm: float | None = None,
    ) -> LabelLayout:
        """Build from command-line options; `None` keeps the default.

        `paper` is A4, A5 or Letter; `label` a size such as `"38x33"` (millimetres),
        overridden by `label_width_mm` / `label_height_mm`.
        """
        width, height = _paper(paper)
        if label is not None:
            label_width_mm = label_width_mm or _label_size(label)[0]
            label_height_mm = label_height_mm or _label_size(label)[1]
        given = {
            "label_width_mm": label_width_mm,
            "label_height_mm": label_height_mm,
            "columns": columns,
            "margin_mm": margin_mm,
            "gap_mm": gap_mm,
            "qr_mm": qr_mm,
        }
        chosen = {name: value for name, value in given.items() if value is not None}
        return cls(page_width_mm=width, page_height_mm=height, **chosen)  # type: ignore[arg-type]

    @property
    def module_mm(self) -> float:
        return self.qr_mm / (17 + 4 * self.max_version)

    @property
    def qr_box_mm(self) -> float:
        """Side of the square given to the code, quiet zone included."""
        return self.qr_mm + 2 * QUIET_MODULES * self.module_mm

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


def _span(count: int, size: float, gap: float) -> float:
    return count * size + (count - 1) * gap


def _check_positive(layout: LabelLayout) -> None:
    sizes = ("page_width_mm", "page_height_mm", "label_width_mm", "label_height_mm", "qr_mm")
    for name in sizes:
        if not getattr(layout, name) > 0:
            raise ValueError(f"{name} must be positive, not {getattr(layout, name)}")
    if layout.margin_mm < 0 or layout.gap_mm < 0:
        raise ValueError("margins and gaps cannot be negative")
    if layout.columns < 1:
        raise ValueError(f"a sheet needs at least one column, not {layout.columns}")
    if not 1 <= layout.max_version <= 40:
        raise ValueError(f"QR versions run from 1 to 40, not {layout.max_version}")


def _check_qr(layout: LabelLayout) -> None:
    if layout.module_mm < MIN_MODULE_MM - 1e-9:
        raise ValueError(
            f"a {layout.qr_mm:g} mm code of version {layout.max_version} has "
            f"{layout.module_mm:.2f} mm modules; printers and phones need at least "
            f"{MIN_MODULE_MM} mm: make the code at least "
            f"{MIN_MODULE_MM * (17 + 4 * layout.max_version):.1f} mm"
        )


def _check_label(layout: LabelLayout) -> None:
    need_width = 2 * PADDING_MM + layout.qr_box_mm + SIDE_MIN_MM
    need_height = 2 * PADDING_MM + layout.qr_box_mm + 2 * LINE_MM
    if layout.label_width_mm + 1e-9 < need_width or layout.label_height_mm + 1e-9 < need_height:
        raise ValueError(
            f"a {layout.label_width_mm:g}x{layout.label_height_mm:g} mm label cannot hold a "
            f"{layout.qr_mm:g} mm code with its quiet zone, stars, PIN and two lines of text: "
            f"it needs at least {need_width:.1f}x{need_height:.1f} mm"
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
        raise ValueError(f"unknown paper {name!r}: use one of {', '.join(PAPER_MM)}") from None


def _label_size(text: str) -> tuple[float, float]:
    width, sep, height = text.lower().replace("mm", "").partition("x")
    try:
        if sep:
            return float(width), float(height)
    except ValueError:
        pass
    raise ValueError(f"label size must look like 38x33 (millimetres), not {text!r}")
