"""Events from a spreadsheet: a CSV file read into the import format, all or nothing.

One row per lot of an event; the rows that share an ``event_id`` make one event
(docs/import-format.md, "Events as CSV"). This module only reads: it turns the
bytes into the JSON document :func:`ocop.trace.importer.import_records` takes, so
every rule about events stays the importer's. It remembers which row and column
each value came from, so that an error the importer raises about
``$.events[3].lots[1].quantity`` can be told to the user as "row 9, column
quantity", the way a spreadsheet shows the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cells import spreadsheet_safe
from .db import VIETNAM
from .errors import ImportFileError, InvalidRecord, Phrase
from .importer.reading import TextFormat, decode_text, nfc
from .importer.vocabulary import FORMAT
from .models import EventType

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
# A local reference is written by people; a longer one is a pasted cell gone wrong.
MAX_REFERENCE = 100

EVENT_COLUMNS = (
    "event_id", "type", "action", "biz_step", "time", "facility", "disposition",
    "document_type", "document_id", "corrects", "reason",
)  # fmt: skip
LINE_COLUMNS = ("lot", "role", "quantity", "unit")
COLUMNS = (*EVENT_COLUMNS[:6], *LINE_COLUMNS, *EVENT_COLUMNS[6:])
REQUIRED_COLUMNS = ("event_id", "type", "biz_step", "time", "lot")

TRANSFORMATION = EventType.TRANSFORMATION.value
_TYPES = {t.value.lower(): t.value for t in EventType}
_SECTIONS = {"object": "lots", "input": "inputs", "output": "outputs"}

# Local references become name-based UUIDs: the same organisation and reference
# give the same event id in every upload, which is what makes a second upload of
# a file create nothing.
_NAMESPACE = uuid.UUID("896ba90b-502d-42b0-afa0-a54ea11c5ced")
_URI_PREFIXES = ("urn:", "http://", "https://")

_DOCUMENT_COLUMNS = {"type": "document_type", "id": "document_id"}

_CSV_TEXT = TextFormat(
    save_as="CSV UTF-8",
    not_text=Phrase("is a binary file or holds NUL characters, not CSV text"),
    workbook=Phrase(
        "is an Excel workbook or a ZIP, not CSV; in Excel choose "
        "Save As > CSV UTF-8 (Comma delimited)"
    ),
)


def _at(row: int, column: str | None = None) -> Phrase:
    """Where a value is in the file, in the reader's words: "row 3, column time"."""
    if column is None:
        return Phrase("row %(row)s", row=row)
    return Phrase("row %(row)s, column %(column)s", row=row, column=column)


def _is_derived(reference: str) -> bool:
    # Ids derived here from other organisations' references are predictable:
    # taking one first would block their event (or receipt) for good.
    if not reference.lower().startswith("urn:uuid:"):
        return False
    try:
        return uuid.UUID(reference[9:]).version == 5
    except ValueError:
        return False


def local_event_id(organisation: str, reference: str) -> str:
    """The event id (``urn:uuid:...``) of ``reference``, an organisation's own name for it."""
    name = f"{organisation}:{nfc(reference)}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


@dataclass(frozen=True, slots=True)
class EventRef:
    """One event of the file: how the file names it, its id, and its first row."""

    reference: str
    event_id: str
    row: int
    type: str
    biz_step: str
    lots: int


@dataclass(frozen=True, slots=True)
class EventCsv:
    """A CSV file read into an import document, with where each value came from."""

    document: dict[str, Any]
    rows: int
    events: Sequence[EventRef]
    origins: Mapping[str, tuple[int, str | None]] = field(repr=False)

    def locate(self, error: InvalidRecord) -> InvalidRecord:
        """``error`` (about a JSON path of :attr:`document`) told as a row and column."""
        path = error.path
        while path:
            if path in self.origins:
                row, column = self.origins[path]
                return type(error)(error.reason, _at(row, column))
            path = path[: max(path.rfind("."), path.rfind("["), 0)]
        return error


def parse_events_csv(raw: bytes, *, organisation: str, name: str = "file") -> EventCsv:
    """Read ``raw`` (a CSV file called ``name``) as events recorded by ``organisation``.

    :class:`ImportFileError` says why the file as a whole cannot be read;
    :class:`InvalidRecord` names the row (numbered as a spreadsheet does, the
    header being row 1) and the column of the first bad value.
    """
    if len(raw) > MAX_BYTES:
        raise ImportFileError(
            "%(name)s: is %(size)s bytes; a file may have at most %(limit)s bytes (1 MiB): "
            "split it into several files",
            name=name,
            size=f"{len(raw):,}",
            limit=f"{MAX_BYTES:,}",
        )
    records = _records(decode_text(raw, name, _CSV_TEXT))
    header = _header(records, name)
    reader = _Reader(organisation)
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and rows of empty cells, as spreadsheets leave them
        if reader.rows >= MAX_ROWS:
            raise ImportFileError(
                "%(name)s: has more than %(limit)s rows; split it into several files",
                name=name,
                limit=f"{MAX_ROWS:,}",
            )
        if len(cells) != len(header):
            raise InvalidRecord(
                "has %(cells)s cells but the header has %(columns)s; "
                "is the file cut short, or a value with a comma not in quotes?",
                _at(number),
                cells=len(cells),
                columns=len(header),
            )
        reader.add(number, dict(zip(header, (cell.strip() for cell in cells), strict=True)))
    if not reader.rows:
        raise ImportFileError("%(name)s: has a header but no rows of events", name=name)
    return reader.result()


def write_events_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV file of ``rows`` (dicts by column name) that :func:`parse_events_csv` reads.

    It starts with a byte order mark so that Excel shows Vietnamese letters right;
    a cell that a spreadsheet would run as a formula is written as text.
    """
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- the file


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of each record; a record may span lines inside quotes."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader's own words (``unexpected end of data``) are Python's, in English.
            raise InvalidRecord(
                "is not valid CSV (%(problem)s); is the file cut short or a quote not closed?",
                _at(number),
                problem=str(error),
            ) from None
        yield number, cells


def _header(records: Iterator[tuple[int, list[str]]], name: str) -> list[str]:
    for _number, cells in records:
        if any(cell.strip() for cell in cells):
            break
    else:
        raise ImportFileError("%(name)s: is empty", name=name)
    header = [cell.strip().lower() for cell in cells]
    if len(header) == 1 and ";" in header[0]:
        raise ImportFileError(
            "%(name)s: is separated by semicolons; this format uses commas "
            "(in Excel: Save As > CSV UTF-8 (Comma delimited))",
            name=name,
        )
    if not set(header) & set(COLUMNS):
        raise ImportFileError(
            "%(name)s: the first row must be the header naming the columns "
            "(%(columns)s); found %(found)r",
            name=name,
            columns=",".join(COLUMNS),
            found=",".join(cells)[:80],
        )
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise InvalidRecord(
                "column %(position)s has no name; remove the empty column",
                _at(1),
                position=position,
            )
        if column not in COLUMNS:
            raise InvalidRecord(
                "unknown column %(column)r; the columns are %(columns)s",
                _at(1),
                column=column,
                columns=", ".join(COLUMNS),
            )
        if column in seen:
            raise InvalidRecord("column %(column)r appears twice", _at(1), column=column)
        seen.add(column)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise InvalidRecord("the column %(column)r is missing", _at(1), column=missing[0])
    return header


# --------------------------------------------------------------------------- the rows


@dataclass(slots=True)
class _Line:
    row: int
    lot: str
    role: str | None
    quantity: str | None
    unit: str | None


@dataclass(slots=True)
class _Event:
    reference: str
    event_id: str
    first_row: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)  # column -> (value, row)
    lines: list[_Line] = field(default_factory=list)


class _Reader:
    def __init__(self, organisation: str) -> None:
        self.organisation = organisation
        self.events: dict[str, _Event] = {}
        self.rows = 0

    def add(self, number: int, cells: Mapping[str, str]) -> None:
        self.rows += 1
        reference = _required(cells, "event_id", number)
        event = self.events.get(reference) or self._new_event(reference, number)
        for column in EVENT_COLUMNS[1:]:
            value = cells.get(column)
            if not value:
                continue
            value = _normal(column, value)
            given = event.values.get(column)
            if given is None:
                event.values[column] = (value, number)
            elif given[0] != value:
                raise InvalidRecord(
                    "%(value)r differs from %(given)r on row %(row)s; the rows of "
                    "event %(event)r must agree (or leave the cell empty)",
                    _at(number, column),
                    value=value,
                    given=given[0],
                    row=given[1],
                    event=reference,
                )
        event.lines.append(
            _Line(
                row=number,
                lot=_required(cells, "lot", number),
                role=cells.get("role", "").lower() or None,
                quantity=cells.get("quantity") or None,
                unit=cells.get("unit") or None,
            )
        )

    def _new_event(self, reference: str, number: int) -> _Event:
        event_id = self._event_id(reference, _at(number, "event_id"))
        event = _Event(reference, event_id, number)
        self.events[reference] = event
        return event

    def _event_id(self, reference: str, where: Phrase) -> str:
        if reference.startswith(_URI_PREFIXES):
            if _is_derived(reference):
                raise InvalidRecord(
                    "is a name-based (version 5) urn:uuid, the kind this service derives for "
                    "events from references, forms and receipts; give your own reference or a "
                    "random (version 4) urn:uuid instead",
                    where,
                )
            return reference
        if len(reference) > MAX_REFERENCE:
            raise InvalidRecord(
                "is %(length)s characters long; at most %(limit)s are allowed",
                where,
                length=len(reference),
                limit=MAX_REFERENCE,
            )
        return local_event_id(self.organisation, reference)

    def result(self) -> EventCsv:
        origins: dict[str, tuple[int, str | None]] = {}
        events, refs = [], []
        for i, event in enumerate(self.events.values()):
            path = f"$.events[{i}]"
            events.append(self._event_json(event, path, origins))
            kind = event.values.get("type", ("", 0))[0]
            step = event.values.get("biz_step", ("", 0))[0]
            refs.append(
                EventRef(event.reference, event.event_id, event.first_row, kind, step,
                         len(event.lines))
            )  # fmt: skip
        document = {"format": FORMAT, "events": events}
        return EventCsv(document, self.rows, refs, origins)

    def _event_json(
        self, event: _Event, path: str, origins: dict[str, tuple[int, str | None]]
    ) -> dict[str, Any]:
        origins[path] = (event.first_row, None)
        origins[f"{path}.id"] = (event.first_row, "event_id")
        out: dict[str, Any] = {"id": event.event_id}
        for column in ("type", "action", "biz_step", "time", "facility", "disposition",
                       "corrects", "reason"):  # fmt: skip
            value, row = event.values.get(column, (None, event.first_row))
            origins[f"{path}.{column}"] = (row, column)
            if value is None:
                continue
            if column == "time":
                value = _time(value, row)
            elif column == "corrects":
                value = self._event_id(value, _at(row, "corrects"))
            out[column] = value
        out["organisation"] = self.organisation
        self._documents(event, path, out, origins)
        for section in _SECTIONS.values():
            origins[f"{path}.{section}"] = (event.first_row, "lot")
        transformation = out.get("type") == TRANSFORMATION
        for line in event.lines:
            section = self._section(event, line, transformation)
            items = out.setdefault(section, [])
            line_path = f"{path}.{section}[{len(items)}]"
            origins[line_path] = (line.row, None)
            item: dict[str, Any] = {"lot": line.lot}
            for column in LINE_COLUMNS:
                origins[f"{line_path}.{column}"] = (line.row, column)
            if line.quantity is not None:
                item["quantity"] = line.quantity
            if line.unit is not None:
                item["unit"] = line.unit
            items.append(item)
        if transformation and not ("inputs" in out and "outputs" in out):
            raise InvalidRecord(
                "event %(event)r is a %(type)s: it needs rows with the "
                "role input (what went in) and rows with the role output (what came out)",
                _at(event.first_row, "role"),
                event=event.reference,
                type=TRANSFORMATION,
            )
        return out

    @staticmethod
    def _section(event: _Event, line: _Line, transformation: bool) -> str:
        where = _at(line.row, "role")
        if transformation:
            if line.role not in ("input", "output"):
                raise InvalidRecord(
                    "the rows of a %(type)s need the role input or output, not %(role)s",
                    where,
                    type=TRANSFORMATION,
                    role=repr(line.role) if line.role else Phrase("an empty cell"),
                )
        elif line.role not in (None, "object"):
            if line.role in _SECTIONS:
                raise InvalidRecord(
                    "the role %(role)r is for the rows of a %(type)s; "
                    "event %(event)r is not one (leave the role empty or write object)",
                    where,
                    role=line.role,
                    type=TRANSFORMATION,
                    event=event.reference,
                )
            raise InvalidRecord(
                "unknown role %(role)r; use object, input or output", where, role=line.role
            )
        return _SECTIONS[line.role or "object"]

    @staticmethod
    def _documents(
        event: _Event, path: str, out: dict[str, Any], origins: dict[str, tuple[int, str | None]]
    ) -> None:
        given = {key: event.values[c] for key, c in _DOCUMENT_COLUMNS.items() if c in event.values}
        if not given:
            return
        first_row = min(row for _value, row in given.values())
        origins[f"{path}.documents"] = (first_row, "document_type")
        origins[f"{path}.documents[0]"] = (first_row, "document_type")
        for key, column in _DOCUMENT_COLUMNS.items():
            row = given[key][1] if key in given else first_row
            origins[f"{path}.documents[0].{key}"] = (row, column)
        out["documents"] = [{key: value for key, (value, _row) in given.items()}]


def _required(cells: Mapping[str, str], column: str, number: int) -> str:
    value = cells.get(column)
    if not value:
        raise InvalidRecord("is required", _at(number, column))
    return value


def _normal(column: str, value: str) -> str:
    """Spellings a spreadsheet user may pick, made the importer's."""
    if column == "type":
        return _TYPES.get(value.lower(), value)
    if column == "action":
        return value.upper()
    if column in ("biz_step", "disposition", "document_type"):
        return value.lower()
    return value


def _time(value: str, row: int) -> str:
    """The time with its offset; a time written without one is Vietnam's (+07:00)."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or not any(sep in value.upper() for sep in ("T", " ")):
        raise InvalidRecord(
            "%(value)r is not a date and time such as 2025-06-12 06:30 (Vietnam time) "
            "or 2025-06-12T06:30:00+07:00",
            _at(row, "time"),
            value=value,
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=VIETNAM).isoformat()
    return value


__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "REQUIRED_COLUMNS",
    "EventCsv",
    "EventRef",
    "local_event_id",
    "parse_events_csv",
    "write_events_csv",
]
