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
    layout = LabelLayout.from_options(paper="A5", label="44x36", columns=3, qr_mm=22)
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
