"""Parallel scans of one stamp lose no count (run on SQLite and on PostgreSQL).

On SQLite a writer takes the database's lock up front, so a count read in Python
and written back within the write transaction still comes out right there; on
PostgreSQL transactions really overlap and such a count loses scans. Run them on
both.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ocop.stamps import ScanContext, StampScan, StampToken, Verifier, claim_pin
from ocop.stamps.copies import CopyRule
from ocop.stamps.models import ScanLog, StampDevice
from ocop.trace.db import utcnow
from tests import factories as f

SCANS = 120
THREADS = 8
PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 10) Mobile Safari/537.36"}


def test_parallel_scans_are_all_counted(clean_database):
    database = clean_database
    with database.transaction() as session:
        key = f.authority_key(session)
        batch = f.issued_batch(session, f.certified_lot(session), key, count=3)
        text = StampToken.issue(key.signer, batch.id, 1).encode()
        batch_id = batch.id

    def scan(n: int) -> int:
        with database.transaction() as session:
            verdict = Verifier(session, rule=CopyRule(sightings=1000)).verify(
                text, now=utcnow(), scan=ScanContext(device=f"device-{n % 10}")
            )
            return verdict.scans.count

    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(scan, range(SCANS)))

    # Each scan saw its own count: no two were lost into one.
    assert sorted(counts) == list(range(1, SCANS + 1))
    with database.transaction() as session:
        row = session.get(StampScan, (batch_id, 1))
        assert row.count == SCANS
        assert row.devices == 10
        devices = session.scalars(select(StampDevice.device)).all()
        assert len(devices) == 10


def test_phones_scanning_one_stamp_at_once_through_the_web_are_all_counted(app, demo):
    # The web's own path: the verdict read in the request's session, the scan
    # counted in a short write transaction of its own.
    url = f"/api/v1/verify/{demo[11].token.encode()}"
    start = threading.Barrier(THREADS)

    def phone(_n: int) -> list[int]:
        client = app.test_client()  # one phone: its device cookie comes back each time
        start.wait()
        scans = [client.get(url, headers=PHONE) for _ in range(SCANS // THREADS)]
        return [scan.json["scans"]["count"] for scan in scans]

    with ThreadPoolExecutor(THREADS) as pool:
        counts = [count for seen in pool.map(phone, range(THREADS)) for count in seen]

    assert sorted(counts) == list(range(1, SCANS + 1))
    with app.extensions["ocop.db"].transaction() as session:
        row = session.get(StampScan, (demo[11].serial.batch, demo[11].serial.index))
        # Devices follow the copy rule (tests/functional/test_copy_detection.py); here the
        # point is that no count is lost.
        assert row.count == SCANS and 1 <= row.devices <= THREADS
        assert session.scalar(select(func.count()).select_from(ScanLog)) == SCANS


def test_one_pin_entered_twice_at_once_has_one_first_claim(clean_database):
    database = clean_database
    with database.transaction() as session:
        key = f.authority_key(session)
        batch = f.issued_batch(session, f.certified_lot(session), key, count=5, pin=True)
        batch_id = batch.id
    base = utcnow().replace(microsecond=0)
    start = threading.Barrier(2)

    def claim(job: tuple[int, int]) -> tuple[int, dt.datetime, int]:
        index, second = job
        now = base + dt.timedelta(seconds=second)  # each claim's own time, to tell them apart
        start.wait()
        with database.transaction() as session:
            return index, now, claim_pin(session, batch_id, index, now)

    jobs = [(index, second) for index in range(5) for second in (1, 2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(claim, jobs))

    with database.transaction() as session:
        for index in range(5):
            claims = sorted((n, now) for i, now, n in results if i == index)
            assert [n for n, _ in claims] == [1, 2], index  # exactly one first claim
            row = session.get(StampScan, (batch_id, index))
            assert row.pin_claims == 2
            # The first claim's time stays: a later claim must not move it.
            assert row.pin_claimed_at == claims[0][1], index


def test_a_pin_entered_on_two_phones_at_once_is_first_on_one(app, demo):
    stamp = demo[10]
    url = f"/V/{stamp.token.encode()}/pin"
    start = threading.Barrier(2)

    def enter(_n: int) -> str:
        client = app.test_client()
        start.wait()
        response = client.post(url, data={"pin": stamp.pin})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(enter, range(2)))

    assert sum("người đầu tiên" in page for page in pages) == 1
    assert sum("đã được nhập trước đây" in page for page in pages) == 1
    with app.extensions["ocop.db"].transaction() as session:
        row = session.get(StampScan, (stamp.serial.batch, stamp.serial.index))
        assert row.pin_claims == 2 and row.pin_claimed_at is not None
