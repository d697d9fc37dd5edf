"""The offline verifier (/kiem-tra) in a real headless Chromium at phone size.

The page is loaded online once (its service worker keeps it, the page keeps the
signed trust list), then the server is stopped for real: stamps are verified
entirely in the browser, with WebCrypto's Ed25519 and with the vendored
noble-ed25519 (``?engine=noble``, the test hook that skips WebCrypto).
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import WSGIRequestHandler, make_server

from ocop.keys.publishing import signed_trust_list
from ocop.stamps.token import StampToken, base32
from ocop.trace.db import utcnow
from tests.trustworld import World, new_signer

pytestmark = pytest.mark.browser
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=390,844", "--lang=vi-VN",
]
VECTOR_SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
VECTOR_TOKEN = (
    "AGJWOUTHVYKT3BAAAACNEAAAAAURMW7T6UWVIDCOQH63AGSFWEVQESAFBSXJ57N6DDGQS2ZNOZCAKAQXU2SN5KI"
    "LLBMWEOPRKKDCACRD3DEQCLJ3GKXGTICZZ2QCYG2DAI"
)
LIST_PATH = "/.well-known/ocop-trust.jws"


class _OneRequestPerConnection(WSGIRequestHandler):
    # No keep-alive: once the server stops, every new request fails as offline does.
    protocol_version = "HTTP/1.0"


@dataclass
class Server:
    url: str
    httpd: object
    # What this test serves instead of the app at a path (a tampered or foreign list).
    overrides: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(app: Flask, demo) -> Iterator[Server]:
    holder: dict[str, Server] = {}

    def wsgi(environ, start_response):
        body = holder["server"].overrides.get(environ["PATH_INFO"])
        if body is not None:
            start_response("200 OK", [("Content-Type", "application/jose")])
            return [body.encode()]
        return app(environ, start_response)

    httpd = make_server(
        "127.0.0.1", 0, wsgi, threaded=True, request_handler=_OneRequestPerConnection
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    holder["server"] = Server(f"http://127.0.0.1:{httpd.server_port}", httpd)
    yield holder["server"]
    try:
        httpd.shutdown()
        httpd.server_close()
    except OSError:
        pass


@pytest.fixture
def browser(chromium: str, chromedriver: str, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}}
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _ready(browser) -> None:
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.getElementById('offline').dataset.ready")
        == "1"
    )


def _installed(browser, server: Server, query: str = "") -> None:
    """Open the page online and wait until its service worker controls it."""
    browser.get(f"{server.url}/kiem-tra{query}")
    _ready(browser)
    browser.execute_async_script(
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true));"
    )
    browser.get(f"{server.url}/kiem-tra{query}")
    _ready(browser)
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script("return !!navigator.serviceWorker.controller")
    )


def _text(browser, element_id: str) -> str:
    node = browser.find_element(By.ID, element_id)
    return node.get_attribute("textContent") if node.is_displayed() else ""


def _check(browser, code: str) -> tuple[str, str]:
    browser.execute_script(
        "const v = document.getElementById('verdict'); v.dataset.status = '';"
        "document.getElementById('code').value = arguments[0];"
        "document.getElementById('form').requestSubmit();",
        code,
    )
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script("return document.getElementById('verdict').dataset.status")
    )
    return (
        browser.execute_script("return document.getElementById('verdict').dataset.status"),
        _text(browser, "verdict"),
    )


def _flip_signature_bit(token: str) -> str:
    raw = bytearray(StampToken.parse(token).to_bytes())
    raw[40] ^= 0x01
    return base32(bytes(raw))


def _no_errors(browser) -> None:
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    # The stopped server's refusals are expected; nothing else may fail.
    assert all("ERR_CONNECTION_REFUSED" in e["message"] for e in severe), severe


@pytest.mark.parametrize("engine", ["webcrypto", "noble"])
def test_stamps_verify_in_the_browser_with_the_server_stopped(browser, server, demo, engine):
    query = "?engine=noble" if engine == "noble" else ""
    _installed(browser, server, query)
    used = browser.execute_script("return document.getElementById('offline').dataset.engine")
    assert used == engine
    assert "1 khoá" in _text(browser, "list")
    genuine, forged = demo[0].token.encode(), _flip_signature_bit(demo[1].token.encode())
    unknown = StampToken.issue(new_signer(), 7, 7).encode()
    server.stop()
    # Opened from the stamp's own URL with no network: the service worker answers.
    browser.get(f"{server.url}/V/{genuine}{query}")
    _ready(browser)
    status = browser.execute_script("return document.getElementById('verdict').dataset.status")
    verdict = _text(browser, "verdict")
    assert status == "genuine", verdict
    assert "Chữ ký của tem là thật" in verdict
    assert "bản sao" in verdict  # it says plainly that it cannot tell a copy
    assert str(demo[0].serial) in verdict
    assert "(Bản đã lưu trên máy" in _text(browser, "list")
    assert _check(browser, f"{server.url}/V/{forged}")[0] == "invalid"
    assert "Chữ ký của tem không đúng" in _text(browser, "verdict")
    assert _check(browser, unknown)[0] == "invalid"
    assert "không có trong danh sách tin cậy" in _text(browser, "verdict")
    assert _check(browser, genuine.lower())[0] == "genuine"
    _no_errors(browser)


@pytest.mark.parametrize("engine", ["", "?engine=noble"])
def test_the_stamp_format_test_vector_verifies_in_the_browser(
    browser, server, app, engine, monkeypatch
):
    world = World.make(1, seeds=[VECTOR_SEED])
    server.overrides[LIST_PATH] = world.document(now=utcnow())
    app.config["OCOP"] = app.config["OCOP"].with_overrides({"trust_roots": (world.root.kid,)})
    browser.get(f"{server.url}/kiem-tra{engine}")
    _ready(browser)
    status, text = _check(browser, f"HTTPS://TEM.EXAMPLE.VN/V/{VECTOR_TOKEN}")
    assert status == "genuine", text
    assert "1234-000042" in text  # batch 1234, index 41, as STAMP-FORMAT.md says
    raw = bytearray(StampToken.parse(VECTOR_TOKEN).to_bytes())
    raw[-1] ^= 0x80
    assert _check(browser, base32(bytes(raw)))[0] == "invalid"


def _tampered(document: str) -> str:
    head, body, signature = document.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x01
    return f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("bad_signature", "chữ ký của danh sách không đúng"),
        ("unknown_root", "không được ký dưới khoá gốc"),
        ("garbage", "sai định dạng"),
    ],
)
def test_a_bad_list_is_refused_with_a_reason(browser, server, app, demo, case, reason):
    with app.extensions["ocop.db"].transaction() as session:
        genuine = signed_trust_list(session, app.config["OCOP"].keystore()).document
    server.overrides[LIST_PATH] = {
        "bad_signature": _tampered(genuine),
        "unknown_root": World.make(1).document(now=utcnow()),
        "garbage": "{" * 50_000,
    }[case]
    browser.get(f"{server.url}/kiem-tra")
    _ready(browser)
    assert reason in _text(browser, "refusal")
    status, text = _check(browser, demo[0].token.encode())
    assert status == "unchecked"
    assert "chưa có danh sách khoá tin cậy hợp lệ" in text


def test_a_stale_list_is_used_with_the_warning(browser, server, app, demo):
    with app.extensions["ocop.db"].transaction() as session:
        stale = signed_trust_list(
            session, app.config["OCOP"].keystore(), now=utcnow() - dt.timedelta(days=3),
            validity=dt.timedelta(hours=24),
        ).document
    server.overrides[LIST_PATH] = stale
    browser.get(f"{server.url}/kiem-tra?lang=en")
    _ready(browser)
    warning = _text(browser, "stale")
    assert "overdue" in warning, warning
    status, text = _check(browser, demo[0].token.encode())
    assert status == "genuine"
    assert "overdue" in text


def test_garbage_and_huge_inputs_get_a_clear_answer(browser, server, demo):
    browser.get(f"{server.url}/kiem-tra")
    _ready(browser)
    for code in ["", "hello", "https://example.com/x", "A" * 130, "Z" * 100_000, "/V/" + "é" * 130]:
        status, text = _check(browser, code)
        assert status == "invalid", (code[:20], text)
        assert "không phải mã tem OCOP hợp lệ" in text
    _no_errors(browser)


def test_the_page_fits_a_phone_and_keeps_the_rest_of_the_site_alone(
    browser, server, demo, tmp_path
):
    _installed(browser, server)
    browser.save_screenshot(str(tmp_path / "offline.png"))
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    # The service worker does not touch other pages: the online verdict page is the server's.
    browser.get(f"{server.url}/V/{demo[0].token.encode()}")
    assert "Tem chính hãng" in browser.page_source
    assert browser.execute_script("return document.getElementById('offline')") is None


def test_a_page_pinned_to_the_old_root_follows_a_rotation_and_refuses_a_rollback(
    browser, server, app
):
    world = World.make(1)
    old_root = world.root.kid
    older = world.document(sequence=5, now=utcnow())
    world.rotate_root()
    app.config["OCOP"] = app.config["OCOP"].with_overrides({"trust_roots": (old_root,)})
    server.overrides[LIST_PATH] = world.document(sequence=6, now=utcnow())
    browser.get(f"{server.url}/kiem-tra")
    _ready(browser)
    assert "số 6" in _text(browser, "list")
    assert _text(browser, "refusal") == ""
    stamp = StampToken.issue(world.issuers[0], 12, 3).encode()
    assert _check(browser, stamp)[0] == "genuine"
    # A replayed older list (say, from a stale mirror) is refused; the kept one stays in use.
    server.overrides[LIST_PATH] = older
    browser.get(f"{server.url}/kiem-tra")
    _ready(browser)
    assert "quay lui" in _text(browser, "refusal")
    assert "số 6" in _text(browser, "list")
    assert _check(browser, stamp)[0] == "genuine"
