"""Numbers as people write them: the one rule for text that should be a number.

The importer (JSON strings and CSV cells), the console's forms and the command
line all read numbers typed as text through :func:`read_number`, so "1.200" means
the same everywhere. The rule is Vietnam's (TCVN 7870 / ISO 80000-1 usage, and
what a Vietnamese spreadsheet writes):

- a dot or a space groups thousands, in groups of exactly three: ``1.200``,
  ``12.500.000``, ``1 200`` are one thousand two hundred, twelve and a half million,
  one thousand two hundred;
- a comma is the decimal mark, once, after the whole part: ``1,5``, ``1.200,75``;
- plain digits are plain: ``1200``.

Anything this rule cannot read surely is refused with the way to write it, never
guessed: ``1.2`` (no Vietnamese writes a dot there; an English writer means 1,2,
and the same writer's ``1.200`` would silently become 1200), ``1,200`` (1,2 in
Vietnamese but 1200 in English), ``1,200.5`` (English grouping). A JSON number
(``1.2`` without quotes) is never text and is taken as it is.

Coordinates are the exception (``grouping=False``): GPS readers and maps write
``21.0285`` everywhere, degrees never need grouping, so there either mark is the
decimal mark and nothing groups.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import UnreadableNumber

# Spaces people and spreadsheets put between groups: space, no-break, narrow no-break.
_SPACES = re.compile("[ \u00a0\u202f\u2009_]")
# A leading group never starts with 0: "0.500" is an English half, not five hundred.
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?", re.ASCII)
_SPACED = re.compile(r"[+-]?[1-9]\d{0,2}(?: \d{3})+(?:,\d+)?", re.ASCII)
_PLAIN = re.compile(r"[+-]?\d+(?:,\d+)?", re.ASCII)
_THOUSANDS_OR_DECIMAL = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}", re.ASCII)
_ENGLISH = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[+-]?\d*\.\d+", re.ASCII)
_COORDINATE = re.compile(r"[+-]?\d+(?:[.,]\d+)?", re.ASCII)
_LONGEST = 40  # more than any quantity, count or coordinate; a longer text is refused


def read_number(text: str, *, grouping: bool = True) -> Decimal:
    """The number ``text`` writes, read by the Vietnamese rule above; or
    :class:`UnreadableNumber` saying how to write it. ``grouping=False`` reads a
    coordinate: either mark is the decimal mark, nothing groups."""
    shown = text[:_LONGEST]
    value = text.strip()
    if not value or len(value) > _LONGEST:
        raise UnreadableNumber("%(value)r is not a number", value=shown)
    if not grouping:
        if not _COORDINATE.fullmatch(value):
            raise UnreadableNumber(
                "%(value)r is not a number such as 21.0285 or 21,0285", value=shown
            )
        return _decimal(value.replace(",", "."), shown)
    spaced = _SPACES.sub(" ", value)
    if _PLAIN.fullmatch(value) and not _THOUSANDS_OR_DECIMAL.fullmatch(value):
        return _decimal(value.replace(",", "."), shown)
    if _GROUPED.fullmatch(value) or _SPACED.fullmatch(spaced):
        whole = spaced.replace(" ", "").replace(".", "")
        return _decimal(whole.replace(",", "."), shown)
    if _THOUSANDS_OR_DECIMAL.fullmatch(value):
        whole, _comma, part = value.partition(",")
        raise UnreadableNumber(
            "%(value)r could be read two ways: a comma marks decimals in Vietnamese "
            "and groups thousands in English; write %(decimal)s for the decimal, or "
            "%(grouped)s (or %(plain)s) for the thousands",
            value=shown,
            decimal=_unambiguous_decimal(whole, part),
            grouped=f"{whole}.{part}",
            plain=f"{whole}{part}",
        )
    if _ENGLISH.fullmatch(value):
        raise UnreadableNumber(
            "%(value)r is written the English way; here a dot groups thousands "
            "(1.200 is one thousand two hundred) and a comma marks decimals: write %(vietnamese)s",
            value=shown,
            vietnamese=_as_vietnamese(value),
        )
    raise UnreadableNumber(
        "%(value)r is not a number; write digits, with dots between thousands and a "
        "comma before decimals, such as 1.200 or 1.200,5",
        value=shown,
    )


def read_whole_number(text: str) -> int:
    """A whole number written as text (a count of stamps): the same rule, no decimals."""
    number = read_number(text)
    if number != number.to_integral_value():
        raise UnreadableNumber("%(value)r is not a whole number", value=text.strip()[:_LONGEST])
    return int(number)


def write_number(value: Decimal | int) -> str:
    """``value`` as this rule writes it, for a form to show and read back: ``1.200,5``."""
    number = Decimal(value).normalize()
    sign = "-" if number < 0 else ""
    whole, _dot, part = format(abs(number), "f").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped},{part}" if part else f"{sign}{grouped}"


def _unambiguous_decimal(whole: str, part: str) -> str:
    """``1,200`` as a decimal no one can take for thousands: ``1,2``; ``1,234`` as
    ``1,2340``; ``1,000`` as ``1``."""
    short = part.rstrip("0")
    if not short:
        return whole  # 1,000 as a decimal is plain 1
    return f"{whole},{short}" if len(short) != 3 else f"{whole},{short}0"


def _decimal(text: str, shown: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the patterns only let digits through
        raise UnreadableNumber("%(value)r is not a number", value=shown) from None


def _as_vietnamese(english: str) -> str:
    """``1,200.5`` as a Vietnamese writes it: ``1.200,5``; ``.5`` as ``0,5``."""
    whole, _dot, part = english.replace(",", "").partition(".")
    sign = whole[:1] if whole[:1] in "+-" else ""
    digits = whole.lstrip("+-") or "0"
    groups = f"{int(digits):,}".replace(",", ".")
    return f"{sign}{groups},{part}" if part else f"{sign}{groups}"


__all__ = ["read_number", "read_whole_number", "write_number"]
