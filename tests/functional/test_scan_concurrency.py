"""Parallel scans of one stamp lose no count (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from ocop.stamps import ScanContext, StampScan, StampToken, Verifier
from ocop.stamps.copies import CopyRule
from ocop.stamps.models import StampDevice
from ocop.trace.db import utcnow
from tests import factories as f

SCANS = 120
THREADS = 8


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
