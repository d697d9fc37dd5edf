"""The one rule for numbers written as text (trace/numbers.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocop.trace.errors import UnreadableNumber
from ocop.trace.numbers import read_number, read_whole_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1200", "1200"),
        ("1.200", "1200"),  # the bug: this was stored as 1.2 kg without a word
        ("12.500.000", "12500000"),
        ("1 200", "1200"),
        ("1\u00a0200", "1200"),  # a spreadsheet's no-break space
        ("1\u202f200,5", "1200.5"),
        ("1_000", "1000"),
        ("1,5", "1.5"),
        ("1,25", "1.25"),
        ("1,2345", "1.2345"),
        ("0,001", "0.001"),  # no one groups thousands after a lone 0
        ("1.200,75", "1200.75"),
        ("  7  ", "7"),
        ("-3", "-3"),
        ("0", "0"),
    ],
)
def test_numbers_read_the_vietnamese_way(text: str, number: str) -> None:
    assert read_number(text) == Decimal(number)


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("1.2", "write 1,2"),
        ("1.20", "write 1,20"),
        ("0.500", "write 0,500"),
        (".5", "write 0,5"),
        ("1,200.5", "write 1.200,5"),
        ("12.5000", "write 12,5000"),
        ("1,200", "write 1,2 for the decimal, or 1.200 (or 1200) for the thousands"),
        ("2,500", "write 2,5 for the decimal"),
        ("999,999", "write 999,9990 for the decimal"),
        ("1,000", "write 1 for the decimal, or 1.000 (or 1000) for the thousands"),
        ("1.2.3", "not a number"),
        ("1..200", "not a number"),
        ("1.200.00", "not a number"),
        ("1 20", "not a number"),
        ("1,2,3", "not a number"),
        ("abc", "not a number"),
        ("", "not a number"),
        ("1e3", "not a number"),
        ("NaN", "not a number"),
        ("١٢٣", "not a number"),  # Arabic-Indic digits are digits to Python, not to us
        ("9" * 41, "not a number"),
    ],
)
def test_what_cannot_be_read_surely_is_refused_with_the_way_to_write_it(
    text: str, advice: str
) -> None:
    with pytest.raises(UnreadableNumber, match=advice.replace("(", r"\(").replace(")", r"\)")):
        read_number(text)


def test_coordinates_take_either_mark_and_no_grouping() -> None:
    assert read_number("21.0285", grouping=False) == Decimal("21.0285")
    assert read_number("-105,8542", grouping=False) == Decimal("-105.8542")
    for text in ("1.200.000", "21.02.85", "21 0285", "north"):
        with pytest.raises(UnreadableNumber):
            read_number(text, grouping=False)


def test_whole_numbers() -> None:
    assert read_whole_number("10.000") == 10_000
    assert read_whole_number("1.000") == 1000
    assert read_whole_number("5,0") == 5
    with pytest.raises(UnreadableNumber, match="not a whole number"):
        read_whole_number("1,5")


def test_the_message_is_a_template_said_in_vietnamese_too() -> None:
    with pytest.raises(UnreadableNumber) as caught:
        read_number("1,200")
    assert caught.value.template.startswith("%(value)r could be read two ways")
    assert caught.value.params["value"] == "1,200"
