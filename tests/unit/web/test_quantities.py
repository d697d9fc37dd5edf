"""One way to say a quantity on every public page: grouped digits, units in words."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

import ocop.web
from ocop.web.quantities import number, quantity

TRANSLATIONS = Path(ocop.web.__file__).parent / "translations"


@pytest.fixture
def context():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    Babel(app)
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("value", "unit", "vi", "en"),
    [
        (4000, "box", "4.000 hộp", "4,000 boxes"),
        (1, "box", "1 hộp", "1 box"),
        (Decimal("1200.000"), "kg", "1.200 kg", "1,200 kg"),
        (12.5, "kg", "12,5 kg", "12.5 kg"),
        (1500000, "pack", "1.500.000 gói", "1,500,000 packs"),
        (2, "t", "2 tấn", "2 tonnes"),
        (1.5, "l", "1,5 lít", "1.5 litres"),
        (30, "XBX", "30 XBX", "30 XBX"),  # a UN/ECE code we have no words for
        (30, None, "30", "30"),
    ],
)
def test_quantities_in_both_languages(context, value, unit, vi, en) -> None:
    with force_locale("vi"):
        assert quantity(value, unit) == vi
    with force_locale("en"):
        assert quantity(value, unit) == en


def test_nothing_writes_nothing(context) -> None:
    assert quantity(None, "kg") == "" and number(None) == ""
    with force_locale("vi"):
        assert number(1234567) == "1.234.567" and number(0) == "0"
