"""Lots in the console: the list, a new lot, the lot page, recall and void.

The sample's cooperative (the "producer") owns the Bánh cáy lots and their raw
materials; the household business ("other_producer") owns BD-2026-1105 and
GAO-2026-1003. BC-2026-1115 holds a valid OCOP certificate today, so it gets stamps.
"""

from __future__ import annotations

import csv
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.keys import keystore_for
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.printing import PrintJob, issue_and_write
from ocop.trace.importer import import_records
from ocop.trace.models import Lot, Recall
from ocop.workflows.models import AuditEntry

from .conftest import World, confirmed, csrf, post, sign_in

STAMPABLE = "BC-2026-1115"
OTHERS_LOT = "BD-2026-1105"
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 10) Mobile Safari/537.36"}


def _count(app: Flask, model: type, *where: object) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def _issue(app: Flask, tmp_path: Path, lot: str = STAMPABLE, count: int = 3) -> tuple[int, list]:
    """Issue a batch for ``lot`` as the CLI would; its number and its stamps' tokens."""
    settings = app.config["OCOP"]
    keystore = keystore_for(settings.instance, os.environ, production=False)
    out = tmp_path / f"stamps-{lot}-{count}.csv"
    with app.app_context():
        issued = issue_and_write(
            app.extensions["ocop.db"],
            keystore,
            PrintJob(lot, count, out),
            base_url=settings.base_url,
            actor="test",
        )
    with out.open(newline="", encoding="utf-8") as file:
        tokens = [row["token"] for row in csv.DictReader(file)]
    assert len(tokens) == count
    return issued.batch, tokens


def _verify(client: FlaskClient, token: str) -> dict:
    response = client.get(f"/api/v1/verify/{token}", headers=PHONE)
    assert response.status_code == 200
    return response.json


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-err">([^<]*)</p>', page)
    assert match, f"no error shown on field {field}"
    return match.group(1)


# --------------------------------------------------------------------------- the list


def test_producer_sees_only_its_own_lots(as_producer: FlaskClient, world: World) -> None:
    page = as_producer.get(f"/console/lots?owner={world.other_producer_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for mine in ("BC-2025-1025", STAMPABLE, "NEP-2025-0612", "GAC-2026-1020"):
        assert mine in text
    for theirs in (OTHERS_LOT, "GAO-2026-1003", "MO-2025-0420"):
        assert theirs not in text
    assert "/console/lots/new" in text


def test_authority_sees_every_lot_and_filters_by_owner(
    as_authority: FlaskClient, world: World
) -> None:
    everything = as_authority.get("/console/lots").get_data(as_text=True)
    for code in ("BC-2025-1025", OTHERS_LOT, "MO-2025-0420"):
        assert code in everything
    assert "/console/lots/new" not in everything  # authorities do not keep lots
    filtered = as_authority.get(f"/console/lots?owner={world.other_producer_id}")
    text = filtered.get_data(as_text=True)
    assert OTHERS_LOT in text and "GAO-2026-1003" in text
    assert "BC-2025-1025" not in text
    # A filter that names nobody (or junk) shows everything rather than failing.
    for junk in ("999999999999999999999999", "abc", "-1", "0"):
        response = as_authority.get(f"/console/lots?owner={junk}")
        assert response.status_code == 200
        assert OTHERS_LOT in response.get_data(as_text=True)
        assert as_authority.get(f"/console/lots?page={junk}").status_code == 200


def test_list_says_what_may_get_stamps_and_counts_issued_stamps(
    app: Flask, as_producer: FlaskClient, tmp_path: Path
) -> None:
    _issue(app, tmp_path, count=7)
    text = as_producer.get("/console/lots").get_data(as_text=True)
    row = re.search(rf"<tr>\s*<td><a href=\"/console/lots/{STAMPABLE}\">.*?</tr>", text, re.S)
    assert row, "the stampable lot is listed"
    assert "OCOP 4 sao" in row.group(0)
    assert '<td class="num">7</td>' in row.group(0)


def test_distributors_and_strangers_do_not_see_lots(client: FlaskClient, world: World) -> None:
    response = client.get("/console/lots")
    assert response.status_code == 302 and "/console/signin" in response.headers["Location"]
    sign_in(client, world, "distributor")
    assert client.get("/console/lots").status_code == 403
    assert client.get(f"/console/lots/{STAMPABLE}").status_code == 403


# --------------------------------------------------------------------------- the lot page


def test_lot_page_shows_tree_steps_journey_and_batches(
    app: Flask, as_producer: FlaskClient, tmp_path: Path
) -> None:
    batch, _tokens = _issue(app, tmp_path, count=5)
    response = as_producer.get(f"/console/lots/{STAMPABLE}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The upstream tree reaches the raw-material areas, as nested lists.
    tree = re.search(r'<ul class="tree">(.*?)</section>', page, re.S)
    assert tree
    for raw in ("NEP-2026-0615", "GAC-2026-1020", "LAC-2026-0622", "VUNG-2026-0818"):
        assert raw in tree.group(1)
    assert "TB-DH-NX-NEP-01" in tree.group(1)  # the planting-area code
    assert tree.group(1).count("<ul") + 1 == tree.group(1).count("</ul>")
    assert tree.group(1).count("<li") == tree.group(1).count("</li>")
    # One step back: the four raw materials; the journey: harvest to receiving.
    assert "Thu hoạch" in page and "Nhận hàng" in page and "Chế biến" in page
    # Its batch: number, count, status, PIN.
    assert re.search(rf'<td class="num"[^>]*>{batch}</td>\s*<td class="num"[^>]*>5</td>', page)
    assert "đã phát hành" in page
    # A producer neither recalls nor voids.
    assert "/recall" not in page and "/void" not in page


def test_one_step_forward_links_the_product_lot(as_producer: FlaskClient) -> None:
    page = as_producer.get("/console/lots/NEP-2026-0615").get_data(as_text=True)
    assert f'href="/console/lots/{STAMPABLE}"' in page
    assert "lô nguyên liệu" in page


@pytest.mark.parametrize(
    "code",
    [OTHERS_LOT, "GAO-2026-1003", "NO-SUCH-LOT", "x" * 41, "BC%00", "%E2%80%8B"],
)
def test_another_organisations_or_unknown_lot_is_404(as_producer: FlaskClient, code: str) -> None:
    assert as_producer.get(f"/console/lots/{code}").status_code == 404


def test_authority_opens_any_lot_page(as_authority: FlaskClient) -> None:
    page = as_authority.get(f"/console/lots/{OTHERS_LOT}")
    assert page.status_code == 200
    assert "Thu hồi lô" in page.get_data(as_text=True)
    assert as_authority.get("/console/lots/NO-SUCH-LOT").status_code == 404


def test_request_stamps_link_only_when_that_view_exists(
    app: Flask, as_producer: FlaskClient
) -> None:
    page = as_producer.get(f"/console/lots/{STAMPABLE}").get_data(as_text=True)
    link = f"lot={STAMPABLE}"
    assert (link in page) == ("console.stamp_requests_new" in app.view_functions)


def test_a_deep_genealogy_renders_without_recursion(app: Flask, as_producer: FlaskClient) -> None:
    depth = 1200
    lots = [{"code": "DEEP-0", "item": "Gạo", "facility": "NX-VUNG-NEP"}]
    events = []
    for i in range(1, depth):
        lots.append({"code": f"DEEP-{i}", "item": "Bột", "owner": "1001187342"})
        events.append(
            {
                "id": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2026-11-01T08:00:00+07:00",
                "facility": "NX-XUONG",
                "inputs": [{"lot": f"DEEP-{i - 1}"}],
                "outputs": [{"lot": f"DEEP-{i}"}],
            }
        )
    with app.extensions["ocop.db"].transaction() as session:
        import_records(session, {"format": "ocop-trace-import/1", "lots": lots, "events": events})
    response = as_producer.get(f"/console/lots/DEEP-{depth - 1}")
    assert response.status_code == 200
    tree = re.search(r'<ul class="tree">(.*?)</section>', response.get_data(as_text=True), re.S)
    assert tree and ">DEEP-0</a>" in tree.group(1)
    assert tree.group(1).count("<ul") + 1 == tree.group(1).count("</ul>") == depth


# --------------------------------------------------------------------------- a new lot


def _new_lot(**overrides: str) -> dict[str, str]:
    return {
        "code": "BC-2026-1201",
        "product": "BANH-CAY-LANG-NGUYEN",
        "facility": "NX-XUONG",
        "produced_on": "2026-11-25",
        "best_before": "2027-05-25",
        "quantity": "800",
        "unit": "box",
        **overrides,
    }


def test_producer_adds_a_lot_of_its_product(
    app: Flask, as_producer: FlaskClient, world: World
) -> None:
    form = as_producer.get("/console/lots/new").get_data(as_text=True)
    assert "BANH-CAY-LANG-NGUYEN" in form and "NX-XUONG" in form
    assert "BANH-DA-SOI-VU-HOI" not in form and "VH-XUONG" not in form
    response = post(as_producer, "/console/lots/new", _new_lot())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/lots/BC-2026-1201")
    with app.extensions["ocop.db"].transaction() as session:
        lot = session.scalars(select(Lot).where(Lot.code == "BC-2026-1201")).one()
        assert lot.owner_id == world.producer_id
        assert lot.product is not None and lot.product.code == "BANH-CAY-LANG-NGUYEN"
        assert str(lot.best_before) == "2027-05-25" and lot.unit == "box"
    [entry] = _audit(app, "lot.created")
    assert entry.target == "BC-2026-1201" and entry.detail["product"] == "BANH-CAY-LANG-NGUYEN"
    assert entry.organisation_id == world.producer_id
    page = as_producer.get("/console/lots/BC-2026-1201")
    assert "Đã thêm lô BC-2026-1201" in page.get_data(as_text=True)


def test_producer_adds_a_raw_material_lot_with_a_slash_in_its_code(
    app: Flask, as_producer: FlaskClient, world: World
) -> None:
    data = {
        "code": "NEP/2026/12",
        "item": "Gạo nếp cái hoa vàng",
        "facility": "NX-VUNG-NEP",
        "quantity": "1.500,5",  # as Vietnamese write it (trace/numbers.py)
        "unit": "kg",
    }
    response = post(as_producer, "/console/lots/new", data)
    assert response.status_code == 302
    page = as_producer.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Gạo nếp cái hoa vàng" in page.get_data(as_text=True)
    assert _count(app, Lot, Lot.code == "NEP/2026/12", Lot.owner_id == world.producer_id) == 1
    with app.extensions["ocop.db"].transaction() as session:
        stored = session.scalars(select(Lot).where(Lot.code == "NEP/2026/12")).one()
        assert stored.quantity == Decimal("1500.5")


@pytest.mark.parametrize(
    ("written", "answer"),
    [
        ("1.2", "được viết theo kiểu tiếng Anh"),
        ("1,200", "có thể hiểu theo hai cách"),
    ],
)
def test_a_quantity_that_cannot_be_read_surely_is_refused_in_vietnamese(
    app: Flask, as_producer: FlaskClient, written: str, answer: str
) -> None:
    data = {"code": "NEP-MO-HO", "item": "Gạo nếp", "quantity": written, "unit": "kg"}
    response = post(as_producer, "/console/lots/new", data)
    assert response.status_code == 400
    assert answer in response.get_data(as_text=True)
    assert _count(app, Lot, Lot.code == "NEP-MO-HO") == 0


def test_the_quantity_box_shows_a_decimal_keypad(as_producer: FlaskClient) -> None:
    html = as_producer.get("/console/lots/new").get_data(as_text=True)
    assert 'inputmode="decimal"' in html and 'type="number"' not in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # the household's product, then one nobody has
        ("product", "BANH-DA-SOI-VU-HOI", "không có sản phẩm nào mang mã này"),
        ("product", "NO-SUCH-PRODUCT", "không có sản phẩm nào mang mã này"),
        ("facility", "VH-XUONG", "không có cơ sở nào mang mã này"),  # the household's workshop
        ("facility", "QN-KHO-HN", "không có cơ sở nào mang mã này"),  # the distributor's warehouse
    ],
)
def test_another_organisations_product_or_facility_is_refused(
    app: Flask, as_producer: FlaskClient, field: str, value: str, message: str
) -> None:
    lots_before = _count(app, Lot)
    response = post(as_producer, "/console/lots/new", _new_lot(**{field: value}))
    assert response.status_code == 400
    error = _field_error(response.get_data(as_text=True), field)
    assert message in error
    assert "Phạm Văn Hòa" not in error and "Quê Nhà" not in error  # the owner is not named
    assert _count(app, Lot) == lots_before
    assert _audit(app, "lot.created") == []


def test_best_before_earlier_than_production_is_shown_on_its_field(
    app: Flask, as_producer: FlaskClient
) -> None:
    response = post(
        as_producer,
        "/console/lots/new?lang=en",
        _new_lot(produced_on="2026-11-25", best_before="2026-11-01"),
    )
    assert response.status_code == 400
    assert "is before produced_on" in _field_error(response.get_data(as_text=True), "best_before")
    assert _count(app, Lot, Lot.code == "BC-2026-1201") == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "BC 2026"}, "code"),
        ({"code": "BC-\x00-1"}, "code"),
        ({"quantity": "-3"}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"unit": "bushel"}, "unit"),
        ({"produced_on": "25/11/2026"}, "produced_on"),
        ({"item": "Gạo\x00"}, "item"),
    ],
)
def test_bad_values_are_refused_on_their_field(
    app: Flask, as_producer: FlaskClient, data: dict[str, str], field: str
) -> None:
    lots_before = _count(app, Lot)
    response = post(as_producer, "/console/lots/new", _new_lot(**data))
    assert response.status_code == 400
    _field_error(response.get_data(as_text=True), field)
    assert _count(app, Lot) == lots_before


def test_a_lot_needs_a_product_or_an_item(app: Flask, as_producer: FlaskClient) -> None:
    response = post(as_producer, "/console/lots/new?lang=en", _new_lot(product=""))
    assert response.status_code == 400
    assert "a lot needs a product" in response.get_data(as_text=True)
    assert _count(app, Lot, Lot.code == "BC-2026-1201") == 0


def test_a_code_in_use_is_refused_even_when_sent_twice(
    app: Flask, as_producer: FlaskClient
) -> None:
    assert post(as_producer, "/console/lots/new", _new_lot()).status_code == 302
    again = post(as_producer, "/console/lots/new", _new_lot())
    assert again.status_code == 409
    assert "đã có lô" in _field_error(again.get_data(as_text=True), "code")
    # Someone else's code is refused the same way, and their lot is unchanged.
    theirs = post(as_producer, "/console/lots/new", _new_lot(code=OTHERS_LOT))
    assert theirs.status_code == 409
    assert _count(app, Lot, Lot.code == "BC-2026-1201") == 1
    assert len(_audit(app, "lot.created")) == 1


def test_only_producers_add_lots(as_authority: FlaskClient, app: Flask) -> None:
    assert as_authority.get("/console/lots/new").status_code == 403
    assert post(as_authority, "/console/lots/new", _new_lot()).status_code == 403
    assert _count(app, Lot, Lot.code == "BC-2026-1201") == 0


def test_new_lot_without_csrf_token_is_refused(app: Flask, as_producer: FlaskClient) -> None:
    response = as_producer.post("/console/lots/new", data=_new_lot())
    assert response.status_code == 400
    assert _count(app, Lot, Lot.code == "BC-2026-1201") == 0


# --------------------------------------------------------------------------- recall


def test_recall_shows_on_every_stamp_at_once(
    app: Flask, client: FlaskClient, world: World, tmp_path: Path
) -> None:
    _batch, tokens = _issue(app, tmp_path)
    before = _verify(client, tokens[0])
    assert before["status"] == "genuine" and before["recall"] is None
    sign_in(client, world, "authority")
    notice = "Ngừng sử dụng; mang sản phẩm về nơi mua để được hoàn tiền."
    response = confirmed(client, f"/console/lots/{STAMPABLE}/recall", {"notice": notice})
    assert response.status_code == 302
    after = _verify(client, tokens[1])
    assert after["status"] == "recalled" and "lot_recalled" in after["reasons"]
    assert after["recall"]["notice"] == notice
    assert _verify(client, tokens[0])["status"] == "recalled"
    with app.extensions["ocop.db"].transaction() as session:
        [recall] = session.scalars(select(Recall)).all()
        assert recall.recalled_by_id == world.authority_id
    [entry] = _audit(app, "lot.recalled")
    assert entry.target == STAMPABLE and entry.detail["notice"] == notice
    page = client.get(f"/console/lots/{STAMPABLE}").get_data(as_text=True)
    assert notice in page and "đã thu hồi" in page
    assert ("lot=" + STAMPABLE in page) == ("console.analytics" in app.view_functions)
    listed = client.get("/console/lots").get_data(as_text=True)
    assert re.search(rf"{STAMPABLE}</a>\s*<span class=\"badge recalled\">", listed)
    assert "không: lô đã thu hồi" in listed  # a recalled lot gets no new stamps


def test_a_recalled_lot_takes_a_newer_notice_but_not_the_same_one_twice(
    app: Flask, client: FlaskClient, world: World, tmp_path: Path
) -> None:
    _batch, tokens = _issue(app, tmp_path)
    sign_in(client, world, "authority")
    url = f"/console/lots/{STAMPABLE}/recall"
    assert confirmed(client, url, {"notice": "Ngừng sử dụng."}).status_code == 302
    twice = confirmed(client, url, {"notice": "  Ngừng sử dụng.  "})
    assert twice.status_code == 409
    assert "đã hiện thông báo thu hồi này" in twice.get_data(as_text=True)
    assert _count(app, Recall) == 1
    newer = "Ngừng sử dụng; hoàn tiền tại mọi cửa hàng đến hết 31/12/2026."
    assert confirmed(client, url, {"notice": newer}).status_code == 302
    assert _count(app, Recall) == 2
    assert _verify(client, tokens[0])["recall"]["notice"] == newer
    assert len(_audit(app, "lot.recalled")) == 2


@pytest.mark.parametrize("notice", [None, "", "   \n  ", "x" * 2001, "Thu hồi\x00"])
def test_recall_without_a_proper_notice_is_refused(
    app: Flask, as_authority: FlaskClient, notice: str | None
) -> None:
    data = {} if notice is None else {"notice": notice}
    response = confirmed(as_authority, f"/console/lots/{STAMPABLE}/recall", data)
    assert response.status_code == 400
    assert 'id="notice-err"' in response.get_data(as_text=True)
    assert _count(app, Recall) == 0
    assert _audit(app, "lot.recalled") == []


def test_recall_refusals_for_the_wrong_people_and_lots(
    app: Flask, client: FlaskClient, world: World
) -> None:
    data = {"notice": "Ngừng sử dụng."}
    producer = sign_in(app.test_client(), world, "producer")
    # A producer may not recall, its own lot or another's: 403 before any lookup.
    for code in (STAMPABLE, OTHERS_LOT, "NO-SUCH-LOT"):
        assert post(producer, f"/console/lots/{code}/recall", data).status_code == 403
    sign_in(client, world, "authority")
    assert post(client, "/console/lots/NO-SUCH-LOT/recall", data).status_code == 404
    assert post(client, "/console/lots/BC%00/recall", data).status_code == 404
    no_token = client.post(f"/console/lots/{STAMPABLE}/recall", data=data)
    assert no_token.status_code == 400
    stale = client.post(f"/console/lots/{STAMPABLE}/recall", data={**data, "csrf_token": "x"})
    assert stale.status_code == 400
    assert _count(app, Recall) == 0
    assert _audit(app, "lot.recalled") == []


# --------------------------------------------------------------------------- void


def test_void_a_batch_then_its_stamps_fail_and_it_cannot_be_voided_twice(
    app: Flask, client: FlaskClient, world: World, tmp_path: Path
) -> None:
    batch, tokens = _issue(app, tmp_path)
    assert _verify(client, tokens[0])["status"] == "genuine"
    sign_in(client, world, "authority")
    page = client.get(f"/console/lots/{STAMPABLE}").get_data(as_text=True)
    assert f"/console/batches/{batch}/void" in page
    reason = "Tem in lỗi, đã tiêu hủy tại xưởng."
    url = f"/console/batches/{batch}/void"
    first = client.get(url).get_data(as_text=True)
    assert "3 tem đã in sẽ báo" in first  # what will happen, before it happens
    response = confirmed(client, url, {"reason": reason})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/console/lots/{STAMPABLE}")
    verdict = _verify(client, tokens[2])
    assert verdict["status"] == "revoked" and "batch_voided" in verdict["reasons"]
    # The first confirmation page, sent again: what it confirmed is no longer so.
    old = {"csrf_token": csrf(client), "reason": "lần nữa",
           "confirm": re.search(r'name="confirm"[^>]*value="([^"]+)"', first).group(1)}  # fmt: skip
    again = client.post(url, data=old)
    assert again.status_code == 409
    assert "đã thay đổi" in again.get_data(as_text=True)
    assert "đã bị hủy trước đó" in client.get(url).get_data(as_text=True)
    with app.extensions["ocop.db"].transaction() as session:
        stored = session.get_one(StampBatch, batch)
        assert stored.status is BatchStatus.VOIDED and stored.void_reason == reason
    [entry] = _audit(app, "batch.voided")
    assert entry.target == f"batch {batch}" and entry.detail == {"lot": STAMPABLE, "reason": reason}
    page = client.get(f"/console/lots/{STAMPABLE}").get_data(as_text=True)
    assert reason in page and "đã hủy" in page


def test_void_refusals(app: Flask, client: FlaskClient, world: World, tmp_path: Path) -> None:
    batch, _tokens = _issue(app, tmp_path)
    url = f"/console/batches/{batch}/void"
    producer = sign_in(app.test_client(), world, "producer")
    assert post(producer, url, {"reason": "không cần"}).status_code == 403
    sign_in(client, world, "authority")
    for empty in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        response = confirmed(client, url, empty)
        assert response.status_code == 400
        assert 'id="reason-err"' in response.get_data(as_text=True)
    assert client.post(url, data={"reason": "không có token"}).status_code == 400
    for missing in ("999999", "4294967296", "99999999999999999999999", "0", "abc"):
        assert post(client, f"/console/batches/{missing}/void", {"reason": "x"}).status_code == 404
    assert _count(app, StampBatch, StampBatch.status == BatchStatus.VOIDED) == 0
    assert _audit(app, "batch.voided") == []


def test_void_and_recall_without_their_confirmation_step_change_nothing(
    app: Flask, as_authority: FlaskClient, tmp_path: Path
) -> None:
    """An old form from the lot page, or a forged post with a valid CSRF token but no
    confirmation, is refused with a clear message; a wrong confirmation too."""
    batch, tokens = _issue(app, tmp_path)
    token = csrf(as_authority, f"/console/lots/{STAMPABLE}")
    for confirm in (None, "", "0123456789abcdef", "x" * 5000):
        data = {"reason": "Mất trộm", "csrf_token": token}
        if confirm is not None:
            data["confirm"] = confirm
        response = as_authority.post(f"/console/batches/{batch}/void", data=data)
        assert response.status_code == (400 if not confirm else 409)
        said = response.get_data(as_text=True)
        assert ("phải được xác nhận" in said) if not confirm else ("đã thay đổi" in said)
        recall = as_authority.post(
            f"/console/lots/{STAMPABLE}/recall",
            data={"notice": "Ngừng dùng", "csrf_token": token, "confirm": confirm or ""},
        )
        assert recall.status_code in (400, 409)
    with app.extensions["ocop.db"].transaction() as session:
        assert session.get_one(StampBatch, batch).status is BatchStatus.ISSUED
    assert _count(app, Recall) == 0
    assert _audit(app, "batch.voided") == [] and _audit(app, "lot.recalled") == []
    assert _verify(as_authority, tokens[0])["status"] == "genuine"


@pytest.mark.parametrize("code", ['=HYPERLINK("http://x.example")', "+1", "-1", "@SUM(A1)"])
def test_a_lot_code_a_spreadsheet_would_run_is_refused(
    app: Flask, as_producer: FlaskClient, code: str
) -> None:
    response = post(as_producer, "/console/lots/new", _new_lot(code=code))
    assert response.status_code == 400
    assert "must not begin with" in response.get_data(as_text=True) or "công thức" in (
        response.get_data(as_text=True)
    )
    with app.extensions["ocop.db"].transaction() as session:
        assert session.scalars(select(Lot).where(Lot.code == code)).first() is None


def test_eight_confirmed_voids_at_once_void_the_batch_once(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """Eight officers' tabs confirm the same void at the same moment: one voids it,
    the others are told it changed; one audit entry, the reason of the one that won."""
    batch, tokens = _issue(app, tmp_path)
    url = f"/console/batches/{batch}/void"
    clients = [sign_in(app.test_client(), world, "authority") for _ in range(8)]
    forms = []
    for client in clients:
        html = client.get(url).get_data(as_text=True)
        forms.append({
            "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1),
            "confirm": re.search(r'name="confirm"[^>]*value="([^"]+)"', html).group(1),
        })  # fmt: skip
    start = threading.Barrier(len(clients))

    def void(n: int) -> int:
        start.wait()
        data = {**forms[n], "reason": f"Tem in lỗi, tab {n}"}
        return clients[n].post(url, data=data).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = sorted(pool.map(void, range(len(clients))))
    assert statuses == [302] + [409] * 7
    [entry] = _audit(app, "batch.voided")
    with app.extensions["ocop.db"].transaction() as session:
        stored = session.get_one(StampBatch, batch)
        assert stored.status is BatchStatus.VOIDED and stored.void_reason == entry.detail["reason"]
    assert _verify(clients[0], tokens[0])["status"] == "revoked"
