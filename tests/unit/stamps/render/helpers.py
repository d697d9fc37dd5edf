"""Stamp URLs of the real shape, and ways to read codes back from pixels."""

from __future__ import annotations

import base64
import random

import zxingcpp
from PIL import Image

from ocop.stamps.qr import QrMatrix

LOCAL_BASE = "HTTP://127.0.0.1:5000"  # OCOP_BASE_URL's default, upper-cased


def stamp_url(rng: random.Random, base: str = LOCAL_BASE) -> str:
    """`{BASE}/V/{token}`: 81 random bytes in unpadded base32, as STAMP-FORMAT.md says."""
    token = base64.b32encode(rng.randbytes(81)).decode().rstrip("=")
    assert len(token) == 130
    return f"{base}/V/{token}"


def decode(image: Image.Image) -> list[str]:
    """Every QR code zxing finds in `image`, as text."""
    return [
        found.text for found in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.QRCode)
    ]


def matrix_image(matrix: QrMatrix, *, scale: int = 4, quiet: int = 4) -> Image.Image:
    """The matrix drawn pixel by pixel, independently of the renderers under test."""
    side = matrix.size + 2 * quiet
    image = Image.new("L", (side, side), 255)
    for y in range(matrix.size):
        for x in range(matrix.size):
            if matrix.is_dark(x, y):
                image.putpixel((x + quiet, y + quiet), 0)
    return image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
