"""The activation page in a real headless Chromium at 390 px, used as at a packing table."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from .conftest import World
from .test_activation import inert_batch
from .test_console_browser import FLAGS, _csp_errors, _sign_in, base_url  # noqa: F401

pytestmark = pytest.mark.browser
WIDTH = 390


@pytest.fixture
def phone(chromium: str, chromedriver: str, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": 844, "pixelRatio": 1}}
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_producer_activates_a_roll_from_a_phone_without_javascript(
    phone, base_url: str, world: World, app: Flask, tmp_path: Path  # noqa: F811
) -> None:
    batch, rows = inert_batch(app, tmp_path, count=40)
    _sign_in(phone, base_url, world.emails["producer"])
    phone.get(f"{base_url}/console/stamps/activate")
    assert phone.find_element(By.TAG_NAME, "h1").text == "Kích hoạt tem"
    # A plain form: the page carries no script to need.
    assert not phone.find_elements(By.TAG_NAME, "script")
    Select(phone.find_element(By.NAME, "batch")).select_by_value(str(batch))
    phone.find_element(By.NAME, "first").send_keys(rows[0]["serial"])
    phone.find_element(By.NAME, "last").send_keys(rows[19]["url"])
    phone.save_screenshot(str(tmp_path / "activate-form.png"))
    phone.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(phone, 15).until(lambda d: "batch=" in d.current_url)
    main = phone.find_element(By.TAG_NAME, "main").text
    assert "Đã kích hoạt 20 tem" in main
    assert f"{rows[0]['serial']} – {rows[19]['serial']}" in main
    width = phone.execute_script("return document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the activation page scrolls sideways at {WIDTH} px"
    phone.save_screenshot(str(tmp_path / "activate-done.png"))
    # OCOP_KEEP_SHOTS=/some/folder keeps the screenshots, to look at them.
    if os.environ.get("OCOP_KEEP_SHOTS"):
        shots = Path(os.environ["OCOP_KEEP_SHOTS"])
        shots.mkdir(exist_ok=True)
        for name in ("activate-form.png", "activate-done.png"):
            (shots / name).write_bytes((tmp_path / name).read_bytes())
    assert not _csp_errors(phone)
