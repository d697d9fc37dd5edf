"""GS1 identifiers: GTIN for products, GLN for facilities.

Parse, don't validate: a :class:`Gtin` or :class:`Gln` that exists has the right
length and a correct check digit, so nothing past the import edge checks again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidGtin, InvalidRecord, either

# GS1 Vietnam's prefix: GTINs allocated to Vietnamese companies start with it.
VIETNAM_PREFIX = "893"

_GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (the digits before the check digit)."""
    # Weights alternate 3, 1 starting from the digit nearest the check digit,
    # which is what makes GTIN-8, -12, -13 and -14 agree once zero-padded.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _digits(value: object, what: str, lengths: tuple[int, ...]) -> str:
    if not isinstance(value, str):
        # A JSON number would have lost its leading zeros already.
        raise InvalidRecord(
            "%(what)s must be a string of digits, not %(type)s",
            what=what,
            type=type(value).__name__,
        )
    text = value.strip()
    if not text:
        raise InvalidRecord("%(what)s is empty", what=what)
    if not text.isascii() or not text.isdigit():
        raise InvalidRecord("%(what)s %(value)r must contain digits only", what=what, value=value)
    if len(text) not in lengths:
        allowed = either(lengths)
        if len(text) == 1:
            raise InvalidRecord(
                "%(what)s %(text)r has 1 digit; it must have %(allowed)s",
                what=what,
                text=text,
                allowed=allowed,
            )
        raise InvalidRecord(
            "%(what)s %(text)r has %(count)s digits; it must have %(allowed)s",
            what=what,
            text=text,
            count=len(text),
            allowed=allowed,
        )
    expected = check_digit(text[:-1])
    if int(text[-1]) != expected:
        raise InvalidRecord(
            "%(what)s %(text)r has check digit %(found)s, expected %(expected)s",
            what=what,
            text=text,
            found=text[-1],
            expected=expected,
        )
    return text


@dataclass(frozen=True, slots=True)
class Gtin:
    """A Global Trade Item Number, kept as 14 digits (GTIN-14 form)."""

    digits: str

    @classmethod
    def parse(cls, value: object) -> Gtin:
        """A GTIN-8, -12, -13 or -14 with a correct check digit; raises :class:`InvalidGtin`."""
        try:
            text = _digits(value, "GTIN", _GTIN_LENGTHS)
        except InvalidRecord as error:
            raise InvalidGtin(error.reason) from None
        return cls(text.zfill(14))

    def __post_init__(self) -> None:
        if len(self.digits) != 14 or not self.digits.isdigit():
            raise InvalidGtin(
                "GTIN %(digits)r is not in 14-digit form; use Gtin.parse", digits=self.digits
            )

    def __str__(self) -> str:
        return self.digits

    @property
    def gtin13(self) -> str | None:
        """The 13-digit form printed under an EAN-13 barcode, when it has one."""
        return self.digits[1:] if self.digits.startswith("0") else None

    @property
    def is_vietnamese(self) -> bool:
        """Allocated by GS1 Vietnam (prefix 893)."""
        return self.digits[1:4] == VIETNAM_PREFIX and self.digits[0] == "0"

    @property
    def digital_link(self) -> str:
        return f"https://id.gs1.org/01/{self.digits}"


@dataclass(frozen=True, slots=True)
class Gln:
    """A Global Location Number: 13 digits with a GS1 check digit."""

    digits: str

    @classmethod
    def parse(cls, value: object) -> Gln:
        return cls(_digits(value, "GLN", (13,)))

    def __str__(self) -> str:
        return self.digits

    @property
    def digital_link(self) -> str:
        # GS1 Digital Link needs no company-prefix length, unlike urn:epc:id:sgln.
        return f"https://id.gs1.org/414/{self.digits}"


__all__ = ["VIETNAM_PREFIX", "Gln", "Gtin", "check_digit"]
