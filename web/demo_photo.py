"""The demo's product photo, drawn with Pillow: nothing to download, nothing to ship.

A still life of bánh cáy (slices of sticky rice, gấc, peanuts and sesame) on a
red gift box, so that ``ocop demo`` shows a product photo the way a
cooperative's own would appear, uploaded through the same checks.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy.orm import Session

from ocop.trace.models import Product
from ocop.workflows.photos import add_photo

SIZE = (1200, 900)


def sample_photo() -> bytes:
    """A JPEG of bánh cáy, the same bytes every time."""
    rng = random.Random(1025)
    image = Image.new("RGB", SIZE, (118, 74, 44))
    draw = ImageDraw.Draw(image)
    for y in range(0, SIZE[1], 6):  # the grain of a wooden table
        shade = 104 + rng.randint(-10, 12)
        grain = (shade + 12, shade - 34, 40)
        draw.line([(0, y), (SIZE[0], y + rng.randint(-3, 3))], fill=grain, width=4)
    gold = (214, 168, 60)
    box = (90, 120, 1110, 800)
    draw.rounded_rectangle(box, radius=28, fill=(168, 24, 30), outline=gold, width=14)
    draw.rounded_rectangle((150, 180, 1050, 740), radius=18, fill=(246, 236, 214))
    for row in range(3):
        for col in range(4):
            x, y = 190 + col * 212, 215 + row * 172
            _slice(draw, rng, (x, y, x + 190, y + 150))
    return _jpeg(image.filter(ImageFilter.SMOOTH))


def _slice(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=10, fill=(226, 150, 74), outline=(176, 98, 40), width=4)
    for _ in range(70):
        x, y = rng.randint(x0 + 8, x1 - 12), rng.randint(y0 + 8, y1 - 12)
        kind = rng.random()
        if kind < 0.45:  # sesame
            draw.ellipse((x, y, x + 6, y + 3), fill=(250, 238, 200))
        elif kind < 0.75:  # peanut
            draw.ellipse((x, y, x + 12, y + 9), fill=(236, 196, 130), outline=(190, 140, 80))
        else:  # gấc
            draw.ellipse((x, y, x + 7, y + 7), fill=(200, 40, 30))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def add_sample_photo(session: Session, product: Product, folder: Path) -> bool:
    """Give ``product`` the sample photo unless it has photos; True when added."""
    if product.photos:
        return False
    _photo, created = add_photo(session, product, sample_photo(), folder)
    return created
