"""Quantities as people say them: "4.000 hộp", "1.200 kg"; in English "4,000 boxes".

One helper for every public page (the ``quantity`` filter), so a lot's size,
a journey's inputs and outputs and a shipment all read the same way. Numbers
are grouped by the reader's locale (a dot in Vietnamese, a comma in English);
units are the record's codes (trace.importer.vocabulary.UNITS) in words.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flask_babel import format_decimal, ngettext

# Each unit's words. The Vietnamese source has one form; the English catalogue
# gives the singular and the plural ("1 box", "2 boxes"). Symbols (kg, g, ml)
# are the same in both languages.
_WORDS: dict[str, Callable[[int, str], str]] = {
    "kg": lambda n, num: f"{num} kg",
    "g": lambda n, num: f"{num} g",
    "ml": lambda n, num: f"{num} ml",
    "t": lambda n, num: ngettext("%(q)s tấn", "%(q)s tấn", n, q=num),
    "l": lambda n, num: ngettext("%(q)s lít", "%(q)s lít", n, q=num),
    "piece": lambda n, num: ngettext("%(q)s cái", "%(q)s cái", n, q=num),
    "box": lambda n, num: ngettext("%(q)s hộp", "%(q)s hộp", n, q=num),
    "bag": lambda n, num: ngettext("%(q)s túi", "%(q)s túi", n, q=num),
    "pack": lambda n, num: ngettext("%(q)s gói", "%(q)s gói", n, q=num),
    "bottle": lambda n, num: ngettext("%(q)s chai", "%(q)s chai", n, q=num),
    "jar": lambda n, num: ngettext("%(q)s hũ", "%(q)s hũ", n, q=num),
}


def number(value: float | int | Decimal | None) -> str:
    """A number grouped as the reader's language writes it; None writes nothing."""
    if value is None:
        return ""
    return str(format_decimal(value, format="#,##0.###"))


def quantity(value: float | int | Decimal | None, unit: str | None = None) -> str:
    """The ``quantity`` filter: "4.000 hộp" (vi), "4,000 boxes" (en); None writes nothing.

    A unit this page has no words for (a UN/ECE code such as "KGM") is written
    as recorded after the number.
    """
    if value is None:
        return ""
    num = number(value)
    words = _WORDS.get(unit or "")
    if words is not None:
        # Plural rules count whole things; "1.5 kg" of anything reads as plural.
        whole = float(value).is_integer()
        return words(int(value) if whole else 2, num)
    return f"{num} {unit}" if unit else num
