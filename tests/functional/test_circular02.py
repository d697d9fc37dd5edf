"""Every field of Circular 02/2024/TT-BKHCN (Article 8's minimum information) on the sample's
verify page, each found in its own part of the page rather than anywhere in the text."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ocop.keys import keystore_for
from ocop.stamps import StampBatch, generate_stamps
from ocop.stamps.pin import PinSecret
from ocop.web.cli import main
from ocop.web.site import when


@pytest.fixture
def page(app, runner):
    import os

    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    settings = app.config["OCOP"]
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalars(select(StampBatch)).one()
        keystore = keystore_for(settings.instance, os.environ, production=False)
        stamp = next(iter(generate_stamps(
            keystore.load(batch.key.kid), batch.id, 1, base_url=settings.base_url,
            pin_secret=PinSecret(settings.resolved_pin_secret()),
        )))
    client = app.test_client()
    response = client.get(f"/V/{stamp.token.encode()}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    data = client.get(f"/V/{stamp.token.encode()}", headers={"Accept": "application/json"})
    return {"html": response.get_data(as_text=True), "json": data.get_json(), "stamp": stamp}


def _section(html: str, heading: str) -> str:
    """The card whose heading is ``heading``."""
    match = re.search(rf"<section[^>]*>\s*<h2>{re.escape(heading)}</h2>(.*?)</section>", html, re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def test_every_circular_02_field_is_on_the_sample_page(page):
    html, d = page["html"], page["json"]
    product = re.search(r'<section class="card product">(.*?)</section>', html, re.S).group(1)
    # 1. product name, 2. product image
    # (the demo's product shows its producer's photo, in two sizes)
    assert d["product"]["name"] in product and 'class="photo-lead" src="/photos/' in product
    # 3. producer's name, 4. its address
    producer = _section(html, "Nhà sản xuất")
    assert d["producer"]["name"] in producer and d["producer"]["address"]["province"] in producer
    # 5. each stage: product code, location code, time
    journey = _section(html, "Hành trình sản phẩm")
    stages = re.findall(r"<li>(.*?)</li>", journey, re.S)
    assert len(stages) == len(d["journey"]) >= 3
    for stage, event in zip(stages, d["journey"], strict=True):
        assert f'datetime="{event["time"]}"' in stage
        assert event["place_code"] and event["place_code"] in stage
        assert all(link["lot"] in stage for link in event["lots"])
    # 6. production time, 7. the trace code, 9. expiry
    lot = _section(html, "Lô hàng")
    # Dates as the whole page writes them (the ``when`` filter).
    assert when(d["lot"]["produced_on"]) in lot and d["lot"]["code"] in lot
    assert when(d["lot"]["best_before"]) in lot
    # 7. the stamp's serial
    assert str(page["stamp"].serial) in html
    # 8. the registered trademark: number, owner, dates, classes, office
    (mark,) = d["trademarks"]
    marks = _section(html, "Nhãn hiệu đã đăng ký")
    for value in (mark["mark"], mark["number"], mark["owner"], when(mark["filed_on"]),
                  when(mark["granted_on"]), mark["classes"], mark["office"]):
        assert value in marks
    # 10. standards applied: the product's TCCS and QCVN, the area's VietGAP (TCVN and certificate)
    standards = _section(html, "Tiêu chuẩn áp dụng")
    for code in ("TCCS 01:2024/HTX-LN", "QCVN 8-2:2011/BYT", "TCVN 11892-1:2017",
                 "VietGAP-TT-24-05-34-0027"):
        assert code in standards
