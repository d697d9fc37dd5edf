"""What an officer reads before signing (issue 15), the confirmation before rejecting,
and the producer's home telling them what was decided."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import Certification, CertStatus, Lot
from ocop.workflows.approval import CertificateState, approval_facts
from ocop.workflows.models import RequestStatus, StampRequest

from .conftest import World, confirmed, post, sign_in
from .test_stamp_requests import LOT, _request_id, _requests, _submit

CERT = "TB-OCOP-2024-0152"  # the cooperative's 4-star certificate of Bánh cáy


def _db(app: Flask):
    return app.extensions["ocop.db"].transaction()


def _officer(app: Flask, world: World) -> FlaskClient:
    return sign_in(app.test_client(), world, "authority")


def _main(html: str) -> str:
    return html.split("<main", 1)[1]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _main(html)))


def test_the_officer_reads_stars_certificate_quantity_and_history(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    first = _request_id(_submit(as_producer, count="40"))
    officer = _officer(app, world)
    assert confirmed(officer, f"/console/stamp-requests/{first}/reject",
                     {"reason": "Thiếu phiếu kiểm nghiệm"}).status_code == 302  # fmt: skip
    second = _request_id(_submit(as_producer, count="12"))
    page = _text(officer.get(f"/console/stamp-requests/{second}").get_data(as_text=True))
    assert "Trước khi ký" in page
    assert "4 sao OCOP" in page
    assert "còn hiệu lực đến 19/09/2027" in page
    assert f"Giấy chứng nhận số {CERT}" in page and "quyết định số 2531/QĐ-UBND" in page
    assert "Số lượng của lô 1500 hộp" in page
    assert "Tem đã cấp cho lô 0" in page and "Yêu cầu này 12" in page and "Cộng 12" in page
    assert "0 đã cấp tem · 1 bị từ chối · 0 cấp tem lỗi · 0 đang chờ" in page
    assert f'/console/stamp-requests/{first}"' in officer.get(
        f"/console/stamp-requests/{second}"
    ).get_data(as_text=True)
    assert "Thiếu phiếu kiểm nghiệm" in page
    english = _text(officer.get(f"/console/stamp-requests/{second}?lang=en").get_data(as_text=True))
    assert "Before signing" in english and "4 OCOP stars" in english
    assert "0 approved · 1 rejected · 0 failed · 0 pending" in english
    # The producer's own page does not carry the officer's checklist.
    mine = as_producer.get(f"/console/stamp-requests/{second}").get_data(as_text=True)
    assert "Trước khi ký" not in mine


def test_an_expiring_or_expired_certificate_and_too_many_stamps_are_said(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="12"))
    today = vietnam_today()
    with _db(app) as session:
        session.scalars(select(Certification).where(Certification.number == CERT)).one(
        ).valid_until = today + dt.timedelta(days=30)  # fmt: skip
        session.scalars(select(Lot).where(Lot.code == LOT)).one().quantity = 10
    officer = _officer(app, world)
    page = _text(officer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True))
    assert "sắp hết hạn còn 30 ngày" in page
    assert "nhiều hơn số lượng của lô" in page and "Số tem vượt số lượng của lô" in page
    with _db(app) as session:
        cert = session.scalars(select(Certification).where(Certification.number == CERT)).one()
        cert.status = CertStatus.REVOKED
        cert.status_reason = "Vi phạm an toàn thực phẩm"
        found = session.get_one(StampRequest, request_id)
        facts = approval_facts(session, found, today)
        assert facts.certificate.state is CertificateState.EXPIRED
        assert facts.quantity.over and facts.quantity.total == 12
    page = _text(officer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True))
    assert "hết hiệu lực Vi phạm an toàn thực phẩm" in page


def test_reject_asks_for_confirmation_first_and_only_an_officer_may(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    url = f"/console/stamp-requests/{request_id}/reject"
    detail = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert url not in detail
    assert as_producer.get(url).status_code == 403
    assert post(as_producer, url, {"reason": "tự từ chối"}).status_code == 403
    distributor = sign_in(app.test_client(), world, "distributor")
    assert distributor.get(url).status_code == 403
    officer = _officer(app, world)
    page = officer.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # A plain form: no script needed, a CSRF token, the confirmation, a reason, a way out.
    assert "<script" not in _main(html)
    assert re.search(rf'<form method="post" action="{url}"', html)
    assert 'name="csrf_token"' in html and 'name="confirm"' in html and 'name="reason"' in html
    assert "Không tem nào được ký" in html
    assert f'href="/console/stamp-requests/{request_id}">Không, quay lại' in html
    unconfirmed = post(officer, url, {"reason": "Thiếu hồ sơ"})
    assert unconfirmed.status_code == 400 and "phải được xác nhận" in unconfirmed.get_data(
        as_text=True
    )
    assert _requests(app) == [(request_id, "pending", None)]
    assert confirmed(officer, url, {"reason": "Thiếu hồ sơ"}).status_code == 302
    assert _requests(app) == [(request_id, "rejected", None)]
    # Decided: the confirmation page sends the officer back to the request.
    assert officer.get(url).status_code == 302


def test_the_producers_home_says_what_was_decided_newest_first(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    older = _request_id(_submit(as_producer, count="5"))
    newer = _request_id(_submit(as_producer, count="7"))
    ancient = _request_id(_submit(as_producer, count="9"))
    waiting = _request_id(_submit(as_producer, count="3"))
    officer = _officer(app, world)
    for request_id, reason in ((older, "Lý do thứ nhất"), (newer, "Lý do thứ hai"),
                               (ancient, "Lý do cũ")):  # fmt: skip
        url = f"/console/stamp-requests/{request_id}/reject"
        assert confirmed(officer, url, {"reason": reason}).status_code == 302
    with _db(app) as session:
        now = utcnow()
        session.get_one(StampRequest, older).decided_at = now - dt.timedelta(hours=2)
        session.get_one(StampRequest, newer).decided_at = now - dt.timedelta(hours=1)
        session.get_one(StampRequest, ancient).decided_at = now - dt.timedelta(days=45)
    home = as_producer.get("/console/").get_data(as_text=True)
    text = _text(home)
    assert "Quyết định về yêu cầu tem (30 ngày qua)" in text
    assert text.index("Lý do thứ hai") < text.index("Lý do thứ nhất")
    assert "Lý do cũ" not in text  # decided too long ago
    for decided in (newer, older):
        assert f'/console/stamp-requests/{decided}"' in home
    assert f'/console/stamp-requests/{waiting}"' not in home  # not decided yet
    assert "Bị từ chối" in text and "Ghi chú của hội đồng: Lý do thứ hai" in text
    english = _text(as_producer.get("/console/?lang=en").get_data(as_text=True))
    assert "Decisions on stamp requests (last 30 days)" in english and "Rejected" in english
    # Nobody else's home shows them.
    other = sign_in(app.test_client(), world, "other_producer")
    assert "Lý do thứ hai" not in other.get("/console/").get_data(as_text=True)
    assert "Lý do thứ hai" not in officer.get("/console/").get_data(as_text=True)
    with _db(app) as session:
        assert session.get_one(StampRequest, waiting).status is RequestStatus.PENDING
