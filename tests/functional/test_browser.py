"""The verify page in a real headless Chromium at phone size.

Checks what a person would: the verdict is on the first screen, in its colour,
and every request the page made (stylesheet, images) succeeded.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.servers import serving

pytestmark = pytest.mark.browser
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=360,740", "--accept-lang=vi-VN,vi",
]
GREEN = (0x15, 0x80, 0x3D)


@pytest.fixture
def server(app):
    seen: list[tuple[str, int]] = []

    def logged(environ, start_response):
        def start(status, headers, *rest):
            seen.append((environ["PATH_INFO"], int(status.split()[0])))
            return start_response(status, headers, *rest)

        return app(environ, start)

    with serving(logged) as url:
        yield url, seen


def _chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


def test_verify_page_at_phone_size(chromium, server, demo, tmp_path):
    base, seen = server
    url = f"{base}/V/{demo[0].token.encode()}"
    dom = _chromium(chromium, tmp_path, "--dump-dom", url)
    assert "Tem chính hãng" in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "phone.png"
    _chromium(chromium, tmp_path, f"--screenshot={shot}", url)
    image = Image.open(shot).convert("RGB")
    assert image.size == (360, 740)
    top = image.crop((0, 0, 360, 300))
    raw = top.tobytes()
    pixels = (tuple(raw[i : i + 3]) for i in range(0, len(raw), 3))
    green = sum(1 for pixel in pixels if _near(pixel, GREEN))
    assert green > 360 * 40, "the green verdict banner is not on the first screen"
    assert seen and all(status < 400 for _path, status in seen), seen
    assert any(path.endswith("site.css") for path, _ in seen)


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 12 for a, b in zip(pixel, colour, strict=True))
