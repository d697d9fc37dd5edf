"""GTIN and GLN: parsed once at the edge, with the check digit validated."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.trace.errors import InvalidGtin, InvalidRecord
from ocop.trace.gtin import Gln, Gtin, check_digit


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("8936045120019", "08936045120019"),  # Vietnam, prefix 893
        ("10614141000033", "10614141000033"),  # GTIN-14
        (" 8936045120019 ", "08936045120019"),
    ],
)
def test_valid_gtins_are_normalised_to_14_digits(text, digits):
    gtin = Gtin.parse(text)
    assert str(gtin) == digits
    assert len(gtin.digits) == 14


def test_vietnamese_prefix_and_digital_link():
    gtin = Gtin.parse("8936045120019")
    assert gtin.is_vietnamese
    assert gtin.gtin13 == "8936045120019"
    assert gtin.digital_link == "https://id.gs1.org/01/08936045120019"
    assert not Gtin.parse("4006381333931").is_vietnamese


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8936045120018", "check digit 8, expected 9"),
        ("893604512001", "check digit 1, expected 6"),  # a GTIN-12 with a wrong check digit
        ("89360451200", "has 11 digits; it must have 8, 12, 13 or 14"),
        ("893-604512001", "digits only"),
        ("８９３６０４５１２００１９", "digits only"),  # full-width digits are not ASCII
        ("", "GTIN is empty"),
        (8936045120019, "must be a string of digits, not int"),
        (None, "must be a string of digits, not NoneType"),
    ],
)
def test_invalid_gtins_say_why(value, message):
    with pytest.raises(InvalidGtin) as caught:
        Gtin.parse(value)
    assert message in str(caught.value)


def test_a_gtin_cannot_be_built_around_parse():
    with pytest.raises(InvalidGtin):
        Gtin("8936045120019")


@given(
    st.sampled_from([7, 11, 12, 13]).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_any_body_with_its_check_digit_parses(body):
    text = body + str(check_digit(body))
    assert Gtin.parse(text).digits == text.zfill(14)
    wrong = body + str((check_digit(body) + 1) % 10)
    with pytest.raises(InvalidGtin):
        Gtin.parse(wrong)


def test_gln():
    assert str(Gln.parse("8936045100011")) == "8936045100011"
    assert Gln.parse("8936045100011").digital_link == "https://id.gs1.org/414/8936045100011"
    with pytest.raises(InvalidRecord, match="check digit"):
        Gln.parse("8936045100012")
    with pytest.raises(InvalidRecord, match="it must have 13"):
        Gln.parse("89360451000")
