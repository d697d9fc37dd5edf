"""Counting scans on the counter's own connection: sightings, places, PIN budgets, no lost count."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ocop.stamps.copies import CopyRule, SharedPlace
from ocop.stamps.models import ScanLog, StampDevice, StampNetwork, StampScan
from ocop.stamps.pin import PinOutcome, PinSecret, claim_with_pin
from ocop.stamps.scans import (
    ScanCounter,
    ScanParams,
    record_place,
    record_scan,
    scan_summaries,
    take_pin_attempt,
)
from ocop.trace.db import utcnow
from ocop.trace.models import Recall
from tests import factories as f

T0 = dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def stamp(clean_database):
    with clean_database.transaction() as session:
        key = f.authority_key(session)
        lot = f.certified_lot(session)
        batch = f.issued_batch(session, lot, key, count=50, pin=True)
        return batch.id, lot.id


@pytest.fixture
def counter(database_url):
    counter = ScanCounter(database_url)
    yield counter
    counter.close()


def _scan(counter, batch, index, device, network, minutes=0, place=None):
    at = T0 + dt.timedelta(minutes=minutes)
    return counter.count(batch, index, ScanParams(device, network, at, place))


def test_a_sighting_is_a_new_device_on_a_new_network(counter, stamp) -> None:
    batch, _lot = stamp
    steps = [  # (device, network) -> (count, devices, sightings)
        (("a", "x"), (1, 1, 1)),
        (("a", "x"), (2, 1, 1)),  # the same phone again
        (("b", "x"), (3, 2, 1)),  # a family member at home
        (("a", "y"), (4, 2, 1)),  # the first phone on mobile data
        (("c", "z"), (5, 3, 2)),  # someone else, somewhere else
    ]
    log_ids = []
    for (device, network), expected in steps:
        counted = _scan(counter, batch, 1, device, network)
        s = counted.summary
        assert (s.count, s.devices, s.sightings) == expected
        assert s.first_at == T0 and counted.facts_version > 0
        log_ids.append(s.log_id)
    assert log_ids == sorted(log_ids) and len(set(log_ids)) == 5


def test_the_session_path_runs_the_same_statements(clean_database, stamp) -> None:
    batch, _lot = stamp
    with clean_database.transaction() as session:
        for device, network in [("a", "x"), ("a", "x"), ("b", "y")]:
            summary = record_scan(session, batch, 2, device=device, network=network, now=T0)
    assert (summary.count, summary.devices, summary.sightings) == (3, 2, 2)
    with clean_database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ScanLog)) == 3
        firsts = session.scalars(select(ScanLog.first_for_device).order_by(ScanLog.id)).all()
        assert firsts == [True, False, True]
        assert session.scalar(select(func.count()).select_from(StampNetwork)) == 2
        summaries = scan_summaries(session, [(batch, 2), (batch, 3), (batch + 99, 0)])
    assert list(summaries) == [(batch, 2)] and summaries[(batch, 2)].count == 3


def test_the_count_returns_the_facts_version_a_recall_moves(counter, clean_database, stamp):
    batch, lot = stamp
    before = _scan(counter, batch, 3, "a", "x").facts_version
    assert _scan(counter, batch, 3, "a", "x").facts_version == before  # a scan moves nothing
    with clean_database.transaction() as session:
        session.add(Recall(lot_id=lot, notice="Nhiễm ẩm", recalled_at=utcnow()))
    assert _scan(counter, batch, 3, "a", "x").facts_version > before


def test_parallel_scans_lose_no_count_and_count_each_device_once(counter, clean_database, stamp):
    batch, _lot = stamp
    scans, threads = 160, 8

    def scan(n: int) -> int:
        return _scan(counter, batch, 4, f"device-{n % 10}", f"net-{n % 5}").summary.count

    with ThreadPoolExecutor(threads) as pool:
        counts = list(pool.map(scan, range(scans)))
    assert sorted(counts) == list(range(1, scans + 1))
    with clean_database.transaction() as session:
        row = session.get(StampScan, (batch, 4))
        assert (row.count, row.devices) == (scans, 10)
        assert row.sightings <= 5  # never more than the networks
        assert session.scalar(select(func.count()).select_from(StampDevice)) == 10
        assert session.scalar(select(func.count()).select_from(ScanLog)) == scans


def test_close_closes_every_threads_connection_and_counting_goes_on(counter, stamp) -> None:
    batch, _lot = stamp
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: _scan(counter, batch, 5, f"d{n}", "x"), range(8)))
    assert counter._open
    counter.close()
    assert not counter._open
    assert _scan(counter, batch, 5, "d0", "x").summary.count == 9


def test_a_shared_place_lands_once_and_far_apart_needs_two_networks(counter, clean_database, stamp):
    batch, _lot = stamp
    rule = CopyRule()
    first = _scan(counter, batch, 6, "a", "x").summary.log_id
    second = _scan(counter, batch, 6, "b", "y", minutes=20).summary.log_id
    third = _scan(counter, batch, 6, "c", "x", minutes=25).summary.log_id

    def share(log_id, place, network, minutes):
        with clean_database.transaction() as session:
            at = T0 + dt.timedelta(minutes=minutes)
            return record_place(
                session, log_id, batch, 6, SharedPlace(place, at, network), rule,
                since=at - dt.timedelta(hours=1),
            )

    assert share(first, "Hà Nội", "x", 1)
    assert not share(first, "Cà Mau", "x", 2)  # once per scan
    assert not share(first, "Cà Mau", "x", 200)  # and not hours later
    assert share(third, "Cà Mau", "x", 26)  # the same network: one witness
    with clean_database.transaction() as session:
        assert session.get(StampScan, (batch, 6)).far_apart == 0
    assert share(second, "Thành phố Hồ Chí Minh", "y", 27)  # another network, far away
    with clean_database.transaction() as session:
        row = session.get(StampScan, (batch, 6))
        assert row.far_apart == 1 and row.place == "Thành phố Hồ Chí Minh"
        places = session.scalars(select(ScanLog.place).order_by(ScanLog.id)).all()
    assert places == ["Hà Nội", "Thành phố Hồ Chí Minh", "Cà Mau"]
    with clean_database.transaction() as session:
        assert not share(second + 1000, "Huế", "z", 28)  # no such scan of this stamp


def test_a_stamps_pin_budget_locks_for_a_day_after_ten_wrong(clean_database, stamp) -> None:
    batch, _lot = stamp
    secret = PinSecret(b"0123456789abcdef0123")
    right = secret.pin_for(batch, 7)

    def attempt(pin, minutes=0):
        with clean_database.transaction() as session:
            return claim_with_pin(
                session, secret, batch, 7, pin, now=T0 + dt.timedelta(minutes=minutes), limit=10
            )

    answers = [attempt("00000000", n) for n in range(10)]
    assert [a.outcome for a in answers[:9]] == [PinOutcome.WRONG] * 9
    assert [a.attempts_left for a in answers[:9]] == list(range(9, 0, -1))
    assert answers[9].outcome is PinOutcome.LOCKED
    assert answers[9].locked_until == T0 + dt.timedelta(minutes=9, days=1)
    # Locked: not even the right PIN is compared.
    assert attempt(right, 60).outcome is PinOutcome.LOCKED
    assert attempt(right, 24 * 60 + 8).outcome is PinOutcome.LOCKED
    # A day after the tenth wrong PIN, the holder claims it.
    assert attempt(right, 24 * 60 + 10).outcome is PinOutcome.FIRST
    assert attempt(right, 24 * 60 + 11).outcome is PinOutcome.AGAIN


def test_parallel_guesses_never_compare_more_than_the_budget(clean_database, stamp) -> None:
    batch, _lot = stamp
    secret = PinSecret(b"0123456789abcdef0123")

    def guess(n: int) -> PinOutcome:
        with clean_database.transaction() as session:
            return claim_with_pin(
                session, secret, batch, 8, f"{n:08d}", now=utcnow(), limit=10
            ).outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(40)))
    compared = outcomes.count(PinOutcome.WRONG) + 1  # the tenth locked as it failed
    assert compared == 10
    assert outcomes.count(PinOutcome.LOCKED) == 31
    with clean_database.transaction() as session:
        budget = take_pin_attempt(
            session, batch, 8, utcnow(), limit=10, window=dt.timedelta(days=1)
        )
    assert budget.locked
