"""Events in forms and from CSV files: own lots only, all or nothing, idempotent, audited."""

from __future__ import annotations

import datetime as dt
import html
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.db import VIETNAM, utcnow
from ocop.trace.event_csv import local_event_id, parse_events_csv
from ocop.trace.models import Event, EventLot, LotRole
from ocop.workflows.models import AuditEntry

from .conftest import World, post, sign_in

PRODUCER_TAX_CODE = "1001187342"
# An event of the household business (the other producer) in the sample.
OTHERS_EVENT = "urn:uuid:0233f6b3-4bd7-53c5-9c47-d21e0153ae5a"
YESTERDAY = (utcnow().astimezone(VIETNAM) - dt.timedelta(days=1)).date().isoformat()

INSPECTION = {
    "nonce": "nonce-of-one-form",
    "biz_step": "inspecting",
    "action": "OBSERVE",
    "day": YESTERDAY,
    "clock": "08:30",
    "offset": "+07:00",
    "facility": "NX-XUONG",
    "disposition": "sellable_not_accessible",
    "document_type": "cert",
    "document_id": "PKN-2026-11",
    "lots-0-lot": "BC-2026-1115",
    "lots-0-quantity": "1500",
    "lots-0-unit": "box",
}
MAKING = {
    "nonce": "nonce-of-a-transformation",
    "day": YESTERDAY,
    "clock": "05:30",
    "offset": "+07:00",
    "facility": "NX-XUONG",
    "inputs-0-lot": "NEP-2026-0615",
    "inputs-0-quantity": "60",
    "inputs-0-unit": "kg",
    "inputs-1-lot": "VUNG-2026-0818",
    "inputs-1-quantity": "2,5",
    "inputs-1-unit": "kg",
    "outputs-0-lot": "BC-2026-1115",
    "outputs-0-quantity": "120",
    "outputs-0-unit": "box",
}

HEADER = "event_id,type,action,biz_step,time,facility,lot,role,quantity,unit,disposition"
GOOD_ROWS = [
    f"KT-1,ObjectEvent,OBSERVE,inspecting,{YESTERDAY} 08:00,NX-XUONG,BC-2026-1115,object,1500,box,",
    f"CB-1,TransformationEvent,,transforming,{YESTERDAY} 09:00,NX-XUONG,NEP-2026-0615,input,"
    "100,kg,",
    "CB-1,,,,,,VUNG-2026-0818,input,20,kg,",
    "CB-1,,,,,,BC-2026-1115,output,200,box,",
]


def snapshot(app: Flask) -> dict[str, Any]:
    with app.extensions["ocop.db"].transaction() as session:
        return {
            "events": session.scalar(select(func.count()).select_from(Event)),
            "links": session.scalar(select(func.count()).select_from(EventLot)),
            "audits": session.scalar(select(func.count()).select_from(AuditEntry)),
        }


def audit_entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def newest_event(app: Flask) -> Event:
    with app.extensions["ocop.db"].transaction() as session:
        event = session.scalars(select(Event).order_by(Event.id.desc()).limit(1)).one()
        event.lots  # noqa: B018  (load them before the session closes)
        return event


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def csv_file(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode("utf-8")


def upload(client: FlaskClient, raw: bytes, name: str = "su-kien.csv", **extra: Any):  # type: ignore[no-untyped-def]
    return post(client, "/console/events/upload", {"file": (io.BytesIO(raw), name), **extra})


# --------------------------------------------------------------------------- the event form


def test_record_an_object_event(as_producer: FlaskClient, app: Flask, world: World) -> None:
    page = as_producer.get("/console/events/new")
    assert page.status_code == 200
    assert 'list="own-lots"' in text(page)
    assert "BD-2026-1105" not in text(page)  # the other producer's lot is not offered
    response = post(as_producer, "/console/events/new", INSPECTION)
    assert response.status_code == 302, text(response)
    event = newest_event(app)
    assert event.organisation_id == world.producer_id
    assert (event.biz_step, event.action.value, event.time_zone) == (
        "inspecting",
        "OBSERVE",
        "+07:00",
    )
    assert event.event_time.astimezone(VIETNAM).strftime("%H:%M") == "08:30"
    assert event.documents == [{"type": "cert", "id": "PKN-2026-11"}]
    [link] = event.lots
    assert (link.lot.code, link.role, link.quantity, link.unit) == (
        "BC-2026-1115",
        LotRole.OBJECT,
        1500,
        "box",
    )
    [entry] = audit_entries(app, "event.create")
    assert entry.target == event.event_id
    assert entry.detail["lots"] == ["BC-2026-1115"]
    assert "Đã ghi sự kiện" in text(as_producer.get(response.headers["Location"]))


def test_submitting_a_form_twice_records_one_event(as_producer: FlaskClient, app: Flask) -> None:
    assert post(as_producer, "/console/events/new", INSPECTION).status_code == 302
    after_first = snapshot(app)
    again = post(as_producer, "/console/events/new", INSPECTION)
    assert again.status_code == 302
    assert snapshot(app) == after_first
    assert "không có gì mới" in text(as_producer.get(again.headers["Location"]))
    # The same form sent again with other content is the same event id: refused.
    changed = post(as_producer, "/console/events/new", INSPECTION | {"lots-0-quantity": "1400"})
    assert changed.status_code == 409
    assert "sự kiện chỉ được ghi thêm" in text(changed)
    assert snapshot(app) == after_first


def test_record_a_transformation(as_producer: FlaskClient, app: Flask) -> None:
    response = post(as_producer, "/console/events/new?kind=transformation", MAKING)
    assert response.status_code == 302, text(response)
    event = newest_event(app)
    assert (event.type.value, event.biz_step, event.action) == (
        "TransformationEvent",
        "transforming",
        None,
    )
    assert {link.lot.code for link in event.lots_in(LotRole.INPUT)} == {
        "NEP-2026-0615",
        "VUNG-2026-0818",
    }
    assert [link.lot.code for link in event.lots_in(LotRole.OUTPUT)] == ["BC-2026-1115"]
    assert audit_entries(app, "event.create")[0].detail["type"] == "TransformationEvent"


def test_a_loop_in_the_genealogy_is_the_importers_refusal(
    as_producer: FlaskClient, app: Flask
) -> None:
    before = snapshot(app)
    loop = MAKING | {
        "inputs-0-lot": "BC-2026-1115",
        "inputs-0-unit": "box",
        "inputs-1-lot": "",
        "inputs-1-quantity": "",
        "outputs-0-lot": "NEP-2026-0615",
        "outputs-0-unit": "kg",
    }
    response = post(as_producer, "/console/events/new?kind=transformation", loop)
    assert response.status_code == 400
    assert "tạo thành vòng lặp trong phả hệ lô" in text(response)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "change",
    [
        {"lots-0-lot": "BD-2026-1105"},  # the other producer's lot
        {"lots-0-lot": "NO-SUCH-LOT"},
        {"lots-1-lot": "BD-2026-1105", "lots-1-quantity": "1"},
    ],
)
def test_another_organisations_lot_is_refused(
    as_producer: FlaskClient, app: Flask, change: dict[str, str]
) -> None:
    before = snapshot(app)
    response = post(as_producer, "/console/events/new", INSPECTION | change)
    assert response.status_code == 400
    assert "không có trong các lô của tổ chức bạn" in text(response)
    assert snapshot(app) == before


def test_another_organisations_lot_as_an_input_is_refused(
    as_producer: FlaskClient, app: Flask
) -> None:
    before = snapshot(app)
    response = post(
        as_producer,
        "/console/events/new?kind=transformation",
        MAKING | {"inputs-1-lot": "GAO-2026-1003"},
    )
    assert response.status_code == 400
    assert "GAO-2026-1003" in text(response)
    assert snapshot(app) == before


def test_another_organisations_facility_is_refused(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    response = post(as_producer, "/console/events/new", INSPECTION | {"facility": "VH-XUONG"})
    assert response.status_code == 400
    assert "không có trong các cơ sở của tổ chức bạn" in text(response)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"day": "2099-01-01"}, "là thời điểm trong tương lai"),
        ({"day": "31/12/2025"}, "Not a valid date value"),
        ({"offset": "7"}, "+07:00"),
        ({"lots-0-quantity": "nhiều"}, "phải là số"),
        ({"lots-0-lot": ""}, "Nhập mã lô"),
        ({"lots-0-lot": "", "lots-0-quantity": "", "lots-0-unit": ""}, "Cần ít nhất một lô"),
        ({"biz_step": "dancing"}, "Not a valid choice"),
    ],
)
def test_bad_values_are_refused(
    as_producer: FlaskClient, app: Flask, change: dict[str, str], says: str
) -> None:
    before = snapshot(app)
    response = post(as_producer, "/console/events/new", INSPECTION | change)
    assert response.status_code == 400
    assert says in text(response)
    assert snapshot(app) == before


def test_event_form_without_csrf_token_writes_nothing(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    assert as_producer.post("/console/events/new", data=INSPECTION).status_code == 400
    assert snapshot(app) == before


# --------------------------------------------------------------------------- the list


def test_the_list_shows_the_organisations_events(as_producer: FlaskClient) -> None:
    html = text(as_producer.get("/console/events"))
    assert "urn:uuid:b443b10b-6218-5205-ad79-962387008b88" in html  # its bánh cáy transformation
    assert OTHERS_EVENT not in html
    assert "Ghi sự kiện" in html


def test_an_authority_reads_every_organisations_events(as_authority: FlaskClient) -> None:
    html = text(as_authority.get("/console/events"))
    assert OTHERS_EVENT in html
    assert "urn:uuid:b443b10b-6218-5205-ad79-962387008b88" in html
    assert "Tải lên tệp CSV" not in html


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("who", ["authority", "distributor"])
def test_only_producers_record_events(
    client: FlaskClient, world: World, app: Flask, who: str
) -> None:
    sign_in(client, world, who)
    before = snapshot(app)
    for url in (
        "/console/events/new",
        "/console/events/upload",
        "/console/events/upload/example.csv",
    ):
        assert client.get(url).status_code == 403
    assert post(client, "/console/events/new", INSPECTION).status_code == 403
    assert upload(client, csv_file(*GOOD_ROWS)).status_code == 403
    assert snapshot(app) == before


def test_the_distributor_cannot_read_the_list(as_distributor: FlaskClient) -> None:
    assert as_distributor.get("/console/events").status_code == 403


# --------------------------------------------------------------------------- CSV upload


def test_a_good_file_imports(as_producer: FlaskClient, app: Flask, world: World) -> None:
    before = snapshot(app)
    response = upload(as_producer, csv_file(*GOOD_ROWS))
    assert response.status_code == 200, text(response)
    assert "Đã ghi 2 sự kiện mới từ 4 dòng" in text(response)
    after = snapshot(app)
    assert after["events"] == before["events"] + 2
    assert after["links"] == before["links"] + 4
    with app.extensions["ocop.db"].transaction() as session:
        making = session.scalars(
            select(Event).where(Event.event_id == local_event_id(PRODUCER_TAX_CODE, "CB-1"))
        ).one()
        assert making.organisation_id == world.producer_id
        assert len(making.lots_in(LotRole.INPUT)) == 2
    [entry] = audit_entries(app, "events.upload")
    assert entry.target == "su-kien.csv"
    assert entry.detail == {"file": "su-kien.csv", "rows": 4, "bytes": len(csv_file(*GOOD_ROWS)),
                            "created": 2}  # fmt: skip


def test_uploading_the_same_file_twice_creates_nothing(
    as_producer: FlaskClient, app: Flask
) -> None:
    assert upload(as_producer, csv_file(*GOOD_ROWS)).status_code == 200
    after_first = snapshot(app)
    again = upload(as_producer, csv_file(*GOOD_ROWS))
    assert again.status_code == 200
    assert "Không có gì mới" in text(again)
    assert snapshot(app) == after_first


def test_byte_order_mark_and_windows_line_endings(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    raw = b"\xef\xbb\xbf" + csv_file(*GOOD_ROWS, newline="\r\n")
    response = upload(as_producer, raw)
    assert response.status_code == 200, text(response)
    assert snapshot(app)["events"] == before["events"] + 2


@pytest.mark.parametrize(
    ("rows", "says"),
    [
        # A bad time on the last row: the rows before it are not written either.
        ([*GOOD_ROWS[:3], GOOD_ROWS[3].replace("CB-1,,,,", "CB-1,,,,hôm qua")],
         "dòng 5, cột time"),
        ([GOOD_ROWS[0], GOOD_ROWS[1].replace("100,kg", "1.5,kg"), *GOOD_ROWS[2:]],
         "dòng 3, cột quantity: '1.5' được viết theo kiểu tiếng Anh"),
        ([GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[2].replace("VUNG-2026-0818", "BD-2026-1105"),
          GOOD_ROWS[3]], "dòng 4, cột lot: lô 'BD-2026-1105' không có trong các lô"),
        ([GOOD_ROWS[0].replace("NX-XUONG", "VH-XUONG"), *GOOD_ROWS[1:]],
         "dòng 2, cột facility: cơ sở 'VH-XUONG'"),
        ([GOOD_ROWS[0].replace("inspecting", "dancing"), *GOOD_ROWS[1:]],
         "dòng 2, cột biz_step: 'dancing' không phải bước nghiệp vụ (CBV) đã biết"),
        ([*GOOD_ROWS[:3], GOOD_ROWS[3].replace("output", "")], "dòng 5, cột role"),
    ],
)  # fmt: skip
def test_a_bad_row_refuses_the_whole_file(
    as_producer: FlaskClient, app: Flask, rows: list[str], says: str
) -> None:
    before = snapshot(app)
    response = upload(as_producer, csv_file(*rows))
    assert response.status_code == 400
    assert says in text(response)
    assert snapshot(app) == before


def test_a_correction_of_an_own_event(as_producer: FlaskClient, app: Flask) -> None:
    assert upload(as_producer, csv_file(*GOOD_ROWS)).status_code == 200
    header = HEADER + ",corrects,reason"
    row = GOOD_ROWS[0].replace("KT-1,", "KT-1-SUA,").replace(",1500,", ",1400,")
    response = upload(as_producer, csv_file(row + ",KT-1,Đếm lại còn 1400 hộp", header=header))
    assert response.status_code == 200, text(response)
    with app.extensions["ocop.db"].transaction() as session:
        fixed = session.scalars(
            select(Event).where(Event.event_id == local_event_id(PRODUCER_TAX_CODE, "KT-1-SUA"))
        ).one()
        assert fixed.corrects is not None
        assert fixed.corrects.event_id == local_event_id(PRODUCER_TAX_CODE, "KT-1")


def test_correcting_another_organisations_event_is_refused(
    as_producer: FlaskClient, app: Flask
) -> None:
    header = HEADER + ",corrects,reason"
    row = GOOD_ROWS[0] + f",{OTHERS_EVENT},Ghi nhầm"
    before = snapshot(app)
    response = upload(as_producer, csv_file(row, header=header))
    assert response.status_code == 400
    assert "dòng 2, cột corrects" in text(response)
    assert snapshot(app) == before


def test_a_changed_file_cannot_rewrite_an_event(as_producer: FlaskClient, app: Flask) -> None:
    assert upload(as_producer, csv_file(*GOOD_ROWS)).status_code == 200
    before = snapshot(app)
    changed = [GOOD_ROWS[0].replace(",1500,", ",1400,"), *GOOD_ROWS[1:]]
    response = upload(as_producer, csv_file(*changed))
    assert response.status_code == 409
    assert "dòng 2: sự kiện" in text(response)
    assert snapshot(app) == before


def test_a_file_cut_mid_row(as_producer: FlaskClient, app: Flask) -> None:
    whole = csv_file(*GOOD_ROWS)
    cut = whole[: whole.index(b"BC-2026-1115,output") + 8]
    before = snapshot(app)
    response = upload(as_producer, cut)
    assert response.status_code == 400
    assert "dòng 5" in text(response) and "bị cắt cụt" in text(response)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "tệp trống"),
        (csv_file(), "không có dòng sự kiện nào"),
        ("event_id,type\n".encode("cp1258") + "KT-1,Bánh cáy".encode("cp1258"), "văn bản UTF-8"),
        (csv_file(GOOD_ROWS[1], header=GOOD_ROWS[0]), "dòng đầu tiên phải là dòng tiêu đề"),
        (csv_file(*GOOD_ROWS, header=HEADER + ",colour"), "không có cột 'colour'"),
        (b"PK\x03\x04" + bytes(100), "Excel"),
        (b"x" * (1024 * 1024 + 1), "1 MiB"),
    ],
)  # fmt: skip
def test_files_that_are_not_our_csv(
    as_producer: FlaskClient, app: Flask, raw: bytes, says: str
) -> None:
    before = snapshot(app)
    response = upload(as_producer, raw)
    assert response.status_code == 400
    assert says in text(response)
    assert "Traceback" not in text(response)
    assert snapshot(app) == before


def test_more_than_five_thousand_rows(as_producer: FlaskClient, app: Flask) -> None:
    row = f"KT-{{}},ObjectEvent,OBSERVE,inspecting,{YESTERDAY} 08:00,NX-XUONG,BC-2026-1115,,,,"
    before = snapshot(app)
    response = upload(as_producer, csv_file(*(row.format(i) for i in range(5001))))
    assert response.status_code == 400
    assert "có hơn 5,000 dòng" in text(response)
    assert snapshot(app) == before


def test_a_request_over_the_apps_limit_is_413(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    response = upload(as_producer, b"x" * (2 * 1024 * 1024 + 10))
    assert response.status_code == 413
    assert snapshot(app) == before


def test_no_file_and_no_csrf_token(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    assert post(as_producer, "/console/events/upload", {}).status_code == 400
    no_token = as_producer.post(
        "/console/events/upload", data={"file": (io.BytesIO(csv_file(*GOOD_ROWS)), "a.csv")}
    )
    assert no_token.status_code == 400
    assert snapshot(app) == before


def test_the_example_file_is_made_of_the_organisations_codes(
    as_producer: FlaskClient, app: Flask
) -> None:
    response = as_producer.get("/console/events/upload/example.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert b"NX-XUONG" in raw and b"BC-2026-1115" in raw
    assert b"VH-XUONG" not in raw
    parsed = parse_events_csv(raw, organisation=PRODUCER_TAX_CODE)
    assert len(parsed.document["events"]) == 3
    # And it imports as it stands.
    before = snapshot(app)
    uploaded = upload(as_producer, raw, name="su-kien-mau.csv")
    assert uploaded.status_code == 200, text(uploaded)
    assert snapshot(app)["events"] == before["events"] + 3


def test_the_example_file_never_writes_a_code_a_spreadsheet_would_run(
    as_producer: FlaskClient, app: Flask, world: World
) -> None:
    # A lot recorded before codes starting a formula were refused.
    from sqlalchemy import update

    from ocop.trace.models import Lot

    with app.extensions["ocop.db"].transaction() as session:
        lot = session.scalars(
            select(Lot)
            .where(Lot.owner_id == world.producer_id, Lot.product_id.is_(None))
            .order_by(Lot.id.desc())
        ).first()
        assert lot is not None
        session.execute(
            update(Lot).where(Lot.id == lot.id).values(code='=HYPERLINK("http://x.example")')
        )
    raw = as_producer.get("/console/events/upload/example.csv").get_data(as_text=True)
    assert "=HYPERLINK" in raw
    for line in raw.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), line
