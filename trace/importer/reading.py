"""Reading an import file: bytes to text, text to JSON, JSON values to typed values.

:func:`decode_text` is the one place that decides whether uploaded bytes are text
we read (UTF-8, with or without Excel's byte order mark, no UTF-16, no binary);
the CSV reader of events (``event_csv``) uses it too, each format with its own
advice. :class:`Fields` reads one JSON object of the file value by value: text
composed to NFC and free of control characters, codes, enums, dates, times with
their offset, decimals, units and URIs, every error naming its JSON path
(``$.certifications[2].valid_until``).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from ..cells import starts_formula
from ..errors import ImportFileError, InvalidRecord, Phrase, UnreadableNumber
from ..numbers import read_number
from .vocabulary import SECTIONS, UNECE_CODE, UNITS, is_uri

E = TypeVar("E", bound=StrEnum)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE_CHARS = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
# The shape of nearly every code in a real file; such a code needs no closer look.
ASCII_CODE = re.compile(r"[!-~]+\Z")

# Control characters but tab and line breaks, which a description may hold.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# --------------------------------------------------------------------------- text


@dataclass(frozen=True, slots=True)
class TextFormat:
    """A kind of text file, in the words its senders are told when theirs is not one."""

    save_as: str
    not_text: Phrase
    # How far into the file to look for NUL bytes; None: all of it.
    nul_window: int | None = None
    # What to tell the sender of an Excel workbook (or any ZIP); None: nothing special.
    workbook: Phrase | None = None


JSON_TEXT = TextFormat(
    save_as="UTF-8 JSON",
    not_text=Phrase("is a binary file, not JSON"),
    # A binary file shows itself at once; a NUL further on is a syntax error,
    # which the JSON parser places by line and column.
    nul_window=8192,
)


def decode_text(raw: bytes, name: str, kind: TextFormat) -> str:
    """``raw`` (the contents of file ``name``) as text, or :class:`ImportFileError` saying why not.

    Only UTF-8 is read: a file in a legacy Vietnamese code page (TCVN3, cp1258)
    would turn into wrong letters silently, so it is refused with the way out.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "%(name)s: is UTF-16 text; save it as %(save_as)s", name=name, save_as=kind.save_as
        )
    if kind.workbook and raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError("%(name)s: %(problem)s", name=name, problem=kind.workbook)
    if b"\x00" in raw[: kind.nul_window]:
        raise ImportFileError("%(name)s: %(problem)s", name=name, problem=kind.not_text)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "%(name)s: is not UTF-8 text (byte %(byte)s); save it as %(save_as)s",
            name=name,
            byte=error.start,
            save_as=kind.save_as,
        ) from None
    if not text.strip():
        raise ImportFileError("%(name)s: is empty", name=name)
    return text


def nfc(text: str) -> str:
    """``text`` composed (NFC), so that "Thái Bình" typed on two keyboards is one name."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- JSON


def load_import_file(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``; :class:`ImportFileError` says plainly why not."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError("%(path)s: no such file", path=path) from None
    except IsADirectoryError:
        raise ImportFileError("%(path)s: is a folder, not a JSON file", path=path) from None
    except OSError as error:
        raise ImportFileError(
            "%(path)s: cannot be read (%(problem)s)", path=path, problem=error.strerror
        ) from None
    return parse_import_bytes(raw, str(path))


def parse_import_bytes(raw: bytes, name: str = "input") -> dict[str, Any]:
    """The JSON object in ``raw`` (the contents of file ``name``), or ImportFileError."""
    text = decode_text(raw, name, JSON_TEXT)
    try:
        with collector_paused():
            data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        problem, line, column = json_syntax_problem(error)
        raise ImportFileError(
            "%(name)s: not valid JSON at line %(line)s, column %(column)s: %(problem)s",
            name=name,
            line=line,
            column=column,
            problem=problem,
        ) from None
    except _NotANumber as error:
        raise ImportFileError(
            "%(name)s: %(constant)s is not a number JSON allows", name=name, constant=error.name
        ) from None
    except ValueError as error:
        # Python's own words, such as a number with too many digits.
        raise ImportFileError("%(name)s: %(problem)s", name=name, problem=str(error)) from None
    except RecursionError:
        raise ImportFileError("%(name)s: nested too deeply to be our format", name=name) from None
    if not isinstance(data, dict):
        raise ImportFileError(
            "%(name)s: the top level must be a JSON object with the sections %(sections)s; "
            "found %(found)s",
            name=name,
            sections=", ".join(SECTIONS),
            found=json_type(data),
        )
    return data


# The parser's own words (``Expecting ',' delimiter``) are Python's, in English; each
# is said again as a phrase of ours, which the reader gets in their language.
_JSON_PROBLEMS = (
    ("Expecting ',' delimiter", Phrase("a comma is missing between two values")),
    ("Expecting ':' delimiter", Phrase("a colon is missing after a member's name")),
    ("Unterminated string", Phrase("a string is not closed with a double quote")),
    (
        "Invalid control character",
        Phrase("a string holds a line break or another control character; write \\n instead"),
    ),
    ("Invalid \\escape", Phrase("a backslash starts an escape JSON does not have")),
    ("Invalid \\uXXXX escape", Phrase("a backslash starts an escape JSON does not have")),
    ("Extra data", Phrase("more text follows the end of the JSON document")),
    (
        "Expecting property name",
        Phrase("a member's name must be text in double quotes, such as \"code\""),
    ),
    ("Expecting value", Phrase("a value is missing (a number, text in double quotes...)")),
)
_TRAILING_COMMA = Phrase(
    "a comma after the last item: JSON allows none before } or ]; remove it"
)
_BROKEN = Phrase("the JSON is broken here")


def json_syntax_problem(error: json.JSONDecodeError) -> tuple[Phrase, int, int]:
    """What is wrong at a JSON syntax error, in our words, and where (line, column).

    A comma before a closing brace or bracket (which spreadsheets and hand edits
    leave behind) is pointed at where the comma is, not where the parser gave up.
    """
    text, at = error.doc, error.pos
    before = text[:at].rstrip()
    if before.endswith(",") and text[at : at + 1] in ("}", "]"):
        comma = len(before) - 1
        line = text.count("\n", 0, comma) + 1
        column = comma - (text.rfind("\n", 0, comma) + 1) + 1
        return _TRAILING_COMMA, line, column
    for start, phrase in _JSON_PROBLEMS:
        if error.msg.startswith(start):
            return phrase, error.lineno, error.colno
    return _BROKEN, error.lineno, error.colno


def sample_data() -> dict[str, Any]:
    """The demo records of ``sample.json`` (Thái Bình's OCOP pilot), as parsed JSON."""
    raw = (resources.files("ocop.trace") / "sample.json").read_bytes()
    return parse_import_bytes(raw, "sample.json")


class _NotANumber(ValueError):
    """NaN, Infinity or -Infinity: Python's JSON reads them, JSON has none."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a number JSON allows")
        self.name = name


def _no_constant(name: str) -> None:
    raise _NotANumber(name)


def json_type(value: object) -> str:
    """What ``value`` is, in JSON's words, for an error message (a :class:`Phrase`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return Phrase("a boolean")
    if isinstance(value, int | float | Decimal):
        return Phrase("a number")
    if isinstance(value, str):
        return Phrase("a string")
    if isinstance(value, list):
        return Phrase("an array")
    if isinstance(value, dict):
        return Phrase("an object")
    return type(value).__name__


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off for the duration, as it was before afterwards."""
    # A big file makes millions of small objects that all live until the end;
    # the cycle collector would walk them again and again for nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------- values


class Fields:
    """One JSON object of the file, read field by field with its path for errors."""

    # The fast paths below matter: a 100,000-event file is a million fields.

    def __init__(self, value: object, path: str, allowed: frozenset[str]) -> None:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidRecord("must be an object, not %(found)s", path, found=json_type(value))
        if not allowed.issuperset(value):
            unknown = sorted(set(value) - allowed, key=str)
            raise InvalidRecord("unknown field %(name)r", f"{path}.{unknown[0]}", name=unknown[0])
        self.value = value
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _get(self, key: str, required: bool) -> Any:
        value = self.value.get(key)
        if value is None and required:
            raise InvalidRecord("is required", self.at(key))
        return value

    def text(self, key: str, *, required: bool = False, limit: int | None = 200) -> str | None:
        value = self.value.get(key)
        if value is None:
            if required:
                raise InvalidRecord("is required", self.at(key))
            return None
        if type(value) is not str:
            raise InvalidRecord(
                "must be a string, not %(found)s", self.at(key), found=json_type(value)
            )
        value = nfc(value.strip())
        if _CONTROL.search(value):
            # Invisible in every page, and PostgreSQL refuses a NUL outright.
            raise InvalidRecord("holds control characters (such as NUL); remove them", self.at(key))
        if not value:
            if required:
                raise InvalidRecord("must not be empty", self.at(key))
            return None
        if limit is not None and len(value) > limit:
            raise InvalidRecord(
                "is %(length)s characters long; at most %(limit)s are allowed",
                self.at(key),
                length=len(value),
                limit=limit,
            )
        return value

    def required_text(self, key: str, *, limit: int | None = 200) -> str:
        value = self.text(key, required=True, limit=limit)
        assert value is not None
        return value

    def code(self, key: str, *, required: bool = True, limit: int = 40) -> str | None:
        value = self.value.get(key)
        if not (type(value) is str and len(value) <= limit and ASCII_CODE.match(value)):
            if value is None and not required:
                return None
            value = self.text(key, required=required, limit=limit)
            if value is not None and not _CODE_CHARS.match(value):
                raise InvalidRecord(
                    "%(value)r must not contain spaces or control characters",
                    self.at(key),
                    value=value,
                )
        if value is not None and starts_formula(value):
            raise InvalidRecord(
                "%(value)r must not begin with = + - or @: "
                "a spreadsheet would run it as a formula",
                self.at(key),
                value=value[:40],
            )
        return value

    def required_code(self, key: str, *, limit: int = 40) -> str:
        value = self.code(key, limit=limit)
        assert value is not None
        return value

    def enum(self, key: str, kind: type[E], *, required: bool = True) -> E | None:
        value = self.value.get(key)
        member = _members(kind).get(value) if type(value) is str else None
        if member is not None:
            return member
        if value is None:
            if required:
                raise InvalidRecord("is required", self.at(key))
            return None
        if member is None:
            allowed = ", ".join(m.value for m in kind)
            raise InvalidRecord(
                "must be one of %(allowed)s; got %(value)r",
                self.at(key),
                allowed=allowed,
                value=value,
            )
        return member

    def choice(
        self, key: str, allowed: frozenset[str], *, required: bool, what: Phrase
    ) -> str | None:
        value = self.value.get(key)
        if type(value) is str and value in allowed:
            return value
        value = self.text(key, required=required, limit=40)
        if value is not None and value not in allowed:
            raise InvalidRecord(
                "%(value)r is not a known %(what)s; use one of %(allowed)s",
                self.at(key),
                value=value,
                what=what,
                allowed=", ".join(sorted(allowed)),
            )
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        value = self.value.get(key)
        if value is None:
            if required:
                raise InvalidRecord("is required", self.at(key))
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            raise InvalidRecord(
                "must be a date as YYYY-MM-DD; got %(value)r", self.at(key), value=value
            )
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(
                "%(value)r is not a calendar date", self.at(key), value=value
            ) from None

    def required_date(self, key: str) -> dt.date:
        value = self.date(key, required=True)
        assert value is not None
        return value

    def time(self, key: str) -> tuple[dt.datetime, str]:
        """An ISO 8601 time with its offset, as (UTC time, "+07:00")."""
        value = self._get(key, True)
        return _parse_time(value, self.at(key))

    def decimal(
        self,
        key: str,
        *,
        places: int,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        above: Decimal | None = None,
        grouping: bool = True,
    ) -> Decimal | None:
        """A JSON number as it is, or a number written as text, read by the one rule
        (:func:`ocop.trace.numbers.read_number`; ``grouping=False`` for coordinates)."""
        value = self.value.get(key)
        if value is None:
            return None
        if type(value) is int and (
            (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum)
            and (above is None or value > above)
        ):
            return Decimal(value)
        return _decimal(value, self.at(key), places, minimum, maximum, above, grouping)

    def integer(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRecord("must be a whole number; got %(value)r", self.at(key), value=value)
        return value

    def array(self, key: str, *, required: bool = False) -> list[Any]:
        value = self.value.get(key)
        if type(value) is list:
            return value
        if value is None:
            if required:
                raise InvalidRecord("is required", self.at(key))
            return []
        if not isinstance(value, list):
            raise InvalidRecord(
                "must be an array, not %(found)s", self.at(key), found=json_type(value)
            )
        return value

    def unit(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is None or (type(value) is str and value in UNITS):
            return value
        value = self.text(key, limit=40)
        if value is None or value in UNITS or UNECE_CODE.match(value):
            return value
        raise InvalidRecord(
            "unknown unit %(value)r; use one of %(units)s "
            "or a UN/ECE Recommendation 20 code such as KGM",
            self.at(key),
            value=value,
            units=", ".join(UNITS),
        )

    def uri(self, key: str, *, required: bool = True) -> str | None:
        value = self.value.get(key)
        if type(value) is str and len(value) <= 200 and is_uri(value):
            return value
        if value is None and not required:
            return None
        value = self.text(key, required=required, limit=200)
        if value is not None and not is_uri(value):
            raise InvalidRecord(
                "%(value)r is not a URI (for example urn:uuid:... with ASCII characters only)",
                self.at(key),
                value=value,
            )
        return value


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` so many calendar months later, on the month's last day if it is shorter."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@functools.cache
def _members(kind: type[E]) -> dict[str, E]:
    return {m.value: m for m in kind}


_OFFSETS: dict[dt.timedelta, str] = {}


def _parse_time(value: object, path: str) -> tuple[dt.datetime, str]:
    if not isinstance(value, str):
        raise InvalidRecord("must be an ISO 8601 time string; got %(value)r", path, value=value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(
            "%(value)r is not an ISO 8601 time such as 2025-09-01T07:30:00+07:00", path, value=value
        ) from None
    offset = parsed.utcoffset()
    if offset is None or "T" not in value.upper():
        raise InvalidRecord(
            "%(value)r needs a date, a time and an explicit UTC offset, "
            "such as 2025-09-01T07:30:00+07:00",
            path,
            value=value,
        )
    return parsed.astimezone(dt.UTC), _offset_text(offset, path)


def _offset_text(offset: dt.timedelta, path: str) -> str:
    text = _OFFSETS.get(offset)
    if text is not None:
        return text
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    if seconds or not -14 * 60 <= minutes <= 14 * 60:
        raise InvalidRecord("the UTC offset must be whole minutes between -14:00 and +14:00", path)
    sign = "-" if minutes < 0 else "+"
    text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    _OFFSETS[offset] = text
    return text


def _decimal(
    value: object,
    path: str,
    places: int,
    minimum: Decimal | None,
    maximum: Decimal | None,
    above: Decimal | None,
    grouping: bool = True,
) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidRecord("must be a number; got %(value)r", path, value=value)
    if isinstance(value, str):
        # "1.200" is one thousand two hundred here, never 1.2 said without a word.
        try:
            number = read_number(value, grouping=grouping)
        except UnreadableNumber as error:
            raise InvalidRecord(error, path) from None
    else:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise InvalidRecord("must be a number; got %(value)r", path, value=value) from None
    if not number.is_finite():
        raise InvalidRecord("must be a finite number; got %(value)r", path, value=value)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and number != round(number, places):
        raise InvalidRecord(
            "%(value)s has more than %(places)s decimal places", path, value=value, places=places
        )
    if minimum is not None and number < minimum:
        raise InvalidRecord(
            "%(value)s is below the minimum %(minimum)s", path, value=value, minimum=minimum
        )
    if maximum is not None and number > maximum:
        raise InvalidRecord(
            "%(value)s is above the maximum %(maximum)s", path, value=value, maximum=maximum
        )
    if above is not None and number <= above:
        raise InvalidRecord(
            "%(value)s must be greater than %(above)s", path, value=value, above=above
        )
    return number


__all__ = [
    "JSON_TEXT",
    "Fields",
    "TextFormat",
    "add_months",
    "decode_text",
    "load_import_file",
    "nfc",
    "parse_import_bytes",
    "sample_data",
]
