"""The fake-report inbox and a stamp's scan history, scoped by organisation."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ocop.keys import keystore_for
from ocop.stamps import IssuedStamp, generate_stamps
from ocop.stamps.models import StampBatch
from ocop.stamps.printing import PrintJob, issue_and_write
from ocop.stamps.scans import record_scan
from ocop.stamps.token import base32
from ocop.workflows.models import AuditEntry, FakeReport

from .conftest import World, post, sign_in

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"}
OWN_LOT = "BC-2026-1115"  # the cooperative's (the "producer" account)
OTHER_LOT = "BD-2026-1105"  # the household business's ("other_producer")


def _issue(app: Flask, tmp_path: Path, lot_code: str, count: int = 4) -> list[IssuedStamp]:
    settings = app.config["OCOP"]
    keystore = keystore_for(settings.instance, os.environ, production=False)
    issued = issue_and_write(
        app.extensions["ocop.db"],
        keystore,
        PrintJob(lot_code, count, tmp_path / f"{lot_code}.csv"),
        base_url=settings.base_url,
        actor="test",
    )
    signer = keystore.load(issued.kid)
    return list(
        generate_stamps(signer, issued.batch, count, base_url=settings.base_url, pin_secret=None)
    )


def _forged(stamp: IssuedStamp) -> str:
    raw = bytearray(stamp.token.to_bytes())
    raw[-3] ^= 0x20
    return base32(bytes(raw))


def _file_report(app: Flask, token: str, message: str, **fields: str) -> int:
    """A consumer's report through the public verify page, as a phone sends it."""
    response = app.test_client().post(
        f"/v/{token}/report", data={"message": message, **fields}, headers=PHONE
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.max(FakeReport.id)))


def _report(app: Flask, report_id: int) -> FakeReport:
    with app.extensions["ocop.db"].transaction() as session:
        report = session.get(FakeReport, report_id)
        session.expunge(report)
        return report


@pytest.fixture
def stamps(app: Flask, world: World, tmp_path: Path) -> dict[str, list[IssuedStamp]]:
    with app.app_context():
        return {"own": _issue(app, tmp_path, OWN_LOT), "other": _issue(app, tmp_path, OTHER_LOT)}


@pytest.fixture
def reports(app: Flask, stamps: dict[str, list[IssuedStamp]]) -> dict[str, int]:
    return {
        "own": _file_report(
            app,
            stamps["own"][0].text,
            "Tem in mờ, hộp bánh méo",
            contact="0912 345 678",
            where="Chợ Bo, Thái Bình",
        ),
        "other": _file_report(
            app, stamps["other"][0].text, "Bánh đa bị ẩm", contact="nguoimua@example.vn"
        ),
        # A code that parses but whose signature does not hold: worth a report,
        # and nobody's lot (text that is not a code at all is refused, 404).
        "forged": _file_report(
            app, _forged(stamps["own"][1]), "Mã lạ trên gói", contact="0987 000 111"
        ),
    }


def test_producer_sees_only_reports_about_its_own_lots(
    app: Flask, world: World, reports: dict[str, int]
) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    page = producer.get("/console/reports").get_data(as_text=True)
    assert "Tem in mờ, hộp bánh méo" in page and "0912 345 678" in page
    assert "Chợ Bo, Thái Bình" in page and OWN_LOT in page
    assert "Bánh đa bị ẩm" not in page and "nguoimua@example.vn" not in page
    assert "Mã lạ trên gói" not in page and "0987 000 111" not in page

    other = sign_in(app.test_client(), world, "other_producer")
    page = other.get("/console/reports").get_data(as_text=True)
    assert "Bánh đa bị ẩm" in page
    assert "Tem in mờ" not in page and "0912 345 678" not in page

    authority = sign_in(app.test_client(), world, "authority")
    page = authority.get("/console/reports").get_data(as_text=True)
    for text in ("Tem in mờ", "Bánh đa bị ẩm", "Mã lạ trên gói", "0912 345 678", "0987 000 111"):
        assert text in page
    assert "Không phải tem thật" in page  # the forged code's verdict hint
    assert "Chính hãng" in page


def test_another_producers_report_and_an_unverified_one_are_404_for_a_producer(
    app: Flask, world: World, reports: dict[str, int]
) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    own = producer.get(f"/console/reports/{reports['own']}")
    assert own.status_code == 200
    assert "0912 345 678" in own.get_data(as_text=True)
    assert producer.get(f"/console/reports/{reports['other']}").status_code == 404
    assert producer.get(f"/console/reports/{reports['forged']}").status_code == 404
    assert producer.get("/console/reports/999999").status_code == 404
    assert producer.get(f"/console/reports/{2**70}").status_code == 404

    authority = sign_in(app.test_client(), world, "authority")
    forged = authority.get(f"/console/reports/{reports['forged']}")
    assert forged.status_code == 200
    assert "0987 000 111" in forged.get_data(as_text=True)


def test_distributors_and_strangers_do_not_read_reports(
    app: Flask, world: World, reports: dict[str, int]
) -> None:
    distributor = sign_in(app.test_client(), world, "distributor")
    assert distributor.get("/console/reports").status_code == 403
    assert distributor.get(f"/console/reports/{reports['own']}").status_code == 403
    response = post(distributor, f"/console/reports/{reports['own']}/handled", {"note": "x"})
    assert response.status_code == 403
    stranger = app.test_client()
    assert stranger.get(f"/console/reports/{reports['own']}").status_code == 302
    assert _report(app, reports["own"]).handled_at is None


def test_mark_handled_once_then_409(app: Flask, world: World, reports: dict[str, int]) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    url = f"/console/reports/{reports['own']}/handled"
    response = post(producer, url, {"note": "Đã gọi cho người mua; tem thật, hộp bị móp."})
    assert response.status_code == 302
    handled = _report(app, reports["own"])
    assert handled.handled_at is not None
    assert handled.handled_by == world.emails["producer"]
    assert handled.handled_note == "Đã gọi cho người mua; tem thật, hộp bị móp."
    page = producer.get(f"/console/reports/{reports['own']}").get_data(as_text=True)
    assert "Đã xử lý" in page and "hộp bị móp" in page

    again = post(producer, url, {"note": "lần hai"})
    assert again.status_code == 409
    assert "xử lý lúc" in again.get_data(as_text=True)  # "already handled by ... at"
    assert _report(app, reports["own"]).handled_note == handled.handled_note

    with app.extensions["ocop.db"].transaction() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "report.handle")
        ).all()
    assert actions == ["report.handle"]

    # The open filter no longer lists it; the handled filter does.
    open_page = producer.get("/console/reports").get_data(as_text=True)
    assert "Tem in mờ" not in open_page
    handled_page = producer.get("/console/reports?state=handled").get_data(as_text=True)
    assert "Tem in mờ" in handled_page


def test_handling_is_refused_without_csrf_or_for_another_organisation(
    app: Flask, world: World, reports: dict[str, int]
) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    no_token = producer.post(f"/console/reports/{reports['own']}/handled", data={"note": "x"})
    assert no_token.status_code == 400
    assert post(producer, f"/console/reports/{reports['other']}/handled").status_code == 404
    assert post(producer, f"/console/reports/{reports['forged']}/handled").status_code == 404
    too_long = post(producer, f"/console/reports/{reports['own']}/handled", {"note": "x" * 2001})
    assert too_long.status_code == 400
    for name in ("own", "other", "forged"):
        assert _report(app, reports[name]).handled_at is None
    authority = sign_in(app.test_client(), world, "authority")
    assert post(authority, f"/console/reports/{reports['forged']}/handled").status_code == 302
    assert _report(app, reports["forged"]).handled_by == world.emails["authority"]


def test_report_text_is_shown_escaped(
    app: Flask, world: World, stamps: dict[str, list[IssuedStamp]]
) -> None:
    report_id = _file_report(
        app,
        stamps["own"][1].text,
        "<script>alert('x')</script>\nhai dòng",
        where="<img src=x onerror=alert(1)>",
        contact='"><b>me</b>',
    )
    producer = sign_in(app.test_client(), world, "producer")
    for url in ("/console/reports", f"/console/reports/{report_id}"):
        page = producer.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>me" not in page
        assert "&lt;script&gt;" in page and "&lt;img src=x" in page


def test_stamp_history_after_a_few_scans(
    app: Flask, world: World, stamps: dict[str, list[IssuedStamp]], reports: dict[str, int]
) -> None:
    stamp = stamps["own"][0]
    first_phone, second_phone = app.test_client(), app.test_client()
    for phone in (first_phone, first_phone, second_phone):
        verdict = phone.get(f"/api/v1/verify/{stamp.text}", headers=PHONE)
        assert verdict.json["status"] == "genuine"
    app.test_client().get(f"/v/{stamp.text}", headers={"User-Agent": "Googlebot/2.1"})
    with app.extensions["ocop.db"].transaction() as session:
        # A place the scanner chose to share (the public page asks for consent).
        record_scan(
            session,
            stamp.serial.batch,
            stamp.serial.index,
            device=None,
            now=dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC),
            place="Hưng Yên",
        )

    producer = sign_in(app.test_client(), world, "producer")
    url = f"/console/stamps/{stamp.serial.batch}/{stamp.serial.index}"
    response = producer.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert str(stamp.serial) in page and OWN_LOT in page and "Bánh cáy" in page
    assert '<strong class="big">4</strong> lượt quét' in page
    assert '<strong class="big">2</strong> thiết bị khác nhau' in page
    assert page.count("<td>Hưng Yên</td>") == 1
    assert "29/11/2026 00:30:00" in page  # 17:30 UTC is half past midnight in Vietnam
    assert page.count(">Lần đầu<") == 2 and page.count(">Quét lại<") == 2
    assert "Tem in mờ, hộp bánh méo" in page and "0912 345 678" in page

    # The report page links to the same history.
    detail = producer.get(f"/console/reports/{reports['own']}").get_data(as_text=True)
    assert url in detail and '<strong class="big">4</strong>' in detail

    # A stamp never scanned.
    quiet = producer.get(f"/console/stamps/{stamp.serial.batch}/3").get_data(as_text=True)
    assert "chưa được quét lần nào" in quiet


def test_stamp_history_refuses_unknown_stamps_and_other_organisations(
    app: Flask, world: World, stamps: dict[str, list[IssuedStamp]]
) -> None:
    own, other = stamps["own"][0].serial, stamps["other"][0].serial
    producer = sign_in(app.test_client(), world, "producer")
    assert producer.get(f"/console/stamps/{own.batch}/{own.index}").status_code == 200
    assert producer.get(f"/console/stamps/{other.batch}/{other.index}").status_code == 404
    assert producer.get(f"/console/stamps/{own.batch}/4").status_code == 404  # 4 stamps: 0..3
    assert producer.get("/console/stamps/999999/0").status_code == 404
    assert producer.get(f"/console/stamps/{2**40}/0").status_code == 404
    assert producer.get(f"/console/stamps/{own.batch}/{2**40}").status_code == 404
    authority = sign_in(app.test_client(), world, "authority")
    assert authority.get(f"/console/stamps/{other.batch}/{other.index}").status_code == 200
    distributor = sign_in(app.test_client(), world, "distributor")
    assert distributor.get(f"/console/stamps/{own.batch}/{own.index}").status_code == 403


def test_inbox_filters_and_pages(
    app: Flask, world: World, stamps: dict[str, list[IssuedStamp]]
) -> None:
    stamp = stamps["own"][2]
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.get(StampBatch, stamp.serial.batch)
        for n in range(55):
            session.add(
                FakeReport(
                    token=stamp.text,
                    batch_id=batch.id,
                    index=stamp.serial.index,
                    message=f"báo cáo số {n:02d}.",
                )
            )
    producer = sign_in(app.test_client(), world, "producer")
    first = producer.get("/console/reports").get_data(as_text=True)
    assert "báo cáo số 54." in first and "báo cáo số 05." in first
    assert "báo cáo số 04." not in first
    assert "before=" in first
    link = first.split('href="/console/reports?state=open&amp;before=', 1)[1].split('"', 1)[0]
    second = producer.get(f"/console/reports?state=open&before={link}").get_data(as_text=True)
    assert "báo cáo số 04." in second and "báo cáo số 00." in second
    assert "báo cáo số 05." not in second and "before=" not in second
    assert producer.get("/console/reports?state=everything").status_code == 400
    assert producer.get("/console/reports?before=abc").status_code == 400
    assert producer.get(f"/console/reports?before={2**70}").status_code == 400
    assert "báo cáo số" not in producer.get("/console/reports?state=handled").get_data(as_text=True)
