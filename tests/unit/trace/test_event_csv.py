"""Events from CSV: rows grouped into events, every refusal naming its row and column."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ocop.trace.errors import ConflictingRecord, GenealogyCycle, ImportFileError, InvalidRecord
from ocop.trace.event_csv import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    local_event_id,
    parse_events_csv,
    write_events_csv,
)
from ocop.trace.importer import import_records
from ocop.trace.models import Event, LotRole

from .documents import COOP, chain, row_counts

HEADER = "event_id,type,action,biz_step,time,facility,lot,role,quantity,unit,disposition"
ROWS = [
    "H1,ObjectEvent,ADD,harvesting,2025-06-12 06:30,AREA,RICE,object,100,kg,active",
    "T1,TransformationEvent,,transforming,2025-09-15T05:30:00+07:00,PLANT,RICE,input,60,kg,",
    "T1,,,,,,NUTS,input,10,kg,",
    "T1,,,,,,BC-1,output,300,box,",
]


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode("utf-8")


def parse(raw: bytes) -> Any:
    return parse_events_csv(raw, organisation=COOP, name="events.csv")


def refused(raw: bytes, where: str, says: str | None = None) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        parse(raw)
    assert caught.value.path == where, str(caught.value)
    assert str(caught.value).startswith(f"{where}: ")
    if says is not None:
        assert says in str(caught.value)
    return caught.value


def file_refused(raw: bytes, says: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        parse(raw)
    assert says in str(caught.value)
    assert str(caught.value).startswith("events.csv: ")


# --------------------------------------------------------------------------- reading


def test_rows_with_one_event_id_make_one_event() -> None:
    parsed = parse(csv_bytes(*ROWS))
    harvest, making = parsed.document["events"]
    assert parsed.rows == 4
    assert harvest == {
        "id": local_event_id(COOP, "H1"),
        "type": "ObjectEvent",
        "action": "ADD",
        "biz_step": "harvesting",
        "time": "2025-06-12T06:30:00+07:00",
        "facility": "AREA",
        "disposition": "active",
        "organisation": COOP,
        "lots": [{"lot": "RICE", "quantity": "100", "unit": "kg"}],
    }
    assert making["inputs"] == [
        {"lot": "RICE", "quantity": "60", "unit": "kg"},
        {"lot": "NUTS", "quantity": "10", "unit": "kg"},
    ]
    assert making["outputs"] == [{"lot": "BC-1", "quantity": "300", "unit": "box"}]
    assert "action" not in making
    assert [(e.reference, e.row, e.lots) for e in parsed.events] == [("H1", 2, 1), ("T1", 3, 3)]


def test_local_references_give_the_same_id_every_time_and_uris_are_kept() -> None:
    assert local_event_id(COOP, "H1") == local_event_id(COOP, "H1")
    assert local_event_id(COOP, "H1") != local_event_id("0000000001", "H1")
    assert local_event_id(COOP, "H1").startswith("urn:uuid:")
    uri = "urn:uuid:00000000-0000-4000-8000-000000000099"
    parsed = parse(csv_bytes(ROWS[0].replace("H1", uri, 1)))
    assert parsed.document["events"][0]["id"] == uri


def test_byte_order_mark_windows_line_endings_and_blank_rows() -> None:
    raw = b"\xef\xbb\xbf" + csv_bytes(ROWS[0], "", ",,,,,,,,,,", *ROWS[1:], newline="\r\n")
    parsed = parse(raw)
    assert len(parsed.document["events"]) == 2
    # Blank rows still count, as a spreadsheet numbers them.
    assert parsed.events[1].row == 5


def test_header_is_read_in_any_order_and_case() -> None:
    raw = csv_bytes("RICE,H1,ObjectEvent,harvesting,ADD,2025-06-12 06:30", header=(
        "Lot,EVENT_ID,type,biz_step,action,time"
    ))  # fmt: skip
    assert parse(raw).document["events"][0]["lots"] == [{"lot": "RICE"}]


def test_spellings_are_made_the_importers() -> None:
    parsed = parse(csv_bytes("H1,objectevent,add,Harvesting,2025-06-12 06:30,AREA,RICE,,,,"))
    event = parsed.document["events"][0]
    assert (event["type"], event["action"], event["biz_step"]) == (
        "ObjectEvent",
        "ADD",
        "harvesting",
    )


def test_a_correction_names_the_corrected_event_by_its_reference() -> None:
    header = HEADER + ",corrects,reason"
    parsed = parse(csv_bytes(ROWS[0].replace("H1,", "H2,") + ",H1,Sai số lượng", header=header))
    event = parsed.document["events"][0]
    assert event["corrects"] == local_event_id(COOP, "H1")
    assert event["reason"] == "Sai số lượng"


def test_a_missing_value_is_told_at_its_column() -> None:
    parsed = parse(csv_bytes(ROWS[0].replace(",ADD,", ",,")))
    error = InvalidRecord("is required", "$.events[0].action")
    assert str(parsed.locate(error)) == "row 2, column action: is required"


def test_a_document_column_pair_becomes_the_events_document() -> None:
    header = "event_id,type,action,biz_step,time,lot,document_type,document_id"
    parsed = parse(
        csv_bytes(
            "S1,ObjectEvent,OBSERVE,shipping,2025-09-20 06:00,BC-1,desadv,PXK-1", header=header
        )
    )
    assert parsed.document["events"][0]["documents"] == [{"type": "desadv", "id": "PXK-1"}]


# --------------------------------------------------------------------------- the file refused


def test_empty_file() -> None:
    file_refused(b"", "is empty")
    file_refused(b"\xef\xbb\xbf \r\n\r\n", "is empty")


def test_header_without_rows() -> None:
    file_refused(csv_bytes(), "no rows")


def test_not_utf8() -> None:
    file_refused(csv_bytes(ROWS[0]).replace(b"kg", "kg,Lúa".encode("cp1258")), "not UTF-8")


def test_utf16_excel_and_binary_files() -> None:
    file_refused("event_id\n".encode("utf-16"), "UTF-16")
    file_refused(b"PK\x03\x04" + b"\x00" * 40, "Excel")
    file_refused(b"\x89PNG\r\n\x1a\n\x00\x00", "binary")


def test_no_header() -> None:
    file_refused(csv_bytes(ROWS[1], header=ROWS[0]), "the first row must be the header")
    file_refused(b'{"events": []}', "the first row must be the header")


def test_semicolons() -> None:
    file_refused(csv_bytes(header=HEADER.replace(",", ";")), "semicolons")


def test_unknown_duplicate_missing_and_unnamed_columns() -> None:
    refused(csv_bytes(header=HEADER + ",colour"), "row 1", "unknown column 'colour'")
    refused(csv_bytes(header=HEADER + ",lot"), "row 1", "'lot' appears twice")
    refused(csv_bytes(header=HEADER.replace("time,", "")), "row 1", "'time' is missing")
    refused(csv_bytes(header=HEADER + ","), "row 1", "column 12 has no name")


def test_too_big() -> None:
    raw = csv_bytes(*ROWS) + b" " * MAX_BYTES
    file_refused(raw, "at most 1,048,576 bytes")


def test_too_many_rows() -> None:
    line = "H{},ObjectEvent,ADD,harvesting,2025-06-12 06:30,AREA,RICE,,,,"
    parse(csv_bytes(*(line.format(i) for i in range(MAX_ROWS))))
    file_refused(csv_bytes(*(line.format(i) for i in range(MAX_ROWS + 1))), "more than 5,000 rows")


def test_file_cut_mid_row() -> None:
    whole = csv_bytes(*ROWS)
    cut = whole[: whole.index(b"BC-1,output") + 6]
    refused(cut, "row 5", "cut short")


def test_file_cut_inside_quotes() -> None:
    raw = csv_bytes(*ROWS[:2]) + b'T1,,,,,,"NUTS'
    refused(raw, "row 4", "not valid CSV")


# --------------------------------------------------------------------------- rows refused


def test_event_id_and_lot_are_required() -> None:
    refused(csv_bytes(ROWS[0], "," + ROWS[0].split(",", 1)[1]), "row 3, column event_id")
    refused(csv_bytes(ROWS[0].replace("RICE", "")), "row 2, column lot", "is required")


def test_rows_of_one_event_must_agree() -> None:
    rows = [*ROWS[1:3], ROWS[3].replace("T1,,,,,", "T1,,,,2025-09-16 05:30,")]
    refused(csv_bytes(*rows), "row 4, column time", "differs from")


def test_time_needs_a_date_and_a_time() -> None:
    refused(csv_bytes(ROWS[0].replace("2025-06-12 06:30", "12/06/2025")), "row 2, column time")
    refused(csv_bytes(ROWS[0].replace("2025-06-12 06:30", "2025-06-12")), "row 2, column time")


def test_roles() -> None:
    refused(csv_bytes(ROWS[0].replace("object", "input")), "row 2, column role", "Transformation")
    refused(csv_bytes(ROWS[0].replace("object", "parent")), "row 2, column role", "unknown role")
    refused(csv_bytes(*ROWS[1:3]), "row 2, column role", "output")
    refused(csv_bytes(ROWS[1].replace("input", "")), "row 2, column role")


def test_wrong_cell_count() -> None:
    refused(csv_bytes(ROWS[0] + ",extra"), "row 2", "12 cells")


# --------------------------------------------------------------------------- with the importer


@pytest.fixture
def stored(clean_database, session):  # type: ignore[no-untyped-def]
    # clean_database first: functional tests that ran before leave their records behind.
    base = chain()
    base["events"] = []
    import_records(session, base)
    return session


def test_the_document_imports_and_again_creates_nothing(stored) -> None:  # type: ignore[no-untyped-def]
    parsed = parse(csv_bytes(*ROWS))
    first = import_records(stored, parsed.document)
    assert first.created["events"] == 2
    again = import_records(stored, parse(csv_bytes(*ROWS)).document)
    assert again.total_created == 0
    making = stored.scalars(select(Event).where(Event.event_id == local_event_id(COOP, "T1"))).one()
    assert {link.lot.code for link in making.lots_in(LotRole.INPUT)} == {"RICE", "NUTS"}
    assert making.time_zone == "+07:00"


@pytest.mark.parametrize(
    ("row", "where", "says"),
    [
        (ROWS[2].replace("10,kg", "1.5,kg"), "row 4, column quantity", "write 1,5"),
        (ROWS[2].replace("10,kg", '"1,200",kg'), "row 4, column quantity", "two ways"),
        (ROWS[2].replace("10,kg", "ten,kg"), "row 4, column quantity", "not a number"),
        (ROWS[2].replace("NUTS", "NOPE"), "row 4, column lot", "unknown lot 'NOPE'"),
        (ROWS[2].replace(",kg,", ",sacks,"), "row 4, column unit", "unknown unit"),
    ],
)  # fmt: skip
def test_importer_errors_are_told_as_rows_and_columns(stored, row, where, says) -> None:  # type: ignore[no-untyped-def]
    parsed = parse(csv_bytes(ROWS[0], ROWS[1], row, ROWS[3]))
    before = row_counts(stored)
    with pytest.raises(InvalidRecord) as caught:
        import_records(stored, parsed.document)
    located = parsed.locate(caught.value)
    assert str(located).startswith(f"{where}: "), str(located)
    assert says in str(located)
    assert row_counts(stored) == before


@pytest.mark.parametrize(
    ("cell", "quantity"), [("1.200", "1200"), ('"1,5"', "1.5"), ("1 200", "1200")]
)
def test_quantities_in_cells_are_read_the_vietnamese_way(stored, cell, quantity) -> None:  # type: ignore[no-untyped-def]
    row = ROWS[2].replace("10,kg", f"{cell},kg")
    import_records(stored, parse(csv_bytes(ROWS[0], ROWS[1], row, ROWS[3])).document)
    making = stored.scalars(select(Event).where(Event.event_id == local_event_id(COOP, "T1"))).one()
    nuts = next(link for link in making.lots if link.lot.code == "NUTS")
    assert nuts.quantity == Decimal(quantity)


def test_a_loop_is_told_at_the_events_first_row(stored) -> None:  # type: ignore[no-untyped-def]
    import_records(stored, parse(csv_bytes(*ROWS)).document)
    loop = [
        "L1,TransformationEvent,,transforming,2025-09-16 05:30,PLANT,BC-1,input,1,box,",
        "L1,,,,,,RICE,output,1,kg,",
    ]
    parsed = parse(csv_bytes(ROWS[0], *loop))
    with pytest.raises(GenealogyCycle) as caught:
        import_records(stored, parsed.document)
    located = parsed.locate(caught.value)
    assert isinstance(located, GenealogyCycle)
    assert str(located).startswith("row 3: ")


def test_a_changed_event_is_a_conflict_on_its_row(stored) -> None:  # type: ignore[no-untyped-def]
    import_records(stored, parse(csv_bytes(*ROWS)).document)
    parsed = parse(csv_bytes(ROWS[0].replace(",100,", ",90,")))
    with pytest.raises(ConflictingRecord) as caught:
        import_records(stored, parsed.document)
    assert str(parsed.locate(caught.value)).startswith("row 2: event ")


def test_a_path_the_file_did_not_give_is_left_as_is() -> None:
    parsed = parse(csv_bytes(ROWS[0]))
    error = InvalidRecord("odd", "$.lots[0].code")
    assert parsed.locate(error) is error


def test_written_files_read_back() -> None:
    rows = [dict(zip(HEADER.split(","), ROWS[0].split(","), strict=True))]
    raw = write_events_csv(rows)
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode())
    assert b"\r\n" in raw
    assert parse(raw).document["events"][0]["lots"] == [
        {"lot": "RICE", "quantity": "100", "unit": "kg"}
    ]


def test_a_derived_event_id_cannot_be_taken_by_another_organisation() -> None:
    from ocop.trace.errors import InvalidRecord
    from ocop.trace.event_csv import local_event_id, parse_events_csv

    theirs = local_event_id("1002234561", "THU-HOACH-01")
    header = "event_id,type,action,biz_step,time,facility,lot,role,quantity,unit,disposition\n"
    row = f"{theirs},ObjectEvent,OBSERVE,inspecting,2025-09-01T07:30:00+07:00,,L1,object,,,\n"
    with pytest.raises(InvalidRecord, match="version 5"):
        parse_events_csv((header + row).encode(), organisation="1001187342")
