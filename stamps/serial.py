"""The serial printed under each QR, for people: ``1234-000042-7``.

Batch, stamp number (1-based, at least six digits) and a Damm check digit.
Serials get read out over the phone, where the usual mistakes are one wrong
digit or two neighbours swapped; Damm catches every one of both, with a
single decimal digit and no letter (unlike ISBN's X or Luhn's blind spots).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidSerial
from .token import UINT32_MAX, require_uint32

# Damm's totally anti-symmetric quasigroup of order 10 (Damm 2004).
_DAMM = tuple(
    tuple(int(digit) for digit in row)
    for row in (
        "0317598642",
        "7092154863",
        "4206871359",
        "1750983426",
        "6123045978",
        "3674209581",
        "5869720134",
        "8945362017",
        "9438617205",
        "2581436790",
    )
)
_DIGITS = 6
# Hyphens as word processors and phone keyboards write them, or just spaces.
_SEP = r"(?:\s*[-‐‑‒–—−]\s*|\s+)"
# [0-9], not \d: \d takes every script's digits, and int() would read them.
_SERIAL = re.compile(rf"\s*([0-9]{{1,10}}){_SEP}([0-9]{{1,10}}){_SEP}([0-9])\s*")


def _damm(digits: str) -> int:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - ord("0")]
    return interim


@dataclass(frozen=True, slots=True)
class Serial:
    """Stamp ``index`` (0-based, as in the token) of ``batch``."""

    batch: int
    index: int

    def __post_init__(self) -> None:
        require_uint32("batch", self.batch)
        require_uint32("index", self.index)

    @property
    def number(self) -> str:
        """The stamp number as printed: 1-based, because people count from one."""
        return f"{self.index + 1:0{_DIGITS}d}"

    @property
    def check_digit(self) -> int:
        # Over the printed digits, so whoever reads a serial checks what they see.
        return _damm(f"{self.batch}{self.number}")

    def __str__(self) -> str:
        return f"{self.batch}-{self.number}-{self.check_digit}"

    @classmethod
    def parse(cls, text: str) -> Serial:
        """A serial as typed; raises :class:`InvalidSerial`, and nothing else, for any ``str``.

        Spaces and any kind of dash separate the parts. Leading zeros may be
        dropped or added: the check digit is computed on the printed form.
        """
        match = _SERIAL.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidSerial("expected batch, stamp number and check digit, like 1234-000042-7")
        batch, number, check = (int(part) for part in match.groups())
        if number == 0:
            raise InvalidSerial("stamp numbers start at 1")
        if batch > UINT32_MAX or number > UINT32_MAX + 1:
            raise InvalidSerial("no batch or stamp has a number that large")
        serial = cls(batch, number - 1)
        if serial.check_digit != check:
            raise InvalidSerial("the check digit does not match: a digit misread or two swapped?")
        return serial
