"""EPCIS 2.0 export, validated against GS1's schema with format checking on."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocop.trace.epcis import EPCIS_CONTEXT, epcis_document
from ocop.trace.errors import NotFound
from ocop.trace.importer import import_records, is_uri, load_sample
from tests.conftest import EPCIS

from .documents import event_id

BASE = "https://tem.example.vn"
SCHEMA_PATH = EPCIS / "EPCIS-JSON-Schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(validator, document) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    details = "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])
    assert not errors, f"{len(errors)} schema errors:\n{details}"


@pytest.mark.parametrize("example", sorted(p.name for p in EPCIS.glob("Example_*.jsonld")))
def test_gs1s_own_examples_are_valid(validator, example):
    # The schema copy is whole and the validator accepts real EPCIS documents.
    assert_valid(validator, json.loads((EPCIS / example).read_text(encoding="utf-8")))


def test_format_checking_is_really_on(validator, session):
    # Without jsonschema[format] extras "uri" goes unchecked and this would pass.
    load_sample(session)
    document = epcis_document(session, base_url=BASE)
    broken = copy.deepcopy(document)
    broken["epcisBody"]["eventList"][0]["eventID"] = "not a uri"
    assert any(e.validator == "format" for e in _all_errors(validator, broken))
    broken = copy.deepcopy(document)
    broken["creationDate"] = "yesterday"
    assert list(validator.iter_errors(broken))


def _all_errors(validator, document):
    stack = list(validator.iter_errors(document))
    while stack:
        error = stack.pop()
        yield error
        stack.extend(error.context or ())


def test_the_whole_sample_exports_valid_epcis(validator, session):
    load_sample(session)
    document = epcis_document(session, base_url=BASE)
    assert_valid(validator, document)
    assert document["@context"][0] == EPCIS_CONTEXT
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    events = document["epcisBody"]["eventList"]
    assert len(events) == 22
    assert {e["type"] for e in events} == {"ObjectEvent", "TransformationEvent"}


@pytest.mark.parametrize("lot", ["BC-2026-1115", "NEP-2025-0612", "MO-2025-0420"])
def test_one_lot_exports_valid_epcis(validator, session, lot):
    load_sample(session)
    document = epcis_document(session, lot, base_url=BASE)
    assert_valid(validator, document)
    assert document["epcisBody"]["eventList"]


def test_a_lots_export_covers_its_genealogy_only(session):
    load_sample(session)
    events = epcis_document(session, "BC-2026-1115", base_url=BASE)["epcisBody"]["eventList"]
    # 4 harvests, making, packing, shipping, its correction, receiving.
    assert len(events) == 9
    text = json.dumps(events)
    assert "BC-2025-1025" not in text and "NEP-2025-0612" not in text
    upstream = epcis_document(session, "NEP-2026-0615", base_url=BASE)["epcisBody"]["eventList"]
    assert any(e["bizStep"] == "receiving" for e in upstream)  # downstream too


def test_identifiers(session, doc):
    doc["facilities"][1]["gln"] = "8936045100028"
    import_records(session, doc)
    document = epcis_document(session, base_url=BASE)
    events = {e["eventID"]: e for e in document["epcisBody"]["eventList"]}
    made = events[event_id(3)]
    assert made["outputQuantityList"] == [
        {"epcClass": "https://id.gs1.org/01/08936045120019/10/BC-1", "quantity": 300, "uom": "XBX"}
    ]
    assert made["inputQuantityList"][0] == {
        "epcClass": "https://tem.example.vn/id/lot/RICE",
        "quantity": 60,
        "uom": "KGM",
    }
    assert made["readPoint"] == {"id": "https://id.gs1.org/414/8936045100028"}
    assert "action" not in made
    assert made["bizStep"] == "commissioning" and made["ocop:bizStep"] == "transforming"
    harvest = events[event_id(1)]
    assert harvest["eventTime"] == "2025-06-12T06:30:00+07:00"
    assert harvest["eventTimeZoneOffset"] == "+07:00"
    assert harvest["readPoint"] == {"id": "https://tem.example.vn/id/facility/AREA"}
    assert harvest["bizStep"] == "creating_class_instance"
    shipped = events[event_id(4)]
    assert shipped["bizStep"] == "shipping" and "bizLocation" not in shipped
    assert shipped["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": "https://tem.example.vn/id/doc/desadv/PXK-1"}
    ]


def test_a_corrected_event_carries_an_error_declaration(validator, session):
    load_sample(session)
    document = epcis_document(session, "BC-2026-1115", base_url=BASE)
    assert_valid(validator, document)
    assert {"ocop": "https://tem.example.vn/voc/"} in document["@context"]
    events = document["epcisBody"]["eventList"]
    fixes = [e for e in events if "ocop:corrects" in e]
    assert len(fixes) == 1 and fixes[0]["ocop:reason"]
    (wrong,) = [e for e in events if e["eventID"] == fixes[0]["ocop:corrects"]]
    declaration = wrong["errorDeclaration"]
    assert declaration["correctiveEventIDs"] == [fixes[0]["eventID"]]
    assert declaration["reason"] == "incorrect_data"
    assert "errorDeclaration" not in fixes[0]


def _counted(events, step):
    """What a standard EPCIS consumer adds up per lot: events not declared in error."""
    totals: dict[str, float] = {}
    for event in events:
        if event["bizStep"] == step and "errorDeclaration" not in event:
            for q in event.get("quantityList", []):
                totals[q["epcClass"]] = totals.get(q["epcClass"], 0) + q.get("quantity", 0)
    return totals


def test_a_standard_consumer_counts_shipped_and_received_alike(session):
    # Before: 1,100 shipped against 600 received of lot BC-2026-1115.
    load_sample(session)
    events = epcis_document(session, base_url=BASE)["epcisBody"]["eventList"]
    shipped, received = _counted(events, "shipping"), _counted(events, "receiving")
    assert len(shipped) == 2
    assert shipped == {lot: received[lot] for lot in shipped}
    assert shipped["https://id.gs1.org/01/08936045120019/10/BC-2026-1115"] == 600


def test_shipping_and_receiving_name_source_and_destination(validator, session):
    load_sample(session)
    document = epcis_document(session, base_url=BASE)
    assert_valid(validator, document)
    moves = [
        e
        for e in document["epcisBody"]["eventList"]
        if e["bizStep"] in ("shipping", "receiving") and "errorDeclaration" not in e
    ]
    shipments = [e for e in moves if e["bizStep"] == "shipping"]
    assert len(shipments) == 2
    for event in shipments:
        assert event["sourceList"] and event["destinationList"], event["eventID"]
        assert {end["type"] for end in event["sourceList"]} == {"owning_party", "location"}
        (sender,) = [e["source"] for e in event["sourceList"] if e["type"] == "owning_party"]
        (receiver,) = [
            e["destination"] for e in event["destinationList"] if e["type"] == "owning_party"
        ]
        assert sender != receiver and sender.startswith(BASE + "/id/org/")
    # A receipt names its sender when the records hold the shipment, else only itself.
    for event in (e for e in moves if e["bizStep"] == "receiving"):
        assert event["destinationList"]
        assert ("sourceList" in event) == any(
            s["destinationList"] == event["destinationList"] for s in shipments
        )


def test_outputs_carry_their_best_before_as_ilmd(session):
    load_sample(session)
    events = epcis_document(session, base_url=BASE)["epcisBody"]["eventList"]
    made = [e for e in events if e["type"] == "TransformationEvent"]
    assert made and all("bestBeforeDate" in next(iter(e["ilmd"])) for e in made if "ilmd" in e)
    assert any("ilmd" in e for e in made)


def test_the_context_is_pinned_and_no_private_urn_remains(session):
    load_sample(session)
    document = epcis_document(session, base_url=BASE)
    assert document["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    text = json.dumps(document)
    assert "urn:ocop" not in text
    steps = {e["bizStep"] for e in document["epcisBody"]["eventList"]}
    assert steps <= {"creating_class_instance", "commissioning", "packing", "shipping", "receiving"}


def test_unknown_lot(session):
    with pytest.raises(NotFound, match="no lot with code 'NOPE'"):
        epcis_document(session, "NOPE", base_url=BASE)


def test_an_empty_database_exports_an_empty_valid_document(validator, session):
    document = epcis_document(session, base_url=BASE)
    assert document["epcisBody"]["eventList"] == []
    assert_valid(validator, document)


def test_aggregation_and_transaction_events_export_valid(validator, session, doc):
    doc["lots"].append({"code": "PALLET-1", "item": "Pallet", "facility": "PLANT"})
    doc["events"] += [
        {
            "id": event_id(40),
            "type": "AggregationEvent",
            "action": "ADD",
            "biz_step": "packing",
            "time": "2025-09-19T10:00:00+07:00",
            "facility": "PLANT",
            "parent": "PALLET-1",
            "lots": [{"lot": "BC-1", "quantity": 100, "unit": "box"}],
        },
        {
            "id": event_id(41),
            "type": "TransactionEvent",
            "action": "ADD",
            "biz_step": "shipping",
            "time": "2025-09-20T06:00:00Z",
            "facility": "PLANT",
            "lots": [{"lot": "BC-1", "quantity": 100}],
            "documents": [
                {"type": "po", "id": "urn:ocop:po:QN-2025-77"},
                {"type": "inv", "id": "HĐ 0001872"},
            ],
        },
    ]
    import_records(session, doc)
    document = epcis_document(session, "BC-1", base_url=BASE)
    assert_valid(validator, document)
    events = {e["eventID"]: e for e in document["epcisBody"]["eventList"]}
    packed = events[event_id(40)]
    assert packed["parentID"] == "https://tem.example.vn/id/lot/PALLET-1"
    assert packed["childQuantityList"][0]["epcClass"].endswith("/10/BC-1")
    sold = events[event_id(41)]
    assert sold["eventTimeZoneOffset"] == "+00:00"
    assert sold["quantityList"] == [
        {"epcClass": "https://id.gs1.org/01/08936045120019/10/BC-1", "quantity": 100}
    ]
    assert [t["bizTransaction"] for t in sold["bizTransactionList"]] == [
        "urn:ocop:po:QN-2025-77",
        "https://tem.example.vn/id/doc/inv/H%C4%90%200001872",
    ]


_URI_TEXT = st.text(alphabet="abcXYZ019-._~:/?#[]@!$&'()*+,;=%", max_size=16)


@given(st.sampled_from(["urn:", "https://", "a:", "http://x/", "b://"]), _URI_TEXT)
def test_what_the_import_takes_as_a_uri_the_schema_does_too(prefix, rest):
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    value = prefix + rest
    if is_uri(value):
        assert checker.conforms(value, "uri"), value

