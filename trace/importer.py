"""Importing value-chain records from one JSON document: all or nothing, idempotent.

The format is described in ``docs/import-format.md``. The import runs in three
phases so that one bad record writes nothing:

1. *read*: every record is parsed into a typed spec, or :class:`InvalidRecord`
   names its JSON path (``$.certifications[2].valid_until``) and what is wrong;
2. *check*: references are resolved against the file and the database (a few
   bulk SELECTs, never one per record), records already stored are compared with
   the file, and new transformations are checked for loops in the genealogy;
3. *write*: bulk INSERTs inside a SAVEPOINT, so that even a failure there (a
   concurrent import of the same records) leaves the caller's transaction as it was.

The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import itertools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Row, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import utcnow
from .errors import (
    ConflictingRecord,
    GenealogyCycle,
    ImportFileError,
    InvalidGtin,
    InvalidRecord,
    TraceError,
)
from .genealogy import descendant_edges, find_cycle
from .gtin import Gln, Gtin
from .models import (
    PRODUCER_KINDS,
    Address,
    Certification,
    CertLevel,
    CertStatus,
    Event,
    EventAction,
    EventLot,
    EventType,
    Facility,
    FacilityKind,
    Lot,
    LotRole,
    Organisation,
    OrgKind,
    Product,
    Recall,
    Scheme,
)

FORMAT = "ocop-trace-import/1"
SECTIONS = (
    "organisations",
    "facilities",
    "products",
    "certifications",
    "lots",
    "events",
    "recalls",
)
KINDS = ("organisations", "addresses", *SECTIONS[1:])

# OCOP certificates last 36 months (148/QĐ-TTg) unless the decision says otherwise.
DEFAULT_VALIDITY_MONTHS = 36

# 148/QĐ-TTg (and 1048/QĐ-TTg before it): the 100-point score decides the stars.
STAR_BANDS = {
    3: (Decimal(50), Decimal(70)),
    4: (Decimal(70), Decimal(90)),
    5: (Decimal(90), Decimal(101)),
}

# CBV 2.0 business steps, as the EPCIS schema lists them.
# fmt: off
CBV_BIZ_STEPS = frozenset((
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing",
    "destroying", "disassembling", "dispensing", "encoding", "entering_exiting", "holding",
    "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving",
    "retail_selling", "shipping", "staging_outbound", "stock_taking", "stocking", "storing",
    "transporting", "unloading", "unpacking", "void_shipping", "sensor_reporting",
    "sampling",
))
# fmt: on
# Steps of a farm-to-shelf chain that CBV has no word for; exported as urn:ocop:bizstep:*.
OCOP_BIZ_STEPS = frozenset({"planting", "harvesting", "transforming"})
BIZ_STEPS = CBV_BIZ_STEPS | OCOP_BIZ_STEPS

# fmt: off
CBV_DISPOSITIONS = frozenset((
    "active", "container_closed", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "no_pedigree_match",
    "non_sellable_other", "partially_dispensed", "recalled", "reserved", "retail_sold",
    "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unknown",
    "available", "completeness_verified", "completeness_inferred", "conformant",
    "container_open", "mismatch_instance", "mismatch_class", "mismatch_quantity",
    "needs_replacement", "non_conformant", "unavailable",
))
# fmt: on

# CBV business transaction types: what a document attached to an event may be.
# fmt: off
DOCUMENT_TYPES = frozenset((
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt",
))
# fmt: on

# Units people write, with the UN/ECE Recommendation 20 code EPCIS wants.
UNITS = {
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "l": "LTR",
    "ml": "MLT",
    "piece": "H87",
    "box": "XBX",
    "bag": "XBG",
    "pack": "XPK",
}
_UNECE_CODE = re.compile(r"^[A-Z0-9]{2,3}$")

# RFC 3986 characters only: what EPCIS's "uri" format accepts.
_URI_CHARS = r"[A-Za-z0-9\-._~:/?@!$&'()*+,;=%]"
_URI = re.compile(rf"^[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHARS}+(#{_URI_CHARS}*)?$")
# An authority (after "//"): [userinfo@]host[:port], no brackets (no IPv6 literals).
_AUTHORITY = re.compile(r"^([A-Za-z0-9\-._~!$&'()*+,;=%:]*@)?[A-Za-z0-9\-._~!$&'()*+,;=%]*(:\d*)?$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE_CHARS = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
_ASCII_CODE = re.compile(r"[!-~]+\Z")

# Events stamped more than this after now are typing mistakes (2062 for 2026).
FUTURE_TOLERANCE = dt.timedelta(days=1)

# SQLite keeps quantities as REAL: 15 significant digits are exact, so at most
# 12 before the point with the 3 after it.
MAX_QUANTITY = Decimal(10**12)

_CHUNK = 5000

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """How many records of each kind the import created, updated, or found unchanged."""

    created: Mapping[str, int]
    updated: Mapping[str, int]
    unchanged: Mapping[str, int]

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            kind: {
                "created": self.created.get(kind, 0),
                "updated": self.updated.get(kind, 0),
                "unchanged": self.unchanged.get(kind, 0),
            }
            for kind in KINDS
        }

    def __str__(self) -> str:
        parts = []
        for kind in KINDS:
            counts = [
                f"{n} {what}"
                for what, n in (
                    ("created", self.created.get(kind, 0)),
                    ("updated", self.updated.get(kind, 0)),
                    ("unchanged", self.unchanged.get(kind, 0)),
                )
                if n
            ]
            if counts:
                parts.append(f"{kind}: {', '.join(counts)}")
        return "; ".join(parts) if parts else "nothing to import"


class _Tally:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()

    def summary(self) -> ImportSummary:
        return ImportSummary(dict(self.created), dict(self.updated), dict(self.unchanged))


# --------------------------------------------------------------------------- the file


def load_import_file(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``; :class:`ImportFileError` says plainly why not."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder, not a JSON file") from None
    except OSError as error:
        raise ImportFileError(f"{path}: cannot be read ({error.strerror})") from None
    return parse_import_bytes(raw, str(path))


def parse_import_bytes(raw: bytes, name: str = "input") -> dict[str, Any]:
    """The JSON object in ``raw`` (the contents of file ``name``), or ImportFileError."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{name}: is UTF-16 text; save it as UTF-8 JSON")
    if b"\x00" in raw[:8192]:
        raise ImportFileError(f"{name}: is a binary file, not JSON")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{name}: is not UTF-8 text (byte {error.start}); save it as UTF-8 JSON"
        ) from None
    if not text.strip():
        raise ImportFileError(f"{name}: is empty")
    try:
        with _collector_paused():
            data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"{name}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except ValueError as error:
        raise ImportFileError(f"{name}: {error}") from None
    except RecursionError:
        raise ImportFileError(f"{name}: nested too deeply to be our format") from None
    if not isinstance(data, dict):
        raise ImportFileError(
            f"{name}: the top level must be a JSON object with the sections "
            f"{', '.join(SECTIONS)}; found {_json_type(data)}"
        )
    return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------- reading


# Control characters but tab and line breaks, which a description may hold.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Fields:
    """One JSON object of the file, read field by field with its path for errors."""

    # The fast paths below matter: a 100,000-event file is a million fields.

    def __init__(self, value: object, path: str, allowed: frozenset[str]) -> None:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidRecord(f"must be an object, not {_json_type(value)}", path)
        if not allowed.issuperset(value):
            unknown = sorted(set(value) - allowed, key=str)
            raise InvalidRecord(f"unknown field {unknown[0]!r}", f"{path}.{unknown[0]}")
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
            raise InvalidRecord(f"must be a string, not {_json_type(value)}", self.at(key))
        value = value.strip()
        if not value.isascii():
            # NFC, so that "Thái Bình" typed on two keyboards is one name.
            value = unicodedata.normalize("NFC", value)
        if _CONTROL.search(value):
            # Invisible in every page, and PostgreSQL refuses a NUL outright.
            raise InvalidRecord("holds control characters (such as NUL); remove them", self.at(key))
        if not value:
            if required:
                raise InvalidRecord("must not be empty", self.at(key))
            return None
        if limit is not None and len(value) > limit:
            raise InvalidRecord(
                f"is {len(value)} characters long; at most {limit} are allowed", self.at(key)
            )
        return value

    def required_text(self, key: str, *, limit: int | None = 200) -> str:
        value = self.text(key, required=True, limit=limit)
        assert value is not None
        return value

    def code(self, key: str, *, required: bool = True, limit: int = 40) -> str | None:
        value = self.value.get(key)
        if type(value) is str and len(value) <= limit and _ASCII_CODE.match(value):
            return value
        if value is None and not required:
            return None
        value = self.text(key, required=required, limit=limit)
        if value is not None and not _CODE_CHARS.match(value):
            raise InvalidRecord(
                f"{value!r} must not contain spaces or control characters", self.at(key)
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
            raise InvalidRecord(f"must be one of {allowed}; got {value!r}", self.at(key))
        return member

    def choice(self, key: str, allowed: frozenset[str], *, required: bool, what: str) -> str | None:
        value = self.value.get(key)
        if type(value) is str and value in allowed:
            return value
        value = self.text(key, required=required, limit=40)
        if value is not None and value not in allowed:
            raise InvalidRecord(
                f"{value!r} is not a known {what}; use one of {', '.join(sorted(allowed))}",
                self.at(key),
            )
        return value

    def date(self, key: str, *, required: bool = False) -> dt.date | None:
        value = self.value.get(key)
        if value is None:
            if required:
                raise InvalidRecord("is required", self.at(key))
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            raise InvalidRecord(f"must be a date as YYYY-MM-DD; got {value!r}", self.at(key))
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(f"{value!r} is not a calendar date", self.at(key)) from None

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
    ) -> Decimal | None:
        value = self.value.get(key)
        if value is None:
            return None
        if type(value) is int and (
            (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum)
            and (above is None or value > above)
        ):
            return Decimal(value)
        return _decimal(value, self.at(key), places, minimum, maximum, above)

    def integer(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRecord(f"must be a whole number; got {value!r}", self.at(key))
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
            raise InvalidRecord(f"must be an array, not {_json_type(value)}", self.at(key))
        return value

    def unit(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is None or (type(value) is str and value in UNITS):
            return value
        value = self.text(key, limit=40)
        if value is None or value in UNITS or _UNECE_CODE.match(value):
            return value
        raise InvalidRecord(
            f"unknown unit {value!r}; use one of {', '.join(UNITS)} "
            "or a UN/ECE Recommendation 20 code such as KGM",
            self.at(key),
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
                f"{value!r} is not a URI (for example urn:uuid:... with ASCII characters only)",
                self.at(key),
            )
        return value


@functools.cache
def _members(kind: type[E]) -> dict[str, E]:
    return {m.value: m for m in kind}


_OFFSETS: dict[dt.timedelta, str] = {}


def _parse_time(value: object, path: str) -> tuple[dt.datetime, str]:
    if not isinstance(value, str):
        raise InvalidRecord(f"must be an ISO 8601 time string; got {value!r}", path)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord(
            f"{value!r} is not an ISO 8601 time such as 2025-09-01T07:30:00+07:00", path
        ) from None
    offset = parsed.utcoffset()
    if offset is None or "T" not in value.upper():
        raise InvalidRecord(
            f"{value!r} needs a date, a time and an explicit UTC offset, "
            "such as 2025-09-01T07:30:00+07:00",
            path,
        )
    return parsed.astimezone(dt.UTC), _offset_text(offset, path)


def is_uri(value: str) -> bool:
    """True for an absolute URI of RFC 3986 characters, which EPCIS accepts."""
    if not _URI.match(value) or _BAD_PERCENT.search(value):
        return False
    scheme_end = value.index(":")
    if not value.startswith("//", scheme_end + 1):
        return True
    return bool(_AUTHORITY.match(urlsplit(value).netloc))


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
) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidRecord(f"must be a number; got {value!r}", path)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRecord(f"must be a number; got {value!r}", path) from None
    if not number.is_finite():
        raise InvalidRecord(f"must be a finite number; got {value!r}", path)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and number != round(number, places):
        raise InvalidRecord(f"{value} has more than {places} decimal places", path)
    if minimum is not None and number < minimum:
        raise InvalidRecord(f"{value} is below the minimum {minimum}", path)
    if maximum is not None and number > maximum:
        raise InvalidRecord(f"{value} is above the maximum {maximum}", path)
    if above is not None and number <= above:
        raise InvalidRecord(f"{value} must be greater than {above}", path)
    return number


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- specs


@dataclass(slots=True)
class _AddressSpec:
    path: str
    street: str | None
    commune: str | None
    district: str | None
    province: str
    country: str
    effective_from: dt.date
    note: str | None

    def content(self) -> tuple[Any, ...]:
        return (self.street, self.commune, self.district, self.province, self.country, self.note)


@dataclass(slots=True)
class _OrgSpec:
    path: str
    tax_code: str
    kind: OrgKind
    name: str
    short_name: str | None
    phone: str | None
    email: str | None
    website: str | None
    addresses: list[_AddressSpec]


@dataclass(slots=True)
class _FacilitySpec:
    path: str
    code: str
    organisation: str
    kind: FacilityKind
    name: str
    gln: str | None
    planting_area_code: str | None
    crop: str | None
    area_ha: Decimal | None
    latitude: float | None
    longitude: float | None
    address: str | None


@dataclass(slots=True)
class _ProductSpec:
    path: str
    code: str
    producer: str
    name: str
    short_name: str | None
    description: str | None
    gtin: str | None
    image: str | None
    sector: str | None
    group: str | None
    product_set: str | None
    taxonomy_basis: str | None


@dataclass(slots=True)
class _CertSpec:
    path: str
    scheme: Scheme
    number: str
    product: str | None
    facility: str | None
    stars: int | None
    score: Decimal | None
    level: CertLevel | None
    issuing_body: str
    decision_number: str | None
    decision_date: dt.date | None
    legal_basis: str | None
    valid_from: dt.date
    valid_until: dt.date
    status: CertStatus
    status_reason: str | None


@dataclass(slots=True)
class _LotSpec:
    path: str
    code: str
    product: str | None
    item: str | None
    facility: str | None
    owner: str | None
    produced_on: dt.date | None
    best_before: dt.date | None
    quantity: Decimal | None
    unit: str | None


@dataclass(slots=True)
class _LinkSpec:
    path: str
    role: LotRole
    lot: str
    quantity: Decimal | None
    unit: str | None


@dataclass(slots=True)
class _EventSpec:
    path: str
    index: int
    event_id: str
    type: EventType
    action: EventAction | None
    biz_step: str
    disposition: str | None
    time: dt.datetime
    time_zone: str
    facility: str | None
    organisation: str | None
    links: list[_LinkSpec]
    documents: list[dict[str, str]] | None
    corrects: str | None
    reason: str | None


@dataclass(slots=True)
class _RecallSpec:
    path: str
    lot: str
    notice: str
    by: str | None
    at: dt.datetime


@dataclass(slots=True)
class _Parsed:
    organisations: list[_OrgSpec] = field(default_factory=list)
    facilities: list[_FacilitySpec] = field(default_factory=list)
    products: list[_ProductSpec] = field(default_factory=list)
    certifications: list[_CertSpec] = field(default_factory=list)
    lots: list[_LotSpec] = field(default_factory=list)
    events: list[_EventSpec] = field(default_factory=list)
    recalls: list[_RecallSpec] = field(default_factory=list)


def _read(data: Mapping[str, Any], now: dt.datetime) -> _Parsed:
    top = _Fields(data, "$", frozenset((*SECTIONS, "format", "comment")))
    fmt = data.get("format")
    if fmt is not None and fmt != FORMAT:
        raise InvalidRecord(
            f"unsupported format {fmt!r}; this version reads {FORMAT!r}", "$.format"
        )
    parsed = _Parsed()
    readers: dict[str, Callable[[_Fields, int], Any]] = {
        "organisations": lambda r, _i: _read_org(r),
        "facilities": lambda r, _i: _read_facility(r),
        "products": lambda r, _i: _read_product(r),
        "certifications": lambda r, _i: _read_cert(r),
        "lots": lambda r, _i: _read_lot(r),
        "events": lambda r, i: _read_event(r, i, now),
        "recalls": lambda r, _i: _read_recall(r),
    }
    for section in SECTIONS:
        out = getattr(parsed, section)
        for i, item in enumerate(top.array(section)):
            out.append(readers[section](_Fields(item, f"$.{section}[{i}]", _ALLOWED[section]), i))
    return parsed


_ALLOWED: dict[str, frozenset[str]] = {
    name: frozenset(fields)
    for name, fields in {
    "organisations": (
        "tax_code", "kind", "name", "short_name", "phone", "email", "website", "addresses",
    ),
    "addresses": ("street", "commune", "district", "province", "country", "effective_from", "note"),
    "facilities": (
        "code", "organisation", "kind", "name", "gln", "planting_area_code", "crop", "area_ha",
        "latitude", "longitude", "address",
    ),
    "products": (
        "code", "producer", "name", "short_name", "description", "gtin", "image", "sector",
        "group", "product_set", "taxonomy_basis",
    ),
    "certifications": (
        "scheme", "number", "product", "facility", "stars", "score", "level", "issuing_body",
        "decision_number", "decision_date", "legal_basis", "valid_from", "valid_until", "status",
        "status_reason",
    ),
    "lots": (
        "code", "product", "item", "facility", "owner", "produced_on", "best_before", "quantity",
        "unit",
    ),
    "events": (
        "id", "type", "action", "biz_step", "disposition", "time", "facility", "organisation",
        "lots", "parent", "inputs", "outputs", "documents", "corrects", "reason",
    ),
    "links": ("lot", "quantity", "unit"),
    "documents": ("type", "id"),
    "recalls": ("lot", "notice", "by", "at"),
}.items()
}  # fmt: skip


def _read_org(r: _Fields) -> _OrgSpec:
    kind = r.enum("kind", OrgKind)
    assert kind is not None
    addresses = [
        _read_address(_Fields(item, f"{r.at('addresses')}[{i}]", _ALLOWED["addresses"]))
        for i, item in enumerate(r.array("addresses"))
    ]
    seen: dict[dt.date, str] = {}
    for address in addresses:
        if address.effective_from in seen:
            raise InvalidRecord(
                f"another address of this organisation ({seen[address.effective_from]}) "
                f"already takes effect on {address.effective_from}",
                f"{address.path}.effective_from",
            )
        seen[address.effective_from] = address.path
    return _OrgSpec(
        path=r.path,
        tax_code=r.required_code("tax_code"),
        kind=kind,
        name=r.required_text("name"),
        short_name=r.text("short_name"),
        phone=r.text("phone", limit=40),
        email=r.text("email"),
        website=r.text("website"),
        addresses=sorted(addresses, key=lambda a: a.effective_from),
    )


def _read_address(r: _Fields) -> _AddressSpec:
    country = r.text("country", limit=2) or "VN"
    if not (len(country) == 2 and country.isascii() and country.isupper()):
        raise InvalidRecord(
            f"must be an ISO 3166 two-letter code such as VN; got {country!r}", r.at("country")
        )
    return _AddressSpec(
        path=r.path,
        street=r.text("street"),
        commune=r.text("commune"),
        district=r.text("district"),
        province=r.required_text("province"),
        country=country,
        effective_from=r.required_date("effective_from"),
        note=r.text("note", limit=500),
    )


def _read_facility(r: _Fields) -> _FacilitySpec:
    kind = r.enum("kind", FacilityKind)
    assert kind is not None
    gln = r.value.get("gln")
    if gln is not None:
        try:
            gln = Gln.parse(gln).digits
        except InvalidRecord as error:
            raise InvalidRecord(error.reason, r.at("gln")) from None
    latitude = r.decimal("latitude", places=7, minimum=Decimal(-90), maximum=Decimal(90))
    longitude = r.decimal("longitude", places=7, minimum=Decimal(-180), maximum=Decimal(180))
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        raise InvalidRecord(
            "latitude and longitude go together; give both or neither", r.at(missing)
        )
    return _FacilitySpec(
        path=r.path,
        code=r.required_code("code"),
        organisation=r.required_code("organisation"),
        kind=kind,
        name=r.required_text("name"),
        gln=gln,
        planting_area_code=r.code("planting_area_code", required=False),
        crop=r.text("crop"),
        area_ha=r.decimal("area_ha", places=4, above=Decimal(0), maximum=Decimal(10**7)),
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None,
        address=r.text("address", limit=500),
    )


def _read_product(r: _Fields) -> _ProductSpec:
    gtin = r.value.get("gtin")
    if gtin is not None:
        try:
            gtin = Gtin.parse(gtin).digits
        except InvalidGtin as error:
            raise InvalidGtin(error.reason, r.at("gtin")) from None
    return _ProductSpec(
        path=r.path,
        code=r.required_code("code"),
        producer=r.required_code("producer"),
        name=r.required_text("name"),
        short_name=r.text("short_name", limit=60),
        description=r.text("description", limit=5000),
        gtin=gtin,
        image=r.text("image", limit=500),
        sector=r.text("sector"),
        group=r.text("group"),
        product_set=r.text("product_set"),
        taxonomy_basis=r.text("taxonomy_basis", limit=40),
    )


def _read_cert(r: _Fields) -> _CertSpec:
    scheme = r.enum("scheme", Scheme)
    assert scheme is not None
    product, facility = r.code("product", required=False), r.code("facility", required=False)
    if (product is None) == (facility is None):
        raise InvalidRecord(
            "a certificate names either a product or a facility (one of them)", r.path
        )
    stars = _read_stars(r, scheme)
    score = r.decimal("score", places=2, minimum=Decimal(0), maximum=Decimal(100))
    if stars is not None and score is not None:
        low, high = STAR_BANDS[stars]
        if not low <= score < high:
            raise InvalidRecord(
                f"a score of {score} does not give {stars} stars "
                "(148/QĐ-TTg: 3 stars 50-69, 4 stars 70-89, 5 stars 90-100)",
                r.at("score"),
            )
    valid_from = r.required_date("valid_from")
    valid_until = r.date("valid_until") or (
        _add_months(valid_from, DEFAULT_VALIDITY_MONTHS) - dt.timedelta(days=1)
    )
    if valid_until <= valid_from:
        raise InvalidRecord(
            f"{valid_until} is not after valid_from {valid_from}; "
            "a certificate must end after it starts",
            r.at("valid_until"),
        )
    status = r.enum("status", CertStatus, required=False) or CertStatus.VALID
    reason = r.text("status_reason", limit=500)
    if status in (CertStatus.REVOKED, CertStatus.SUPERSEDED) and reason is None:
        raise InvalidRecord(f"a {status} certificate needs a status_reason", r.at("status_reason"))
    return _CertSpec(
        path=r.path,
        scheme=scheme,
        number=r.required_code("number", limit=40),
        product=product,
        facility=facility,
        stars=stars,
        score=score,
        level=r.enum("level", CertLevel, required=False),
        issuing_body=r.required_text("issuing_body"),
        decision_number=r.text("decision_number", limit=40),
        decision_date=r.date("decision_date"),
        legal_basis=r.text("legal_basis"),
        valid_from=valid_from,
        valid_until=valid_until,
        status=status,
        status_reason=reason,
    )


def _read_stars(r: _Fields, scheme: Scheme) -> int | None:
    stars = r.integer("stars")
    if scheme is Scheme.OCOP:
        if stars is None:
            raise InvalidRecord("an OCOP certificate needs its stars (3, 4 or 5)", r.at("stars"))
        if not 3 <= stars <= 5:
            raise InvalidRecord(
                f"OCOP certificates have 3, 4 or 5 stars; got {stars} "
                "(1 and 2 stars get no certificate)",
                r.at("stars"),
            )
    elif stars is not None:
        raise InvalidRecord(f"stars are for OCOP certificates, not {scheme}", r.at("stars"))
    return stars


def _read_lot(r: _Fields) -> _LotSpec:
    product, item = r.code("product", required=False), r.text("item")
    if product is None and item is None:
        raise InvalidRecord(
            "a lot needs a product (its code) or, for raw materials, an item (what it is)", r.path
        )
    produced_on, best_before = r.date("produced_on"), r.date("best_before")
    if produced_on and best_before and best_before < produced_on:
        raise InvalidRecord(
            f"{best_before} is before produced_on {produced_on}", r.at("best_before")
        )
    return _LotSpec(
        path=r.path,
        code=r.required_code("code"),
        product=product,
        item=item,
        facility=r.code("facility", required=False),
        owner=r.code("owner", required=False),
        produced_on=produced_on,
        best_before=best_before,
        quantity=r.decimal("quantity", places=3, minimum=Decimal(0), maximum=MAX_QUANTITY),
        unit=r.unit("unit"),
    )


def _read_event(r: _Fields, index: int, now: dt.datetime) -> _EventSpec:
    kind = r.enum("type", EventType)
    assert kind is not None
    action = r.enum("action", EventAction, required=False)
    if kind is EventType.TRANSFORMATION and action is not None:
        raise InvalidRecord("a TransformationEvent has no action", r.at("action"))
    if kind is not EventType.TRANSFORMATION and action is None:
        raise InvalidRecord(f"a {kind} needs an action (ADD, OBSERVE or DELETE)", r.at("action"))
    time, zone = r.time("time")
    if time > now + FUTURE_TOLERANCE:
        raise InvalidRecord(f"{r.value['time']} is in the future", r.at("time"))
    documents = _read_documents(r)
    if kind is EventType.TRANSACTION and not documents:
        raise InvalidRecord(
            "a TransactionEvent needs at least one document (po, inv, desadv...)", r.at("documents")
        )
    corrects = r.uri("corrects", required=False)
    reason = r.text("reason", limit=500)
    if corrects is not None and reason is None:
        raise InvalidRecord("a correction needs a reason", r.at("reason"))
    event_id = r.uri("id")
    assert event_id is not None
    if corrects == event_id:
        raise InvalidRecord("an event cannot correct itself", r.at("corrects"))
    return _EventSpec(
        path=r.path,
        index=index,
        event_id=event_id,
        type=kind,
        action=action,
        biz_step=r.choice("biz_step", BIZ_STEPS, required=True, what="business step (CBV)") or "",
        disposition=r.choice(
            "disposition", CBV_DISPOSITIONS, required=False, what="disposition (CBV)"
        ),
        time=time,
        time_zone=zone,
        facility=r.code("facility", required=False),
        organisation=r.code("organisation", required=False),
        links=_read_links(r, kind),
        documents=documents or None,
        corrects=corrects,
        reason=reason,
    )


def _read_links(r: _Fields, kind: EventType) -> list[_LinkSpec]:
    if kind is EventType.TRANSFORMATION:
        for key in ("lots", "parent"):
            if key in r.value:
                raise InvalidRecord(
                    f"a TransformationEvent has inputs and outputs, not {key}", r.at(key)
                )
        links = _link_list(r, "inputs", LotRole.INPUT) + _link_list(r, "outputs", LotRole.OUTPUT)
        inputs = {link.lot for link in links if link.role is LotRole.INPUT}
        for link in links:
            if link.role is LotRole.OUTPUT and link.lot in inputs:
                raise GenealogyCycle(
                    f"lot {link.lot!r} is both an input and an output; "
                    "a lot cannot be made from itself",
                    link.path,
                )
        return links
    for key in ("inputs", "outputs"):
        if key in r.value:
            raise InvalidRecord(f"only a TransformationEvent has {key}; use lots", r.at(key))
    role = LotRole.CHILD if kind is EventType.AGGREGATION else LotRole.OBJECT
    links = _link_list(r, "lots", role)
    parent = r.code("parent", required=False)
    if parent is not None:
        if kind is not EventType.AGGREGATION:
            raise InvalidRecord("only an AggregationEvent has a parent", r.at("parent"))
        links.append(_LinkSpec(r.at("parent"), LotRole.PARENT, parent, None, None))
    return links


def _link_list(r: _Fields, key: str, role: LotRole) -> list[_LinkSpec]:
    items = r.array(key, required=True)
    if not items:
        raise InvalidRecord("must name at least one lot", r.at(key))
    links, seen = [], set()
    base = r.at(key)
    for i, item in enumerate(items):
        path = f"{base}[{i}]"
        link = _plain_link(item, path, role) or _careful_link(item, path, role)
        if link.lot in seen:
            raise InvalidRecord(f"lot {link.lot!r} is listed twice", f"{path}.lot")
        seen.add(link.lot)
        links.append(link)
    return links


def _plain_link(item: object, path: str, role: LotRole) -> _LinkSpec | None:
    """The common case, read without ceremony; anything unusual goes the careful way."""
    if type(item) is not dict or not _ALLOWED["links"].issuperset(item):
        return None
    lot, quantity, unit = item.get("lot"), item.get("quantity"), item.get("unit")
    if type(lot) is not str or len(lot) > 40 or not _ASCII_CODE.match(lot):
        return None
    if quantity is not None and not (type(quantity) is int and 0 <= quantity <= MAX_QUANTITY):
        return None
    if unit is not None and not (type(unit) is str and unit in UNITS):
        return None
    return _LinkSpec(path, role, lot, None if quantity is None else Decimal(quantity), unit)


def _careful_link(item: object, path: str, role: LotRole) -> _LinkSpec:
    f = _Fields(item, path, _ALLOWED["links"])
    lot = f.required_code("lot")
    quantity = f.decimal("quantity", places=3, minimum=Decimal(0), maximum=MAX_QUANTITY)
    return _LinkSpec(path, role, lot, quantity, f.unit("unit"))


def _read_documents(r: _Fields) -> list[dict[str, str]]:
    documents = []
    for i, item in enumerate(r.array("documents")):
        f = _Fields(item, f"{r.at('documents')}[{i}]", _ALLOWED["documents"])
        kind = f.choice("type", DOCUMENT_TYPES, required=True, what="document type (CBV)")
        assert kind is not None
        documents.append({"type": kind, "id": f.required_text("id")})
    return documents


def _read_recall(r: _Fields) -> _RecallSpec:
    at, _zone = r.time("at")
    return _RecallSpec(
        path=r.path,
        lot=r.required_code("lot"),
        notice=r.required_text("notice", limit=5000),
        by=r.code("by", required=False),
        at=at,
    )


# --------------------------------------------------------------------------- checking


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _HasPath(Protocol):
    path: str


S = TypeVar("S", bound=_HasPath)


def _unique(specs: Iterable[S], key: Callable[[S], Any], what: str) -> dict[Any, S]:
    found: dict[Any, S] = {}
    for spec in specs:
        k = key(spec)
        if k in found:
            raise InvalidRecord(
                f"{what} {_show_key(k)} appears twice in this file (first at {found[k].path})",
                spec.path,
            )
        found[k] = spec
    return found


def _show_key(key: Any) -> str:
    return "/".join(map(str, key)) if isinstance(key, tuple) else repr(key)


def _unknown(what: str, key: str, path: str) -> InvalidRecord:
    return InvalidRecord(f"unknown {what} {key!r}: not in this file nor in the database", path)


class _Import:
    """One import: the parsed file, what the database already holds, what to write."""

    def __init__(
        self, session: Session, parsed: _Parsed, *, sample: bool, now: dt.datetime
    ) -> None:
        self.session = session
        self.p = parsed
        self.sample = sample
        self.now = now
        self.tally = _Tally()
        self.orgs = _unique(parsed.organisations, lambda s: s.tax_code, "tax code")
        self.facilities = _unique(parsed.facilities, lambda s: s.code, "facility code")
        self.products = _unique(parsed.products, lambda s: s.code, "product code")
        self.certs = _unique(
            parsed.certifications, lambda s: (s.scheme.value, s.number), "certificate"
        )
        self.lots = _unique(parsed.lots, lambda s: s.code, "lot code")
        self.events = _unique(parsed.events, lambda s: s.event_id, "event id")
        _unique((s for s in parsed.products if s.gtin), lambda s: s.gtin, "GTIN")
        _unique((s for s in parsed.facilities if s.gln), lambda s: s.gln, "GLN")

    # ---- what the database holds

    def load(self) -> None:
        p = self.p
        org_keys = (
            set(self.orgs)
            | {f.organisation for f in p.facilities}
            | {x.producer for x in p.products}
            | {x.owner for x in p.lots if x.owner}
            | {e.organisation for e in p.events if e.organisation}
            | {r.by for r in p.recalls if r.by}
        )
        self.db_orgs = {
            o.tax_code: o for o in self._fetch(Organisation, Organisation.tax_code, org_keys)
        }
        self.org_ids = {code: o.id for code, o in self.db_orgs.items()}
        facility_keys = (
            set(self.facilities)
            | {c.facility for c in p.certifications if c.facility}
            | {x.facility for x in p.lots if x.facility}
            | {e.facility for e in p.events if e.facility}
        )
        self.db_facilities = {
            f.code: f for f in self._fetch(Facility, Facility.code, facility_keys)
        }
        product_keys = (
            set(self.products)
            | {c.product for c in p.certifications if c.product}
            | {x.product for x in p.lots if x.product}
        )
        self.db_products = {x.code: x for x in self._fetch(Product, Product.code, product_keys)}
        # Stored facilities and products name their organisations: an event or a lot
        # may default to them without the file repeating the tax code.
        for f in self.db_facilities.values():
            self.org_ids[f.organisation.tax_code] = f.organisation_id
        for x in self.db_products.values():
            self.org_ids[x.producer.tax_code] = x.producer_id
        numbers = {number for _scheme, number in self.certs}
        self.db_certs = {
            (c.scheme.value, c.number): c
            for c in self._fetch(Certification, Certification.number, numbers)
        }
        lot_keys = (
            set(self.lots)
            | {link.lot for e in p.events for link in e.links}
            | {r.lot for r in p.recalls}
        )
        self.db_lots = {row.code: row for row in self._rows(Lot.__table__, Lot.code, lot_keys)}
        event_keys = set(self.events) | {e.corrects for e in p.events if e.corrects}
        self.db_events = {
            row.event_id: row for row in self._rows(Event.__table__, Event.event_id, event_keys)
        }

    def _fetch(self, model: type[T], column: Any, keys: Iterable[str]) -> list[T]:
        found: list[T] = []
        for chunk in _chunks(sorted(keys)):
            found.extend(self.session.scalars(select(model).where(column.in_(chunk))))
        return found

    def _rows(self, table: Any, column: Any, keys: Iterable[str]) -> list[Row[Any]]:
        found: list[Row[Any]] = []
        for chunk in _chunks(sorted(keys)):
            found.extend(self.session.execute(select(table).where(column.in_(chunk))))
        return found

    # ---- references

    def org_kind(self, tax_code: str, path: str) -> OrgKind:
        if tax_code in self.orgs:
            return self.orgs[tax_code].kind
        if tax_code in self.db_orgs:
            return self.db_orgs[tax_code].kind
        raise _unknown("organisation (tax code)", tax_code, path)

    def facility_org(self, code: str, path: str) -> str:
        if code in self.facilities:
            return self.facilities[code].organisation
        if code in self.db_facilities:
            return self.db_facilities[code].organisation.tax_code
        raise _unknown("facility", code, path)

    def product_producer(self, code: str, path: str) -> str:
        if code in self.products:
            return self.products[code].producer
        if code in self.db_products:
            return self.db_products[code].producer.tax_code
        raise _unknown("product", code, path)

    def require_lot(self, code: str, path: str) -> None:
        if code not in self.lots and code not in self.db_lots:
            raise _unknown("lot", code, path)

    def check_references(self) -> None:
        for f in self.p.facilities:
            self.org_kind(f.organisation, f"{f.path}.organisation")
        for x in self.p.products:
            kind = self.org_kind(x.producer, f"{x.path}.producer")
            if kind not in PRODUCER_KINDS:
                raise InvalidRecord(
                    f"organisation {x.producer!r} is a {kind}; products are made by "
                    "enterprises, cooperatives, cooperative groups or household businesses",
                    f"{x.path}.producer",
                )
        for c in self.p.certifications:
            if c.product is not None:
                self.product_producer(c.product, f"{c.path}.product")
            if c.facility is not None:
                self.facility_org(c.facility, f"{c.path}.facility")
        for lot in self.p.lots:
            self._check_lot(lot)
        for e in self.p.events:
            self._check_event(e)
        for r in self.p.recalls:
            self.require_lot(r.lot, f"{r.path}.lot")
            if r.by is not None:
                self.org_kind(r.by, f"{r.path}.by")

    def _check_lot(self, lot: _LotSpec) -> None:
        producer = (
            self.product_producer(lot.product, f"{lot.path}.product") if lot.product else None
        )
        place_owner = (
            self.facility_org(lot.facility, f"{lot.path}.facility") if lot.facility else None
        )
        if lot.owner is not None:
            self.org_kind(lot.owner, f"{lot.path}.owner")
        elif producer is None and place_owner is None:
            raise InvalidRecord(
                "a raw-material lot needs an owner (tax code) or a facility", f"{lot.path}.owner"
            )

    def _check_event(self, e: _EventSpec) -> None:
        if e.facility is not None:
            self.facility_org(e.facility, f"{e.path}.facility")
        if e.organisation is not None:
            self.org_kind(e.organisation, f"{e.path}.organisation")
        elif e.facility is None:
            raise InvalidRecord(
                "an event needs the organisation (tax code) that recorded it, or a facility",
                f"{e.path}.organisation",
            )
        for link in e.links:
            self.require_lot(
                link.lot, f"{link.path}.lot" if link.role is not LotRole.PARENT else link.path
            )
        if e.corrects is not None:
            target = self.events.get(e.corrects)
            if target is not None and target.index >= e.index:
                raise InvalidRecord(
                    f"corrects {e.corrects!r}, which comes later in this file; "
                    "list the corrected event first",
                    f"{e.path}.corrects",
                )
            if target is None and e.corrects not in self.db_events:
                raise _unknown("event", e.corrects, f"{e.path}.corrects")

    def check_unique_identifiers(self) -> None:
        """GTINs and GLNs are unique across the database too, not just this file."""
        gtins = {x.gtin: x for x in self.p.products if x.gtin}
        for chunk in _chunks(sorted(gtins)):
            for code, gtin in self.session.execute(
                select(Product.code, Product.gtin).where(Product.gtin.in_(chunk))
            ):
                if gtins[gtin].code != code:
                    raise InvalidRecord(
                        f"GTIN {gtin} already belongs to product {code!r}",
                        f"{gtins[gtin].path}.gtin",
                    )
        glns = {x.gln: x for x in self.p.facilities if x.gln}
        for chunk in _chunks(sorted(glns)):
            for code, gln in self.session.execute(
                select(Facility.code, Facility.gln).where(Facility.gln.in_(chunk))
            ):
                if glns[gln].code != code:
                    raise InvalidRecord(
                        f"GLN {gln} already belongs to facility {code!r}", f"{glns[gln].path}.gln"
                    )

    def check_corrections(self) -> None:
        """One correction per event: two would leave the right version unclear."""
        by_target: dict[str, _EventSpec] = {}
        for e in self.new_events:
            if e.corrects is None:
                continue
            if e.corrects in by_target:
                raise InvalidRecord(
                    f"event {e.corrects!r} is already corrected by "
                    f"{by_target[e.corrects].event_id!r} in this file; "
                    "correct the correction instead",
                    f"{e.path}.corrects",
                )
            by_target[e.corrects] = e
        targets = [self.db_events[t].id for t in by_target if t in self.db_events]
        for chunk in _chunks(targets):
            rows = self.session.execute(
                select(Event.event_id, Event.corrects_id).where(Event.corrects_id.in_(chunk))
            )
            for corrector, target_id in rows:
                target = next(k for k, v in self.db_events.items() if v.id == target_id)
                raise InvalidRecord(
                    f"event {target!r} is already corrected by {corrector!r}; "
                    "correct that correction instead",
                    f"{by_target[target].path}.corrects",
                )

    # ---- genealogy

    def check_genealogy(self) -> None:
        """Refuse new transformations that would make a lot its own ancestor."""
        corrected = {e.corrects for e in self.p.events if e.corrects}
        graph: dict[str, set[str]] = {}
        blame: dict[tuple[str, str], _EventSpec] = {}
        for e in self.new_events:
            if e.type is not EventType.TRANSFORMATION or e.event_id in corrected:
                continue
            inputs = [x.lot for x in e.links if x.role is LotRole.INPUT]
            outputs = [x.lot for x in e.links if x.role is LotRole.OUTPUT]
            for a in inputs:
                for b in outputs:
                    graph.setdefault(a, set()).add(b)
                    blame[(a, b)] = e
        if not graph:
            return
        self._add_stored_edges(graph, corrected)
        cycle = find_cycle(graph)
        if cycle is None:
            return
        steps = list(itertools.pairwise(cycle))
        culprit = max((blame[s] for s in steps if s in blame), key=lambda e: e.index)
        raise GenealogyCycle(
            f"this transformation closes a loop in the lot genealogy: {' → '.join(cycle)} "
            f"(lot {cycle[0]!r} would be its own ancestor)",
            culprit.path,
        )

    def _add_stored_edges(self, graph: dict[str, set[str]], corrected: set[str]) -> None:
        # A loop through stored records must leave the new edges at a stored lot
        # (only stored lots have stored edges), so the stored descendants of the
        # new edges' outputs are all the database can add.
        outputs = {b for targets in graph.values() for b in targets}
        stored = [self.db_lots[c].id for c in outputs if c in self.db_lots]
        if not stored:
            return
        skip = {self.db_events[c].id for c in corrected if c in self.db_events}
        edges = [(a, b) for a, b, ev in descendant_edges(self.session, stored) if ev not in skip]
        ids = {x for edge in edges for x in edge}
        codes: dict[int, str] = {}
        for chunk in _chunks(sorted(ids)):
            rows = self.session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(chunk)))
            codes.update((lot_id, code) for lot_id, code in rows)
        for a, b in edges:
            graph.setdefault(codes[a], set()).add(codes[b])

    # ---- comparing with what is stored

    def compare(self) -> None:
        self.row_updates: list[tuple[Any, dict[str, Any]]] = []
        self.new_orgs = [o for o in self.p.organisations if o.tax_code not in self.db_orgs]
        self.org_updates = [
            (o, self.db_orgs[o.tax_code])
            for o in self.p.organisations
            if o.tax_code in self.db_orgs
        ]
        self.new_addresses: list[tuple[str, _AddressSpec]] = [
            (o.tax_code, a) for o in self.new_orgs for a in o.addresses
        ]
        for spec, row in self.org_updates:
            self._compare_org(spec, row)
        self.new_facilities = [f for f in self.p.facilities if f.code not in self.db_facilities]
        for f in self.p.facilities:
            if f.code in self.db_facilities:
                self._compare_facility(f, self.db_facilities[f.code])
        self.new_products = [x for x in self.p.products if x.code not in self.db_products]
        for x in self.p.products:
            if x.code in self.db_products:
                self._compare_product(x, self.db_products[x.code])
        self.new_certs = [
            c for c in self.p.certifications if (c.scheme.value, c.number) not in self.db_certs
        ]
        for c in self.p.certifications:
            if (c.scheme.value, c.number) in self.db_certs:
                self._compare_cert(c, self.db_certs[(c.scheme.value, c.number)])
        self.new_lots = [x for x in self.p.lots if x.code not in self.db_lots]
        self.lot_updates: list[dict[str, Any]] = []
        for x in self.p.lots:
            if x.code in self.db_lots:
                self._compare_lot(x, self.db_lots[x.code])
        self.new_events = [e for e in self.p.events if e.event_id not in self.db_events]
        self._compare_events([e for e in self.p.events if e.event_id in self.db_events])

    def _compare_org(self, spec: _OrgSpec, row: Organisation) -> None:
        for name in ("kind", "name"):
            if getattr(spec, name) != getattr(row, name):
                raise ConflictingRecord(
                    f"organisation {spec.tax_code!r} is recorded with {name} "
                    f"{_plain(getattr(row, name))}, not {_plain(getattr(spec, name))}; "
                    f"a tax code keeps its {name}",
                    f"{spec.path}.{name}",
                )
        changes = self._fill(spec, row, ("short_name", "phone", "email", "website"), overwrite=True)
        self._update("organisations", row, changes)
        stored = {a.effective_from: a for a in row.addresses}
        newest = max(stored, default=None)
        for address in spec.addresses:
            old = stored.get(address.effective_from)
            if old is not None:
                if address.content() != (
                    old.street,
                    old.commune,
                    old.district,
                    old.province,
                    old.country,
                    old.note,
                ):
                    raise ConflictingRecord(
                        f"the address of {spec.tax_code!r} effective {address.effective_from} is "
                        f"recorded as {str(old)!r}; addresses are kept as written: add a new one "
                        "with a later effective_from",
                        address.path,
                    )
                self.tally.unchanged["addresses"] += 1
            elif newest is not None and address.effective_from < newest:
                raise ConflictingRecord(
                    f"a new address must take effect after the newest one recorded ({newest}); "
                    "the address history is only ever extended",
                    f"{address.path}.effective_from",
                )
            else:
                self.new_addresses.append((spec.tax_code, address))

    def _fill(
        self, spec: Any, row: Any, names: Iterable[str], *, overwrite: bool
    ) -> dict[str, Any]:
        """The given values that differ from ``row``; without ``overwrite`` only empty fields."""
        changes: dict[str, Any] = {}
        for name in names:
            new, old = getattr(spec, name), getattr(row, name)
            if new is None or new == old:
                continue
            if old is not None and not overwrite:
                raise ConflictingRecord(
                    f"{_describe(row)} is recorded with {name} {_plain(old)}, not {_plain(new)}; "
                    "recorded values are kept: record a new one instead",
                    f"{spec.path}.{name}",
                )
            changes[name] = new
        return changes

    def _update(self, kind: str, row: Any, changes: dict[str, Any]) -> None:
        # Applied in write(): a later error must leave the stored objects untouched.
        if changes:
            self.row_updates.append((row, changes))
            self.tally.updated[kind] += 1
        else:
            self.tally.unchanged[kind] += 1

    def _compare_facility(self, spec: _FacilitySpec, row: Facility) -> None:
        if spec.organisation != row.organisation.tax_code or spec.kind != row.kind:
            what = "organisation" if spec.organisation != row.organisation.tax_code else "kind"
            raise ConflictingRecord(
                f"facility {spec.code!r} is recorded with another {what}; "
                "a facility code keeps its owner and kind",
                f"{spec.path}.{what}",
            )
        changes = self._fill(spec, row, ("gln",), overwrite=False)
        changes |= self._fill(
            spec, row,
            ("name", "planting_area_code", "crop", "area_ha", "latitude", "longitude", "address"),
            overwrite=True,
        )  # fmt: skip
        self._update("facilities", row, changes)

    def _compare_product(self, spec: _ProductSpec, row: Product) -> None:
        if spec.producer != row.producer.tax_code:
            raise ConflictingRecord(
                f"product {spec.code!r} is recorded as made by {row.producer.tax_code!r}; "
                "a product code keeps its producer",
                f"{spec.path}.producer",
            )
        changes = self._fill(spec, row, ("gtin",), overwrite=False)
        changes |= self._fill(
            spec, row,
            ("name", "short_name", "description", "image", "sector", "group", "product_set",
             "taxonomy_basis"),
            overwrite=True,
        )  # fmt: skip
        self._update("products", row, changes)

    def _compare_cert(self, spec: _CertSpec, row: Certification) -> None:
        target_id = (
            (self.db_products[spec.product].id if spec.product in self.db_products else None)
            if spec.product
            else None
        )
        facility_id = (
            (self.db_facilities[spec.facility].id if spec.facility in self.db_facilities else None)
            if spec.facility
            else None
        )
        fixed = {
            "product": (target_id, row.product_id),
            "facility": (facility_id, row.facility_id),
            "stars": (spec.stars, row.stars),
            "score": (spec.score, row.score),
            "level": (spec.level, row.level),
            "issuing_body": (spec.issuing_body, row.issuing_body),
            "decision_number": (spec.decision_number, row.decision_number),
            "decision_date": (spec.decision_date, row.decision_date),
            "legal_basis": (spec.legal_basis, row.legal_basis),
            "valid_from": (spec.valid_from, row.valid_from),
            "valid_until": (spec.valid_until, row.valid_until),
        }
        for name, (new, old) in fixed.items():
            if new != old:
                raise ConflictingRecord(
                    f"certificate {spec.scheme}/{spec.number} is recorded with {name} "
                    f"{_plain(old)}, not {_plain(new)}; a certificate is kept as issued: record "
                    "a new certificate and mark this one superseded",
                    f"{spec.path}.{name}",
                )
        self._update("certifications", row, self._change_status(spec, row))

    def _change_status(self, spec: _CertSpec, row: Certification) -> dict[str, Any]:
        if spec.status == row.status and spec.status_reason in (None, row.status_reason):
            return {}
        if row.status is not CertStatus.VALID or spec.status is CertStatus.VALID:
            raise ConflictingRecord(
                f"certificate {spec.scheme}/{spec.number} is {row.status}; only a valid "
                "certificate can become expired, revoked or superseded",
                f"{spec.path}.status",
            )
        return {
            "status": spec.status,
            "status_reason": spec.status_reason,
            "status_changed_at": self.now,
        }

    def _compare_lot(self, spec: _LotSpec, row: Row[Any]) -> None:
        refs = {
            "product": (self._product_id(spec.product), row.product_id),
            "facility": (self._facility_id(spec.facility), row.facility_id),
            "owner": (self._org_id(spec.owner), row.owner_id),
        }
        for name, (new, old) in refs.items():
            if getattr(spec, name) is not None and new != old:
                raise ConflictingRecord(
                    f"lot {spec.code!r} is recorded with another {name}; lots are kept as recorded",
                    f"{spec.path}.{name}",
                )
        changes = {}
        for name in ("item", "produced_on", "best_before", "quantity", "unit"):
            new, old = getattr(spec, name), getattr(row, name)
            if new is None or new == old:
                continue
            if old is not None:
                raise ConflictingRecord(
                    f"lot {spec.code!r} is recorded with {name} {_plain(old)}, not {_plain(new)}; "
                    "lots are kept as recorded",
                    f"{spec.path}.{name}",
                )
            changes[name] = new
        if changes:
            self.lot_updates.append({"id": row.id, **changes})
            self.tally.updated["lots"] += 1
        else:
            self.tally.unchanged["lots"] += 1

    def _product_id(self, code: str | None) -> int | None:
        row = self.db_products.get(code) if code else None
        return row.id if row else None

    def _facility_id(self, code: str | None) -> int | None:
        row = self.db_facilities.get(code) if code else None
        return row.id if row else None

    def _org_id(self, tax_code: str | None) -> int | None:
        return self.org_ids.get(tax_code) if tax_code else None

    def _compare_events(self, specs: list[_EventSpec]) -> None:
        if not specs:
            return
        ids = [self.db_events[e.event_id].id for e in specs]
        # Every lot the file's events name is in db_lots already: no join needed
        # (and none for PostgreSQL's planner to get wrong on freshly loaded tables).
        codes: dict[int, Any] = {row.id: code for code, row in self.db_lots.items()}
        links: dict[int, set[tuple[Any, ...]]] = {}
        for chunk in _chunks(ids):
            rows = self.session.execute(
                select(
                    EventLot.event_id,
                    EventLot.lot_id,
                    EventLot.role,
                    EventLot.quantity,
                    EventLot.unit,
                ).where(EventLot.event_id.in_(chunk))
            )
            for event_id, lot_id, role, quantity, unit in rows:
                code = codes.get(lot_id, ("lot id", lot_id))
                links.setdefault(event_id, set()).add((code, LotRole(role), quantity, unit))
        stored_ids = {row.id: key for key, row in self.db_events.items()}
        for spec in specs:
            row = self.db_events[spec.event_id]
            difference = self._event_difference(spec, row, links.get(row.id, set()), stored_ids)
            if difference:
                raise ConflictingRecord(
                    f"event {spec.event_id!r} already exists with different content "
                    f"({difference}); events are append-only: send a correction event "
                    "with `corrects`",
                    spec.path,
                )
            self.tally.unchanged["events"] += 1

    def _event_difference(
        self,
        spec: _EventSpec,
        row: Row[Any],
        links: set[tuple[Any, ...]],
        stored_ids: dict[int, str],
    ) -> str | None:
        organisation = spec.organisation or self.facility_org(spec.facility or "", spec.path)
        corrects = stored_ids.get(row.corrects_id) if row.corrects_id else None
        if row.corrects_id and corrects is None:
            corrects = self.session.scalar(
                select(Event.event_id).where(Event.id == row.corrects_id)
            )
        checks = {
            "type": (spec.type, row.type),
            "action": (spec.action, row.action),
            "biz_step": (spec.biz_step, row.biz_step),
            "disposition": (spec.disposition, row.disposition),
            "time": ((spec.time, spec.time_zone), (_utc(row.event_time), row.time_zone)),
            "facility": (self._facility_id(spec.facility), row.facility_id),
            "organisation": (self._org_id(organisation), row.organisation_id),
            "corrects": (spec.corrects, corrects),
            "reason": (spec.reason, row.reason),
            "documents": (spec.documents, row.documents),
        }
        for name, (new, old) in checks.items():
            if new != old:
                return f"{name} differs"
        wanted = {(x.lot, x.role, x.quantity, x.unit) for x in spec.links}
        if _normal_links(wanted) != _normal_links(links):
            return "lots differ"
        return None

    # ---- writing

    def write(self) -> None:
        for row, changes in self.row_updates:
            for name, value in changes.items():
                setattr(row, name, value)
        org_ids = dict(self.org_ids)
        org_ids.update(
            self._insert(
                Organisation, Organisation.tax_code, [self._org_row(o) for o in self.new_orgs]
            )
        )
        self.tally.created["organisations"] += len(self.new_orgs)
        self._insert_addresses(org_ids)
        facility_ids = {code: row.id for code, row in self.db_facilities.items()}
        facility_ids.update(
            self._insert(
                Facility,
                Facility.code,
                [self._facility_row(f, org_ids) for f in self.new_facilities],
            )
        )
        self.tally.created["facilities"] += len(self.new_facilities)
        product_ids = {code: row.id for code, row in self.db_products.items()}
        product_ids.update(
            self._insert(
                Product, Product.code, [self._product_row(x, org_ids) for x in self.new_products]
            )
        )
        self.tally.created["products"] += len(self.new_products)
        cert_rows = [self._cert_row(c, product_ids, facility_ids) for c in self.new_certs]
        if cert_rows:
            _bulk_insert(self.session, Certification, cert_rows, self.now)
        self.tally.created["certifications"] += len(cert_rows)
        lot_ids = {code: row.id for code, row in self.db_lots.items()}
        lot_rows = [self._lot_row(x, product_ids, facility_ids, org_ids) for x in self.new_lots]
        lot_ids.update(self._insert(Lot, Lot.code, lot_rows))
        if self.lot_updates:
            self.session.execute(update(Lot), self.lot_updates)
        self.tally.created["lots"] += len(lot_rows)
        self._write_events(org_ids, facility_ids, lot_ids)
        self._write_recalls(org_ids, lot_ids)

    def _insert(self, model: Any, key: Any, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert ``rows`` in bulk; their new ids by natural key."""
        if not rows:
            return {}
        # Not INSERT ... RETURNING: to keep ids in order SQLAlchemy falls back to
        # one statement per row here. One executemany, then one SELECT of the rows
        # above the previous highest id (a concurrent writer's rows, possible on
        # PostgreSQL, are told apart by their keys) is far faster on both engines.
        before = self.session.scalar(select(func.max(model.id))) or 0
        _bulk_insert(self.session, model, rows, self.now)
        wanted = {row[key.key] for row in rows}
        found = self.session.execute(select(model.id, key).where(model.id > before))
        ids = {k: i for i, k in found if k in wanted}
        assert len(ids) == len(wanted)
        return ids

    def _org_row(self, o: _OrgSpec) -> dict[str, Any]:
        return {
            "tax_code": o.tax_code, "kind": o.kind, "name": o.name, "short_name": o.short_name,
            "phone": o.phone, "email": o.email, "website": o.website, "sample": self.sample,
        }  # fmt: skip

    def _insert_addresses(self, org_ids: Mapping[str, int]) -> None:
        rows = [
            {
                "organisation_id": org_ids[tax_code], "street": a.street, "commune": a.commune,
                "district": a.district, "province": a.province, "country": a.country,
                "effective_from": a.effective_from, "note": a.note,
            }
            for tax_code, a in self.new_addresses
        ]  # fmt: skip
        if rows:
            _bulk_insert(self.session, Address, rows, self.now)
        self.tally.created["addresses"] += len(rows)

    def _facility_row(self, f: _FacilitySpec, org_ids: Mapping[str, int]) -> dict[str, Any]:
        return {
            "code": f.code, "organisation_id": org_ids[f.organisation], "kind": f.kind,
            "name": f.name, "gln": f.gln, "planting_area_code": f.planting_area_code,
            "crop": f.crop, "area_ha": f.area_ha, "latitude": f.latitude,
            "longitude": f.longitude, "address": f.address,
        }  # fmt: skip

    def _product_row(self, x: _ProductSpec, org_ids: Mapping[str, int]) -> dict[str, Any]:
        return {
            "code": x.code, "producer_id": org_ids[x.producer], "name": x.name,
            "short_name": x.short_name, "description": x.description, "gtin": x.gtin,
            "image": x.image, "sector": x.sector, "group": x.group, "product_set": x.product_set,
            "taxonomy_basis": x.taxonomy_basis,
        }  # fmt: skip

    def _cert_row(
        self, c: _CertSpec, product_ids: Mapping[str, int], facility_ids: Mapping[str, int]
    ) -> dict[str, Any]:
        return {
            "scheme": c.scheme, "number": c.number,
            "product_id": product_ids[c.product] if c.product else None,
            "facility_id": facility_ids[c.facility] if c.facility else None,
            "stars": c.stars, "score": c.score, "level": c.level, "issuing_body": c.issuing_body,
            "decision_number": c.decision_number, "decision_date": c.decision_date,
            "legal_basis": c.legal_basis, "valid_from": c.valid_from, "valid_until": c.valid_until,
            "status": c.status, "status_reason": c.status_reason,
            "status_changed_at": self.now if c.status is not CertStatus.VALID else None,
        }  # fmt: skip

    def _lot_row(
        self,
        x: _LotSpec,
        product_ids: Mapping[str, int],
        facility_ids: Mapping[str, int],
        org_ids: Mapping[str, int],
    ) -> dict[str, Any]:
        owner = x.owner
        if owner is None and x.product is not None:
            owner = self.product_producer(x.product, x.path)
        if owner is None and x.facility is not None:
            owner = self.facility_org(x.facility, x.path)
        assert owner is not None
        return {
            "code": x.code, "product_id": product_ids[x.product] if x.product else None,
            "item": x.item, "facility_id": facility_ids[x.facility] if x.facility else None,
            "owner_id": org_ids[owner], "produced_on": x.produced_on,
            "best_before": x.best_before, "quantity": x.quantity, "unit": x.unit,
        }  # fmt: skip

    def _write_events(
        self,
        org_ids: Mapping[str, int],
        facility_ids: Mapping[str, int],
        lot_ids: Mapping[str, int],
    ) -> None:
        events = self.new_events
        self.tally.created["events"] += len(events)
        if not events:
            return
        event_ids = {key: row.id for key, row in self.db_events.items()}
        rows = []
        facility_orgs: dict[str, str] = {}
        for e in events:
            organisation = e.organisation
            if organisation is None:
                assert e.facility is not None
                organisation = facility_orgs.get(e.facility) or self.facility_org(
                    e.facility, e.path
                )
                facility_orgs[e.facility] = organisation
            rows.append(
                {
                    "event_id": e.event_id, "type": e.type, "action": e.action,
                    "biz_step": e.biz_step, "disposition": e.disposition, "event_time": e.time,
                    "time_zone": e.time_zone,
                    "facility_id": facility_ids[e.facility] if e.facility else None,
                    "organisation_id": org_ids[organisation],
                    # A correction of an event in this same file gets its pointer below,
                    # once that event has an id.
                    "corrects_id": event_ids.get(e.corrects) if e.corrects else None,
                    "reason": e.reason, "documents": e.documents, "sample": self.sample,
                }
            )  # fmt: skip
        event_ids.update(self._insert(Event, Event.event_id, rows))
        links = [
            {
                "event_id": event_ids[e.event_id], "lot_id": lot_ids[x.lot], "role": x.role,
                "quantity": x.quantity, "unit": x.unit,
            }
            for e in events
            for x in e.links
        ]  # fmt: skip
        _bulk_insert(self.session, EventLot, links, self.now)
        late = [
            {"id": event_ids[e.event_id], "corrects_id": event_ids[e.corrects]}
            for e in events
            if e.corrects and e.corrects not in self.db_events
        ]
        if late:
            self.session.execute(update(Event), late)

    def _write_recalls(self, org_ids: Mapping[str, int], lot_ids: Mapping[str, int]) -> None:
        if not self.p.recalls:
            return
        ids = [lot_ids[r.lot] for r in self.p.recalls]
        stored = {
            (lot_id, notice, _utc(at))
            for lot_id, notice, at in self.session.execute(
                select(Recall.lot_id, Recall.notice, Recall.recalled_at).where(
                    Recall.lot_id.in_(ids)
                )
            )
        }
        rows = []
        for r in self.p.recalls:
            key = (lot_ids[r.lot], r.notice, r.at)
            if key in stored:
                self.tally.unchanged["recalls"] += 1
                continue
            stored.add(key)
            rows.append(
                {
                    "lot_id": key[0], "notice": r.notice, "recalled_at": r.at,
                    "recalled_by_id": org_ids[r.by] if r.by else None,
                }
            )  # fmt: skip
        if rows:
            _bulk_insert(self.session, Recall, rows, self.now)
        self.tally.created["recalls"] += len(rows)


def _bulk_insert(
    session: Session, model: Any, rows: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """INSERT ``rows`` (every one with the same keys) as one executemany per chunk.

    Neither the ORM's bulk INSERT (it splits the rows at every change in which
    columns are null: one statement per row for alternating raw and product
    lots) nor Core's (a parameter dict and a type conversion call per value)
    keeps up with a 100,000-event file. This converts column by column with
    each column type's own bind processor and hands tuples to the driver.
    """
    if not rows:
        return
    table = model.__table__
    connection = session.connection()
    dialect = connection.dialect
    # Python-side defaults (created_at, flags), which Core would fill in per row.
    defaults = {
        c.key: now if c.default.is_callable else c.default.arg  # type: ignore[attr-defined]
        for c in table.c
        if c.default is not None and c.key not in rows[0]
    }
    compiled = insert(table).compile(dialect=dialect, column_keys=[*rows[0], *defaults])
    names = list(compiled.positiontup or compiled.binds)
    for chunk in _chunks(rows, 20000):
        columns = [_column_values(table.c[n], dialect, chunk, defaults) for n in names]
        params: list[Any] = list(zip(*columns, strict=True))
        if dialect.name == "postgresql":
            _copy(connection, table, names, params)
        elif compiled.positiontup is None:
            connection.exec_driver_sql(
                compiled.string, [dict(zip(names, values, strict=True)) for values in params]
            )
        else:
            connection.exec_driver_sql(compiled.string, params)


def _copy(
    connection: Any, table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    # PostgreSQL checks foreign keys row by row whatever the statement; COPY
    # still takes a third of the time of batched INSERTs.
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(table.c[n].name) for n in names)
    sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _column_values(
    column: Any, dialect: Any, rows: Sequence[Mapping[str, Any]], defaults: Mapping[str, Any]
) -> list[Any]:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if column.key in defaults:
        value = defaults[column.key]
        return [process(value) if process and value is not None else value] * len(rows)
    values = [row[column.key] for row in rows]
    if process is None:
        return values
    return [None if v is None else process(v) for v in values]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _normal_links(links: Iterable[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    # Decimal("2.500") == Decimal("2.5"), but their hashes in a set must agree too.
    return {
        (lot, role, q.normalize() if q is not None else None, unit) for lot, role, q, unit in links
    }


def _describe(row: Any) -> str:
    if isinstance(row, Facility):
        return f"facility {row.code!r}"
    if isinstance(row, Product):
        return f"product {row.code!r}"
    return type(row).__name__.lower()


def _plain(value: object) -> str:
    if isinstance(value, StrEnum):
        return repr(value.value)
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return repr(value)


# --------------------------------------------------------------------------- entry points


def import_records(
    session: Session,
    data: Mapping[str, Any],
    *,
    sample: bool = False,
    now: dt.datetime | None = None,
) -> ImportSummary:
    """Import ``data`` (the JSON format of docs/import-format.md) into ``session``.

    All or nothing: the first problem raises :class:`InvalidRecord` (or a subclass)
    naming its JSON path, and nothing is written. Importing the same data again
    creates nothing. The caller commits.
    """
    now = now or utcnow()
    with _collector_paused():
        job = _Import(session, _read(data, now), sample=sample, now=now)
        job.load()
        job.check_references()
        job.check_unique_identifiers()
        job.compare()
        job.check_corrections()
        job.check_genealogy()
        _write(session, job)
    return job.tally.summary()


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A big file makes millions of small objects that all live until the end;
    # the cycle collector would walk them again and again for nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write(session: Session, job: _Import) -> None:
    # The SAVEPOINT undoes a half-done write even if the caller goes on to commit.
    savepoint = session.begin_nested()
    try:
        job.write()
        session.flush()
        _refresh_statistics(session, job.tally.created)
    except IntegrityError as error:
        savepoint.rollback()
        raise TraceError(
            "the database refused the import, most likely because another import wrote "
            f"the same records at the same moment; run it again ({_first_line(error)})"
        ) from None
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


# Past this many new rows PostgreSQL's statistics of a table are stale enough for
# its planner to pick nested loops over "empty" tables until autovacuum runs.
_ANALYZE_AFTER = 10_000


def _refresh_statistics(session: Session, created: Mapping[str, int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    tables = {"lots": ["lots"], "events": ["events", "event_lots"]}
    for kind, names in tables.items():
        if created.get(kind, 0) >= _ANALYZE_AFTER:
            for name in names:
                session.execute(text(f"ANALYZE {name}"))


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", error)).strip().splitlines()[0][:200]


def sample_data() -> dict[str, Any]:
    """The demo records of ``sample.json`` (Thái Bình's OCOP pilot), as parsed JSON."""
    raw = (resources.files("ocop.trace") / "sample.json").read_bytes()
    return parse_import_bytes(raw, "sample.json")


def load_sample(session: Session) -> ImportSummary:
    """Load the demo records through the ordinary import, marked as sample; safe to rerun."""
    return import_records(session, sample_data(), sample=True)


__all__ = [
    "BIZ_STEPS",
    "CBV_BIZ_STEPS",
    "DEFAULT_VALIDITY_MONTHS",
    "FORMAT",
    "OCOP_BIZ_STEPS",
    "UNITS",
    "ImportSummary",
    "import_records",
    "is_uri",
    "load_import_file",
    "load_sample",
    "parse_import_bytes",
    "sample_data",
]
