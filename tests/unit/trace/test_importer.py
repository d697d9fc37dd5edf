"""The import: all or nothing, every error naming its JSON path, idempotent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from ocop.trace.errors import (
    ConflictingRecord,
    GenealogyCycle,
    ImportFileError,
    InvalidGtin,
    InvalidRecord,
)
from ocop.trace.importer import (
    import_records,
    load_import_file,
    load_sample,
    parse_import_bytes,
    sample_data,
)
from ocop.trace.importer.vocabulary import FORMAT
from ocop.trace.models import (
    Certification,
    CertStatus,
    Event,
    Facility,
    Lot,
    Organisation,
    Product,
    Recall,
)

from .documents import COOP, SHOP, event_id, row_counts


def refused(session, doc, error=InvalidRecord, path=None, says=None):
    """Import ``doc``, expect ``error`` at ``path``, and check that nothing was written."""
    before = row_counts(session)
    with pytest.raises(error) as caught:
        import_records(session, doc)
    assert row_counts(session) == before
    if path is not None:
        assert caught.value.path == path, str(caught.value)
        assert str(caught.value).startswith(f"{path}: ")
    if says is not None:
        assert says in str(caught.value)
    return caught.value


# --------------------------------------------------------------------------- the file


def test_missing_file(tmp_path):
    with pytest.raises(ImportFileError, match="no such file"):
        load_import_file(tmp_path / "absent.json")


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ImportFileError, match="is a folder"):
        load_import_file(tmp_path)


def test_binary_junk(tmp_path):
    path = tmp_path / "photo.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ImportFileError, match="binary file, not JSON"):
        load_import_file(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"organisations": [{"name": "Thái Bình"}]}'.encode("latin-1"))
    with pytest.raises(ImportFileError, match="not UTF-8"):
        load_import_file(path)


def test_bad_json_says_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "lots": [\n    {"code": "A",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        load_import_file(path)
    # Where the comma is (the parser stops one place later), in our words, not Python's.
    assert "line 3, column 17: a comma after the last item" in str(caught.value)
    assert "Expecting" not in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"lots": [1, 2, ]}', "line 1, column 15: a comma after the last item"),
        (b'{"lots": [1 2]}', "line 1, column 13: a comma is missing"),
        (b'{"lots": "abc}', "a string is not closed"),
        (b'{"a" 1}', "a colon is missing"),
        (b'{"a": }', "a value is missing"),
        (b"{} x", "more text follows"),
        (b"{a: 1}", "in double quotes"),
        (b'{"a": "\\q"}', "escape JSON does not have"),
    ],
)
def test_json_syntax_errors_in_our_words(raw, says):
    with pytest.raises(ImportFileError) as caught:
        parse_import_bytes(raw, "f.json")
    assert says in str(caught.value)


def test_a_trailing_comma_is_told_in_vietnamese():
    from ocop.web.messages import say_in  # the catalogue the CLI and the pages use

    with pytest.raises(ImportFileError) as caught:
        parse_import_bytes(b'{\n  "lots": [\n    {"code": "A",}\n  ]\n}\n', "lo.json")
    said = say_in(caught.value, "vi")
    assert said.startswith("lo.json: không phải JSON hợp lệ ở dòng 3, cột 17: ")
    assert "dấu phẩy" in said and "comma" not in said


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "is empty"),
        (b"[1, 2]", "top level must be a JSON object"),
        (b'"text"', "top level must be a JSON object"),
        (b'{"lots": [{"quantity": NaN}]}', "NaN is not a number JSON allows"),
        ('{"lots": []}'.encode("utf-16"), "is UTF-16 text"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_not_our_format_at_all(raw, says):
    with pytest.raises(ImportFileError, match=says):
        parse_import_bytes(raw)


def test_utf8_with_bom_is_fine():
    assert parse_import_bytes(b'\xef\xbb\xbf{"lots": []}') == {"lots": []}


def test_numbers_are_read_exactly(tmp_path):
    path = tmp_path / "n.json"
    path.write_text('{"lots": [{"quantity": 0.1}]}', encoding="utf-8")
    assert str(load_import_file(path)["lots"][0]["quantity"]) == "0.1"


# --------------------------------------------------------------------------- importing


def test_import_creates_the_records(session, doc):
    summary = import_records(session, doc)
    assert summary.created == {
        "organisations": 2,
        "addresses": 1,
        "facilities": 3,
        "products": 1,
        "certifications": 1,
        "lots": 3,
        "events": 5,
    }
    product = session.scalars(select(Product).where(Product.code == "BC")).one()
    assert product.gtin == "08936045120019"
    assert product.producer.tax_code == COOP
    event = session.scalars(select(Event).where(Event.event_id == event_id(1))).one()
    assert event.event_time == dt.datetime(2025, 6, 11, 23, 30, tzinfo=dt.UTC)
    assert event.time_zone == "+07:00"
    assert event.organisation.tax_code == COOP  # from the facility
    assert event.sample is False


def test_importing_twice_creates_nothing(session, doc):
    import_records(session, doc)
    before = row_counts(session)
    summary = import_records(session, doc)
    assert row_counts(session) == before
    assert summary.total_created == 0
    assert not summary.changed_anything
    assert summary.unchanged["events"] == 5
    assert "events: 5 unchanged" in str(summary)


def test_a_second_file_may_refer_to_stored_records(session, doc):
    import_records(session, doc)
    more = {
        "lots": [{"code": "BC-2", "product": "BC", "facility": "PLANT"}],
        "events": [
            {
                "id": event_id(10),
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2025-10-01T05:00:00+07:00",
                "facility": "PLANT",
                "inputs": [{"lot": "RICE", "quantity": 40, "unit": "kg"}],
                "outputs": [{"lot": "BC-2"}],
            }
        ],
    }
    summary = import_records(session, more)
    assert summary.created == {"lots": 1, "events": 1} | {
        k: 0 for k in ("organisations", "addresses", "facilities", "products", "certifications")
    }
    lot = session.scalars(select(Lot).where(Lot.code == "BC-2")).one()
    assert lot.owner.tax_code == COOP  # the product's producer


def test_certificate_lasts_36_months_by_default(session, doc):
    import_records(session, doc)
    cert = session.scalars(select(Certification)).one()
    assert cert.valid_from == dt.date(2024, 9, 20)
    assert cert.valid_until == dt.date(2027, 9, 19)


def test_strings_are_stored_in_nfc(session, doc):
    decomposed = "Ba\u0301nh ca\u0301y"  # "Bánh cáy" typed with combining accents
    doc["products"][0]["name"] = decomposed
    import_records(session, doc)
    assert session.scalars(select(Product.name)).one() == "Bánh cáy"


# --------------------------------------------------------------------------- bad records


def test_unknown_lot(session, doc):
    doc["events"][2]["inputs"][1]["lot"] = "GHOST"
    refused(
        session,
        doc,
        path="$.events[2].inputs[1].lot",
        says="unknown lot 'GHOST': not in this file nor in the database",
    )


def test_invalid_gtin(session, doc):
    doc["products"][0]["gtin"] = "8936045120018"
    refused(session, doc, InvalidGtin, "$.products[0].gtin", "check digit 8, expected 9")


def test_certificate_ending_before_it_starts(session, doc):
    doc["certifications"][0]["valid_until"] = "2024-01-01"
    refused(
        session,
        doc,
        path="$.certifications[0].valid_until",
        says="2024-01-01 is not after valid_from 2024-09-20",
    )


def test_cycle_in_one_file(session, doc):
    doc["events"].append(
        {
            "id": event_id(6),
            "type": "TransformationEvent",
            "biz_step": "transforming",
            "time": "2025-09-16T05:30:00+07:00",
            "facility": "PLANT",
            "inputs": [{"lot": "BC-1"}],
            "outputs": [{"lot": "RICE"}],
        }
    )
    error = refused(session, doc, GenealogyCycle, "$.events[5]")
    assert "RICE → BC-1 → RICE" in str(error) or "BC-1 → RICE → BC-1" in str(error)


def test_cycle_through_stored_records(session, doc):
    import_records(session, doc)
    later = {
        "lots": [{"code": "GIFT", "product": "BC", "facility": "PLANT"}],
        "events": [
            {
                "id": event_id(20),
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2025-10-01T05:00:00+07:00",
                "facility": "PLANT",
                "inputs": [{"lot": "BC-1"}],
                "outputs": [{"lot": "GIFT"}],
            },
            {
                "id": event_id(21),
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2025-10-02T05:00:00+07:00",
                "facility": "PLANT",
                "inputs": [{"lot": "GIFT"}],
                "outputs": [{"lot": "NUTS"}],
            },
        ],
    }
    error = refused(session, later, GenealogyCycle, "$.events[1]")
    assert "would be its own ancestor" in str(error)


def test_a_lot_made_from_itself(session, doc):
    doc["events"][2]["outputs"].append({"lot": "RICE"})
    refused(session, doc, GenealogyCycle, "$.events[2].outputs[1]", "both an input and an output")


def test_a_correction_may_reverse_a_wrong_transformation(session, doc):
    import_records(session, doc)
    fix = {
        "lots": [{"code": "FLOUR", "item": "Bột nếp", "facility": "PLANT"}],
        "events": [
            {
                "id": event_id(30),
                "type": "TransformationEvent",
                "biz_step": "transforming",
                "time": "2025-09-15T05:30:00+07:00",
                "facility": "PLANT",
                "inputs": [{"lot": "BC-1"}],
                "outputs": [{"lot": "NUTS"}],
                "corrects": event_id(3),
                "reason": "inputs and outputs were swapped",
            }
        ],
    }
    # Without the corrected event's edges, BC-1 -> NUTS closes no loop.
    assert import_records(session, fix).created["events"] == 1


def test_conflicting_event_content_is_refused(session, doc):
    import_records(session, doc)
    doc["events"][3]["lots"][0]["quantity"] = 120
    error = refused(session, doc, ConflictingRecord, "$.events[3]")
    assert f"event '{event_id(4)}' already exists with different content (lots differ)" in str(
        error
    )
    assert "events are append-only: send a correction event with `corrects`" in str(error)


def test_changed_event_time_is_refused(session, doc):
    import_records(session, doc)
    doc["events"][0]["time"] = "2025-06-12T06:31:00+07:00"
    refused(session, doc, ConflictingRecord, "$.events[0]", "time differs")


def test_same_instant_in_another_offset_is_another_record(session, doc):
    import_records(session, doc)
    doc["events"][0]["time"] = "2025-06-11T23:30:00+00:00"
    refused(session, doc, ConflictingRecord, "$.events[0]", "time differs")


@pytest.mark.parametrize(
    ("change", "path", "says"),
    [
        (
            lambda d: d["organisations"][0].update(kind="club"),
            "$.organisations[0].kind",
            "must be one of authority",
        ),
        (
            lambda d: d["organisations"][0].update(nmae="x"),
            "$.organisations[0].nmae",
            "unknown field 'nmae'",
        ),
        (
            lambda d: d["organisations"][0].pop("tax_code"),
            "$.organisations[0].tax_code",
            "is required",
        ),
        (
            lambda d: d["organisations"][0]["addresses"][0].update(effective_from="01/01/2023"),
            "$.organisations[0].addresses[0].effective_from",
            "must be a date as YYYY-MM-DD",
        ),
        (
            lambda d: d["organisations"][0]["addresses"][0].update(effective_from="2023-02-30"),
            "$.organisations[0].addresses[0].effective_from",
            "is not a calendar date",
        ),
        (
            lambda d: d["facilities"][0].update(latitude=120),
            "$.facilities[0].latitude",
            "above the maximum 90",
        ),
        (
            lambda d: d["facilities"][0].pop("longitude"),
            "$.facilities[0].longitude",
            "give both or neither",
        ),
        (
            lambda d: d["facilities"][0].update(gln="8936045100012"),
            "$.facilities[0].gln",
            "check digit",
        ),
        (
            lambda d: d["facilities"][0].update(area_ha=0),
            "$.facilities[0].area_ha",
            "greater than 0",
        ),
        (
            lambda d: d["products"][0].update(producer="0109990002"),
            "$.products[0].producer",
            "is a distributor; products are made by",
        ),
        (
            lambda d: d["products"][0].update(gtin=8936045120019),
            "$.products[0].gtin",
            "string of digits",
        ),
        (
            lambda d: d["certifications"][0].update(stars=2),
            "$.certifications[0].stars",
            "3, 4 or 5 stars; got 2",
        ),
        (
            lambda d: d["certifications"][0].update(stars=None),
            "$.certifications[0].stars",
            "needs its stars",
        ),
        (
            lambda d: d["certifications"][0].update(score=101),
            "$.certifications[0].score",
            "above the maximum 100",
        ),
        (
            lambda d: d["certifications"][0].update(score=92),
            "$.certifications[0].score",
            "does not give 4 stars",
        ),
        (
            lambda d: d["certifications"][0].update(product="NOPE"),
            "$.certifications[0].product",
            "unknown product",
        ),
        (
            lambda d: d["certifications"][0].update(status="revoked"),
            "$.certifications[0].status_reason",
            "needs a status_reason",
        ),
        (
            lambda d: d["certifications"][0].update(facility="AREA"),
            "$.certifications[0]",
            "either a product or a facility",
        ),
        (lambda d: d["lots"][0].pop("item"), "$.lots[0]", "needs a product"),
        (
            lambda d: d["lots"][2].update(best_before="2025-01-01"),
            "$.lots[2].best_before",
            "before produced_on",
        ),
        (
            lambda d: d["lots"][2].update(product="NOPE"),
            "$.lots[2].product",
            "unknown product 'NOPE'",
        ),
        (
            lambda d: d["lots"][2].update(facility="NOPE"),
            "$.lots[2].facility",
            "unknown facility 'NOPE'",
        ),
        (lambda d: d["lots"][0].update(unit="bao tải"), "$.lots[0].unit", "unknown unit"),
        (lambda d: d["lots"][0].update(quantity=-1), "$.lots[0].quantity", "below the minimum 0"),
        (
            lambda d: d["lots"][0].update(quantity=1.23456),
            "$.lots[0].quantity",
            "more than 3 decimal places",
        ),
        (
            lambda d: d["lots"][1].update(code="RICE"),
            "$.lots[1]",
            "lot code 'RICE' appears twice in this file (first at $.lots[0])",
        ),
        (lambda d: d["lots"][0].update(code="RICE 1"), "$.lots[0].code", "must not contain spaces"),
        (
            lambda d: d["events"][0].update(time="2025-06-12T06:30:00"),
            "$.events[0].time",
            "explicit UTC offset",
        ),
        (
            lambda d: d["events"][0].update(time="2025-06-12"),
            "$.events[0].time",
            "explicit UTC offset",
        ),
        (
            lambda d: d["events"][0].update(time="yesterday"),
            "$.events[0].time",
            "not an ISO 8601 time",
        ),
        (
            lambda d: d["events"][0].update(time="2062-06-12T06:30:00+07:00"),
            "$.events[0].time",
            "in the future",
        ),
        (lambda d: d["events"][0].update(id="not a uri"), "$.events[0].id", "is not a URI"),
        (lambda d: d["events"][0].update(id="urn:uuid:bánh"), "$.events[0].id", "is not a URI"),
        (
            lambda d: d["events"][0].update(type="HarvestEvent"),
            "$.events[0].type",
            "must be one of ObjectEvent",
        ),
        (lambda d: d["events"][0].pop("action"), "$.events[0].action", "needs an action"),
        (lambda d: d["events"][2].update(action="ADD"), "$.events[2].action", "has no action"),
        (lambda d: d["events"][2].pop("outputs"), "$.events[2].outputs", "is required"),
        (lambda d: d["events"][2].update(outputs=[]), "$.events[2].outputs", "at least one lot"),
        (
            lambda d: d["events"][2].update(lots=[{"lot": "RICE"}]),
            "$.events[2].lots",
            "inputs and outputs, not lots",
        ),
        (
            lambda d: d["events"][0].update(inputs=[{"lot": "RICE"}]),
            "$.events[0].inputs",
            "only a TransformationEvent",
        ),
        (
            lambda d: d["events"][0].update(biz_step="growing"),
            "$.events[0].biz_step",
            "not a known business step",
        ),
        (
            lambda d: d["events"][0].update(disposition="fresh"),
            "$.events[0].disposition",
            "not a known disposition",
        ),
        (
            lambda d: d["events"][3]["documents"][0].update(type="invoice"),
            "$.events[3].documents[0].type",
            "not a known document type",
        ),
        (
            lambda d: d["events"][4].update(organisation="0000000000"),
            "$.events[4].organisation",
            "unknown organisation (tax code) '0000000000'",
        ),
        (
            lambda d: d["events"][4].update(facility=None, organisation=None),
            "$.events[4].organisation",
            "needs the organisation",
        ),
        (lambda d: d["events"][1].update(id=d["events"][0]["id"]), "$.events[1]", "appears twice"),
        (
            lambda d: d["events"][1]["lots"].append({"lot": "NUTS"}),
            "$.events[1].lots[1].lot",
            "listed twice",
        ),
        (
            lambda d: d["events"][1].update(corrects=event_id(99), reason="x"),
            "$.events[1].corrects",
            "unknown event",
        ),
        (
            lambda d: d["events"][1].update(corrects=event_id(1)),
            "$.events[1].reason",
            "needs a reason",
        ),
        (
            lambda d: d["events"][0].update(corrects=event_id(2), reason="x"),
            "$.events[0].corrects",
            "comes later in this file",
        ),
        (
            lambda d: d.update(
                recalls=[{"lot": "NOPE", "notice": "x", "at": "2025-10-01T08:00:00+07:00"}]
            ),
            "$.recalls[0].lot",
            "unknown lot",
        ),
        (lambda d: d.update(organisations={}), "$.organisations", "must be an array"),
        (lambda d: d.update(extras=[]), "$.extras", "unknown field 'extras'"),
        (lambda d: d.update(format="other/2"), "$.format", "unsupported format"),
        (
            lambda d: d["lots"].__setitem__(0, "RICE"),
            "$.lots[0]",
            "must be an object, not a string",
        ),
    ],
)
def test_bad_records_are_refused_with_their_path(session, doc, change, path, says):
    change(doc)
    refused(session, doc, path=path, says=says)


def test_an_error_late_in_the_file_writes_nothing_at_all(session, doc):
    doc["events"][-1]["lots"][0]["lot"] = "GHOST"
    refused(session, doc, path="$.events[4].lots[0].lot")
    assert row_counts(session)["organisations"] == 0


def test_a_gtin_taken_by_another_product(session, doc):
    import_records(session, doc)
    other = {
        "products": [{"code": "BC-2", "producer": COOP, "name": "Khác", "gtin": "8936045120019"}]
    }
    refused(session, other, path="$.products[0].gtin", says="already belongs to product 'BC'")


# --------------------------------------------------------------------------- stored records


def test_a_later_address_is_appended(session, doc):
    import_records(session, doc)
    doc["organisations"][0]["addresses"].append(
        {
            "commune": "xã Đông Hưng",
            "province": "tỉnh Hưng Yên",
            "effective_from": "2025-07-01",
            "note": "sáp nhập tỉnh 2025",
        }
    )
    summary = import_records(session, doc)
    assert summary.created["addresses"] == 1
    assert summary.unchanged["addresses"] == 1
    org = session.scalars(select(Organisation).where(Organisation.tax_code == COOP)).one()
    session.refresh(org)
    assert org.recorded_address.province == "tỉnh Thái Bình"
    assert org.current_address.province == "tỉnh Hưng Yên"
    assert org.address_on(dt.date(2024, 1, 1)).province == "tỉnh Thái Bình"


def test_an_earlier_address_is_refused(session, doc):
    doc["organisations"][0]["addresses"][0]["effective_from"] = "2025-07-01"
    import_records(session, doc)
    doc["organisations"][0]["addresses"].append(
        {"province": "tỉnh Thái Bình", "effective_from": "2020-01-01"}
    )
    refused(
        session,
        doc,
        ConflictingRecord,
        "$.organisations[0].addresses[1].effective_from",
        "after the newest one recorded (2025-07-01)",
    )


def test_a_rewritten_address_is_refused(session, doc):
    import_records(session, doc)
    doc["organisations"][0]["addresses"][0]["province"] = "tỉnh Hưng Yên"
    refused(session, doc, ConflictingRecord, "$.organisations[0].addresses[0]", "kept as written")


def test_a_renamed_organisation_is_refused(session, doc):
    import_records(session, doc)
    doc["organisations"][0]["name"] = "HTX Mới"
    refused(session, doc, ConflictingRecord, "$.organisations[0].name", "keeps its name")


def test_contact_details_are_updated(session, doc):
    import_records(session, doc)
    doc["organisations"][0]["phone"] = "0227 3851 268"
    summary = import_records(session, doc)
    assert summary.updated["organisations"] == 1
    org = session.scalars(select(Organisation).where(Organisation.tax_code == COOP)).one()
    assert org.phone == "0227 3851 268"


def test_certificate_content_is_kept_as_issued(session, doc):
    import_records(session, doc)
    doc["certifications"][0]["valid_until"] = "2028-01-01"
    refused(session, doc, ConflictingRecord, "$.certifications[0].valid_until", "kept as issued")


def test_a_certificate_can_be_revoked_by_import(session, doc):
    import_records(session, doc)
    doc["certifications"][0].update(status="revoked", status_reason="Quyết định thu hồi 12/QĐ")
    assert import_records(session, doc).updated["certifications"] == 1
    cert = session.scalars(select(Certification)).one()
    assert cert.status is CertStatus.REVOKED
    assert cert.status_changed_at is not None
    doc["certifications"][0].update(status="valid", status_reason=None)
    refused(session, doc, ConflictingRecord, "$.certifications[0].status", "is revoked")


def test_a_lot_keeps_recorded_values_but_fills_empty_ones(session, doc):
    import_records(session, doc)
    doc["lots"][0]["produced_on"] = "2025-06-12"
    assert import_records(session, doc).updated["lots"] == 1
    doc["lots"][0]["produced_on"] = "2025-06-13"
    refused(session, doc, ConflictingRecord, "$.lots[0].produced_on", "lots are kept as recorded")


def test_failed_import_leaves_stored_objects_untouched(session, doc):
    import_records(session, doc)
    doc["organisations"][0]["phone"] = "0999"
    doc["events"][0]["lots"][0]["lot"] = "GHOST"
    refused(session, doc)
    org = session.scalars(select(Organisation).where(Organisation.tax_code == COOP)).one()
    assert org.phone is None
    assert not session.dirty


def test_recalls_are_recorded_once(session, doc):
    doc["recalls"] = [
        {
            "lot": "BC-1",
            "notice": "Thu hồi lô do bao bì lỗi.",
            "by": COOP,
            "at": "2025-10-01T08:00:00+07:00",
        }
    ]
    assert import_records(session, doc).created["recalls"] == 1
    assert import_records(session, doc).unchanged["recalls"] == 1
    assert len(session.scalars(select(Recall)).all()) == 1


def test_corrections_point_at_the_corrected_event(session, doc):
    doc["events"].append(
        {
            **doc["events"][3],
            "id": event_id(7),
            "lots": [{"lot": "BC-1", "quantity": 120, "unit": "box"}],
            "corrects": event_id(4),
            "reason": "sai số lượng",
        }
    )
    import_records(session, doc)
    fix = session.scalars(select(Event).where(Event.event_id == event_id(7))).one()
    assert fix.corrects is not None and fix.corrects.event_id == event_id(4)
    again = {"events": [{**doc["events"][-1], "id": event_id(8)}]}
    refused(session, again, path="$.events[0].corrects", says="already corrected by")


# --------------------------------------------------------------------------- the sample


def test_the_sample_loads_and_reloads(session):
    first = load_sample(session)
    assert first.created["events"] >= 20
    before = row_counts(session)
    second = load_sample(session)
    assert second.total_created == 0
    assert row_counts(session) == before
    assert all(o.sample for o in session.scalars(select(Organisation)))
    assert all(e.sample for e in session.scalars(select(Event)))


def test_the_documented_example_imports(session):
    doc = Path(__file__).resolve().parents[3] / "docs" / "import-format.md"
    text = doc.read_text(encoding="utf-8").split("## A small example", 1)[1]
    example = json.loads(text.split("```json", 1)[1].split("```", 1)[0])
    summary = import_records(session, example)
    assert summary.created["events"] == 2
    assert import_records(session, example).total_created == 0


def test_the_sample_is_nfc_and_has_a_vietnamese_gtin():
    import unicodedata

    data = sample_data()
    text = json.dumps(data, ensure_ascii=False, default=str)
    assert unicodedata.normalize("NFC", text) == text
    gtins = [p["gtin"] for p in data["products"] if p.get("gtin")]
    assert any(g.startswith("893") for g in gtins)


# --- the council that governs an organisation (issue 14) ---

COUNCIL, OTHER_COUNCIL = "COUNCIL-A", "COUNCIL-B"


def _councils() -> list[dict]:
    return [
        {"tax_code": code, "kind": "authority", "name": f"Hội đồng OCOP {code}"}
        for code in (COUNCIL, OTHER_COUNCIL)
    ]


def _coop(council: str | None) -> dict:
    org = {"tax_code": COOP, "kind": "cooperative", "name": "HTX thử"}
    if council is not None:
        org["council"] = council
    return org


def _council_of(session, tax_code: str) -> str | None:
    org = session.scalars(select(Organisation).where(Organisation.tax_code == tax_code)).one()
    return org.council.tax_code if org.council is not None else None


def test_an_organisation_names_its_council_in_the_same_file(session):
    import_records(session, {"format": FORMAT, "organisations": [_coop(COUNCIL), *_councils()]})
    assert _council_of(session, COOP) == COUNCIL
    assert _council_of(session, COUNCIL) is None
    council = session.scalars(select(Organisation).where(Organisation.tax_code == COUNCIL)).one()
    assert council.is_central_office


def test_a_council_link_moves_and_is_idempotent(session):
    import_records(session, {"format": FORMAT, "organisations": [*_councils(), _coop(COUNCIL)]})
    again = import_records(session, {"format": FORMAT, "organisations": [_coop(COUNCIL)]})
    assert not again.changed_anything
    moved = import_records(session, {"format": FORMAT, "organisations": [_coop(OTHER_COUNCIL)]})
    assert moved.updated["organisations"] == 1
    assert _council_of(session, COOP) == OTHER_COUNCIL
    # Left out, the link stays as it is.
    import_records(session, {"format": FORMAT, "organisations": [_coop(None)]})
    assert _council_of(session, COOP) == OTHER_COUNCIL


@pytest.mark.parametrize(
    ("council", "says"),
    [(COOP, "its own council"), (SHOP, "not an authority"), ("NOBODY", "NOBODY")],
)
def test_a_council_must_be_another_authority(session, council, says):
    shop = {"tax_code": SHOP, "kind": "retailer", "name": "Cửa hàng"}
    refused(
        session,
        {"format": FORMAT, "organisations": [*_councils(), shop, _coop(council)]},
        path="$.organisations[3].council",
        says=says,
    )


# --------------------------------------------------------------------------- numbers as text


@pytest.mark.parametrize(
    ("written", "stored"),
    [("1.200", "1200"), ("1.200,5", "1200.5"), ("1,5", "1.5"), ("1 200", "1200"), ("12", "12")],
)
def test_quantities_written_as_text_are_read_the_vietnamese_way(session, doc, written, stored):
    from decimal import Decimal

    doc["lots"][0]["quantity"] = written
    import_records(session, doc)
    lot = session.scalars(select(Lot).where(Lot.code == doc["lots"][0]["code"])).one()
    assert lot.quantity == Decimal(stored)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("1.2", "'1.2' is written the English way"),
        ("1,200", "'1,200' could be read two ways"),
        ("1,200.5", "write 1.200,5"),
        ("một nghìn", "is not a number"),
    ],
)
def test_quantities_that_cannot_be_read_surely_are_refused(session, doc, written, says):
    doc["lots"][0]["quantity"] = written
    refused(session, doc, path="$.lots[0].quantity", says=says)


def test_json_numbers_are_taken_as_they_are(session, doc):
    from decimal import Decimal

    doc["lots"][0]["quantity"] = 1.2  # a JSON number, not text: no rule to apply
    import_records(session, doc)
    lot = session.scalars(select(Lot).where(Lot.code == doc["lots"][0]["code"])).one()
    assert lot.quantity == Decimal("1.2")


def test_coordinates_as_text_keep_their_dot(session, doc):
    doc["facilities"][0]["latitude"] = "20.5512"
    doc["facilities"][0]["longitude"] = "106,3401"
    import_records(session, doc)
    code = doc["facilities"][0]["code"]
    found = session.scalars(select(Facility).where(Facility.code == code)).one()
    assert (round(found.latitude, 4), round(found.longitude, 4)) == (20.5512, 106.3401)
