"""Receiving photos within the pixel budget: the worst a distributor's request can cost.

    .venv/bin/python bench/photo_budget.py

Decodes, as the receiving page does, the largest set of photos the budget lets
through (three 16-megapixel photos, 48 megapixels in all: PNG, the slowest, and
JPEG), then times the refusal of the issue's twenty 6300x6300 PNGs, refused from
their headers before anything is decoded. Prints wall time and the process's peak
resident memory after each step (it only grows).
"""

from __future__ import annotations

import io
import resource
import time

from PIL import Image, ImageDraw

from ocop.workflows.errors import PhotoTooLarge
from ocop.workflows.receiving import (
    MAX_PHOTO_PIXELS,
    check_pixel_budget,
    codes_in_photo,
    photo_size,
)


def _photo(width: int, height: int, fmt: str) -> bytes:
    image = Image.new("RGB", (width, height), (200, 190, 170))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 97):  # texture, so that the codec has work to do
        draw.line([(x, 0), (width - x, height)], fill=(x % 255, 90, 40), width=3)
    out = io.BytesIO()
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    side = (4618, 3464)  # 16.0 megapixels, the per-photo budget
    assert side[0] * side[1] <= MAX_PHOTO_PIXELS
    for fmt in ("PNG", "JPEG"):
        photos = [(f"{n}.{fmt.lower()}", _photo(*side, fmt)) for n in range(3)]
        start_mib = _peak_mib()
        start = time.perf_counter()
        check_pixel_budget([photo_size(data, name) for name, data in photos])
        for name, data in photos:
            codes_in_photo(data, name)
        took = time.perf_counter() - start
        print(f"3 x 16 MP {fmt} ({sum(len(d) for _, d in photos) / 2**20:.1f} MiB sent): "
              f"decoded in {took:.2f} s; peak RSS {_peak_mib():.0f} MiB "
              f"(was {start_mib:.0f} MiB before)")
    giant = io.BytesIO()
    Image.new("1", (6300, 6300), 1).save(giant, "PNG")
    photos = [(f"{n}.png", giant.getvalue()) for n in range(20)]
    start = time.perf_counter()
    try:
        check_pixel_budget([photo_size(data, name) for name, data in photos])
    except PhotoTooLarge as refused:
        print(f"20 x 6300x6300 PNG ({len(giant.getvalue()) * 20 / 2**20:.1f} MiB sent): "
              f"refused in {(time.perf_counter() - start) * 1e3:.1f} ms: {refused}")


if __name__ == "__main__":
    main()
