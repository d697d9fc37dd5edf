"""The scan analytics page and its CSV: numbers, scoping, filters, recalls, charts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from ocop.keys.models import IssuerKey
from ocop.stamps import Serial
from ocop.stamps.activation import activate_whole
from ocop.stamps.models import BatchStatus, ScanLog, StampBatch, StampScan
from ocop.trace.db import utcnow
from ocop.trace.models import Product, Recall
from ocop.trace.queries import find_lot

from ..conftest import drain
from .conftest import World, sign_in

OWN_LOT = "BC-2026-1115"  # the cooperative's (the "producer" account)
OTHER_LOT = "BD-2026-1105"  # the household business's ("other_producer")
OWN_PRODUCT, OTHER_PRODUCT = "BANH-CAY-LANG-NGUYEN", "BANH-DA-SOI-VU-HOI"
NOVEMBER = "start=2026-11-01&end=2026-11-10"


def _utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


@dataclass
class Batches:
    own: int
    other: int


def _batches(app: Flask) -> Batches:
    with app.extensions["ocop.db"].transaction() as session:
        key = session.scalars(select(IssuerKey)).first()
        made = [
            StampBatch(
                lot=find_lot(session, code),
                key=key,
                count=100,
                status=BatchStatus.ISSUED,
                issued_at=utcnow(),
                created_by="test",
            )
            for code in (OWN_LOT, OTHER_LOT)
        ]
        session.add_all(made)
        session.flush()
        for batch in made:  # issued and put into use: their scans are no theft
            activate_whole(session, batch, actor="test", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        return Batches(made[0].id, made[1].id)


def _log(app: Flask, rows: list[tuple[int, int, dt.datetime, bool, str | None]]) -> None:
    keys = ("batch_id", "index", "scanned_at", "first_for_device", "place")
    with app.extensions["ocop.db"].transaction() as session:
        session.execute(insert(ScanLog.__table__), [dict(zip(keys, r, strict=True)) for r in rows])


def _stamps(app: Flask, rows: list[tuple[int, int, int, int]]) -> None:
    """(batch, index, sightings, pin claims) as the verifier would have counted them
    (each sighting a new device on a new network)."""
    with app.extensions["ocop.db"].transaction() as session:
        session.execute(
            insert(StampScan.__table__),
            [
                {
                    "batch_id": b,
                    "index": i,
                    "count": d + 2,
                    "devices": d,
                    "sightings": d,
                    "pin_claims": p,
                    "first_at": _utc(2, 3),
                    "last_at": _utc(3, 5),
                }
                for b, i, d, p in rows
            ],
        )


@pytest.fixture
def scans(app: Flask, world: World) -> Batches:
    b = _batches(app)
    _log(
        app,
        [
            (b.own, 0, _utc(2, 3), True, "Thái Bình"),
            (b.own, 0, _utc(2, 23, 30), False, None),  # 06:30 on 3 Nov in Vietnam
            (b.own, 1, _utc(3, 5), True, "Hà Nội"),
            (b.other, 0, _utc(2, 4), True, "Đà Nẵng"),
            (b.own, 2, _utc(10, 17), True, None),  # 00:00 on 11 Nov: after the period
        ],
    )
    _stamps(app, [(b.own, 0, 11, 0), (b.own, 1, 10, 1), (b.other, 0, 30, 0)])
    return b


def _export(client: FlaskClient, query: str):
    """The export as a person gets it: asked for, written by the queue, downloaded."""
    asked = client.get(f"/console/analytics.csv?{query}")
    assert asked.status_code == 303, asked.get_data(as_text=True)[:300]
    drain(client.application)
    page = client.get(asked.headers["Location"])
    assert page.status_code == 200 and "Tải tệp" in page.get_data(as_text=True)
    return client.get(asked.headers["Location"] + "/download")


def _csv(client: FlaskClient, query: str) -> list[list[str]]:
    response = _export(client, query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]


def test_producer_csv_counts_first_and_repeat_scans_by_vietnamese_day(
    as_producer: FlaskClient, scans: Batches
) -> None:
    response = _export(as_producer, NOVEMBER)
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=ocop-scans-2026-11-01-2026-11-10.csv"
    )
    product = "Bánh cáy làng Nguyễn"
    assert _csv(as_producer, NOVEMBER) == [
        ["day", "product_code", "product", "lot", "batch", "first_scans", "repeat_scans"],
        ["2026-11-02", OWN_PRODUCT, product, OWN_LOT, str(scans.own), "1", "0"],
        ["2026-11-03", OWN_PRODUCT, product, OWN_LOT, str(scans.own), "1", "1"],
    ]


def test_authority_sees_every_producer_or_one(
    as_authority: FlaskClient, world: World, scans: Batches
) -> None:
    rows = _csv(as_authority, NOVEMBER)[1:]
    assert [(r[0], r[3], r[5], r[6]) for r in rows] == [
        ("2026-11-02", OWN_LOT, "1", "0"),
        ("2026-11-02", OTHER_LOT, "1", "0"),
        ("2026-11-03", OWN_LOT, "1", "1"),
    ]
    one = _csv(as_authority, f"{NOVEMBER}&producer=1002234561")[1:]
    assert [(r[3], r[5]) for r in one] == [(OTHER_LOT, "1")]
    page = as_authority.get(f"/console/analytics?{NOVEMBER}").get_data(as_text=True)
    assert "Bánh đa sợi Vũ Hội" in page and "Đà Nẵng" in page
    assert '<select id="producer" name="producer">' in page
    assert '<option value="1002234561">Hộ kinh doanh Phạm Văn Hòa</option>' in page


def test_producer_never_sees_another_producers_scans(
    as_producer: FlaskClient, scans: Batches
) -> None:
    page = as_producer.get(f"/console/analytics?{NOVEMBER}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" in html
    assert "Bánh đa sợi" not in html  # not even in the product filter
    assert "Đà Nẵng" not in html and str(Serial(scans.other, 0)) not in html
    assert "Thái Bình" in html and "Hà Nội" in html
    assert 'name="producer"' not in html


@pytest.mark.parametrize(
    "query",
    [
        f"lot={OTHER_LOT}",
        "lot=KHONG-CO-LO-NAY",
        f"product={OTHER_PRODUCT}",
        "product=KHONG-CO",
        "batch=987654",
    ],
)
def test_another_organisations_codes_are_not_found(
    as_producer: FlaskClient, scans: Batches, query: str
) -> None:
    assert as_producer.get(f"/console/analytics?{query}").status_code == 404
    assert as_producer.get(f"/console/analytics.csv?{query}").status_code == 404


@pytest.mark.parametrize("tax_code", ["1002234561", "0000000000"])
def test_a_producer_cannot_pick_another_producer(
    as_producer: FlaskClient, scans: Batches, tax_code: str
) -> None:
    # The authority's producer filter means nothing to a producer: its own scope stays.
    rows = _csv(as_producer, f"{NOVEMBER}&producer={tax_code}")[1:]
    assert {r[3] for r in rows} == {OWN_LOT}
    html = as_producer.get(f"/console/analytics?{NOVEMBER}&producer={tax_code}")
    assert html.status_code == 200 and "Đà Nẵng" not in html.get_data(as_text=True)


def test_another_organisations_batch_number_is_not_found(
    as_producer: FlaskClient, scans: Batches
) -> None:
    assert as_producer.get(f"/console/analytics?batch={scans.other}").status_code == 404
    assert as_producer.get(f"/console/analytics?batch={scans.own}").status_code == 200


def test_authority_may_narrow_to_any_lot_and_unknown_producer_is_not_found(
    as_authority: FlaskClient, scans: Batches
) -> None:
    rows = _csv(as_authority, f"{NOVEMBER}&lot={OTHER_LOT}")[1:]
    assert [r[3] for r in rows] == [OTHER_LOT]
    assert as_authority.get("/console/analytics?producer=0000000000").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01", "Ngày không hợp lệ"),
        ("end=29/11/2026", "Ngày không hợp lệ"),
        ("start=2026-11-10&end=2026-11-01", "Ngày kết thúc phải sau ngày bắt đầu"),
        ("start=2025-01-01&end=2026-11-01", "Chọn tối đa 366 ngày"),
        ("batch=abc", "Số lô tem là một số nguyên dương"),
        ("batch=0", "Số lô tem là một số nguyên dương"),
        ("batch=99999999999", "Số lô tem là một số nguyên dương"),
        ("batch=%D9%A3", "Số lô tem là một số nguyên dương"),  # an Arabic-Indic digit
        (f"lot={'X' * 41}", "Mã dài tối đa 40 ký tự"),
    ],
)
def test_bad_filters_are_refused_with_a_message(
    as_producer: FlaskClient, scans: Batches, query: str, message: str
) -> None:
    page = as_producer.get(f"/console/analytics?{query}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    assert "<svg" not in html  # no figures beside a refused filter
    download = as_producer.get(f"/console/analytics.csv?{query}")
    assert download.status_code == 400 and message in download.get_data(as_text=True)


def test_suspect_stamps_follow_the_verifiers_rule_and_link_to_their_history(
    as_producer: FlaskClient, app: Flask, scans: Batches
) -> None:
    html = as_producer.get(f"/console/analytics?{NOVEMBER}").get_data(as_text=True)
    suspect, fine = Serial(scans.own, 0), Serial(scans.own, 1)  # 11 sightings; 10 sightings
    assert str(suspect) in html
    assert f'href="/console/stamps/{scans.own}/0"' in html
    assert str(fine) not in html
    assert "hơn 10 nơi độc lập" in html
    # The threshold is the verifier's setting, not a number of the page's own.
    app.config["OCOP"] = app.config["OCOP"].with_overrides({"device_threshold": 9})
    html = as_producer.get(f"/console/analytics?{NOVEMBER}").get_data(as_text=True)
    assert str(fine) in html and "hơn 9 nơi độc lập" in html


def test_the_page_draws_charts_and_tables(as_producer: FlaskClient, scans: Batches) -> None:
    html = as_producer.get(f"/console/analytics?{NOVEMBER}").get_data(as_text=True)
    svgs = _svgs(html)
    assert len(svgs) == 3  # per day, per product, per batch
    assert all(svg.get("role") == "img" and svg.get("width") == "100%" for svg in svgs)
    assert 'style="' not in html
    assert "/console/analytics.csv?start=2026-11-01&amp;end=2026-11-10" in html


def test_names_are_escaped_in_charts_and_csv_cells_never_start_a_formula(
    as_producer: FlaskClient, app: Flask, scans: Batches
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        session.execute(
            update(Product).where(Product.code == OWN_PRODUCT).values(name="=Bánh <&> cáy")
        )
    html = as_producer.get(f"/console/analytics?{NOVEMBER}").get_data(as_text=True)
    assert "<&>" not in html
    texts = ["".join(svg.itertext()) for svg in _svgs(html)]
    assert any("=Bánh <&> cáy" in t for t in texts)
    assert _csv(as_producer, NOVEMBER)[1][2] == "'=Bánh <&> cáy"


def test_no_scans_yet_says_so_instead_of_an_empty_chart(
    as_producer: FlaskClient, world: World
) -> None:
    page = as_producer.get("/console/analytics")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Chưa có lượt quét nào trong khoảng thời gian này." in html
    assert "<svg" not in html
    assert _csv(as_producer, "") == [
        ["day", "product_code", "product", "lot", "batch", "first_scans", "repeat_scans"]
    ]


def test_a_recalled_lot_shows_its_notice_and_the_scans_since(
    as_producer: FlaskClient, app: Flask, world: World
) -> None:
    b = _batches(app)
    now = utcnow()
    recalled_at = now - dt.timedelta(days=5)
    with app.extensions["ocop.db"].transaction() as session:
        lot = find_lot(session, OWN_LOT)
        session.add(Recall(lot=lot, notice="Ngừng bán: bánh bị ẩm mốc", recalled_at=recalled_at))
    _log(
        app,
        [
            (b.own, 0, recalled_at - dt.timedelta(hours=1), True, None),  # before: not counted
            (b.own, 0, recalled_at + dt.timedelta(hours=1), False, None),
            (b.own, 1, now - dt.timedelta(days=2), True, None),
            (b.own, 2, now - dt.timedelta(days=2), True, None),
            (b.other, 0, now - dt.timedelta(days=2), True, None),  # another lot
        ],
    )
    html = as_producer.get(f"/console/analytics?lot={OWN_LOT}").get_data(as_text=True)
    assert "Ngừng bán: bánh bị ẩm mốc" in html
    assert re.search(r'<strong class="big">3</strong> lượt quét tem của lô từ khi thu hồi', html)
    assert any(svg.get("aria-labelledby", "").startswith("chart-recall") for svg in _svgs(html))
    # Someone else's recalled lot stays out of reach.
    assert as_producer.get(f"/console/analytics?lot={OTHER_LOT}").status_code == 404


def test_a_lot_that_was_never_recalled_shows_no_recall(
    as_producer: FlaskClient, scans: Batches
) -> None:
    html = as_producer.get(f"/console/analytics?lot={OWN_LOT}").get_data(as_text=True)
    assert "đã bị thu hồi" not in html


def test_distributors_and_strangers_are_kept_out(
    client: FlaskClient, world: World, scans: Batches
) -> None:
    for url in ("/console/analytics", "/console/analytics.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/console/signin" in response.headers["Location"]
    sign_in(client, world, "distributor")
    assert client.get("/console/analytics").status_code == 403
    assert client.get(f"/console/analytics.csv?{NOVEMBER}").status_code == 403


def test_an_export_is_its_organisations_only(
    app: Flask, world, as_producer: FlaskClient, scans: Batches
) -> None:
    asked = as_producer.get(f"/console/analytics.csv?{NOVEMBER}")
    drain(app)
    other = sign_in(app.test_client(), world, "other_producer")
    assert other.get(asked.headers["Location"]).status_code == 404
    assert other.get(asked.headers["Location"] + "/download").status_code == 404
    assert as_producer.get("/console/jobs/987654").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "end=9999-12-31",
        "end=0001-01-01",
        "start=0001-01-01",
        "start=9999-12-01&end=9999-12-31",
        "start=0001-01-01&end=0001-01-02",
        "end=1999-12-31",
    ],
)
def test_days_at_the_calendars_edges_are_refused_not_500(
    as_producer: FlaskClient, query: str
) -> None:
    for path in ("/console/analytics", "/console/analytics.csv"):
        page = as_producer.get(f"{path}?{query}")
        assert page.status_code == 400, (path, query)
        assert "Chọn một ngày từ 2000-01-01 đến 2100-12-31." in page.get_data(as_text=True)
