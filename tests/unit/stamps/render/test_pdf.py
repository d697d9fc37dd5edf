from __future__ import annotations

import io
import itertools
import random
import re
import tracemalloc
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from ocop.stamps.errors import QrTooLarge
from ocop.stamps.qr import QrMatrix, encode
from ocop.stamps.render.labels import Label, LabelLayout
from ocop.stamps.render.pdf import write_label_pdf
from tests.unit.stamps.render.helpers import LOCAL_BASE, decode, stamp_url

TITLE = "Bánh cáy làng Nguyễn"
DPI = 300


def _labels(urls: list[str], title: str = TITLE, pin: bool = True) -> Iterator[Label]:
    for index, url in enumerate(urls):
        pin_text = f"{index:04d} {index * 7919 % 10000:04d}" if pin else None
        yield Label(encode(url), f"1234-{index:06d}-7", title, 4, pin_text)


def _pdf(labels: Iterator[Label], layout: LabelLayout | None = None) -> bytes:
    out = io.BytesIO()
    write_label_pdf(out, labels, layout or LabelLayout())
    return out.getvalue()


def _pages_text(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_every_printed_code_reads_back_once(rng: random.Random) -> None:
    urls = [stamp_url(rng) for _ in range(70)]  # 40 on the first page, 30 on the second
    document = pdfium.PdfDocument(_pdf(_labels(urls)))
    try:
        assert len(document) == 2
        found = Counter()
        for page in document:
            found.update(decode(page.render(scale=DPI / 72).to_pil()))
    finally:
        document.close()
    assert found == Counter(urls)


def test_codes_read_back_on_other_layouts(rng: random.Random) -> None:
    layout = LabelLayout.from_options(paper="A5", label="44x36", columns=3, dpi=300)
    urls = [stamp_url(rng) for _ in range(layout.per_page)]
    document = pdfium.PdfDocument(_pdf(_labels(urls, pin=False), layout))
    try:
        found = Counter(decode(document[0].render(scale=DPI / 72).to_pil()))
    finally:
        document.close()
    assert found == Counter(urls)


def test_text_is_real_text(rng: random.Random) -> None:
    urls = [stamp_url(rng) for _ in range(45)]
    pages = _pages_text(_pdf(_labels(urls)))
    text = unicodedata.normalize("NFC", "".join(pages))
    assert text.count(TITLE) == 45
    for index in range(45):
        assert f"1234-{index:06d}-7" in text
        assert f"{index:04d}" in text
    assert text.count("★★★★") == 45
    assert text.count("PIN:") == 45


def test_long_titles_are_cut_with_an_ellipsis(rng: random.Random) -> None:
    title = "Hợp tác xã Nông nghiệp Dịch vụ Tổng hợp Bánh cáy làng Nguyễn, Thái Bình, Hưng Yên"
    text = _pages_text(_pdf(_labels([stamp_url(rng)], title=title)))[0]
    shown = next(line for line in text.splitlines() if line.startswith("Hợp tác xã"))
    assert shown.endswith("…")
    assert title.startswith(shown[:-1].rstrip())


def test_characters_the_font_lacks_print_as_question_marks(rng: random.Random) -> None:
    text = _pages_text(_pdf(_labels([stamp_url(rng)], title="Trà 茶 Thái Nguyên")))[0]
    assert "Trà ? Thái Nguyên" in text


def test_font_is_an_embedded_subset(rng: random.Random) -> None:
    data = _pdf(_labels([stamp_url(rng)]))
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans", data)
    assert b"/Subtype /CIDFontType2" in data and b"/Encoding /Identity-H" in data
    assert b"/FontFile2" in data and b"/ToUnicode" in data and b"/W [1 [" in data
    assert len(data) < 60_000  # the full font alone is 740 kB


def test_the_cross_reference_table_points_at_every_object(rng: random.Random) -> None:
    data = _pdf(_labels([stamp_url(rng) for _ in range(41)]))
    assert data.startswith(b"%PDF-1.7\n") and data.endswith(b"%%EOF\n")
    start = int(data.rsplit(b"startxref\n", 1)[1].split()[0])
    assert data[start:].startswith(b"xref\n")
    lines = data[start:].split(b"\n")
    count = int(lines[1].split()[1])
    for number, line in enumerate(lines[3 : 2 + count], 1):
        offset = int(line[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)


def test_no_labels_still_make_a_valid_document() -> None:
    data = _pdf(iter(()))
    document = pdfium.PdfDocument(data)
    try:
        assert len(document) == 1
    finally:
        document.close()


def test_progress_and_count(rng: random.Random) -> None:
    ticks = []
    urls = [stamp_url(rng) for _ in range(3)]
    count = write_label_pdf(
        io.BytesIO(), _labels(urls), LabelLayout(), on_label=lambda: ticks.append(1)
    )
    assert count == 3 and len(ticks) == 3


def test_a_code_too_large_for_the_layout(rng: random.Random) -> None:
    url = stamp_url(rng, "HTTPS://TRUYXUAT.OCOP.EXAMPLE.GOV.VN/ABC")
    label = Label(encode(url, max_version=7), "1234-000000-7", TITLE, 4)
    with pytest.raises(QrTooLarge):
        _pdf(iter([label]))


def test_memory_stays_flat_whatever_the_count(tmp_path: Path, rng: random.Random) -> None:
    matrices = [encode(stamp_url(rng, LOCAL_BASE)) for _ in range(25)]
    _peak_while_writing(tmp_path / "warm.pdf", matrices, 10)  # loads the font metrics once
    small = _peak_while_writing(tmp_path / "small.pdf", matrices, 500)
    large = _peak_while_writing(tmp_path / "large.pdf", matrices, 5000)
    assert large <= 1.5 * small, (small, large)


def _peak_while_writing(path: Path, matrices: list[QrMatrix], count: int) -> int:
    labels = (
        Label(matrix, f"1234-{index:06d}-7", TITLE, 5, f"{index:04d} 0000")
        for index, matrix in zip(range(count), itertools.cycle(matrices), strict=False)
    )
    tracemalloc.start()
    try:
        with path.open("wb") as fp:
            assert write_label_pdf(fp, labels, LabelLayout()) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- what a label says, and what fits where ------------------------------------------------

LONGEST_LOT = "BC-2025-0915-" + "X" * 26 + "Z"  # 40 characters, the most a lot code may have


def _stamp_labels(
    urls: list[str], layout: LabelLayout, lot: str = "BC-2025-0915", pin: bool = True
) -> Iterator[Label]:
    for index, url in enumerate(urls):
        matrix = encode(url, ec_level=layout.ec_level, max_version=layout.max_version)
        pin_text = f"{index:04d} {index * 7919 % 10000:04d}" if pin else None
        yield Label(matrix, f"1234-{index:06d}-7", TITLE, 4, pin_text, lot)


def _read_page(data: bytes, number: int, dpi: int) -> tuple[list, tuple[float, float]]:
    """The codes zxing reads on page `number` rasterised at `dpi`, and the page's size in pt."""
    document = pdfium.PdfDocument(data)
    try:
        page = document[number]
        image = page.render(scale=dpi / 72).to_pil().convert("L")
        found = zxingcpp.read_barcodes(image, formats=zxingcpp.QRCode)
        return found, (page.get_width(), page.get_height())
    finally:
        document.close()


@pytest.mark.parametrize("size", [(40, 30), (50, 30)])
def test_roll_labels_read_back_at_203_dpi(rng: random.Random, size: tuple[int, int]) -> None:
    layout = LabelLayout.for_roll(*size, dpi=203)
    urls = [stamp_url(rng) for _ in range(3)]
    data = _pdf(_stamp_labels(urls, layout), layout)
    for number, url in enumerate(urls):
        found, (width, height) = _read_page(data, number, 203)
        assert (width / 72 * 25.4, height / 72 * 25.4) == pytest.approx(size, abs=0.01)
        assert [(code.text, code.ec_level) for code in found] == [(url, "M")]
    assert data.count(b"/Type /Page ") == 3  # one label a page


def test_labels_with_room_get_error_correction_q(rng: random.Random) -> None:
    layout = LabelLayout.for_roll(60, 40, dpi=203)
    assert layout.ec_level == "Q"
    url = stamp_url(rng)
    found, _size = _read_page(_pdf(_stamp_labels([url], layout), layout), 0, 203)
    assert [(code.text, code.ec_level) for code in found] == [(url, "Q")]
    # Version 8: 49 modules of 4 dots.
    assert encode(url, ec_level="Q", max_version=8).version == 8


def _smudged(layout: LabelLayout, url: str, side: int) -> list[str]:
    """The codes read on the label rasterised at its printer's dpi after a square of
    `side` x `side` modules near the middle of its code is painted over."""
    document = pdfium.PdfDocument(_pdf(_stamp_labels([url], layout, pin=False), layout))
    try:
        image = document[0].render(scale=layout.dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    dots = layout.module_dots
    matrix = encode(url, ec_level=layout.ec_level, max_version=layout.max_version)
    inset = (layout.largest_modules - matrix.size) // 2 * dots
    origin = round(layout.dpi / 25.4) + 4 * dots + inset  # padding, quiet zone, inset
    first = (matrix.size - side) // 2
    left, top = origin + first * dots, origin + (first + 4) * dots
    image.paste(0, (left, top, left + side * dots, top + side * dots))
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.QRCode)]


@pytest.mark.parametrize("seed", range(3))
def test_q_reads_through_a_smudge_that_m_does_not(seed: int) -> None:
    url = stamp_url(random.Random(seed))
    roomy, tight = LabelLayout.for_roll(60, 40), LabelLayout.for_roll(50, 30)
    assert (roomy.ec_level, tight.ec_level) == ("Q", "M")
    assert _smudged(roomy, url, 0) == _smudged(tight, url, 0) == [url]
    # 16 x 16 modules blotted out: a tenth of the symbol, in the data region.
    assert _smudged(roomy, url, 16) == [url]
    assert _smudged(tight, url, 16) == []


def _char_boxes(data: bytes) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every character on the first page and its box (left, bottom, right, top) in pt."""
    document = pdfium.PdfDocument(data)
    try:
        text = document[0].get_textpage()
        boxes = []
        for index in range(text.count_chars()):
            char = text.get_text_range(index, 1)
            if char.strip():
                boxes.append((char, text.get_charbox(index)))
        return boxes
    finally:
        document.close()


@pytest.mark.parametrize(
    "layout",
    [
        LabelLayout.for_roll(40, 30),
        LabelLayout.for_roll(50, 30),
        LabelLayout.for_roll(60, 40, dpi=300),
        LabelLayout(),
        LabelLayout(label_width_mm=48, label_height_mm=26, columns=4),
    ],
    ids=["roll-40x30", "roll-50x30", "roll-60x40", "a4-5x8", "a4-4x10"],
)
def test_every_character_stays_on_its_label_and_off_the_code(
    rng: random.Random, layout: LabelLayout
) -> None:
    pt = 72 / 25.4
    data = _pdf(_stamp_labels([stamp_url(rng)], layout, lot=LONGEST_LOT), layout)
    x0, y0 = layout.label_origin(0)
    page_h = layout.page_height_mm * pt
    left, top = x0 * pt, page_h - y0 * pt
    right, bottom = left + layout.label_width_mm * pt, top - layout.label_height_mm * pt
    pad = 1.0 * pt
    box_right, box_bottom = left + pad + layout.qr_box_mm * pt, top - pad - layout.qr_box_mm * pt
    boxes = _char_boxes(data)
    assert boxes
    slack = 0.3  # pdfium's boxes are glyph outlines, rounded
    for char, (c_left, c_bottom, c_right, c_top) in boxes:
        assert left + pad - slack <= c_left and c_right <= right - pad + slack, char
        assert bottom + pad - slack <= c_bottom and c_top <= top - pad + slack, char
        # Nothing inside the code's square (the code and its quiet zone).
        inside = c_left < box_right - slack and c_top > box_bottom + slack
        assert not inside, (char, (c_left, c_bottom, c_right, c_top))


def test_label_says_ocop_scan_to_check_and_the_lot(rng: random.Random) -> None:
    layout = LabelLayout.for_roll(50, 30)
    data = _pdf(_stamp_labels([stamp_url(rng)], layout), layout)
    text = unicodedata.normalize("NFC", _pages_text(data)[0])
    words = " ".join(text.split())
    assert "OCOP" in words and "★★★★" in words
    assert "Quét để kiểm tra" in words
    assert "1234-000000-7" in words and "Lô BC-2025-0915" in words
    assert TITLE in words


def test_the_longest_lot_code_is_cut_with_an_ellipsis(rng: random.Random) -> None:
    layout = LabelLayout.for_roll(40, 30)
    data = _pdf(_stamp_labels([stamp_url(rng)], layout, lot=LONGEST_LOT), layout)
    text = _pages_text(data)[0]
    shown = next(word for word in text.split() if word.startswith("BC-2025"))
    assert shown.endswith("…") and LONGEST_LOT.startswith(shown[:-1])
    assert len(shown) < len(LONGEST_LOT)
    # The serial is never cut.
    assert "1234-000000-7" in text


def test_a_cut_never_leaves_a_letter_without_its_accent() -> None:
    from ocop.stamps.render.painter import _cut_last

    decomposed = unicodedata.normalize("NFD", "Lô Bệ")  # e, dot below, circumflex
    assert _cut_last(decomposed) == unicodedata.normalize("NFD", "Lô B")
    assert _cut_last("ab") == "a"
