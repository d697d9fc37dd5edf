from __future__ import annotations

import unicodedata

import pytest

from ocop.stamps.qr import encode
from ocop.stamps.render.labels import (
    MIN_LINE_MM,
    MIN_MODULE_MM,
    Label,
    LabelLayout,
    side_min_mm,
)

TITLE = "Bánh cáy làng Nguyễn"


def test_default_a4_sheet() -> None:
    layout = LabelLayout()
    assert (layout.columns, layout.rows, layout.per_page) == (5, 8, 40)
    # 12 dots of a 600 dpi office printer; the 38x33 label has room for version 6 at M.
    assert (layout.dpi, layout.module_dots, layout.ec_level) == (600, 12, "M")
    assert layout.module == pytest.approx(0.508)
    assert layout.qr_box_mm == pytest.approx(0.508 * (41 + 8))


def test_labels_are_centred_and_on_the_page() -> None:
    layout = LabelLayout()
    first_x, first_y = layout.label_origin(0)
    last_x, last_y = layout.label_origin(layout.per_page - 1)
    assert first_x == pytest.approx(layout.page_width_mm - last_x - layout.label_width_mm)
    assert first_y == pytest.approx(layout.page_height_mm - last_y - layout.label_height_mm)
    assert first_x >= layout.margin_mm and first_y >= layout.margin_mm


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"columns": 6}, "page is 210 mm wide"),
        ({"label_height_mm": 290}, "does not fit"),
        ({"module_mm": 0.254, "dpi": 300}, "at least 0.3 mm"),
        ({"module_mm": 0.847, "dpi": 300}, "cannot hold"),
        ({"label_width_mm": 20}, "cannot hold"),
        ({"columns": 0}, "at least one column"),
        ({"gap_mm": -1}, "negative"),
        ({"page_width_mm": 0}, "positive"),
        ({"label_width_mm": float("nan")}, "positive"),
        ({"module_mm": float("nan")}, "positive"),
        ({"dpi": 72}, "203, 300 or 600"),
    ],
)
def test_layouts_that_cannot_work(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelLayout(**options)


@pytest.mark.parametrize(
    ("module", "dpi", "dots"),
    [(0.5, 203, 4), (0.508, 300, 6), (0.508, 600, 12), (0.375, 203, 3), (0.423, 300, 5)],
)
def test_modules_are_whole_printer_dots(module: float, dpi: int, dots: int) -> None:
    layout = LabelLayout(module_mm=module, dpi=dpi, label_width_mm=40, columns=4)
    assert layout.module_dots == dots
    # Exactly the dots, not the rounded millimetres: 4 dots at 203 dpi are 0.50049 mm.
    assert layout.module == pytest.approx(dots * 25.4 / dpi, abs=1e-12)


@pytest.mark.parametrize(
    ("module", "dpi", "advice"),
    [
        (0.5, 600, "11.81 dots"),  # 0.5 mm is a 203 dpi size
        (0.508, 203, "4.06 dots"),
        (0.45, 203, "0.375 mm \\(3 dots\\) or 0.500 mm \\(4 dots\\)"),
        (0.4, 300, "4.72 dots"),
    ],
)
def test_modules_that_are_not_whole_dots_are_refused(module: float, dpi: int, advice: str) -> None:
    with pytest.raises(ValueError, match=advice):
        LabelLayout(module_mm=module, dpi=dpi)


@pytest.mark.parametrize("size", [(40, 30), (50, 30)])
def test_common_roll_sizes_are_accepted(size: tuple[float, float]) -> None:
    # These were refused when the code was sized 20 mm and the label needed 30.5 mm of
    # height for it and two full-size lines; now the lines shrink to the room left.
    layout = LabelLayout.for_roll(*size)
    assert (layout.page_width_mm, layout.page_height_mm) == size
    assert (layout.per_page, layout.rows, layout.columns, layout.roll) == (1, 1, 1, True)
    assert (layout.dpi, layout.module_dots, layout.ec_level) == (203, 4, "M")
    assert layout.label_origin(0) == (0, 0)
    assert layout.line_mm >= MIN_LINE_MM


def test_error_correction_q_where_the_label_has_room() -> None:
    roomy = LabelLayout.for_roll(60, 40)
    assert (roomy.ec_level, roomy.max_version) == ("Q", 8)
    assert roomy.qr_box_mm == pytest.approx((49 + 8) * 4 * 25.4 / 203)
    tight = LabelLayout.for_roll(40, 30)
    assert (tight.ec_level, tight.max_version) == ("M", 6)


def test_a_module_too_large_for_the_default_is_made_smaller_in_whole_dots() -> None:
    # 48x26 cannot hold the 0.508 mm code with its lines: the largest module that fits.
    layout = LabelLayout(label_width_mm=48, label_height_mm=26, columns=4)
    assert layout.module_dots < 12 and layout.module >= MIN_MODULE_MM
    with pytest.raises(ValueError, match="cannot hold"):
        LabelLayout(label_width_mm=48, label_height_mm=26, columns=4, module_mm=0.508)


def test_the_side_column_holds_the_scan_hint() -> None:
    assert side_min_mm() > 5  # "kiểm tra" in 4.5 pt type, measured, is about 6.6 mm
    for layout in (LabelLayout(), LabelLayout.for_roll(40, 30), LabelLayout.for_roll(50, 30)):
        assert layout.side_width_mm >= side_min_mm()


def test_from_options() -> None:
    layout = LabelLayout.from_options(paper="letter", label="50x40", columns=3, margin_mm=10)
    assert (layout.page_width_mm, layout.page_height_mm) == (215.9, 279.4)
    assert (layout.label_width_mm, layout.label_height_mm) == (50, 40)
    assert (layout.columns, layout.margin_mm) == (3, 10)
    assert LabelLayout.from_options() == LabelLayout()
    assert LabelLayout.from_options(label_width_mm=40, columns=4).label_width_mm == 40
    roll = LabelLayout.from_options(paper="roll", label="40x30", dpi=300, module_mm=0.339)
    assert roll == LabelLayout.for_roll(40, 30, dpi=300, module_mm=0.339)
    assert roll.module_dots == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"paper": "B5"}, "unknown paper"),
        ({"label": "38 by 33"}, "38x33"),
        ({"label": "x"}, "38x33"),
        ({"paper": "roll", "columns": 2}, "one a page"),
        ({"paper": "roll", "label": "20x15"}, "cannot hold"),
    ],
)
def test_from_options_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelLayout.from_options(**options)


def test_label_title_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", TITLE)
    assert decomposed != TITLE
    label = Label(encode("HELLO"), "1234-000042-7", f" {decomposed} ", 4)
    assert label.title == TITLE


@pytest.mark.parametrize("stars", [1, 2, 6, -1])
def test_label_stars(stars: int) -> None:
    with pytest.raises(ValueError, match="stars"):
        Label(encode("HELLO"), "1234-000042-7", TITLE, stars)


def test_label_needs_a_serial() -> None:
    with pytest.raises(ValueError, match="serial"):
        Label(encode("HELLO"), "", TITLE)
