"""The public verifier through Flask's test client, on the demo's real records."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import func, select

from ocop.keys.models import IssuerKey
from ocop.stamps import StampScan, StampToken
from ocop.web.cli import main
from ocop.workflows.models import FakeReport

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 10) Mobile Safari/537.36"}


def _tamper(token: StampToken) -> str:
    raw = bytearray(token.to_bytes())
    raw[-5] ^= 0x40
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def _scans(app) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.coalesce(func.sum(StampScan.count), 0)))


def test_genuine_page_shows_verdict_and_the_label_data(client, demo):
    stamp = demo[0]
    response = client.get(f"/V/{stamp.token.encode()}", headers=PHONE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Tem chính hãng" in page
    assert str(stamp.serial) in page
    assert "Bánh cáy" in page
    assert "Hành trình sản phẩm" in page
    assert "OCOP 4 sao" in page
    assert "Lần kiểm tra đầu tiên" in page
    assert len(response.data) < 60_000
    # The demo's product shows the photo its producer uploaded, not the shipped drawing.
    photo = re.search(r'class="photo-lead" src="(/photos/[0-9a-f]{64}-320\.webp)"', page)
    assert photo and client.get(photo.group(1)).mimetype == "image/webp"
    image = client.get("/media/banh-cay.svg")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert client.get("/media/..%2F..%2Fconfig.py").status_code == 404
    assert "ocop_device" in response.headers.get("Set-Cookie", "")


def test_lower_case_route_and_lower_case_token_work(client, demo):
    token = demo[1].token.encode().lower()
    response = client.get(f"/v/{token}", headers={**PHONE, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.json["status"] == "genuine"


def test_json_carries_status_reasons_serial_details_and_scans(client, demo):
    stamp = demo[2]
    first = client.get(f"/api/v1/verify/{stamp.token.encode()}", headers=PHONE).json
    second = client.get(f"/api/v1/verify/{stamp.token.encode()}", headers=PHONE).json
    assert first["status"] == "genuine" and first["reasons"] == []
    assert first["serial"] == str(stamp.serial)
    assert first["scans"]["count"] == 1 and second["scans"]["count"] == 2
    assert second["scans"]["first_at"] == first["scans"]["first_at"]
    assert first["product"]["name"]
    assert first["producer"]["address"]["text"]
    assert first["lot"]["code"]
    assert first["ocop"]["stars"] == 4
    assert first["journey"] and first["journey"][0]["time"] <= first["journey"][-1]["time"]


def test_english_on_request(client, demo):
    page = client.get(f"/V/{demo[0].token.encode()}?lang=en", headers=PHONE)
    assert '<html lang="en">' in page.get_data(as_text=True)
    accept = client.get(f"/V/{demo[0].token.encode()}",
                        headers={**PHONE, "Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in accept.get_data(as_text=True)


def test_tampered_and_junk_codes_are_invalid_never_500(client, demo, app):
    before = _scans(app)
    cases = [
        _tamper(demo[0].token),
        demo[0].token.encode()[:-3],
        "A" * 5000,
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "<script>alert(1)</script>",
        "%00%ff%fe",
        "..%2F..%2Fetc%2Fpasswd",
    ]
    for code in cases:
        response = client.get(f"/V/{code}", headers=PHONE)
        assert response.status_code == 200, code
        page = response.get_data(as_text=True)
        assert "Tem không hợp lệ" in page
        assert "<script>alert" not in page
        api = client.get(f"/api/v1/verify/{code}", headers=PHONE)
        assert api.status_code == 200 and api.json["status"] == "invalid"
        # A forged code's batch and index are the forger's: no serial is shown for it.
        assert api.json["serial"] is None and "batch" not in api.json
        assert "Số tem" not in page
    assert _scans(app) == before


def test_head_requests_and_crawlers_are_not_counted(client, demo, app):
    token = demo[3].token.encode()
    client.head(f"/V/{token}", headers=PHONE)
    client.get(f"/V/{token}", headers={"User-Agent": "Googlebot/2.1"})
    client.get(f"/V/{token}", headers={"User-Agent": "facebookexternalhit/1.1"})
    assert _scans(app) == 0
    client.get(f"/V/{token}", headers=PHONE)
    assert _scans(app) == 1


def test_many_phones_on_many_networks_make_a_stamp_suspect_kindly(app, demo):
    token = demo[4].token.encode()
    threshold = app.config["OCOP"].device_threshold
    for n in range(threshold + 1):
        fresh = app.test_client()  # a new phone, on a network of its own
        response = fresh.get(
            f"/V/{token}", headers=PHONE, environ_base={"REMOTE_ADDR": f"203.0.{n}.7"}
        )
    page = response.get_data(as_text=True)
    assert "Cần lưu ý" in page
    assert "rất có thể bạn đang giữ tem gốc" in page
    assert f"ở {threshold + 1} nơi độc lập" in page
    same = app.test_client()
    same.get(f"/V/{demo[5].token.encode()}", headers=PHONE)
    again = same.get(f"/api/v1/verify/{demo[5].token.encode()}", headers=PHONE).json
    assert again["scans"]["devices"] == 1 and again["scans"]["count"] == 2


def test_bulk_verify_keeps_order_and_counts_nothing(client, demo, app):
    codes = [demo[0].url, demo[1].token.encode(), _tamper(demo[2].token), "junk"]
    response = client.post("/api/v1/verify", json={"codes": codes})
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json["results"]]
    assert statuses == ["genuine", "genuine", "invalid", "invalid"]
    assert response.json["results"][0]["lot"]
    assert response.json["summary"] == {"genuine": 2, "invalid": 2}
    assert _scans(app) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ("[1, 2]", 400),
        ('{"codes": "x"}', 400),
        ('{"codes": []}', 400),
        ('{"codes": [1, 2]}', 400),
        (json.dumps({"codes": ["x"] * 1001}), 422),
    ],
)
def test_bulk_bad_bodies_get_problem_json(client, body, status):
    response = client.post("/api/v1/verify", data=body, content_type="application/json")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status and response.json["detail"]


def test_trust_list_lists_the_demo_key(client, demo):
    from ocop.keys import TrustList

    response = client.get("/.well-known/ocop-trust.json")
    assert response.status_code == 200
    trust = TrustList.from_json(response.data)
    assert trust.candidates(demo[0].token.kid_prefix)


def test_health_and_readiness(client, demo):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_readiness_fails_without_a_key(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "not ready",
        "checks": {"database": "ok", "keys": "no active key", "secrets": "ok"},
    }


def test_security_headers_on_every_response(client, demo):
    for path in ["/", f"/V/{demo[0].token.encode()}", "/api/v1/verify/x", "/nope", "/healthz"]:
        headers = client.get(path).headers
        assert "script-src" not in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_api_404_is_problem_json(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def _pin_claims(app, stamp) -> tuple[int, object] | None:
    with app.extensions["ocop.db"].transaction() as session:
        row = session.get(StampScan, (stamp.serial.batch, stamp.serial.index))
        return (row.pin_claims, row.pin_claimed_at) if row else None


def test_pin_claim_first_then_again_then_wrong(client, demo, app):
    stamp = demo[6]
    token = stamp.token.encode()
    assert client.post(f"/V/{token}/pin", data={"pin": "00000000"}).status_code == 400
    # A wrong PIN claims nothing (it may leave the stamp's row, counting the attempt).
    assert _pin_claims(app, stamp) in (None, (0, None))
    first = client.post(f"/V/{token}/pin", data={"pin": stamp.pin})
    assert first.status_code == 200 and "người đầu tiên" in first.get_data(as_text=True)
    claims, first_at = _pin_claims(app, stamp)
    assert claims == 1 and first_at is not None
    second = client.post(f"/V/{token}/pin", data={"pin": stamp.pin})
    assert "đã được nhập trước đây" in second.get_data(as_text=True)
    assert _pin_claims(app, stamp) == (2, first_at)
    verdict = client.get(f"/api/v1/verify/{token}").json
    assert verdict["status"] == "suspect" and "pin_claimed_twice" in verdict["reasons"]


def test_fake_report_is_stored_and_empty_one_refused(client, demo, app):
    token = demo[7].token.encode()
    assert client.post(f"/V/{token}/report", data={"message": "  "}).status_code == 400
    ok = client.post(f"/V/{token}/report",
                     data={"message": "Bao bì khác lạ", "where": "Chợ Đồng Xuân"})
    assert ok.status_code == 201
    with app.extensions["ocop.db"].transaction() as session:
        report = session.scalars(select(FakeReport)).one()
        assert report.batch_id is not None and report.where_bought == "Chợ Đồng Xuân"


def test_public_record_pages(client, demo):
    data = client.get(f"/api/v1/verify/{demo[0].token.encode()}").json
    product = client.get(f"/p/products/{data['product']['code']}")
    assert product.status_code == 200 and data["product"]["name"] in product.get_data(as_text=True)
    producer = client.get(f"/p/producers/{data['producer']['id']}")
    assert producer.status_code == 200
    assert f"<h1>{data['producer']['name']}</h1>" in producer.get_data(as_text=True)
    certificate = data["certificates"][0]
    cert = client.get(f"/p/certificates/{certificate['id']}")
    assert cert.status_code == 200 and certificate["number"] in cert.get_data(as_text=True)
    assert client.get("/p/products/nope").status_code == 404
    assert client.get("/p/producers/999999999999999999999").status_code == 404


def test_check_form_redirects_a_pasted_url(client, demo):
    response = client.get("/check", query_string={"code": demo[0].url})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/V/{demo[0].token.encode()}")
    assert client.get("/check", query_string={"code": "nonsense"}).status_code == 400


def test_report_text_is_stored_clean(client, demo, app):
    token = demo[8].token.encode()
    response = client.post(
        f"/V/{token}/report",
        data={"message": "Tem\x00 lạ\u200b\nmàu nhạt", "where": "Chợ\x07 Hôm", "contact": "\x00"},
    )
    assert response.status_code == 201
    only_controls = client.post(f"/V/{token}/report", data={"message": "\x00\x01"})
    assert only_controls.status_code == 400
    with app.extensions["ocop.db"].transaction() as session:
        report = session.scalars(select(FakeReport)).one()
        assert report.message == "Tem lạ\nmàu nhạt"
        assert report.where_bought == "Chợ Hôm" and report.contact is None


def test_a_key_revoked_after_a_scan_revokes_its_stamps_at_once(client, demo, app, runner):
    # The verifier keeps keys a few seconds between requests; a revocation must not wait.
    token = demo[9].token.encode()
    assert client.get(f"/api/v1/verify/{token}", headers=PHONE).json["status"] == "genuine"
    with app.extensions["ocop.db"].transaction() as session:
        kid = session.scalars(select(IssuerKey.kid)).one()
    revoked = runner.invoke(main, ["keys", "revoke", "--reason", "Khóa bị lộ", "--", kid])
    assert revoked.exit_code == 0, revoked.output
    verdict = client.get(f"/api/v1/verify/{token}", headers=PHONE).json
    assert verdict["status"] == "revoked" and "key_revoked" in verdict["reasons"]
    page = client.get(f"/V/{demo[10].token.encode()}", headers=PHONE).get_data(as_text=True)
    assert "Tem này đã bị vô hiệu hoá" in page and "Tem chính hãng" not in page
    bulk = client.post("/api/v1/verify", json={"codes": [token]}).json
    assert [r["status"] for r in bulk["results"]] == ["revoked"]
