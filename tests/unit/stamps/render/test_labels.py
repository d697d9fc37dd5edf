from __future__ import annotations

import unicodedata

import pytest

from ocop.stamps.qr import encode
from ocop.stamps.render.labels import MIN_MODULE_MM, Label, LabelLayout

TITLE = "Bánh cáy làng Nguyễn"


def test_default_a4_sheet() -> None:
    layout = LabelLayout()
    assert (layout.columns, layout.rows, layout.per_page) == (5, 8, 40)
    assert layout.module_mm >= MIN_MODULE_MM
    assert layout.qr_box_mm == pytest.approx(20 * 49 / 41)


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
        ({"qr_mm": 10}, "0.3 mm"),
        ({"qr_mm": 30}, "cannot hold"),
        ({"label_width_mm": 30}, "cannot hold"),
        ({"columns": 0}, "at least one column"),
        ({"gap_mm": -1}, "negative"),
        ({"page_width_mm": 0}, "positive"),
        ({"qr_mm": float("nan")}, "positive"),
        ({"max_version": 41}, "versions"),
    ],
)
def test_layouts_that_cannot_work(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelLayout(**options)


def test_a_larger_code_allows_a_higher_version() -> None:
    layout = LabelLayout(max_version=7, qr_mm=22, label_width_mm=38, label_height_mm=35)
    assert layout.module_mm == pytest.approx(22 / 45)


def test_from_options() -> None:
    layout = LabelLayout.from_options(paper="letter", label="50x40", columns=3, margin_mm=10)
    assert (layout.page_width_mm, layout.page_height_mm) == (215.9, 279.4)
    assert (layout.label_width_mm, layout.label_height_mm) == (50, 40)
    assert (layout.columns, layout.margin_mm) == (3, 10)
    assert LabelLayout.from_options() == LabelLayout()
    assert LabelLayout.from_options(label_width_mm=40, columns=4).label_width_mm == 40


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"paper": "B5"}, "unknown paper"),
        ({"label": "38 by 33"}, "38x33"),
        ({"label": "x"}, "38x33"),
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
