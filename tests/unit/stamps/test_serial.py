from __future__ import annotations

import contextlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.stamps.errors import InvalidSerial, StampError
from ocop.stamps.serial import Serial

u32 = st.integers(0, 2**32 - 1)
SAMPLES = [Serial(1234, 41), Serial(1, 0), Serial(98765, 999_999), Serial(2**32 - 1, 2**32 - 1)]


def test_the_design_example():
    # DESIGN.md's example serial is the stamp of the test vector: batch 1234, index 41.
    assert str(Serial(1234, 41)) == "1234-000042-7"


@pytest.mark.parametrize(
    ("serial", "number"),
    [
        (Serial(7, 0), "000001"),
        (Serial(7, 41), "000042"),
        (Serial(7, 999_998), "999999"),
        (Serial(7, 999_999), "1000000"),  # a batch of a million needs a seventh digit
        (Serial(7, 2**32 - 1), "4294967296"),
    ],
)
def test_numbers_are_1_based_and_at_least_six_digits(serial, number):
    assert serial.number == number
    assert str(serial).startswith(f"7-{number}-")


@given(u32, u32)
def test_round_trip(batch, index):
    serial = Serial(batch, index)
    assert Serial.parse(str(serial)) == serial


@pytest.mark.parametrize(
    "text",
    [
        "1234-000042-7",
        "  1234-000042-7\n",
        "1234 000042 7",
        "1234 - 000042 - 7",
        "1234–000042–7",  # en dash
        "1234—000042—7",  # em dash
        "1234−000042−7",  # minus sign
        "1234\u00a0000042\u00a07",  # no-break space
        "1234-42-7",  # leading zeros dropped
        "01234-0000042-7",  # or added
    ],
)
def test_parse_is_tolerant_of_how_people_type(text):
    assert Serial.parse(text) == Serial(1234, 41)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "like 1234-000042-7"),
        ("1234000042 7", "like 1234-000042-7"),
        ("1234-000042", "like 1234-000042-7"),
        ("1234-000042-77", "like 1234-000042-7"),
        ("1234--000042-7", "like 1234-000042-7"),
        ("1234/000042/7", "like 1234-000042-7"),
        ("１２３４-000042-7", "like 1234-000042-7"),  # full-width digits
        ("١٢٣٤-000042-7", "like 1234-000042-7"),  # Arabic-Indic digits
        ("1234-000042-X", "like 1234-000042-7"),
        ("9" * 5000 + "-000042-7", "like 1234-000042-7"),
        ("1234-000000-0", "start at 1"),
        ("4294967296-000001-0", "that large"),
        ("1-4294967297-0", "that large"),
    ],
)
def test_parse_refuses(text, reason):
    with pytest.raises(InvalidSerial) as caught:
        Serial.parse(text)
    assert reason in caught.value.reason
    assert isinstance(caught.value, StampError)


@pytest.mark.parametrize("check", [d for d in range(10) if d != 7])
def test_parse_refuses_every_wrong_check_digit(check):
    with pytest.raises(InvalidSerial, match="check digit"):
        Serial.parse(f"1234-000042-{check}")


def _digit_positions(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c.isdigit()]


@pytest.mark.parametrize("serial", SAMPLES, ids=str)
def test_every_single_digit_substitution_is_caught(serial):
    text = str(serial)
    for i in _digit_positions(text):
        for digit in "0123456789".replace(text[i], ""):
            with pytest.raises(InvalidSerial):
                Serial.parse(text[:i] + digit + text[i + 1 :])


@pytest.mark.parametrize("serial", SAMPLES, ids=str)
def test_every_adjacent_transposition_is_caught(serial):
    # Adjacent as read out: across the dashes too, and with the check digit.
    text = str(serial)
    positions = _digit_positions(text)
    for i, j in itertools.pairwise(positions):
        if text[i] == text[j]:
            continue
        swapped = list(text)
        swapped[i], swapped[j] = text[j], text[i]
        with pytest.raises(InvalidSerial):
            Serial.parse("".join(swapped))


@given(st.text())
def test_parse_answers_any_text_with_a_serial_or_invalid_serial(text):
    with contextlib.suppress(InvalidSerial):
        Serial.parse(text)


@pytest.mark.parametrize(("batch", "index"), [(-1, 0), (0, -1), (2**32, 0), (0, 2**32), (1, True)])
def test_constructor_refuses_numbers_outside_32_bits(batch, index):
    with pytest.raises(ValueError):
        Serial(batch, index)
