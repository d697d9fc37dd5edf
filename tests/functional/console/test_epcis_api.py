"""The EPCIS 2.0 query endpoint: a lot's events for other systems, under the console's rules."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ocop.trace.models import Organisation
from ocop.workflows.api_tokens import create_token
from tests.conftest import EPCIS

from .conftest import sign_in

URL = "/api/v1/epcis/events"
LOT = "BC-2026-1115"
LOT_URI = "https://id.gs1.org/01/08936045120019/10/BC-2026-1115"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((EPCIS / "EPCIS-JSON-Schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _events(response):
    return response.get_json(force=True)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_the_producer_pulls_its_lot_as_a_valid_query_document(client, world, validator):
    sign_in(client, world, "producer")
    response = client.get(URL, query_string={"lot": LOT})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert document["type"] == "EPCISQueryDocument"
    errors = list(validator.iter_errors(document))
    assert not errors, errors[0].message
    events = _events(response)
    assert events and all(
        any(LOT in json.dumps(q) for q in e.get("quantityList", e.get("outputQuantityList", [])))
        or "childQuantityList" in e
        for e in events
    )
    assert any("errorDeclaration" in e for e in events)


def test_by_epc_class_and_by_time(client, world):
    sign_in(client, world, "authority")
    everything = _events(client.get(URL, query_string={"MATCH_anyEPCClass": LOT_URI}))
    assert everything == _events(client.get(URL, query_string={"lot": LOT}))
    times = sorted(e["eventTime"] for e in everything)
    middle = times[len(times) // 2]
    later = _events(client.get(URL, query_string={"lot": LOT, "GE_eventTime": middle}))
    earlier = _events(client.get(URL, query_string={"lot": LOT, "LT_eventTime": middle}))
    assert later and earlier and len(later) + len(earlier) == len(everything)


def test_someone_elses_lot_is_not_found(client, world):
    sign_in(client, world, "other_producer")
    assert client.get(URL, query_string={"lot": LOT}).status_code == 404
    assert client.get(URL, query_string={"lot": "NO-SUCH"}).status_code == 404


def test_without_sign_in_or_token_it_is_401(client, world):
    response = client.get(URL, query_string={"lot": LOT})
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    forged = client.get(
        URL, query_string={"lot": LOT}, headers={"Authorization": "Bearer ocop_" + "x" * 40}
    )
    assert forged.status_code == 401


def test_a_token_reads_only_its_own_organisations_lots(client, app, world):
    with app.extensions["ocop.db"].transaction() as session:
        distributor = session.get(Organisation, world.distributor_id)
        _, text = create_token(session, distributor, "warehouse", created_by="test")
    headers = {"Authorization": f"Bearer {text}"}
    assert client.get(URL, query_string={"lot": LOT}, headers=headers).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"lot": LOT, "MATCH_anyEPCClass": LOT_URI},
        {"lot": ""},
        {"lot": "x" * 41},
        {"lot": LOT, "GE_eventTime": "yesterday"},
        {"lot": LOT, "LT_eventTime": "2025-01-01T00:00:00"},
    ],
)
def test_bad_queries_are_400_with_a_reason(client, world, query):
    sign_in(client, world, "producer")
    response = client.get(URL, query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json" and response.get_json()["detail"]
