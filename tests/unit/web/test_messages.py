"""Domain errors said in the reader's language: the request's, or the terminal's."""

from __future__ import annotations

import pytest
from flask import Flask

from ocop.keys.errors import InvalidJWK
from ocop.stamps.errors import MalformedToken
from ocop.trace.errors import NotFound
from ocop.web.extensions import babel
from ocop.web.messages import catalogue, say, say_in, say_on_terminal, terminal_language
from ocop.web.site import select_locale

LOT = NotFound("no lot with code %(code)r", code="BC-1")
LOT_VI = "không có lô nào mang mã 'BC-1'"


def test_say_in_vietnamese_and_english() -> None:
    assert say_in(LOT, "vi") == LOT_VI
    assert say_in(LOT, "en") == str(LOT) == "no lot with code 'BC-1'"
    # An unknown language is English, never an error.
    assert say_in(LOT, "fr") == say_in(LOT, "../../etc") == str(LOT)


def test_nested_reasons_are_translated_too() -> None:
    assert say_in(MalformedToken("empty"), "vi") == "không phải mã tem: đang để trống"
    jwk = InvalidJWK("use", 'must be "sig" when present')
    assert say_in(jwk, "vi") == 'JWK không hợp lệ: use: nếu có thì phải là "sig"'


def test_parameters_are_never_translated() -> None:
    # A record's code that happens to be a template stays what it is.
    error = NotFound("no lot with code %(code)r", code="empty")
    assert say_in(error, "vi") == "không có lô nào mang mã 'empty'"


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "vi_VN.UTF-8"}, "vi"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_ALL": "vi_VN.UTF-8", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LC_ALL": "C", "LANG": "vi_VN.UTF-8"}, "en"),  # LC_ALL overrides everything
        ({"LC_MESSAGES": "vi_VN", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LC_ALL": "", "LC_MESSAGES": "", "LANG": "VI_vn"}, "vi"),
    ],
)
def test_the_terminal_language_follows_the_posix_locale(environ, language) -> None:
    assert terminal_language(environ) == language


def test_say_on_terminal() -> None:
    assert say_on_terminal(LOT, {"LANG": "vi_VN.UTF-8"}) == LOT_VI
    assert say_on_terminal(LOT, {"LANG": "en_GB.UTF-8"}) == str(LOT)


def test_the_catalogue_is_loaded_once() -> None:
    assert catalogue("vi") is catalogue("vi")


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    babel.init_app(app, locale_selector=select_locale)
    return app


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, LOT_VI),  # Vietnamese first
        ("?lang=en", {}, str(LOT)),
        ("", {"Accept-Language": "en-GB,en;q=0.8"}, str(LOT)),
        ("?lang=vi", {"Accept-Language": "en"}, LOT_VI),
        ("?lang=xx", {}, LOT_VI),
    ],
)
def test_say_speaks_the_language_of_the_request(app: Flask, query, headers, expected) -> None:
    with app.test_request_context("/" + query, headers=headers):
        assert say(LOT) == expected
