"""Events recorded in the console name only the actor's own lots, facilities and events."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.trace.errors import InvalidRecord
from ocop.trace.models import Event, EventType, Facility, FacilityKind, OrgKind
from ocop.workflows.access import Actor
from ocop.workflows.events import check_own_records
from ocop.workflows.models import Role
from tests import factories as f


def _actor(org, role=Role.PRODUCER):
    return Actor(0, "someone@test.vn", role, org.id, org.kind, org.name)


def _facility(session, org, code):
    place = Facility(code=code, organisation=org, kind=FacilityKind.WAREHOUSE, name=code)
    session.add(place)
    session.flush()
    return place


def _event(session, org, event_id):
    event = Event(
        event_id=event_id, type=EventType.OBJECT, biz_step="shipping",
        event_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), time_zone="+07:00", organisation=org,
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def _document(**event):
    return {"format": "ocop-trace/1", "events": [{"id": "urn:uuid:new", **event}]}


def test_own_records_pass(session):
    lot = f.certified_lot(session)
    _facility(session, lot.owner, "OWN-KHO")
    _event(session, lot.owner, "urn:uuid:own")
    document = _document(
        lots=[{"lot": f" {lot.code} "}], facility="OWN-KHO", corrects="urn:uuid:own"
    )
    check_own_records(session, _actor(lot.owner), document)


@pytest.mark.parametrize("whose", ["another", "nobody"])
def test_another_organisations_lot_and_an_unknown_one_get_the_same_answer(session, whose):
    mine, theirs = f.certified_lot(session), f.certified_lot(session)
    code = theirs.code if whose == "another" else "NO-SUCH-LOT"
    document = _document(inputs=[{"lot": mine.code}], outputs=[{"lot": code}])
    with pytest.raises(InvalidRecord) as caught:
        check_own_records(session, _actor(mine.owner), document)
    assert caught.value.path == "$.events[0].outputs[0].lot"
    assert caught.value.reason == f"lot {code!r} is not one of your organisation's lots"


def test_another_organisations_facility_is_refused(session):
    mine, theirs = f.certified_lot(session), f.certified_lot(session)
    _facility(session, theirs.owner, "THEIR-KHO")
    with pytest.raises(InvalidRecord, match="facilities") as caught:
        check_own_records(
            session, _actor(mine.owner), _document(lots=[{"lot": mine.code}], facility="THEIR-KHO")
        )
    assert caught.value.path == "$.events[0].facility"


def test_only_own_events_are_corrected(session):
    mine, theirs = f.certified_lot(session), f.certified_lot(session)
    _event(session, theirs.owner, "urn:uuid:theirs")
    document = _document(lots=[{"lot": mine.code}], corrects="urn:uuid:theirs")
    with pytest.raises(InvalidRecord, match="was not recorded by your organisation"):
        check_own_records(session, _actor(mine.owner), document)
    # An event of the same document is the actor's own: it is being recorded now.
    document["events"].append({"id": "urn:uuid:fix", "corrects": "urn:uuid:new"})
    document["events"][0].pop("corrects")
    check_own_records(session, _actor(mine.owner), document)


def test_the_rule_is_actor_owns(session):
    # An authority officer reaches every organisation's records, as everywhere else.
    theirs = f.certified_lot(session)
    officer = _actor(f.organisation(session, OrgKind.AUTHORITY), Role.AUTHORITY)
    check_own_records(session, officer, _document(lots=[{"lot": theirs.code}]))
    # A code that names no record is refused to anyone.
    with pytest.raises(InvalidRecord):
        check_own_records(session, officer, _document(lots=[{"lot": "NO-SUCH-LOT"}]))
