"""Domain errors reach people in their language: console pages, the API, the command line.

The rules raise English templates; each edge says them through the ``errors``
catalogue: Vietnamese by default on the web, English on request; English on a
terminal unless its locale is Vietnamese.
"""

from __future__ import annotations

import html
import io
import re

import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from ocop.web.cli import main

from .console import conftest as console
from .console.conftest import World, post
from .test_receiving_api import URL, call, codes, token  # noqa: F401  (fixtures)

world = console.world
as_producer = console.as_producer

LOT = {
    "code": "BC-2026-1301",
    "product": "BANH-CAY-LANG-NGUYEN",
    "facility": "NX-XUONG",
    "quantity": "10",
    "unit": "box",
}
_ERROR = re.compile(r'<p class="error" id="code-err">([^<]*)</p>')


def _code_error(page: str) -> str:
    match = _ERROR.search(page)
    assert match, "no error beside the code field"
    return html.unescape(match.group(1))


def test_a_console_page_says_a_rule_in_vietnamese(as_producer: FlaskClient) -> None:
    assert post(as_producer, "/console/lots/new", LOT).status_code == 302
    again = post(as_producer, "/console/lots/new", LOT)
    assert again.status_code == 409
    said = _code_error(again.get_data(as_text=True))
    assert said == "đã có lô 'BC-2026-1301'; mã lô không được trùng, hãy chọn mã khác"
    assert "already" not in again.get_data(as_text=True)


@pytest.mark.parametrize("how", ["query", "header"])
def test_the_same_page_in_english_on_request(as_producer: FlaskClient, how: str) -> None:
    assert post(as_producer, "/console/lots/new", LOT).status_code == 302
    if how == "query":
        again = post(as_producer, "/console/lots/new?lang=en", LOT)
    else:
        again = post(as_producer, "/console/lots/new", LOT, headers={"Accept-Language": "en"})
    assert again.status_code == 409
    said = _code_error(again.get_data(as_text=True))
    assert said == "there is already a lot 'BC-2026-1301'; lot codes are unique, choose another"


def test_a_nested_reason_is_translated_with_its_sentence(as_producer: FlaskClient) -> None:
    # The count's own refusal (stamps) inside the stamp request's (workflows).
    page = as_producer.get("/console/stamp-requests/new").get_data(as_text=True)
    lot = re.search(r'<option value="([^"]+)"', page)
    assert lot, "the producer has a lot that can get stamps"
    form = {"lot": html.unescape(lot.group(1)), "count": "nhiều", "layout": "a4-5x8"}
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', page)
    assert nonce
    form["nonce"] = nonce.group(1)
    response = post(as_producer, "/console/stamp-requests/new", form)
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "số tem phải là số nguyên: 'nhiều' không phải là số" in text
    assert "whole number" not in text


# A CSV row the importer refuses: its reason, and the place in words ("row 2, column
# time"), are said in the page's language.
_BAD_ROW = (
    "event_id,type,action,biz_step,time,facility,lot\n"
    "KT-1,ObjectEvent,OBSERVE,inspecting,hôm qua,NX-XUONG,BC-2026-1115\n"
).encode()


def _upload_refusal(client: FlaskClient, url: str) -> str:
    response = post(client, url, {"file": (io.BytesIO(_BAD_ROW), "su-kien.csv")})
    assert response.status_code == 400
    return html.unescape(response.get_data(as_text=True))


def test_an_upload_refusal_is_in_vietnamese(as_producer: FlaskClient) -> None:
    page = _upload_refusal(as_producer, "/console/events/upload")
    assert "dòng 2, cột time: 'hôm qua' không phải ngày giờ dạng 2025-06-12 06:30" in page
    assert "is not a date and time" not in page
    assert "row 2" not in page


def test_the_same_upload_refusal_in_english_on_request(as_producer: FlaskClient) -> None:
    page = _upload_refusal(as_producer, "/console/events/upload?lang=en")
    assert "row 2, column time: 'hôm qua' is not a date and time such as 2025-06-12 06:30" in page
    assert "không phải ngày giờ" not in page


# ---- the API: problem+json with the message in the request's language, and a stable code


def test_the_api_detail_is_vietnamese_by_default_and_english_on_request(
    client: FlaskClient, token: str  # noqa: F811
) -> None:
    body = {"codes": ["x"], "id": 5}
    vi = call(client, token, body)
    assert vi.status_code == 400 and vi.mimetype == "application/problem+json"
    assert vi.get_json()["detail"] == "id phải là một chuỗi"
    assert vi.get_json()["code"] == "receiving_refused"
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    en = client.post(URL, json=body, headers=headers)
    assert en.status_code == 400
    assert en.get_json()["detail"] == "id must be a string"
    assert en.get_json()["code"] == "receiving_refused"


def test_a_conflict_carries_its_code_and_its_sentence(
    client: FlaskClient, token: str, codes: dict[str, list[str]]  # noqa: F811
) -> None:
    assert call(client, token, {"codes": codes["good"], "id": "k-1"}).status_code == 201
    other_lots = [*codes["good"], codes["forged_lot"][0]]
    clash = call(client, token, {"codes": other_lots, "id": "k-1"}, query_string={"lang": "vi"})
    problem = clash.get_json()
    assert clash.status_code == 409
    assert problem["code"] == "receipt_conflict"
    assert problem["detail"].startswith("id 'k-1' đã được dùng cho một lần nhận hàng khác")
    for key in ("type", "title", "status"):
        assert key in problem


# ---- the command line: English unless the terminal's locale is Vietnamese


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "vi_VN.UTF-8"}, "không có lô nào mang mã 'NO-SUCH-LOT'"),
        ({"LANG": "en_US.UTF-8"}, "no lot with code 'NO-SUCH-LOT'"),
        ({}, "no lot with code 'NO-SUCH-LOT'"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "vi_VN.UTF-8"}, "không có lô nào mang mã"),
        ({"LANG": "vi_VN.UTF-8", "LC_ALL": "C.UTF-8"}, "no lot with code"),
    ],
)
def test_the_cli_speaks_the_terminals_language(
    runner: FlaskCliRunner, world: World, env: dict[str, str], expected: str
) -> None:
    # Whatever the machine running the tests has set, only ``env`` counts.
    env = {"LANG": "", "LC_ALL": "", "LC_MESSAGES": "", **env}
    result = runner.invoke(main, ["trace", "show", "NO-SUCH-LOT"], env=env)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_command_that_prints_its_own_error_speaks_it_too(
    runner: FlaskCliRunner, world: World
) -> None:
    result = runner.invoke(
        main,
        ["stamps", "verify", "http://x/y", "--offline"],
        env={"LANG": "vi_VN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""},
    )
    assert result.exit_code == 2
    assert "--offline cần có --trust TỆP" in result.output
