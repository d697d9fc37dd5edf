"""The public catalogue through Flask's test client: pages, JSON-LD, sitemap, API."""

from __future__ import annotations

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.trace import load_sample
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import (
    Certification,
    Event,
    EventLot,
    EventType,
    Lot,
    LotRole,
    Organisation,
    OrgKind,
    Product,
    Scheme,
)

PRODUCT = "BANH-CAY-LANG-NGUYEN"
LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


@pytest.fixture
def catalogue(app: Flask) -> dict[str, object]:
    """The demo records, a receipt of the bánh cáy last week and a lapsed product."""
    with app.extensions["ocop.db"].transaction() as session:
        load_sample(session)
        product = session.scalars(select(Product).where(Product.code == PRODUCT)).one()
        shop = Organisation(kind=OrgKind.RETAILER, name="Cửa hàng Đặc sản Phố Hiến",
                            tax_code="CATSHOP01")  # fmt: skip
        lot = Lot(code="CAT-LOT-1", product=product, owner=product.producer)
        event = Event(event_id="urn:test:cat-receipt", type=EventType.OBJECT, biz_step="receiving",
                      event_time=utcnow() - dt.timedelta(days=7), time_zone="+07:00",
                      organisation=shop)  # fmt: skip
        event.lots.append(EventLot(lot=lot, role=LotRole.OBJECT))
        lapsed = Product(code="CAT-LAPSED", producer=product.producer, name="Chè lam hết hạn")
        start = vietnam_today() - dt.timedelta(days=1200)
        session.add_all([shop, lot, event, lapsed, Certification(
            scheme=Scheme.OCOP, number="CAT-OLD-1", product=lapsed, stars=5,
            issuing_body="UBND tỉnh", valid_from=start, valid_until=start + dt.timedelta(days=1095),
        )])  # fmt: skip
        session.flush()
        return {"producer": product.producer_id, "shop": shop.id}


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A browser that keeps no cookies (Zalo's in-app browser may not)."""
    return app.test_client(use_cookies=False)


def _ld(page: str) -> dict:
    found = LD.findall(page)
    assert len(found) == 1
    return json.loads(found[0])


def test_catalogue_lists_certified_products_light_and_without_script(anonymous, catalogue):
    response = anonymous.get("/san-pham")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" in page
    assert "Chè lam hết hạn" not in page
    assert "<script" not in page
    assert '<link rel="canonical" href="http://127.0.0.1:5000/san-pham">' in page
    assert len(response.data) < 60_000
    assert response.headers["Cache-Control"].startswith("public")


def test_lapsed_products_on_request_say_so_plainly(anonymous, catalogue):
    page = anonymous.get("/san-pham?lapsed=1").get_data(as_text=True)
    item = page[page.index("Chè lam hết hạn") :]
    item = item[: item.index("</li>")]
    assert "không còn được mang dấu OCOP" in item and "★" not in item


def test_english_rides_in_the_url(anonymous, catalogue):
    page = anonymous.get("/san-pham?lang=en&q=banh").get_data(as_text=True)
    assert '<html lang="en">' in page and "OCOP products" in page
    assert f'href="/san-pham/{PRODUCT}?lang=en"' in page
    assert 'name="lang" value="en"' in page
    assert 'rel="canonical" href="http://127.0.0.1:5000/san-pham?q=banh&amp;lang=en"' in page


@pytest.mark.parametrize("asked", ["banh cay", "BÁNH CÁY", "cay", "Bánh  cáy   làng"])
def test_search_ignores_diacritics(anonymous, catalogue, asked):
    response = anonymous.get("/san-pham", query_string={"q": asked})
    assert response.status_code == 200
    assert "Bánh cáy làng Nguyễn" in response.get_data(as_text=True)


@pytest.mark.parametrize("asked", ["%", "_", "\\", "' OR '1'='1", "%' --", "ba%nh", "[a-z]*"])
def test_wildcards_and_sql_find_nothing_they_should_not(anonymous, catalogue, asked):
    response = anonymous.get("/san-pham", query_string={"q": asked})
    assert response.status_code == 200
    assert "Bánh cáy làng Nguyễn" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "x" * 10_000}, 400),
        ({"q": "bánh\x07cáy"}, 400),
        ({"q": "bánh\u200bcáy"}, 400),
        ({"page": "abc"}, 400),
        ({"page": "0"}, 400),
        ({"stars": "6"}, 400),
        ({"page": "2"}, 404),
        ({"page": "9999"}, 404),
    ],
)
def test_bad_input_is_answered_with_a_reason(anonymous, catalogue, params, status):
    response = anonymous.get("/san-pham", query_string=params)
    assert response.status_code == status
    if status == 400 and "\x07" not in params.get("q", ""):
        page = response.get_data(as_text=True)
        assert 'role="alert"' in page and '<form class="card filters"' in page


def test_product_page_json_ld_where_to_buy(anonymous, catalogue):
    response = anonymous.get(f"/san-pham/{PRODUCT}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'rel="canonical" href="http://127.0.0.1:5000/san-pham/{PRODUCT}"' in page
    assert "Cửa hàng Đặc sản Phố Hiến" in page  # received a genuine lot last week
    graph = {node["@type"]: node for node in _ld(page)["@graph"]}
    product, org = graph["Product"], graph["Organization"]
    assert product["gtin"] == "08936045120019"
    assert product["brand"] == {"@type": "Brand", "name": org["name"]}
    assert product["manufacturer"] == {"@id": org["@id"]}
    (rating,) = product["additionalProperty"]
    assert (rating["name"], rating["value"]) == ("OCOP rating", 4)
    assert org["address"]["addressCountry"] == "VN"


def test_opting_out_hides_the_shop(app, anonymous, catalogue):
    with app.extensions["ocop.db"].transaction() as session:
        session.get(Organisation, catalogue["shop"]).listed_as_seller = False
    page = anonymous.get(f"/san-pham/{PRODUCT}").get_data(as_text=True)
    assert "Cửa hàng Đặc sản Phố Hiến" not in page


def test_lapsed_product_page_never_shows_as_certified(anonymous, catalogue):
    page = anonymous.get("/san-pham/CAT-LAPSED").get_data(as_text=True)
    assert "không có chứng nhận OCOP còn hiệu lực" in page
    assert 'class="stars"' not in page.split("<h2>")[0]
    (product,) = [n for n in _ld(page)["@graph"] if n["@type"] == "Product"]
    assert [p["name"] for p in product["additionalProperty"]] == ["OCOP certificate status"]
    api = anonymous.get("/api/v1/catalogue/products/CAT-LAPSED").get_json()
    assert api["ocop"] == {**api["ocop"], "certified": False, "stars": None, "status": "expired"}


def test_producer_page_has_products_places_and_a_map(anonymous, catalogue):
    response = anonymous.get(f"/nha-san-xuat/{catalogue['producer']}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" in page and "Chè lam hết hạn" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<circle") >= 2  # the sample's areas of nếp, gấc and lạc
    assert "http" not in svg.replace('"http://www.w3.org', "")  # no tiles, nothing fetched
    graph = _ld(page)["@graph"]
    assert graph[0]["@type"] == "Organization"
    assert {n["name"] for n in graph[1:]} == {"Bánh cáy làng Nguyễn", "Chè lam hết hạn"}


@pytest.mark.parametrize(
    "path", ["/san-pham/NOPE", "/san-pham/" + "x" * 5000, "/nha-san-xuat/999999"]
)
def test_missing_pages_are_404(anonymous, catalogue, path):
    assert anonymous.get(path).status_code == 404


def test_a_distributor_has_no_producer_page(anonymous, catalogue):
    assert anonymous.get(f"/nha-san-xuat/{catalogue['shop']}").status_code == 404


def test_sitemap_and_robots(anonymous, catalogue):
    response = anonymous.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [e.text for e in ElementTree.fromstring(response.data).findall("s:url/s:loc", ns)]
    assert f"http://127.0.0.1:5000/san-pham/{PRODUCT}" in urls
    assert f"http://127.0.0.1:5000/nha-san-xuat/{catalogue['producer']}" in urls
    assert "http://127.0.0.1:5000/san-pham/CAT-LAPSED" not in urls
    robots = anonymous.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in robots


def test_api_pages_and_filters(anonymous, catalogue):
    body = anonymous.get("/api/v1/catalogue/products?per_page=1").get_json()
    assert body["total"] == body["pages"] >= 2 and len(body["items"]) == 1
    assert body["links"]["next"].endswith("/api/v1/catalogue/products?per_page=1&page=2")
    assert body["links"]["prev"] is None
    found = anonymous.get("/api/v1/catalogue/products?q=MAT%20ONG&stars=4").get_json()
    names = [i["name"] for i in found["items"]]
    assert all("Mật ong" in n for n in names)
    item = anonymous.get("/api/v1/catalogue/products?q=banh+cay").get_json()["items"][0]
    assert item["ocop"]["certified"] and item["ocop"]["stars"] == 4
    assert item["url"] == f"http://127.0.0.1:5000/san-pham/{PRODUCT}"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("q=" + "x" * 10_000, 400, "q"),
        ("stars=2", 400, "stars"),
        ("per_page=1000", 400, "per_page"),
        ("kind=retailer", 400, "kind"),
        ("page=50", 404, None),
    ],
)
def test_api_refusals_are_problem_json(anonymous, catalogue, query, status, field):
    response = anonymous.get(f"/api/v1/catalogue/products?{query}")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["detail"]
    if field:
        assert body["invalid_params"][0]["name"] == field


def test_api_product_and_producer(anonymous, catalogue):
    product = anonymous.get(f"/api/v1/catalogue/products/{PRODUCT}").get_json()
    assert product["where_to_buy"][0]["name"] == "Cửa hàng Đặc sản Phố Hiến"
    assert product["certificates"][0]["scheme"] == "ocop"
    producer = anonymous.get(f"/api/v1/catalogue/producers/{catalogue['producer']}").get_json()
    assert any(p["latitude"] for p in producer["places"])
    missing = anonymous.get("/api/v1/catalogue/products/NOPE")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_eight_at_once(app, catalogue):
    paths = ["/san-pham", "/san-pham?q=banh", f"/san-pham/{PRODUCT}", "/sitemap.xml",
             f"/nha-san-xuat/{catalogue['producer']}", "/api/v1/catalogue/products",
             "/san-pham?q=" + "x" * 10_000, "/san-pham?page=99"]  # fmt: skip

    def get(path: str) -> int:
        return app.test_client(use_cookies=False).get(path).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, paths))
    assert statuses == [200, 200, 200, 200, 200, 200, 400, 404]


def test_existing_pages_lead_to_the_catalogue(anonymous, catalogue):
    assert 'href="/san-pham"' in anonymous.get("/").get_data(as_text=True)
    page = anonymous.get(f"/p/products/{PRODUCT}").get_data(as_text=True)
    assert f'href="/san-pham/{PRODUCT}"' in page
    page = anonymous.get(f"/p/producers/{catalogue['producer']}").get_data(as_text=True)
    assert f'href="/nha-san-xuat/{catalogue["producer"]}"' in page
    shop = anonymous.get(f"/p/producers/{catalogue['shop']}").get_data(as_text=True)
    assert "/nha-san-xuat/" not in shop
