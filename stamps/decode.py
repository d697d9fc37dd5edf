"""Reading stamps back from pictures: a phone photo, a scan, a PNG."""

from __future__ import annotations

import os
from pathlib import Path

import zxingcpp
from PIL import Image, UnidentifiedImageError

from .errors import UnreadableImage

# Bigger photos are scaled down first: a stamp fills enough of any sane photo,
# and decoding a 50-megapixel image would take seconds for nothing.
_MAX_SIDE = 2400
Image.MAX_IMAGE_PIXELS = 60_000_000


def read_codes(source: str | os.PathLike[str] | Image.Image) -> list[str]:
    """Every QR code's text in the picture, in reading order; may be empty."""
    image = source if isinstance(source, Image.Image) else _open(Path(source))
    if max(image.size) > _MAX_SIDE:
        image = image.copy()
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    results = zxingcpp.read_barcodes(image.convert("L"), formats=qr_only)
    return [r.text for r in results if r.valid]


def read_one_code(source: str | os.PathLike[str] | Image.Image) -> str:
    codes = read_codes(source)
    if not codes:
        raise UnreadableImage("no QR code could be read in the picture")
    return codes[0]


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except FileNotFoundError:
        raise UnreadableImage("%(path)s: no such file", path=path) from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise UnreadableImage("%(path)s: not a picture this program can read", path=path) from None
