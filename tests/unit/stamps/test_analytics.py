"""Scan analytics on a small hand-made history, on both engines' ways of counting."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from ocop.stamps import StampToken, VerdictStatus, Verifier
from ocop.stamps import analytics as a
from ocop.stamps.copies import CopyRule
from ocop.stamps.models import ScanLog, StampScan
from ocop.trace.db import VIETNAM
from tests import factories as f

UTC = dt.UTC
NOV = a.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def _at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _log(session, batch, index, at, *, first=True, place=None) -> None:
    session.execute(
        insert(ScanLog.__table__).values(
            batch_id=batch.id, index=index, scanned_at=at, first_for_device=first, place=place
        )
    )


def _stamp(session, batch, index, *, devices, pin_claims=0, at=None, far_apart=0) -> None:
    at = at or _at(10, 3)
    session.execute(
        insert(StampScan.__table__).values(
            batch_id=batch.id,
            index=index,
            count=devices + 1,
            devices=devices,
            sightings=devices,
            far_apart=far_apart,
            pin_claims=pin_claims,
            first_at=at,
            last_at=at,
        )
    )


@pytest.fixture
def history(session):
    """Two producers, three batches; the first producer's two lots share one product."""
    key = f.authority_key(session)
    lot = f.certified_lot(session)
    second_lot = f.certified_lot(session)
    second_lot.owner_id = lot.owner_id
    second_lot.product_id = lot.product_id
    other = f.certified_lot(session)
    mine = f.issued_batch(session, lot, key, count=100)
    mine2 = f.issued_batch(session, second_lot, key, count=100)
    theirs = f.issued_batch(session, other, key, count=100)
    # 10 Nov, Vietnam time: 16:59 UTC is 23:59 there; 17:00 UTC is already 11 Nov.
    _log(session, mine, 1, _at(10, 3), place="Hưng Yên")
    _log(session, mine, 1, _at(10, 16, 59), first=False, place="Hưng Yên")
    _log(session, mine, 2, _at(10, 17, 0), place="Hà Nội")
    _log(session, mine, 3, _at(10, 23, 30))  # 11 Nov, 06:30 in Vietnam
    _log(session, mine2, 0, _at(12, 1), first=False, place="Hưng Yên")
    _log(session, theirs, 0, _at(10, 3), place="Đà Nẵng")
    # Just outside November in Vietnam: 31 Oct 16:59 UTC, and 30 Nov 17:00 UTC.
    _log(session, mine, 4, _at(31, 16, 59, month=10))
    _log(session, mine, 5, _at(30, 17, 0))
    session.flush()
    return {"key": key, "mine": mine, "mine2": mine2, "theirs": theirs, "org": lot.owner_id}


def _ids(session, scope: a.Scope) -> set[int]:
    return set(a.batches_in(session, scope))


def test_scans_count_on_the_vietnamese_day(session, history) -> None:
    rows = a.tallies(session, _ids(session, a.Scope()), NOV)
    days = dict(a.per_day(rows, NOV))
    assert days[dt.date(2026, 11, 10)] == a.Counts(first=2, repeat=1)  # theirs too
    assert days[dt.date(2026, 11, 11)] == a.Counts(first=2, repeat=0)  # 17:00 and 23:30 UTC
    assert days[dt.date(2026, 11, 12)] == a.Counts(first=0, repeat=1)
    assert sum((c for c in days.values()), a.Counts()) == a.Counts(first=4, repeat=2)
    assert len(days) == 30 and days[dt.date(2026, 11, 1)] == a.Counts()


def test_the_period_ends_at_vietnamese_midnight(session, history) -> None:
    ids = _ids(session, a.Scope())
    october = a.tallies(session, ids, a.Period(dt.date(2026, 10, 31), dt.date(2026, 10, 31)))
    december = a.tallies(session, ids, a.Period(dt.date(2026, 12, 1), dt.date(2026, 12, 1)))
    assert [(t.day, t.batch_id, t.counts) for t in october] == [
        (dt.date(2026, 10, 31), history["mine"].id, a.Counts(first=1))
    ]
    assert [(t.day, t.counts) for t in december] == [(dt.date(2026, 12, 1), a.Counts(first=1))]


def test_an_organisation_sees_its_own_batches_only(session, history) -> None:
    scope = a.Scope(organisation_id=history["org"])
    batches = a.batches_in(session, scope)
    assert set(batches) == {history["mine"].id, history["mine2"].id}
    board = a.dashboard(session, scope, NOV, rule=CopyRule(sightings=10))
    assert board.total == a.Counts(first=3, repeat=2)
    assert {info.id for info, _c in board.batches} == {history["mine"].id, history["mine2"].id}
    assert "Đà Nẵng" not in dict(board.places)


def test_per_product_and_per_batch(session, history) -> None:
    board = a.dashboard(session, a.Scope(), NOV, rule=CopyRule(sightings=10))
    mine, mine2, theirs = history["mine"], history["mine2"], history["theirs"]
    assert [(info.id, c) for info, c in board.batches] == [
        (mine.id, a.Counts(first=3, repeat=1)),
        (mine2.id, a.Counts(repeat=1)),  # a tie: the older batch first
        (theirs.id, a.Counts(first=1)),
    ]
    # Two lots of one product add up under that product.
    assert [(p.product_id, p.counts) for p in board.products] == [
        (mine.lot.product_id, a.Counts(first=3, repeat=2)),
        (theirs.lot.product_id, a.Counts(first=1)),
    ]


def test_narrowing_to_a_lot_a_batch_or_a_product(session, history) -> None:
    mine, mine2 = history["mine"], history["mine2"]
    assert _ids(session, a.Scope(lot_id=mine2.lot_id)) == {mine2.id}
    assert _ids(session, a.Scope(batch_id=mine.id)) == {mine.id}
    assert _ids(session, a.Scope(product_id=mine.lot.product_id)) == {mine.id, mine2.id}
    # Another organisation's batch within one's own scope: nothing.
    theirs = a.Scope(organisation_id=history["org"], batch_id=history["theirs"].id)
    assert _ids(session, theirs) == set()


def test_places_and_scans_without_one(session, history) -> None:
    board = a.dashboard(session, a.Scope(), NOV, rule=CopyRule(sightings=10))
    assert board.places == [("Hưng Yên", 3), ("Hà Nội", 1), ("Đà Nẵng", 1)]
    assert board.unplaced == 1 and board.other_places == 0
    top = a.dashboard(session, a.Scope(), NOV, rule=CopyRule(sightings=10), top=1)
    assert top.places == [("Hưng Yên", 3)] and top.other_places == 2


def test_suspect_stamps_are_those_the_verifier_flags(session, history) -> None:
    mine, threshold = history["mine"], 3
    cases = {  # index -> (sightings, pin claims, places far apart)
        10: (threshold, 0, 0),
        11: (threshold + 1, 0, 0),
        12: (1, 1, 0),
        13: (1, 2, 0),
        14: (threshold + 5, 2, 0),
        15: (2, 0, 1),  # far apart, but too few sightings to say
        16: (threshold, 0, 1),  # far apart, and enough sightings
    }
    for index, (devices, claims, far) in cases.items():
        _stamp(session, mine, index, devices=devices, pin_claims=claims, far_apart=far)
    session.flush()
    rule = CopyRule(sightings=threshold, far_sightings=3)
    found, total = a.suspect_stamps(
        session, None, NOV, rule=rule, batches=a.batches_in(session, a.Scope())
    )
    verifier = Verifier(session, rule=rule)
    flagged = {
        index
        for index in cases
        if verifier.verify(
            StampToken.issue(history["key"].signer, mine.id, index).encode(), now=_at(20, 0)
        ).status
        is VerdictStatus.SUSPECT
    }
    assert {s.index for s in found} == flagged == {11, 13, 14, 16}
    assert total == 4
    assert [s.index for s in found] == [14, 11, 16, 13]  # most sightings first
    assert next(s for s in found if s.index == 16).reasons == ("seen_far_apart",)
    first = found[0]
    assert first.reasons == ("scan_limit_exceeded", "pin_claimed_twice")
    assert str(first.serial).startswith(f"{mine.id}-000015-")
    assert first.lot_code == mine.lot.code


def test_suspect_stamps_outside_the_period_or_scope_are_left_out(session, history) -> None:
    _stamp(session, history["mine"], 20, devices=50, at=_at(5, 0, month=10))
    _stamp(session, history["theirs"], 21, devices=50)
    session.flush()
    mine_only = {history["mine"].id, history["mine2"].id}
    assert a.suspect_stamps(session, mine_only, NOV, rule=CopyRule(sightings=10)) == ([], 0)
    found, total = a.suspect_stamps(session, None, NOV, rule=CopyRule(sightings=10), limit=1)
    assert [s.batch for s in found] == [history["theirs"].id] and total == 1


def test_scans_since_a_recall_by_day(session, history) -> None:
    mine = history["mine"]
    recalled_at = _at(10, 10)  # 17:00 on 10 Nov in Vietnam
    days = a.scans_since(session, {mine.id}, recalled_at, dt.date(2026, 11, 13))
    assert days == [
        (dt.date(2026, 11, 10), 1),  # 16:59 UTC; the 03:00 scan came before the recall
        (dt.date(2026, 11, 11), 2),
        (dt.date(2026, 11, 12), 0),
        (dt.date(2026, 11, 13), 0),
    ]


def test_periods_are_checked() -> None:
    with pytest.raises(ValueError, match="ends before"):
        a.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 1))
    with pytest.raises(ValueError, match="at most"):
        a.Period(dt.date(2025, 1, 1), dt.date(2026, 1, 2))
    last = a.Period.last(30, dt.date(2026, 11, 29))
    assert (last.start, len(last)) == (dt.date(2026, 10, 31), 30)
    assert last.since == dt.datetime(2026, 10, 31, tzinfo=VIETNAM)


def test_nothing_to_count(session) -> None:
    assert a.tallies(session, set(), NOV) == []
    board = a.dashboard(session, a.Scope(organisation_id=-1), NOV, rule=CopyRule(sightings=10))
    assert board.total == a.Counts() and board.places == [] and board.suspects == []
