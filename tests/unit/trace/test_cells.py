"""CSV injection: codes that a spreadsheet would run are refused, and cells we write
never start a formula."""

from __future__ import annotations

import csv
import io

import pytest

from ocop.trace.cells import spreadsheet_safe
from ocop.trace.errors import InvalidRecord
from ocop.trace.event_csv import write_events_csv
from ocop.trace.importer import import_records
from ocop.trace.importer.vocabulary import FORMAT

from .documents import chain

FORMULAS = ["=HYPERLINK(\"http://x.example\",\"ok\")", "+1+1", "-2+3", "@SUM(A1)", "=1"]


@pytest.mark.parametrize("text", [*FORMULAS, "\tTAB", "\rCR"])
def test_a_cell_that_would_start_a_formula_is_written_as_text(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["BC-2026-1115", "Bánh cáy", "", "a=b", "1-2"])
def test_other_cells_are_written_as_they_are(text: str) -> None:
    assert spreadsheet_safe(text) == text


def test_the_events_csv_escapes_every_formula_cell() -> None:
    raw = write_events_csv([{"event_id": "=E1", "lot": "@LOT", "facility": "+F", "unit": "kg"}])
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["event_id"] == "'=E1"
    assert rows[0]["lot"] == "'@LOT"
    assert rows[0]["facility"] == "'+F"
    assert rows[0]["unit"] == "kg"


@pytest.mark.parametrize("code", FORMULAS)
@pytest.mark.parametrize("section", ["lots", "products", "facilities"])
def test_the_importer_refuses_a_code_that_starts_a_formula(session, section: str, code: str):
    document = chain()
    document[section][0]["code"] = code
    with pytest.raises(InvalidRecord, match="must not begin with = \\+ - or @"):
        import_records(session, {"format": FORMAT, **document})
