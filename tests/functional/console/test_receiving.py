"""Receiving stock in the console: check a delivery's codes, then record the lots that passed."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from ocop.keys import keystore_for
from ocop.stamps.printing import PrintJob, issue_and_write
from ocop.stamps.qr import encode
from ocop.stamps.render.png import png_bytes
from ocop.trace.gtin import check_digit
from ocop.trace.models import Event
from ocop.workflows.models import AuditEntry

from .conftest import World, csrf, post

GOOD = "BC-2026-1115"  # three genuine codes: received
FORGED_LOT = "BD-2026-1105"  # one genuine, one forged: refused
TWICE = "BC-2025-1025"  # the same stamp twice: refused
DISTRIBUTOR = "Công ty TNHH Chuỗi Đặc sản Quê Nhà"
EAN13 = "893604512001" + str(check_digit("893604512001"))
OTHER_SITE = "https://shopee.vn/banh-cay-lang-nguyen-i.123.456"


def issue(app: Flask, tmp_path: Path, lot: str, count: int) -> list[dict[str, str]]:
    """Issue ``count`` stamps of ``lot``; the CSV's rows (serial, url, token)."""
    settings = app.config["OCOP"]
    keystore = keystore_for(settings.instance, os.environ, production=False)
    out = tmp_path / f"{lot}-{count}.csv"
    with app.app_context():
        issue_and_write(
            app.extensions["ocop.db"],
            keystore,
            PrintJob(lot_code=lot, count=count, out=out),
            base_url=settings.base_url,
            actor="test",
        )
    return list(csv.DictReader(out.open(encoding="utf-8")))


def forge(token: str) -> str:
    """The same batch and index with a signature changed: what a copier's typo or fake makes."""
    position = 100
    swapped = "B" if token[position] != "B" else "C"
    return token[:position] + swapped + token[position + 1 :]


def events(app: Flask) -> list[tuple[str, str, list[str]]]:
    """Receiving events recorded by the test (the sample has some of its own)."""
    with app.extensions["ocop.db"].transaction() as session:
        return [
            (e.event_id, e.biz_step, sorted(link.lot.code for link in e.lots))
            for e in session.scalars(
                select(Event).where(Event.biz_step == "receiving", Event.sample.is_(False))
            )
        ]


def audit_count(app: Flask, action: str) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return session.scalar(query) or 0


def check(client: FlaskClient, codes: list[str], photos: list[tuple[bytes, str]] | None = None):
    data: dict[str, object] = {
        "codes": "\n".join(codes),
        "csrf_token": csrf(client, "/console/receiving"),
    }
    if photos is not None:
        data["photos"] = [(io.BytesIO(body), name) for body, name in photos]
    return client.post("/console/receiving/check", data=data, content_type="multipart/form-data")


def record_form(html: str) -> dict[str, object]:
    """The record form's fields as the browser would send them."""
    form = html[html.index('action="/console/receiving/record"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, object] = {
        "codes": re.findall(r'name="code" value="([^"]*)"', form),
        "lots": re.findall(r'name="lot" value="([^"]*)" checked', form),
        "nonce": re.search(r'name="nonce"[^>]*value="([^"]+)"', form).group(1),
        "seal": re.search(r'name="seal" value="([^"]+)"', form).group(1),
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1),
    }
    return fields


def send_record(client: FlaskClient, fields: dict[str, object], **changes: object):
    fields = {**fields, **changes}
    data = [("code", c) for c in fields["codes"]] + [("lot", lot) for lot in fields["lots"]]
    data += [("nonce", fields["nonce"]), ("csrf_token", fields["csrf_token"])]
    if fields.get("seal") is not None:
        data.append(("seal", str(fields["seal"])))
    data.append(("reference", str(fields.get("reference", "PXK-2026-1128-01"))))
    body = "&".join(f"{k}={_quote(v)}" for k, v in data)
    return client.post(
        "/console/receiving/record",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


@pytest.fixture
def delivery(app: Flask, world: World, tmp_path: Path) -> dict[str, list[str]]:
    good = issue(app, tmp_path, GOOD, 3)
    forged = issue(app, tmp_path, FORGED_LOT, 2)
    twice = issue(app, tmp_path, TWICE, 1)
    return {
        "good": [row["url"] for row in good],
        "good_tokens": [row["token"] for row in good],
        "forged_lot": [forged[0]["url"], forge(forged[1]["token"])],
        "forged_token": [forge(forged[1]["token"])],
        "twice": [twice[0]["url"], twice[0]["token"]],
        "serials": [row["serial"] for row in good],
    }


def test_page_works_without_javascript_and_allows_the_camera_script(
    as_distributor: FlaskClient,
) -> None:
    page = as_distributor.get("/console/receiving")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<textarea" in html and 'name="codes"' in html
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and "multiple" in html
    assert 'action="/console/receiving/check"' in html
    assert "/static/receiving.js" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Permissions-Policy"].startswith("camera=(self)")
    script = as_distributor.get("/static/receiving.js")
    assert script.status_code == 200 and b"BarcodeDetector" in script.data
    assert b"/api/v1/verify" in page.data  # the live list's endpoint, which counts no scan


def test_other_pages_keep_the_strict_policy(as_distributor: FlaskClient) -> None:
    page = as_distributor.get("/console/")
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert page.headers["Permissions-Policy"].startswith("camera=()")


def test_check_gives_each_code_its_verdict_and_a_summary(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    codes = [
        *delivery["good"],
        *delivery["forged_lot"],
        EAN13,
        OTHER_SITE,
        *delivery["twice"],
    ]
    page = check(as_distributor, codes)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert "Kết quả kiểm tra: 9 mã" in html
    rows = html[html.index('<table class="codes">') :].split("<tr>")[2:]
    assert len(rows) == 9
    statuses = [re.search(r'class="badge (\w+)"', row).group(1) for row in rows]
    # lot A x3, lot B (genuine, forged), EAN-13 and another site's link, one stamp twice
    expected = ["genuine"] * 3 + ["genuine", "invalid"] + ["invalid"] * 2 + ["genuine", "suspect"]
    assert statuses == expected
    assert all(GOOD in row for row in rows[:3])
    assert delivery["serials"][0] in rows[0]
    assert "bad_signature" in rows[4] and f"lô {FORGED_LOT}" in rows[4]
    assert "Mã vạch sản phẩm (EAN/GTIN), không phải tem OCOP" in rows[5]
    assert "Đường dẫn tới trang khác, không phải tem OCOP" in rows[6]
    assert "Trùng với mã #8" in rows[8] and "duplicate_in_delivery" in rows[8]
    tiles = html[html.index('<ul class="tiles">') :]
    tiles = tiles[: tiles.index("</ul>")]
    assert re.search(r'big">5</strong> <span class="badge genuine"', tiles)
    assert re.search(r'big">3</strong> <span class="badge invalid"', tiles)
    assert re.search(r'big">1</strong> <span class="badge suspect"', tiles)
    assert re.search(r'big">2</strong> mã không phải tem OCOP', tiles)
    assert re.search(r'big">1</strong> tem bị quét trùng', tiles)
    lots = html[html.index('<table class="lots">') : html.index('<table class="codes">')]
    by_lot = {
        lot: row
        for row in lots.split("<tr>")[2:]
        for lot in (GOOD, FORGED_LOT, TWICE)
        if lot in row
    }
    assert "Đạt: có thể nhận" in by_lot[GOOD]
    assert "Không nhận" in by_lot[FORGED_LOT] and "1 không hợp lệ" in by_lot[FORGED_LOT]
    assert "Không nhận" in by_lot[TWICE] and "1 nghi sao chép" in by_lot[TWICE]
    fields = record_form(html)
    assert fields["lots"] == [GOOD]  # only the lot that passed is offered
    assert len(fields["codes"]) == 9
    assert events(app) == []  # checking records nothing


def test_checking_counts_no_scan(
    as_distributor: FlaskClient, delivery: dict[str, list[str]]
) -> None:
    check(as_distributor, delivery["good"])
    verdict = as_distributor.get(
        f"/api/v1/verify/{delivery['good_tokens'][0]}", headers={"User-Agent": "Mozilla/5.0"}
    ).get_json()
    assert verdict["scans"]["count"] == 1  # this scan only


def test_record_receives_the_passed_lot_only_and_shows_in_its_journey(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    codes = [*delivery["good"], *delivery["forged_lot"], EAN13, OTHER_SITE, *delivery["twice"]]
    fields = record_form(check(as_distributor, codes).get_data(as_text=True))
    # A browser could send back any lot it likes: the refused ones are still refused.
    response = send_record(as_distributor, fields, lots=[GOOD, FORGED_LOT, TWICE])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Đã ghi nhận nhận hàng" in html
    recorded = events(app)
    assert len(recorded) == 1 and recorded[0][2] == [GOOD]
    event_id = recorded[0][0]
    assert event_id.startswith("urn:uuid:") and event_id in html
    refused = html[html.index('<ul class="refused">') :]
    assert FORGED_LOT in refused and TWICE in refused
    assert audit_count(app, "receiving.record") == 1
    with app.extensions["ocop.db"].transaction() as session:
        event = session.scalars(select(Event).where(Event.event_id == event_id)).one()
        assert event.organisation.tax_code == "0109456783"
        assert event.action.value == "OBSERVE" and event.type.value == "ObjectEvent"
        assert event.documents == [{"type": "desadv", "id": "PXK-2026-1128-01"}]
    journey = as_distributor.get(f"/api/v1/verify/{delivery['good_tokens'][1]}").get_json()[
        "journey"
    ]
    assert journey[-1]["biz_step"] == "receiving"
    assert journey[-1]["organisation"] == DISTRIBUTOR
    assert journey[-1]["lots"][0]["lot"] == GOOD


def test_a_lot_with_one_forged_code_is_not_received(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    page = check(as_distributor, delivery["forged_lot"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'action="/console/receiving/record"' not in html
    assert "Không lô nào đạt kiểm tra" in html
    # Posting the record form anyway, with the lot ticked by hand, changes nothing.
    fields = {
        "codes": delivery["forged_lot"],
        "lots": [FORGED_LOT],
        "nonce": "n" * 32,
        "csrf_token": csrf(as_distributor, "/console/receiving"),
    }
    response = send_record(as_distributor, fields)
    assert response.status_code == 400
    assert "Danh sách mã đã thay đổi sau lần kiểm tra" in response.get_data(as_text=True)
    assert events(app) == []
    assert audit_count(app, "receiving.record") == 0


def test_record_takes_only_the_codes_the_check_verified(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    fields = record_form(check(as_distributor, delivery["good"]).get_data(as_text=True))
    # A forged code slipped into the hidden fields after the check.
    tampered = [*fields["codes"], *delivery["forged_token"]]
    response = send_record(as_distributor, fields, codes=tampered, lots=[GOOD, FORGED_LOT])
    assert response.status_code == 400
    assert "Danh sách mã đã thay đổi" in response.get_data(as_text=True)
    assert events(app) == []


def test_dropping_a_lots_failing_codes_after_the_check_records_nothing(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    codes = [*delivery["good"], *delivery["forged_lot"]]
    fields = record_form(check(as_distributor, codes).get_data(as_text=True))
    assert fields["lots"] == [GOOD]  # the forged lot failed the check
    # The forged code dropped, the failed lot ticked by hand: its genuine code alone
    # would pass a check of what comes back.
    kept = [*delivery["good"], delivery["forged_lot"][0]]
    response = send_record(as_distributor, fields, codes=kept, lots=[GOOD, FORGED_LOT])
    assert response.status_code == 400
    assert events(app) == []
    assert audit_count(app, "receiving.record") == 0
    # Without a seal, or with another check's seal, the same.
    assert send_record(as_distributor, fields, codes=kept, seal=None).status_code == 400
    other = record_form(check(as_distributor, kept).get_data(as_text=True))
    as_other = send_record(as_distributor, fields, codes=codes, seal=other["seal"])
    assert as_other.status_code == 400
    assert events(app) == []
    # The sealed list itself still records the lot that passed.
    assert send_record(as_distributor, fields).status_code == 200
    assert events(app)[0][2] == [GOOD]


def test_a_seal_is_bound_to_the_organisation(
    app: Flask, delivery: dict[str, list[str]], world: World
) -> None:
    from ocop.workflows.delivery_seal import check_seal, seal_codes
    from ocop.workflows.errors import ReceivingRefused

    seal = seal_codes(delivery["good"], organisation_id=world.distributor_id, key=b"k")
    check_seal(
        list(reversed(delivery["good"])), seal, organisation_id=world.distributor_id, key=b"k"
    )
    for org, key in ((world.producer_id, b"k"), (world.distributor_id, b"other")):
        with pytest.raises(ReceivingRefused):
            check_seal(delivery["good"], seal, organisation_id=org, key=key)


def test_double_submission_records_one_event(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    fields = record_form(check(as_distributor, delivery["good"]).get_data(as_text=True))
    first = send_record(as_distributor, fields)
    second = send_record(as_distributor, fields)
    assert first.status_code == second.status_code == 200
    assert "đã được ghi nhận trước đó" in second.get_data(as_text=True)
    assert len(events(app)) == 1
    assert audit_count(app, "receiving.record") == 1
    # The same form sent again with other lots is a conflict, not a second receipt.
    both = [*delivery["good"], *delivery["twice"][:1]]
    more = record_form(check(as_distributor, both).get_data(as_text=True))
    clash = send_record(as_distributor, more, nonce=fields["nonce"], lots=[GOOD, TWICE], codes=both)
    assert clash.status_code == 409
    assert len(events(app)) == 1


def test_record_needs_a_lot_codes_and_a_csrf_token(
    as_distributor: FlaskClient, delivery: dict[str, list[str]], app: Flask
) -> None:
    fields = record_form(check(as_distributor, delivery["good"]).get_data(as_text=True))
    none_chosen = send_record(as_distributor, fields, lots=[])
    assert none_chosen.status_code == 400
    assert "Chọn ít nhất một lô hàng" in none_chosen.get_data(as_text=True)
    no_codes = send_record(as_distributor, fields, codes=[])
    assert no_codes.status_code == 400
    forged_csrf = send_record(as_distributor, fields, csrf_token="forged")
    assert forged_csrf.status_code == 400
    too_long = send_record(as_distributor, fields, reference="x" * 101)
    assert too_long.status_code == 400
    assert events(app) == []


def test_check_refuses_empty_and_oversized_input(as_distributor: FlaskClient, world: World) -> None:
    empty = check(as_distributor, ["", "   "])
    assert empty.status_code == 400
    assert "Chưa có mã nào để kiểm tra" in empty.get_data(as_text=True)
    many = check(as_distributor, [f"code-{n}" for n in range(1001)])
    assert many.status_code == 400
    assert "Tối đa 1000 mã" in many.get_data(as_text=True)
    long = check(as_distributor, ["x" * 2049])
    assert long.status_code == 400


def test_check_needs_a_csrf_token(as_distributor: FlaskClient, world: World) -> None:
    response = as_distributor.post(
        "/console/receiving/check",
        data={"codes": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def _png_of(text: str) -> bytes:
    return png_bytes(encode(text), scale=6)


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (300, 200), 255).save(out, "PNG")
    return out.getvalue()


def test_a_photo_of_a_stamp_is_decoded_and_verified(
    as_distributor: FlaskClient, delivery: dict[str, list[str]]
) -> None:
    photos = [(_png_of(delivery["good"][0]), "tem-1.png"), (_blank_png(), "trang.png")]
    page = check(as_distributor, [delivery["good"][1]], photos)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:2000]
    assert "Kết quả kiểm tra: 2 mã" in html
    assert "ảnh tem-1.png" in html
    assert "Không tìm thấy mã nào trong ảnh trang.png." in html
    rows = html[html.index('<table class="codes">') :].split("<tr>")[2:]
    assert all('class="badge genuine"' in row for row in rows)
    assert delivery["serials"][0] in rows[1]


def test_photos_with_no_code_only_are_reported(as_distributor: FlaskClient, world: World) -> None:
    page = check(as_distributor, [], [(_blank_png(), "kho.png")])
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Không tìm thấy mã nào trong ảnh kho.png." in html


def test_a_file_that_is_not_a_picture_is_refused(
    as_distributor: FlaskClient, world: World, app: Flask
) -> None:
    page = check(as_distributor, [], [(b"%PDF-1.7 not a photo", "phieu.jpg")])
    assert page.status_code == 400
    assert "phieu.jpg: không phải ảnh" in page.get_data(as_text=True)
    eps = check(as_distributor, [], [(b"%!PS-Adobe-3.0 EPSF-3.0\n", "x.eps")])
    assert eps.status_code == 400


def test_too_many_or_too_large_photos_are_refused(
    as_distributor: FlaskClient, world: World
) -> None:
    blank = _blank_png()
    many = check(as_distributor, [], [(blank, f"{n}.png") for n in range(21)])
    assert many.status_code == 400
    assert "Tối đa 20 ảnh" in many.get_data(as_text=True)
    # Above the app's 2 MiB form limit but within this page's 8 MiB: read, not refused.
    big = check(as_distributor, [], [(blank + b"\0" * (3 * 2**20), "big.png")])
    assert "Không tìm thấy mã nào trong ảnh big.png." in big.get_data(as_text=True)
    huge = check(as_distributor, [], [(b"\0" * (9 * 2**20), "huge.png")])
    assert huge.status_code == 413
    assert "ảnh tổng cộng tối đa 8 MB" in huge.get_data(as_text=True)


@pytest.mark.parametrize("who", ["producer", "authority"])
def test_only_distributors_receive(client: FlaskClient, world: World, who: str) -> None:
    from .conftest import sign_in

    sign_in(client, world, who)
    assert client.get("/console/receiving").status_code == 403
    token = csrf(client)
    check_ = client.post(
        "/console/receiving/check",
        data={"codes": "x", "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert check_.status_code == 403
    assert post(client, "/console/receiving/record", {"code": "x", "lot": GOOD}).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    response = client.get("/console/receiving")
    assert response.status_code == 302 and "/console/signin" in response.headers["Location"]
    response = client.post("/console/receiving/check", data={"codes": "x"})
    assert response.status_code in (302, 400)


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")  # compresses to a few kilobytes
    return out.getvalue()


def test_photos_over_the_pixel_budget_are_refused_before_any_is_decoded(
    as_distributor: FlaskClient, world: World
) -> None:
    # The issue's case: twenty 6300x6300 PNGs, small on the wire, huge once decoded.
    giant = _png(6300, 6300)
    assert len(giant) * 20 < 8 * 2**20
    page = check(as_distributor, [], [(giant, f"{n}.png") for n in range(20)])
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Ảnh quá lớn: mỗi ảnh tối đa 16 megapixel" in html
    # Each within the per-photo budget, too many pixels together.
    phone = _png(4000, 3000)
    together = check(as_distributor, [], [(phone, f"{n}.png") for n in range(5)])
    assert together.status_code == 400
    assert "cộng lại tối đa 48 megapixel" in together.get_data(as_text=True)
    # Four of them fit: decoded, and each reported as holding no code.
    fits = check(as_distributor, [], [(phone, f"{n}.png") for n in range(4)]).get_data(as_text=True)
    assert "Ảnh quá lớn" not in fits
    assert "Không tìm thấy mã nào trong ảnh 3.png." in fits
