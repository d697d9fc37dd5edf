"""The console in a real headless Chromium at phone size, driven like a person would.

Selenium drives Debian's chromium through its chromedriver; the test is skipped,
saying so, where either is missing, and fails under CI. It checks what unit tests cannot: the pages
lay out within a 360 px screen, forms work with the browser's own cookies and
CSRF tokens, and the receiving page's script runs under our CSP without errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.servers import serving

from .conftest import PASSWORD, World
from .test_receiving import issue

pytestmark = pytest.mark.browser
PHONE = 360
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=360,740",
    "--lang=vi-VN",
]


@pytest.fixture
def base_url(app: Flask, world: World) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def browser(chromium: str, chromedriver: str, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A cheap phone's screen (new headless Chrome keeps windows at least 500 px wide)
    # and a Vietnamese browser.
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": PHONE, "height": 740, "pixelRatio": 2}}
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _sign_in(browser, base_url: str, email: str) -> None:
    browser.get(f"{base_url}/console/signin")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: not d.current_url.endswith("/signin"))
    assert browser.current_url.rstrip("/").endswith("/console"), browser.current_url


def _fits_the_phone(browser) -> bool:
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert browser.execute_script("return window.innerWidth") == PHONE
    return width <= PHONE


def _csp_errors(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
    ]


def test_producer_signs_in_and_reads_a_lot_on_a_phone(
    browser, base_url: str, world: World, tmp_path: Path
) -> None:
    _sign_in(browser, base_url, world.emails["producer"])
    assert "Xin chào" in browser.find_element(By.TAG_NAME, "h1").text
    assert _fits_the_phone(browser), f"the home page scrolls sideways at {PHONE} px"
    browser.get(f"{base_url}/console/lots")
    assert _fits_the_phone(browser), f"the lots page scrolls sideways at {PHONE} px"
    browser.find_element(By.CSS_SELECTOR, "table a[href*='/console/lots/BC-']").click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Lô BC-")
    assert browser.find_elements(By.CSS_SELECTOR, ".tree li"), "no upstream tree on the lot page"
    assert _fits_the_phone(browser), f"the lot page scrolls sideways at {PHONE} px"
    browser.save_screenshot(str(tmp_path / "lot.png"))
    assert not _csp_errors(browser)


def test_distributor_checks_a_delivery_in_the_browser(
    browser, base_url: str, world: World, app: Flask, tmp_path: Path
) -> None:
    stamps = issue(app, tmp_path, "BC-2026-1115", 2)
    _sign_in(browser, base_url, world.emails["distributor"])
    browser.get(f"{base_url}/console/receiving")
    # The script ran under the page's CSP: it reveals the camera section only where
    # BarcodeDetector exists, and logs nothing either way.
    assert not _csp_errors(browser)
    codes = "\n".join(row["url"] for row in stamps) + "\n8936045120019"
    browser.find_element(By.NAME, "codes").send_keys(codes)
    browser.find_element(
        By.CSS_SELECTOR, "form[action$='/receiving/check'] button[type=submit]"
    ).click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/receiving/check"))
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "BC-2026-1115" in page
    assert _fits_the_phone(browser), f"the delivery check scrolls sideways at {PHONE} px"
    assert not _csp_errors(browser)
