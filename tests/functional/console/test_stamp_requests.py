"""Stamp requests in the console: the producer asks, the authority signs, the producer
prints; and every way of getting it wrong, refused with nothing changed."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pypdfium2 as pdfium
import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from ocop.keys.trustlist import KeyStatus
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.outputs import OutputKind
from ocop.trace.db import utcnow
from ocop.trace.models import Certification, CertStatus, Organisation, Product
from ocop.trace.queries import find_lot, record_recall
from ocop.web import create_app
from ocop.workflows import audit
from ocop.workflows.access import Actor
from ocop.workflows.models import AuditEntry, Job, JobStatus, RequestStatus, Role, StampRequest
from ocop.workflows.print_jobs import parts_folder
from ocop.workflows.stamp_requests import submit_request

from ..conftest import drain
from .conftest import World, confirmed, csrf, post, sign_in

LOT = "BC-2026-1115"  # the cooperative's stampable lot of Bánh cáy
OTHER_LOT = "BD-2026-1105"  # the household business's stampable lot
_NONCE = re.compile(r'name="nonce"[^>]*value="([^"]+)"')


def _db(app: Flask):
    return app.extensions["ocop.db"].transaction()


def _form(client: FlaskClient, lot: str = LOT) -> dict[str, str]:
    """What the browser sends with the new-request form: its CSRF token and nonce."""
    page = client.get(f"/console/stamp-requests/new?lot={lot}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    html = page.get_data(as_text=True)
    return {
        "csrf_token": csrf(client, f"/console/stamp-requests/new?lot={lot}"),
        "nonce": _NONCE.search(html).group(1),
    }


def _submit(client: FlaskClient, lot: str = LOT, **fields: str):
    data = {"lot": lot, "count": "12", "layout": "a4-5x8", "note": "Lô Tết", **fields}
    if "nonce" not in data:
        data["nonce"] = _form(client)["nonce"]
    return post(client, "/console/stamp-requests/new", data)


def _requests(app: Flask) -> list[tuple[int, str, int | None]]:
    with _db(app) as session:
        rows = session.scalars(select(StampRequest).order_by(StampRequest.id))
        return [(r.id, r.status.value, r.batch_id) for r in rows]


def _batches(app: Flask) -> int:
    with _db(app) as session:
        return session.scalar(select(func.count()).select_from(StampBatch))


def _actions(app: Flask) -> list[str]:
    with _db(app) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _request_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _authority(app: Flask, world: World) -> FlaskClient:
    return sign_in(app.test_client(), world, "authority")


def _approve(client: FlaskClient, request_id: int, app: Flask | None = None):
    response = post(client, f"/console/stamp-requests/{request_id}/approve")
    if app is not None:
        drain(app)
    return response


def _outputs(app: Flask):
    return app.config["OCOP"].instance / "outputs"


# --- the whole way --------------------------------------------------------------------


def test_producer_asks_authority_signs_producer_prints(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="45", pin="y"))
    assert _requests(app) == [(request_id, "pending", None)]
    listing = as_producer.get("/console/stamp-requests").get_data(as_text=True)
    assert LOT in listing and "chờ duyệt" in listing
    # Nothing to download before the authority signs.
    assert as_producer.get(f"/console/stamp-requests/{request_id}/stamps.csv").status_code == 409

    officer = _authority(app, world)
    assert LOT in officer.get("/console/stamp-requests").get_data(as_text=True)
    response = _approve(officer, request_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    drain(app)
    [(_, status, batch_id)] = _requests(app)
    assert status == "issued" and batch_id is not None
    page = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert "Xong" in page and 'http-equiv="refresh"' not in page  # nothing left running
    outputs = _outputs(app)
    assert outputs.stat().st_mode & 0o777 == 0o700
    assert (outputs / f"request-{request_id}.csv").is_file()  # written by the queue's jobs
    assert (outputs / f"request-{request_id}.pdf").is_file()
    assert not parts_folder(outputs, request_id, OutputKind.CSV).exists()  # parts cleaned up

    got = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.csv")
    assert got.status_code == 200
    assert got.headers["Cache-Control"] == "no-store"
    assert "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    assert list(rows[0]) == ["serial", "url", "token", "pin"]
    assert len(rows) == 45 and len({r["token"] for r in rows}) == 45
    # Printed, but inert until the producer activates them at packing.
    verdict = as_producer.get(f"/api/v1/verify/{rows[7]['token']}").get_json()
    assert verdict["status"] == "suspect" and verdict["reasons"] == ["not_activated"]
    activated = post(as_producer, "/console/stamps/activate",
                     {"batch": str(batch_id), "first": rows[0]["serial"], "last": "45"})
    assert activated.status_code == 302
    verdict = as_producer.get(f"/api/v1/verify/{rows[7]['token']}").get_json()
    assert verdict["status"] == "genuine" and verdict["serial"] == rows[7]["serial"]

    pdf = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    texts = _pdf_codes(pdf.data)
    assert len(texts) == 40  # the first sheet of 5 x 8 labels
    assert texts[0] in {r["url"] for r in rows}

    first = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.zip")
    assert first.status_code == 202  # asked for: a job writes it
    assert 'http-equiv="refresh"' in first.get_data(as_text=True)
    drain(app)
    archive = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.zip")
    assert archive.status_code == 200 and archive.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as files:
        names = files.namelist()
        assert len(names) == 45 and all(n.endswith(".png") for n in names)

    actions = _actions(app)
    for action in ("stamp_request.submit", "stamp_request.approve", "stamp_request.issued"):
        assert actions.count(action) == 1, actions
    assert actions.count("stamp_outputs.download") == 3
    with _db(app) as session:
        details = [str(e.detail) for e in session.scalars(select(AuditEntry))]
    assert not any(r["pin"] in text for text in details for r in rows[:3])


def _pdf_codes(data: bytes) -> list[str]:
    page = pdfium.PdfDocument(data)[0]
    image: Image.Image = page.render(scale=300 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_without_pin_the_files_have_no_pin(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="3", layout="a4-3x7"))
    assert _approve(_authority(app, world), request_id, app).status_code == 302
    got = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.csv")
    assert got.get_data(as_text=True).splitlines()[0] == "serial,url,token"
    pdf = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.pdf")
    assert len(_pdf_codes(pdf.data)) == 3


def test_a_missing_or_damaged_print_file_is_written_again_not_served(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="4"))
    assert _approve(_authority(app, world), request_id, app).status_code == 302
    url = f"/console/stamp-requests/{request_id}/stamps.csv"
    first = as_producer.get(url).data
    path = _outputs(app) / f"request-{request_id}.csv"
    path.unlink()
    assert as_producer.get(url).status_code == 202
    drain(app)
    again = as_producer.get(url)
    assert again.data == first, again.status_code
    # Same size, one byte changed: the digest tells, and the file is not served.
    damaged = bytearray(path.read_bytes())
    damaged[-5] ^= 0x01
    path.write_bytes(bytes(damaged))
    response = as_producer.get(url)
    assert response.status_code == 202 and bytes(damaged) != response.data
    drain(app)
    assert as_producer.get(url).data == first


# --- submitting -----------------------------------------------------------------------


def test_the_same_form_sent_twice_makes_one_request(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    nonce = _form(as_producer)["nonce"]
    first = _request_id(_submit(as_producer, nonce=nonce))
    second = _request_id(_submit(as_producer, nonce=nonce, count="99"))
    assert first == second
    assert len(_requests(app)) == 1
    assert _actions(app).count("stamp_request.submit") == 1


def test_two_sends_racing_with_one_nonce_make_one_request(app: Flask, world: World) -> None:
    database = app.extensions["ocop.db"]
    inserted, go = threading.Event(), threading.Event()

    def send(first: bool) -> tuple[int, bool]:
        if not first:
            inserted.wait(5)  # the first has inserted and not yet committed
        with database.transaction() as session:
            lot = find_lot(session, LOT)
            producer = session.get_one(Organisation, world.producer_id)
            made, created = submit_request(
                session,
                lot,
                Actor(0, "producer@test.vn", Role.PRODUCER, producer.id, producer.kind, "HTX"),
                count="5",
                pin=False,
                layout="a4-5x8",
                note=None,
                nonce="the-same-form",
                maximum=100,
            )
            if first:
                inserted.set()
                go.wait(0.5)  # hold the transaction open while the second sends
            return made.id, created

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(send, (True, False)))
    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    assert len(_requests(app)) == 1


@pytest.mark.parametrize("count", ["0", "-1", "abc", "1.5", "1000001", "9" * 30, ""])
def test_bad_counts_are_refused(app: Flask, as_producer: FlaskClient, count: str) -> None:
    response = _submit(as_producer, count=count)
    assert response.status_code == 400
    assert "count" in response.get_data(as_text=True) or "Nhập số tem" in response.get_data(
        as_text=True
    )
    assert _requests(app) == []


@pytest.mark.parametrize(("count", "number"), [("1.000", 1000), ("10.000", 10000), ("1 000", 1000)])
def test_counts_written_as_the_help_writes_them_are_accepted(
    app: Flask, as_producer: FlaskClient, count: str, number: int
) -> None:
    request_id = _request_id(_submit(as_producer, count=count))
    with _db(app) as session:
        assert session.get_one(StampRequest, request_id).count == number


@pytest.mark.parametrize(
    ("count", "vietnamese"),
    [
        ("1,5", "số tem phải là số nguyên: &#39;1,5&#39; không phải là số nguyên"),
        ("1.5", "được viết theo kiểu tiếng Anh"),
        ("1,000", "có thể hiểu theo hai cách"),
        ("mười", "không phải là số"),
    ],
)
def test_a_count_it_cannot_read_is_answered_in_the_readers_language(
    app: Flask, as_producer: FlaskClient, count: str, vietnamese: str
) -> None:
    response = _submit(as_producer, count=count)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and vietnamese in html, html
    assert "the count" not in html and "must be" not in html
    english = post(
        as_producer,
        "/console/stamp-requests/new?lang=en",
        {"lot": LOT, "count": count, "layout": "a4-5x8", **_form(as_producer)},
    )
    assert english.status_code == 400
    assert "the count must be a whole number" in english.get_data(as_text=True)
    assert _requests(app) == []


def test_the_count_box_shows_a_digit_keypad(as_producer: FlaskClient) -> None:
    html = as_producer.get("/console/stamp-requests/new").get_data(as_text=True)
    count_box = re.search(r'<input[^>]*name="count"[^>]*>', html).group(0)
    assert 'inputmode="numeric"' in count_box


def test_roll_labels_for_the_chosen_printer(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    page = as_producer.get("/console/stamp-requests/new").get_data(as_text=True)
    assert "Cuộn nhãn 40 × 30 mm" in page and "sửa lỗi M" in page and "sửa lỗi Q" in page
    request_id = _request_id(_submit(as_producer, count="3", layout="roll-40x30", printer="300"))
    detail = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert "mô-đun 0,423 mm (5 điểm ở 300 dpi), sửa lỗi Q" in detail
    _approve(_authority(app, world), request_id, app)
    pdf = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.pdf")
    assert pdf.status_code == 200
    document = pdfium.PdfDocument(pdf.data)
    assert len(document) == 3
    found = []
    for page_ in document:
        assert page_.get_width() * 25.4 / 72 == pytest.approx(40, abs=0.01)
        image = page_.render(scale=300 / 72).to_pil()
        found += [(r.text, r.ec_level) for r in zxingcpp.read_barcodes(image)]
    assert len({text for text, _ in found}) == 3 and {ec for _, ec in found} == {"Q"}
    english = as_producer.get(f"/console/stamp-requests/{request_id}?lang=en").get_data(
        as_text=True
    )
    assert "0.423 mm modules (5 dots at 300 dpi), error correction Q" in english


def test_an_unknown_printer_is_refused(app: Flask, as_producer: FlaskClient) -> None:
    response = _submit(as_producer, count="3", layout="roll-40x30", printer="150")
    assert response.status_code == 400 and _requests(app) == []


def test_the_form_offers_batches_up_to_the_configured_maximum(
    app: Flask, as_producer: FlaskClient
) -> None:
    page = as_producer.get("/console/stamp-requests/new").get_data(as_text=True)
    assert "1.000.000" in page  # OCOP_MAX_BATCH, not a cap of the web worker's
    request_id = _request_id(_submit(as_producer, count="250000"))
    assert _requests(app) == [(request_id, "pending", None)]


def test_another_organisations_lot_is_not_found(app: Flask, as_producer: FlaskClient) -> None:
    assert as_producer.get(f"/console/stamp-requests/new?lot={OTHER_LOT}").status_code == 404
    assert _submit(as_producer, lot=OTHER_LOT).status_code == 404
    assert _submit(as_producer, lot="NO-SUCH-LOT").status_code == 404
    assert _requests(app) == []


def _recall(session) -> None:
    record_recall(session, find_lot(session, LOT), "Thu hồi thử", None, utcnow())


def _revoke_certificate(session) -> None:
    lot = find_lot(session, LOT)
    for cert in session.scalars(
        select(Certification).where(Certification.product_id == lot.product_id)
    ):
        cert.status = CertStatus.REVOKED


def _unapprove(session) -> None:
    session.get_one(Product, find_lot(session, LOT).product_id).approved = False


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_recall, "đã bị thu hồi"),
        (_revoke_certificate, "không có giấy chứng nhận OCOP còn hiệu lực"),
        (_unapprove, "chưa được hội đồng OCOP duyệt"),
    ],
)
def test_lots_that_cannot_get_stamps_are_refused(
    app: Flask, as_producer: FlaskClient, spoil, message: str
) -> None:
    form = _form(as_producer)
    with _db(app) as session:
        spoil(session)
    before = _actions(app)
    response = _submit(as_producer, nonce=form["nonce"])
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _requests(app) == [] and _actions(app) == before
    # The form no longer offers the lot, and says why when asked for it.
    page = as_producer.get(f"/console/stamp-requests/new?lot={LOT}").get_data(as_text=True)
    assert message in page


def test_raw_material_lot_and_unknown_layout_are_refused(
    app: Flask, as_producer: FlaskClient
) -> None:
    assert _submit(as_producer, lot="NEP-2026-0615").status_code == 400
    assert _submit(as_producer, layout="a0-poster").status_code == 400
    assert _requests(app) == []


def test_missing_csrf_token_changes_nothing(app: Flask, as_producer: FlaskClient) -> None:
    nonce = _form(as_producer)["nonce"]
    response = as_producer.post(
        "/console/stamp-requests/new", data={"lot": LOT, "count": "5", "nonce": nonce}
    )
    assert response.status_code == 400
    assert _requests(app) == []


# --- who sees and decides what ---------------------------------------------------------


def test_producer_cannot_decide_nor_see_another_organisations_request(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    assert _approve(as_producer, request_id).status_code == 403
    other = sign_in(app.test_client(), world, "other_producer")
    for suffix in ("", "/stamps.csv", "/stamps.pdf", "/stamps.zip"):
        assert other.get(f"/console/stamp-requests/{request_id}{suffix}").status_code == 404
    assert LOT not in other.get("/console/stamp-requests").get_data(as_text=True)
    distributor = sign_in(app.test_client(), world, "distributor")
    assert distributor.get(f"/console/stamp-requests/{request_id}").status_code == 403
    assert _requests(app) == [(request_id, "pending", None)]


def test_unknown_request_is_not_found(as_authority: FlaskClient) -> None:
    assert as_authority.get("/console/stamp-requests/424242").status_code == 404
    assert _approve(as_authority, 424242).status_code == 404
    assert (
        post(as_authority, "/console/stamp-requests/424242/reject", {"reason": "x"}).status_code
        == 404
    )


def test_approving_twice_issues_one_batch(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    officer = _authority(app, world)
    assert _approve(officer, request_id, app).status_code == 302
    again = _approve(officer, request_id)
    assert again.status_code == 409
    assert "đã ở trạng thái issued" in again.get_data(as_text=True)
    assert _batches(app) == 1
    assert (
        post(officer, f"/console/stamp-requests/{request_id}/reject", {"reason": "x"}).status_code
        == 409
    )
    [(_, status, batch_id)] = _requests(app)
    assert status == "issued" and batch_id is not None


def test_two_officers_approving_at_once_issue_one_batch(
    app: Flask, world: World, as_producer: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = _request_id(_submit(as_producer))
    officers = [_authority(app, world) for _ in range(2)]
    tokens = [csrf(o) for o in officers]
    record = audit.record

    def slow_record(session, who, action, *args, **kwargs):
        entry = record(session, who, action, *args, **kwargs)
        if action == "stamp_request.approve":
            time.sleep(0.4)  # hold the claim open: the other officer arrives meanwhile
        return entry

    monkeypatch.setattr(audit, "record", slow_record)
    start = threading.Barrier(2)

    def approve(n: int) -> int:
        start.wait()
        url = f"/console/stamp-requests/{request_id}/approve"
        return officers[n].post(url, data={"csrf_token": tokens[n]}).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(approve, range(2)))
    drain(app)
    assert statuses == [302, 409]
    assert _batches(app) == 1
    with _db(app) as session:  # one CSV and one PDF job, not two of each
        kinds = session.scalars(select(Job.output).where(Job.request_id == request_id)).all()
        assert sorted(kinds) == [".csv", ".pdf"]
    assert _actions(app).count("stamp_request.approve") == 1


def test_reject_needs_a_reason(app: Flask, world: World, as_producer: FlaskClient) -> None:
    request_id = _request_id(_submit(as_producer))
    officer = _authority(app, world)
    url = f"/console/stamp-requests/{request_id}/reject"
    assert confirmed(officer, url, {"reason": "   "}).status_code == 400
    assert officer.post(url, data={"reason": "Thiếu hồ sơ"}).status_code == 400  # no CSRF
    assert post(officer, url, {"reason": "Thiếu hồ sơ"}).status_code == 400  # not confirmed
    assert _requests(app) == [(request_id, "pending", None)]
    assert confirmed(officer, url, {"reason": "Lô chưa kiểm nghiệm"}).status_code == 302
    assert _requests(app) == [(request_id, "rejected", None)]
    page = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert "Lô chưa kiểm nghiệm" in page
    assert _approve(officer, request_id).status_code == 409
    assert _batches(app) == 0
    assert "stamp_request.reject" in _actions(app)


# --- issuing that fails ------------------------------------------------------------------


def test_certificate_revoked_before_approval_fails_the_request(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    with _db(app) as session:
        _revoke_certificate(session)
    response = _approve(_authority(app, world), request_id)
    assert response.status_code == 409
    assert "no valid OCOP certificate" in response.get_data(as_text=True)
    [(_, status, batch_id)] = _requests(app)
    assert status == "failed" and batch_id is None
    assert _batches(app) == 0
    assert not (app.config["OCOP"].instance / "outputs" / f"request-{request_id}.csv").exists()


def test_a_failed_write_fails_the_request_and_leaves_no_valid_batch(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    outputs = _outputs(app)
    outputs.mkdir(parents=True, exist_ok=True)
    # Where the worker writes its chunks there is a file: the disk refuses the folder.
    parts_folder(outputs, request_id, OutputKind.CSV).write_text("in the way")
    response = _approve(_authority(app, world), request_id, app)
    assert response.status_code == 302
    with _db(app) as session:
        made = session.get_one(StampRequest, request_id)
        assert made.status is RequestStatus.FAILED and "File exists" in made.decision_note
        assert [b.status for b in session.scalars(select(StampBatch))] == [BatchStatus.FAILED]
        jobs = {
            j.output: j.status
            for j in session.scalars(select(Job).where(Job.request_id == request_id))
        }
    assert jobs[".csv"] is JobStatus.FAILED and jobs[".pdf"] is not JobStatus.DONE
    page = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert "File exists" in page  # the producer reads why
    assert as_producer.get(f"/console/stamp-requests/{request_id}/stamps.csv").status_code == 409
    assert "stamp_request.failed" in _actions(app)


def test_a_voided_batch_is_not_downloaded(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    assert _approve(_authority(app, world), request_id, app).status_code == 302
    with _db(app) as session:
        session.scalars(select(StampBatch)).one().status = BatchStatus.VOIDED
    refused = as_producer.get(f"/console/stamp-requests/{request_id}/stamps.pdf")
    assert refused.status_code == 409 and refused.mimetype == "text/html"
    assert "tem của lô không hợp lệ" in refused.get_data(as_text=True)  # said in Vietnamese
    assert "stamp_outputs.download" not in _actions(app)
    assert not refused.data.startswith(b"%PDF")  # written by the approval's job, never served


def test_a_wrong_key_passphrase_fails_the_request_and_issues_nothing(
    app: Flask, world: World, as_producer: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = _request_id(_submit(as_producer))
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "not the passphrase at all")
    response = _approve(_authority(app, world), request_id)
    assert response.status_code == 409
    assert "passphrase is wrong" in response.get_data(as_text=True)
    assert "not the passphrase at all" not in response.get_data(as_text=True)
    assert _requests(app) == [(request_id, "failed", None)]
    assert _batches(app) == 0


def test_a_failed_first_download_leaves_no_file(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    assert _approve(_authority(app, world), request_id, app).status_code == 302
    parts_folder(_outputs(app), request_id, OutputKind.ZIP).write_text("in the way")
    url = f"/console/stamp-requests/{request_id}/stamps.zip"
    assert as_producer.get(url).status_code == 202
    drain(app)
    page = as_producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert "File exists" in page
    assert not (_outputs(app) / f"request-{request_id}.zip").exists()
    assert "stamp_outputs.download" not in _actions(app)
    # The request and its batch stay issued: only that file failed. Asking again retries.
    assert _requests(app)[0][1] == "issued"
    parts_folder(_outputs(app), request_id, OutputKind.ZIP).unlink()
    assert as_producer.get(url).status_code == 202
    drain(app)
    assert as_producer.get(url).status_code == 200


def test_a_recalled_lot_fails_the_job_with_a_reason_the_producer_reads(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="30"))
    officer = _authority(app, world)
    queue = app.extensions["ocop.queue"]
    queue.start_embedded()
    with _db(app) as session:  # the officer approves; the worker is held back by the lock
        _recall(session)
        # approving after the recall is refused at once, with the reason
    response = _approve(officer, request_id, app)
    assert response.status_code == 409 and "recalled" in response.get_data(as_text=True)
    assert _requests(app) == [(request_id, "failed", None)] and _batches(app) == 0


def test_the_producer_abandons_while_a_worker_signs(app: Flask, world: World) -> None:
    app.config["OCOP"] = app.config["OCOP"].with_overrides({"job_chunk": 500})
    producer = sign_in(app.test_client(), world, "producer")
    request_id = _request_id(_submit(producer, count="400000"))
    assert _approve(_authority(app, world), request_id).status_code == 302
    deadline = time.monotonic() + 60
    while True:  # a chunk or more signed, far from all of them
        with _db(app) as session:
            csv_job = session.scalars(select(Job).where(Job.output == ".csv")).one()
            if csv_job.chunks_done >= 1 or time.monotonic() > deadline:
                break
        time.sleep(0.05)
    page = producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "<progress" in page
    closed = post(producer, f"/console/stamp-requests/{request_id}/abandon")
    assert closed.status_code == 302
    drain(app)
    with _db(app) as session:
        made = session.get_one(StampRequest, request_id)
        assert made.status is RequestStatus.FAILED
        assert session.get_one(StampBatch, made.batch_id).status is BatchStatus.FAILED
        jobs = list(session.scalars(select(Job).where(Job.request_id == request_id)))
        assert {j.status for j in jobs} == {JobStatus.CANCELLED}
        assert all(j.done < j.total for j in jobs)
    assert not (_outputs(app) / f"request-{request_id}.csv").exists()
    assert "stamp_request.abandon" in _actions(app)
    assert "stamp_request.issued" not in _actions(app)
    again = post(producer, f"/console/stamp-requests/{request_id}/abandon")
    assert again.status_code == 409
    # The producer may ask again.
    assert _request_id(_submit(producer)) != request_id


def test_only_a_request_being_signed_can_be_abandoned(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer))
    assert post(as_producer, f"/console/stamp-requests/{request_id}/abandon").status_code == 409
    other = sign_in(app.test_client(), world, "other_producer")
    assert post(other, f"/console/stamp-requests/{request_id}/abandon").status_code == 404
    distributor = sign_in(app.test_client(), world, "distributor")
    assert post(distributor, f"/console/stamp-requests/{request_id}/abandon").status_code == 403
    assert _requests(app) == [(request_id, "pending", None)]


# --- the queue down, and the world changing while a job waits ------------------------


@pytest.fixture
def queue_down(database_url: str, instance, world: World):
    """The console of an app whose broker does not answer (nothing listens there)."""
    down = create_app(
        {
            "database_url": database_url, "instance": instance, "secret_key": "test-secret",
            "rate_limit": None, "TESTING": True, "queue_url": "redis://127.0.0.1:5419/2",
        }
    )
    yield down
    down.extensions["ocop.queue"].close()
    down.extensions["ocop.db"].dispose()


def _approved_while_the_queue_is_down(app: Flask, world: World, down: Flask, count: str):
    producer = sign_in(down.test_client(), world, "producer")
    request_id = _request_id(_submit(producer, count=count))
    officer = sign_in(down.test_client(), world, "authority")
    response = post(officer, f"/console/stamp-requests/{request_id}/approve")
    assert response.status_code == 302
    page = officer.get(response.headers["Location"]).get_data(as_text=True)
    assert "đang chờ trong hàng đợi" in page and "không mất gì" in page
    with _db(app) as session:
        jobs = list(session.scalars(select(Job).where(Job.request_id == request_id)))
        assert {(j.status, j.enqueued_at) for j in jobs} == {(JobStatus.QUEUED, None)}
        return request_id, [j.id for j in jobs]


def test_when_the_queue_is_down_the_request_waits_and_nothing_is_lost(
    app: Flask, world: World, queue_down: Flask
) -> None:
    _request, job_ids = _approved_while_the_queue_is_down(app, world, queue_down, "30")
    assert _requests(app)[0][1] == "signing"
    # The queue is back: a worker's sweep finds the jobs that were never sent.
    queue = app.extensions["ocop.queue"]
    assert sorted(job_ids) == sorted(i for i in queue.sweep() if i in job_ids)
    drain(app)
    assert _requests(app)[0][1] == "issued"


@pytest.mark.parametrize("change", ["recall", "revoke"])
def test_a_lot_recalled_or_a_key_revoked_after_approval_fails_the_job_with_the_reason(
    app: Flask, world: World, queue_down: Flask, change: str
) -> None:
    request_id, _jobs = _approved_while_the_queue_is_down(app, world, queue_down, "30")
    with _db(app) as session:
        if change == "recall":
            _recall(session)
        else:
            batch = session.get_one(StampRequest, request_id).batch
            batch.key.status, batch.key.revoked_at = KeyStatus.REVOKED, utcnow()
    app.extensions["ocop.queue"].sweep()
    drain(app)
    reason = "recalled" if change == "recall" else "only an active key signs"
    with _db(app) as session:
        made = session.get_one(StampRequest, request_id)
        assert made.status is RequestStatus.FAILED and reason in made.decision_note
        assert made.batch.status is BatchStatus.FAILED
    producer = sign_in(app.test_client(), world, "producer")
    page = producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
    assert reason in page
    assert producer.get(f"/console/stamp-requests/{request_id}/stamps.csv").status_code == 409
    assert not (_outputs(app) / f"request-{request_id}.csv").exists()


def test_eight_first_downloads_at_once_make_one_job(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    request_id = _request_id(_submit(as_producer, count="20"))
    assert _approve(_authority(app, world), request_id, app).status_code == 302
    clients = [sign_in(app.test_client(), world, "producer") for _ in range(8)]
    start = threading.Barrier(8)

    def download(client: FlaskClient) -> int:
        start.wait()
        return client.get(f"/console/stamp-requests/{request_id}/stamps.zip").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(download, clients))
    assert set(statuses) <= {200, 202} and 500 not in statuses
    drain(app)
    with _db(app) as session:
        zips = session.scalars(select(Job).where(Job.output == ".zip")).all()
    assert len(zips) == 1 and zips[0].status is JobStatus.DONE
    assert as_producer.get(f"/console/stamp-requests/{request_id}/stamps.zip").status_code == 200
