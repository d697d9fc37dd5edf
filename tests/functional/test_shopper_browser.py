"""The shopper's verify page in a real headless Chromium at 390 px: nothing wider than
the phone, the photo and the journey's map drawn, in both languages and when voided."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver

from ocop.stamps.issuance import void_batch
from ocop.trace.db import utcnow
from tests.servers import serving

pytestmark = pytest.mark.browser
PHONE = (390, 844)


@pytest.fixture
def base_url(app: Flask, demo) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def phone(chromium: str, chromedriver: str, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    # New headless Chrome keeps windows at least 500 px wide: emulate the phone.
    width, height = PHONE
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}}
    )
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _check_fits(phone: webdriver.Chrome) -> None:
    assert phone.execute_script("return window.innerWidth") == PHONE[0]
    wide = phone.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    widest = phone.execute_script(
        "return [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wide and not widest, widest


def test_the_verify_page_fits_a_390px_phone_in_both_languages(app, demo, base_url, phone) -> None:
    for lang, headline in (("vi", "Tem chính hãng"), ("en", "Genuine stamp")):
        phone.get(f"{base_url}/V/{demo[0].token.encode()}?lang={lang}")
        assert headline in phone.find_element("tag name", "h1").text
        _check_fits(phone)
        # The photo loaded, in one of its two sizes, and the map is drawn on the page.
        photo = phone.execute_script(
            "const i = document.querySelector('img.photo-lead');"
            "return i && i.complete ? [i.naturalWidth, i.currentSrc] : null"
        )
        if photo is None:  # lazily loaded: scroll it in and wait
            phone.execute_script("document.querySelector('img.photo-lead').scrollIntoView()")
            phone.implicitly_wait(5)
            photo = phone.execute_script(
                "const i = document.querySelector('img.photo-lead');"
                "return [i.naturalWidth, i.currentSrc]"
            )
        assert photo[0] > 0 and photo[1].endswith(("-320.webp", "-960.webp")), photo
        box = phone.execute_script(
            "const r = document.querySelector('.journey-map svg').getBoundingClientRect();"
            "return [r.width, r.height]"
        )
        assert 80 < box[0] <= PHONE[0] and box[1] > 80


def test_a_long_void_reason_still_fits(app, demo, base_url, phone) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        void_batch(session, demo[0].serial.batch, reason="Lỗi-in-" + "X" * 300, now=utcnow())
    phone.get(f"{base_url}/V/{demo[0].token.encode()}?lang=vi")
    assert "Lý do huỷ" in phone.page_source
    _check_fits(phone)
