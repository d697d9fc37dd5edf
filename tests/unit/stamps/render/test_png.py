from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from ocop.stamps.qr import QrMatrix, encode
from ocop.stamps.render.png import png_bytes, svg_text
from tests.unit.stamps.render.helpers import decode

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("scale", "quiet"), [(1, 4), (3, 4), (8, 4), (5, 0), (2, 7)])
def test_png_pixels_are_the_modules(make_url: Callable[..., str], scale: int, quiet: int) -> None:
    matrix = encode(make_url())
    image = Image.open(io.BytesIO(png_bytes(matrix, scale=scale, quiet=quiet)))
    assert image.format == "PNG" and image.mode == "1"
    side = (matrix.size + 2 * quiet) * scale
    assert image.size == (side, side)
    assert _modules_of(image.convert("L"), matrix.size, scale, quiet) == matrix.modules
    if quiet:
        assert _quiet_zone_is_white(image.convert("L"), quiet * scale)


def test_png_decodes(make_url: Callable[..., str]) -> None:
    for _ in range(20):
        url = make_url()
        assert decode(Image.open(io.BytesIO(png_bytes(encode(url))))) == [url]


def test_png_refuses_nonsense_sizes() -> None:
    matrix = encode("HELLO")
    with pytest.raises(ValueError):
        png_bytes(matrix, scale=0)
    with pytest.raises(ValueError):
        png_bytes(matrix, quiet=-1)


def test_svg_structure(make_url: Callable[..., str]) -> None:
    text = svg_text(encode(make_url()), module_mm=0.5)
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == root.get("height") == "24.5mm"  # (41 + 8) x 0.5 mm
    assert root.get("viewBox") == "0 0 49 49"
    assert root.get("shape-rendering") == "crispEdges"
    assert len(root.findall(f"{SVG}path")) == 1
    assert "href" not in text and "url(" not in text and "<image" not in text


def test_svg_in_pixels() -> None:
    root = ET.fromstring(svg_text(encode("HELLO"), scale=10, quiet=2))
    assert root.get("width") == "250"
    assert root.get("viewBox") == "0 0 25 25"


@pytest.mark.parametrize("quiet", [4, 0])
def test_svg_path_draws_the_modules(make_url: Callable[..., str], quiet: int) -> None:
    for _ in range(10):
        url = make_url()
        matrix = encode(url)
        image = _rasterise(svg_text(matrix, quiet=quiet), scale=6)
        assert _modules_of(image, matrix.size, 6, quiet) == matrix.modules
        if quiet:
            assert decode(image) == [url]


def test_svg_path_on_patterns_that_cross_byte_boundaries() -> None:
    # Runs that start, end or span the 8-module chunks the path is built from.
    size = 25
    rows = ["1" * 25, "0" * 25, "0111111111111111111111110", "1010101010101010101010101"]
    rows += ["0000000111111111100000000", "1111111100000000111111111", "0" * 7 + "1" * 18]
    text = "".join(rows[i % len(rows)] for i in range(size)).encode()
    matrix = QrMatrix(size, text.translate(bytes.maketrans(b"01", b"\0\1")))
    image = _rasterise(svg_text(matrix, quiet=1), scale=4)
    assert _modules_of(image, size, 4, 1) == matrix.modules


@pytest.mark.browser
def test_svg_decodes_in_chromium(
    chromium: str, make_url: Callable[..., str], tmp_path: Path
) -> None:
    url = make_url()
    (tmp_path / "code.svg").write_text(svg_text(encode(url), scale=8))
    shot = tmp_path / "shot.png"
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--screenshot={shot}", "--window-size=500,500", (tmp_path / "code.svg").as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert decode(Image.open(shot)) == [url]


def _modules_of(image: Image.Image, size: int, scale: int, quiet: int) -> bytes:
    """Sample the centre of each module's square: 1 where it is dark."""
    pixels = image.load()
    centre = lambda i: (i + quiet) * scale + scale // 2  # noqa: E731
    return bytes(
        1 if pixels[centre(x), centre(y)] < 128 else 0 for y in range(size) for x in range(size)
    )


def _quiet_zone_is_white(image: Image.Image, width: int) -> bool:
    side = image.size[0]
    pixels = image.load()
    border = [(i, j) for i in range(side) for j in range(width)]
    return all(pixels[i, j] == 255 and pixels[j, i] == 255 for i, j in border)


def _rasterise(svg: str, scale: int) -> Image.Image:
    """A small SVG renderer for what svg_text writes: a white rect and one path of
    M, m, h, v and z commands, each closed subpath filled."""
    root = ET.fromstring(svg)
    side = int(root.get("viewBox").split()[2])
    image = Image.new("L", (side * scale, side * scale), 255)
    draw = ImageDraw.Draw(image)
    for polygon in _subpaths(root.find(f"{SVG}path").get("d")):
        pixels = [(x * scale, y * scale) for x, y in polygon]
        draw.polygon(pixels, fill=0)
    return image


def _subpaths(d: str) -> list[list[tuple[int, int]]]:
    x = y = 0
    start = (0, 0)
    current: list[tuple[int, int]] = []
    closed = []
    for command, args in re.findall(r"([MmhvZz])([^MmhvZz]*)", d):
        numbers = [int(n) for n in args.replace(",", " ").split()]
        if command in "Mm":
            x, y = (numbers[0], numbers[1]) if command == "M" else (x + numbers[0], y + numbers[1])
            start, current = (x, y), [(x, y)]
        elif command == "h":
            x += numbers[0]
            current.append((x, y))
        elif command == "v":
            y += numbers[0]
            current.append((x, y))
        else:
            closed.append(current)
            (x, y), current = start, [start]
    return closed
