"""Every console page, as every role, on a 390 x 844 phone in headless Chromium: nothing
scrolls sideways and no element sticks out of the screen (issue 15).

The pages come from the app's URL map, not from a list written here: every GET
route of the console is either visited (with real ids of a world made for it) or
skipped with a reason, and a new route that is neither fails
:func:`test_every_console_page_is_covered_or_skipped`. The world has very long
emails, organisation and token names, so a layout that cannot wrap them fails.
One browser serves the whole run; each role signs in with cleared cookies.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from werkzeug.routing import Rule

from ocop.keys.models import IssuerKey
from ocop.trace.models import Certification, Organisation, OrgKind
from ocop.workflows.access import permitted
from ocop.workflows.accounts import create_user
from ocop.workflows.models import Role, StampRequest
from tests.servers import serving

from ..conftest import drain
from .conftest import PASSWORD, World, confirmed, post, sign_in
from .test_reports import _file_report, _issue
from .test_stamp_requests import LOT, _request_id, _submit

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
PRODUCT = "BANH-CAY-LANG-NGUYEN"
FACILITY = "NX-XUONG"
# Long enough that nothing can show them on one line at 390 px; no space to break at.
LONG = "nguyen.thi.thanh.huong.phong.quan.ly.chat.luong.nong.lam.thuy.san"
EMAILS = {
    "admin": f"{LONG}.trung.uong@vanphongdieuphoinongthonmoitrunguong.gov.vn",
    "officer": f"{LONG}.thai.binh@sonongnghiepvaphattriennongthon-thaibinh.gov.vn",
    "producer": f"{LONG}.htx@hoptacxabanhcaylangnguyenthaithuythaibinh.com.vn",
    "distributor": f"{LONG}.kho@congtycophanphanphoinongsansachvietnam.com.vn",
}
ROLES = {
    "admin": Role.AUTHORITY,  # an officer of the central office: governs everyone
    "officer": Role.AUTHORITY,  # an officer of the provincial council
    "producer": Role.PRODUCER,
    "distributor": Role.DISTRIBUTOR,
}
LONG_PRODUCER = (
    "Hợp tác xã Sản xuất, Chế biến và Kinh doanh Nông sản Đặc sản Bánh cáy Làng Nguyễn "
    "Thái Thụy Thái Bình (nay thuộc tỉnh Hưng Yên)"
)
LONG_TOKEN = "may-quet-ma-kho-lanh-so-3-cua-hang-trung-tam-thanh-pho-thai-binh-ca-sang"

# Routes that are not pages: what they answer is a file, not something to lay out.
SKIPPED = {
    "console.stamp_request_csv": "a file download (CSV), not a page",
    "console.stamp_request_pdf": "a file download (PDF), not a page",
    "console.stamp_request_zip": "a file download (ZIP), not a page",
    "console.analytics_csv": "a file download (CSV), not a page",
    "console.events_example": "a file download (example CSV), not a page",
    "console.job_download": "a file download (the job's output), not a page",
}


@dataclass
class PhoneWorld:
    ids: dict[str, object] = field(default_factory=dict)
    kids: dict[str, str] = field(default_factory=dict)  # role -> an own active key


# endpoint -> the URLs (as a role sees them) that cover it; a role's URL may be None when
# the role has no such record (say why in the page's own test, not here).
URLS: dict[str, Callable[[PhoneWorld, str], list[str]]] = {
    "console.signin": lambda w, role: ["/console/signin"],
    "console.home": lambda w, role: ["/console/"],
    "console.password": lambda w, role: ["/console/password"],
    "console.analytics": lambda w, role: ["/console/analytics", f"/console/analytics?lot={LOT}"],
    "console.api_tokens": lambda w, role: ["/console/api-tokens"],
    "console.audit": lambda w, role: ["/console/audit"],
    "console.certifications": lambda w, role: ["/console/certifications"],
    "console.certification": lambda w, role: [f"/console/certifications/{w.ids['cert']}"],
    "console.certification_new": lambda w, role: ["/console/certifications/new"],
    "console.events": lambda w, role: ["/console/events"],
    "console.event_new": lambda w, role: ["/console/events/new"],
    "console.events_upload": lambda w, role: ["/console/events/upload"],
    "console.facilities": lambda w, role: ["/console/facilities"],
    "console.facility": lambda w, role: [f"/console/facilities/{FACILITY}"],
    "console.facility_new": lambda w, role: ["/console/facilities/new"],
    "console.job": lambda w, role: [f"/console/jobs/{w.ids['job']}"],
    "console.keys": lambda w, role: ["/console/keys"],
    "console.keys_revoke": lambda w, role: [f"/console/keys/{w.kids[role]}/revoke"],
    "console.lots": lambda w, role: ["/console/lots"],
    "console.lot_page": lambda w, role: [f"/console/lots/{LOT}"],
    "console.lots_new": lambda w, role: ["/console/lots/new"],
    "console.lot_recall": lambda w, role: [f"/console/lots/{LOT}/recall"],
    "console.batch_void": lambda w, role: [f"/console/batches/{w.ids['batch']}/void"],
    "console.organisations": lambda w, role: ["/console/organisations"],
    "console.organisation": lambda w, role: [f"/console/organisations/{w.ids['producer']}"],
    "console.organisation_new": lambda w, role: ["/console/organisations/new"],
    "console.products": lambda w, role: ["/console/products"],
    "console.product": lambda w, role: [f"/console/products/{PRODUCT}"],
    "console.product_new": lambda w, role: ["/console/products/new"],
    "console.receiving": lambda w, role: ["/console/receiving"],
    "console.reports": lambda w, role: ["/console/reports"],
    "console.report": lambda w, role: [f"/console/reports/{w.ids['report']}"],
    "console.stamp_requests": lambda w, role: ["/console/stamp-requests"],
    "console.stamp_request": lambda w, role: [
        f"/console/stamp-requests/{w.ids[which]}" for which in ("issued", "pending", "rejected")
    ],
    "console.stamp_requests_new": lambda w, role: [f"/console/stamp-requests/new?lot={LOT}"],
    "console.stamp_request_reject": lambda w, role: [
        f"/console/stamp-requests/{w.ids['pending']}/reject"
    ],
    "console.stamp_history": lambda w, role: [f"/console/stamps/{w.ids['batch']}/1"],
    "console.stamps_activate": lambda w, role: ["/console/stamps/activate"],
    "console.users": lambda w, role: ["/console/users"],
    "console.users_new": lambda w, role: ["/console/users/new"],
}

# Elements and text that stick out of the screen, unless a box that scrolls or clips
# holds them; boxes that scroll sideways with no hint that they do; the page's width.
_LAYOUT_JS = """
// The phone's width, not window.innerWidth: a page wider than the screen makes a
// mobile browser zoom out, and innerWidth grows with it.
const W = arguments[0];
const cls = (el) => typeof el.className === 'string' && el.className.trim()
  ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls(el) +
  ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
const out = [], unhinted = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  const style = getComputedStyle(el);
  const scrolls = style.overflowX === 'auto' || style.overflowX === 'scroll';
  // The hint is the shadow drawn by the box's background (see site.css).
  if (scrolls && el.scrollWidth > el.clientWidth + 1 && style.backgroundImage === 'none')
    unhinted.push(name(el));
  if (r.right <= W + 0.5 && r.left >= -0.5) continue;
  let p = el.parentElement, held = false;
  while (p && p !== document.body) {
    if (getComputedStyle(p).overflowX !== 'visible') { held = true; break; }
    p = p.parentElement;
  }
  if (!held) out.push(name(el) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
}
// Text can overflow an element that itself fits (a word too long for its box).
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const range = document.createRange();
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (!node.textContent.trim()) continue;
  range.selectNodeContents(node);
  const r = range.getBoundingClientRect();
  if ((r.width === 0 && r.height === 0) || (r.right <= W + 0.5 && r.left >= -0.5)) continue;
  let p = node.parentElement, held = false;
  while (p && p !== document.body) {
    if (getComputedStyle(p).overflowX !== 'visible') { held = true; break; }
    p = p.parentElement;
  }
  if (!held) out.push('text in ' + name(node.parentElement) + ' [' + Math.round(r.left) + ', '
                      + Math.round(r.right) + ']');
}
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        out: out.slice(0, 8), unhinted: unhinted};
"""


# --------------------------------------------------------------------------- the world


def _rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.") and "GET" in (rule.methods or ())
    ]


@pytest.fixture
def phone_world(app: Flask, world: World, tmp_path: Path) -> PhoneWorld:
    """The console world with a central office above its council, one account of each
    role with a very long email, and one record of each kind a page shows."""
    found = PhoneWorld()
    database = app.extensions["ocop.db"]
    with database.transaction() as session:
        central = Organisation(
            kind=OrgKind.AUTHORITY,
            name="Văn phòng Điều phối Chương trình Mỗi xã một sản phẩm Trung ương",
            tax_code="CENTRAL-9",
        )
        session.add(central)
        session.flush()
        session.get_one(Organisation, world.authority_id).council_id = central.id
        producer = session.get_one(Organisation, world.producer_id)
        producer.name = LONG_PRODUCER
        orgs = {
            "admin": central,
            "officer": session.get_one(Organisation, world.authority_id),
            "producer": producer,
            "distributor": session.get_one(Organisation, world.distributor_id),
        }
        for role, email in EMAILS.items():
            create_user(session, email, orgs[role], ROLES[role], password=PASSWORD)
        found.ids["producer"] = producer.id
        found.ids["cert"] = session.scalars(select(Certification.id)).first()
        found.kids["officer"] = session.scalars(
            select(IssuerKey.kid).where(IssuerKey.organisation_id == world.authority_id)
        ).one()
    # A copy: the world is shared by the run's tests, these accounts are this test's.
    world = dataclasses.replace(world, emails={**world.emails, **EMAILS})
    producer_client = sign_in(app.test_client(), world, "producer")
    officer = sign_in(app.test_client(), world, "officer")
    admin = sign_in(app.test_client(), world, "admin")
    # Issued while the council is the only signer (the central office has no key yet).
    stamps = _issue(app, tmp_path, LOT, 3)
    found.ids["report"] = _file_report(app, stamps[0].text, f"Tem in mờ {LONG}", contact=LONG)
    # The central office signs nothing yet: "new key" gives it one to (not) revoke.
    assert post(admin, "/console/keys/rotate").status_code == 302
    issued = _request_id(_submit(producer_client, count="12"))
    assert post(officer, f"/console/stamp-requests/{issued}/approve").status_code == 302
    drain(app)
    rejected = _request_id(_submit(producer_client, count="30", note=LONG * 3))
    reject = f"/console/stamp-requests/{rejected}/reject"
    assert confirmed(officer, reject, {"reason": f"Thiếu hồ sơ {LONG}"}).status_code == 302
    found.ids.update(issued=issued, rejected=rejected)
    found.ids["pending"] = _request_id(_submit(producer_client, count="1500"))
    export = producer_client.get("/console/analytics.csv")
    assert export.status_code == 303, export.get_data(as_text=True)[:300]
    found.ids["job"] = int(export.headers["Location"].rsplit("/", 1)[1])
    distributor = sign_in(app.test_client(), world, "distributor")
    assert post(distributor, "/console/api-tokens", {"name": LONG_TOKEN}).status_code == 200
    with database.transaction() as session:
        request = session.get_one(StampRequest, issued)
        found.ids["batch"] = request.batch_id
        found.kids["admin"] = session.scalars(
            select(IssuerKey.kid).where(IssuerKey.organisation_id == central.id)
        ).one()
    return found


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def phone(chromium: str, chromedriver: str, tmp_path_factory) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the run, at a common phone's size, in Vietnamese."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("phone-profile")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--lang=vi-VN", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2}}
    )
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi-VN,vi"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _sign_in(browser: webdriver.Chrome, base: str, email: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/console/signin")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: not d.current_url.endswith("/signin"))


def _layout_problems(browser: webdriver.Chrome, url: str) -> list[str]:
    browser.get(url)
    found = browser.execute_script(_LAYOUT_JS, WIDTH)
    problems = []
    if found["scroll"] > WIDTH or found["inner"] != WIDTH:
        problems.append(f"{url}: the page is {found['scroll']} px wide ({found['inner']} shown)")
    problems += [f"{url}: sticks out: {what}" for what in found["out"]]
    problems += [f"{url}: scrolls sideways with no hint: {what}" for what in found["unhinted"]]
    return problems


def _full_page(browser: webdriver.Chrome, path: Path) -> None:
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _pages_for(app: Flask, world: PhoneWorld, role: str) -> list[tuple[str, str]]:
    """(endpoint, url) of every page ``role`` may open, from the URL map."""
    pages = []
    for rule in _rules(app):
        if rule.endpoint in SKIPPED or rule.endpoint == "console.signin":
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        if permission is not None and not permitted(ROLES[role], permission):
            continue
        pages += [(rule.endpoint, url) for url in URLS[rule.endpoint](world, role)]
    return pages


# --------------------------------------------------------------------------- the tests


def test_every_console_page_is_covered_or_skipped(app: Flask) -> None:
    """A new console page must be laid out on a phone too: list it in URLS (or in
    SKIPPED, saying why) and the layout tests below visit it as every role."""
    endpoints = {rule.endpoint for rule in _rules(app)}
    missing = sorted(endpoints - URLS.keys() - SKIPPED.keys())
    assert not missing, f"console pages neither covered nor skipped: {missing}"
    assert not (URLS.keys() & SKIPPED.keys())
    stale = sorted((URLS.keys() | SKIPPED.keys()) - endpoints)
    assert not stale, f"covered routes the app no longer has: {stale}"


def test_the_sign_in_page_fits_a_phone(phone: webdriver.Chrome, served: str, world: World) -> None:
    phone.delete_all_cookies()
    assert _layout_problems(phone, f"{served}/console/signin") == []
    assert _layout_problems(phone, f"{served}/console/signin?lang=en") == []


@pytest.mark.parametrize(
    "role, lang",
    # English is longer than Vietnamese in places: the two roles with the most pages.
    [*((role, "vi") for role in ROLES), ("officer", "en"), ("producer", "en")],
)
def test_every_page_a_role_opens_fits_a_phone(
    phone: webdriver.Chrome, served: str, app: Flask, phone_world: PhoneWorld, role: str,
    lang: str, tmp_path: Path,
) -> None:
    _sign_in(phone, served, EMAILS[role])
    pages = _pages_for(app, phone_world, role)
    if lang != "vi":
        pages = [(e, f"{url}{'&' if '?' in url else '?'}lang={lang}") for e, url in pages]
    assert len(pages) >= 4, pages
    problems: list[str] = []
    shots = os.environ.get("OCOP_PHONE_SHOTS")  # a folder: keep each page's picture to look at
    for n, (endpoint, url) in enumerate(pages):
        problems += _layout_problems(phone, served + url)
        if shots:
            _full_page(phone, Path(shots) / f"{role}-{lang}-{n:02d}-{endpoint[8:]}.png")
        # The page itself opened (not a 403 or 404 page): the console's own heading.
        heading = phone.find_elements(By.CSS_SELECTOR, "main.console h1")
        if not heading:
            problems.append(f"{url} ({endpoint}): no console page was shown to {role}")
        if phone.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
            problems.append(f"{url} ({endpoint}): not in {lang}")
    if problems:
        phone.save_screenshot(str(tmp_path / f"{role}.png"))
    assert not problems, "\n".join(problems)


def test_a_layout_that_does_not_fit_is_caught(
    phone: webdriver.Chrome, served: str, phone_world: PhoneWorld
) -> None:
    """The check itself can fail: a page made wider than the phone is reported."""
    _sign_in(phone, served, EMAILS["producer"])
    phone.get(f"{served}/console/")
    phone.execute_script(
        "const p = document.createElement('p'); p.textContent = arguments[0];"
        "p.style.whiteSpace = 'nowrap'; document.querySelector('main').appendChild(p);",
        LONG * 2,
    )
    found = phone.execute_script(_LAYOUT_JS, WIDTH)
    assert found["scroll"] > WIDTH and found["out"]
