"""Scan analytics at a million scans: how fast the console's dashboard answers.

    python bench/scan_analytics.py                      # SQLite in a temporary file
    python bench/scan_analytics.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Seeds 5 producers with 2 products each, 4 lots per product and 5 batches of
5,000 stamps per lot (200 batches), then 1,000,000 scans over the last 90 days:
popular batches scanned more, three quarters of scans from a device new to the
stamp, a third with a coarse place, 300 cloned stamps scanned by dozens of
devices, some PINs claimed twice, and one lot recalled 20 days ago. Scans go in
by bulk Core inserts (COPY on PostgreSQL); the per-stamp rows are computed from
them by one INSERT ... SELECT, as the verifier would have counted them.

It then times each dashboard query and the whole page through the Flask test
client, signed in, for a producer (40 batches) and an authority (all 200
of them), over 30 and 90 days: median of several runs, each after one warm-up
run, first without the indexes of migration 0005 and then with them. On
PostgreSQL the run uses a schema of its own and drops it afterwards.

The answers must not depend on the indexes: every query's result and the CSV
export are compared between the two passes, and the seeded counts checked; any
mismatch stops the run with exit status 1.

    python bench/scan_analytics.py --scans 20000 --runs 1   # a quick smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checks import expect
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import case, func, insert, select, text

from ocop.keys.jwk import kid_prefix
from ocop.keys.models import IssuerKey
from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus
from ocop.stamps import analytics
from ocop.stamps.models import BatchStatus, ScanLog, StampBatch, StampScan
from ocop.trace.db import Database, scratch_schema, utcnow, vietnam_today
from ocop.trace.models import Lot, Organisation, OrgKind, Product, Recall
from ocop.web import create_app
from ocop.workflows.accounts import create_user
from ocop.workflows.models import Role

PRODUCERS, PRODUCTS, LOTS, BATCHES, STAMPS = 5, 2, 4, 5, 5_000
CLONES, CLONE_SCANS = 300, 40
PASSWORD = "bench password, not a secret"
PLACES = [
    "Hưng Yên", "Hà Nội", "TP. Hồ Chí Minh", "Hải Phòng", "Ninh Bình", "Bắc Ninh",
    "Quảng Ninh", "Đà Nẵng", "Thanh Hóa", "Nghệ An", "Lào Cai", "Cần Thơ",
]  # fmt: skip
# Migration 0005 replaced 0004's one index on scan_log by two; the baseline runs on 0004's.
INDEXES_0005 = list(ScanLog.__table__.indexes)
CREATE_0004 = "CREATE INDEX IF NOT EXISTS ix_scan_log_batch_at ON scan_log (batch_id, scanned_at)"
DROP_0004 = "DROP INDEX IF EXISTS ix_scan_log_batch_at"


@contextmanager
def database(url: str | None) -> Iterator[tuple[Database, str]]:
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
            db = Database.from_url(url)
            db.upgrade()
            yield db, url
            db.dispose()
        return
    with scratch_schema(url, "ocop_bench") as scratch:
        db = Database.from_url(scratch)
        try:
            db.upgrade()
            yield db, scratch
        finally:
            db.dispose()


def seed_records(db: Database) -> dict[str, Any]:
    """Organisations, products, lots and batches; accounts to sign in with."""
    now = utcnow()
    with db.transaction() as session:
        authority = Organisation(kind=OrgKind.AUTHORITY, name="Hội đồng OCOP", tax_code="B0")
        signer = Ed25519Signer(Ed25519PrivateKey.generate())
        key = IssuerKey(
            kid=signer.kid,
            kid_prefix=kid_prefix(signer.kid),
            organisation=authority,
            public_key=signer.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
            status=KeyStatus.ACTIVE,
            not_before=now,
            created_by="bench",
        )
        producers = [
            Organisation(kind=OrgKind.COOPERATIVE, name=f"HTX {p}", tax_code=f"B{p + 1}")
            for p in range(PRODUCERS)
        ]
        session.add_all([authority, key, *producers])
        batches = []
        for p, producer in enumerate(producers):
            for q in range(PRODUCTS):
                product = Product(code=f"P{p}-{q}", producer=producer, name=f"Sản phẩm {p}-{q}")
                for n in range(LOTS):
                    lot = Lot(code=f"L{p}-{q}-{n}", product=product, owner=producer)
                    batches += [
                        StampBatch(
                            lot=lot,
                            key=key,
                            count=STAMPS,
                            status=BatchStatus.ISSUED,
                            issued_at=now,
                            created_by="bench",
                        )
                        for _ in range(BATCHES)
                    ]
        session.add_all(batches)
        session.flush()
        recalled = batches[0].lot
        session.add(Recall(lot=recalled, notice="Thu hồi", recalled_at=now - dt.timedelta(20)))
        create_user(session, "producer@bench.vn", producers[0], Role.PRODUCER, password=PASSWORD)
        create_user(session, "authority@bench.vn", authority, Role.AUTHORITY, password=PASSWORD)
        return {
            "batches": [b.id for b in batches],
            "producer": producers[0].id,
            "recalled": recalled.code,
        }


def scans(batch_ids: list[int], total: int, days: int) -> Iterator[tuple[Any, ...]]:
    """(batch_id, index, scanned_at, first_for_device, place) rows, in no particular order."""
    rng = random.Random(7)
    now = utcnow()
    span = days * 86400
    # A few batches sell far more than the rest (Zipf-like).
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(batch_ids))]
    rng.shuffle(weights)
    clones = [(rng.choice(batch_ids), rng.randrange(STAMPS)) for _ in range(CLONES)]
    for batch_id, index in clones:
        for _ in range(CLONE_SCANS):
            when = now - dt.timedelta(seconds=rng.randrange(span))
            yield batch_id, index, when, True, rng.choice(PLACES)
    picks = rng.choices(batch_ids, weights=weights, k=total - CLONES * CLONE_SCANS)
    for batch_id in picks:
        # Half the scans fall on a tenth of the stamps: those get scanned again.
        index = rng.randrange(STAMPS // 10) if rng.random() < 0.5 else rng.randrange(STAMPS)
        when = now - dt.timedelta(seconds=rng.randrange(span))
        place = rng.choice(PLACES) if rng.random() < 0.35 else None
        yield batch_id, index, when, rng.random() < 0.75, place


def seed_scans(db: Database, batch_ids: list[int], total: int, days: int) -> None:
    columns = ("batch_id", "index", "scanned_at", "first_for_device", "place")
    rows = scans(batch_ids, total, days)
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor:  # type: ignore[attr-defined]
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f"COPY scan_log ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        with db.engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for row in rows:
                chunk.append(dict(zip(columns, row, strict=True)))
                if len(chunk) == 50_000:
                    conn.execute(insert(ScanLog.__table__), chunk)
                    chunk.clear()
            if chunk:
                conn.execute(insert(ScanLog.__table__), chunk)
    log = ScanLog.__table__
    per_stamp = select(
        log.c.batch_id,
        log.c.index,
        func.count(),
        func.sum(case((log.c.first_for_device, 1), else_=0)),
        func.min(log.c.scanned_at),
        func.max(log.c.scanned_at),
    ).group_by(log.c.batch_id, log.c.index)
    with db.engine.begin() as conn:
        conn.execute(
            insert(StampScan.__table__).from_select(
                ["batch_id", "index", "count", "devices", "first_at", "last_at"], per_stamp
            )
        )
        # A few stamps whose scratch-off PIN was entered twice.
        table = StampScan.__table__
        twice = select(table.c.batch_id, table.c.index).where(table.c.devices == 1).limit(100)
        for batch_id, index in conn.execute(twice).all():
            conn.execute(
                table.update()
                .where(table.c.batch_id == batch_id, table.c.index == index)
                .values(pin_claims=2)
            )
    analyze(db)


def analyze(db: Database) -> None:
    """What autovacuum would have done long before a million scans, on PostgreSQL.

    Nothing runs ANALYZE on SQLite, so the bench does not either: the queries
    must find their indexes without table statistics.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def set_indexes(db: Database, new: bool) -> float:
    """The indexes of 0005 (``new``) or those of 0004 on scan_log; returns the seconds taken."""
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text(DROP_0004 if new else CREATE_0004))
        for index in INDEXES_0005:
            if new:
                index.create(conn, checkfirst=True)
            else:
                index.drop(conn, checkfirst=True)
    analyze(db)
    return time.perf_counter() - started


def median_ms(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The median of ``runs`` timed runs, after one untimed; and the last run's answer."""
    answer = action()  # warm: the first run pays for caches and compiled statements
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, canonical(answer)


def canonical(value: Any) -> Any:
    """An answer in a form to compare: records as plain values, collections in a set order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical(dataclasses.asdict(value))
    if isinstance(value, dict):
        return sorted((repr(k), canonical(v)) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((canonical(v) for v in value), key=repr)
    return value


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/console/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/console/signin", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    return client


def page(client: FlaskClient, url: str) -> Callable[[], bytes | None]:
    """GET ``url``; the body is the answer for a CSV (an HTML page carries a fresh token)."""

    def get() -> bytes | None:
        response = client.get(url)
        expect(response.status_code == 200, f"GET {url} answered {response.status_code}")
        return response.data if response.mimetype == "text/csv" else None

    return get


Figures = dict[str, dict[str, float]]


def measure(db: Database, app: Flask, seeded: dict[str, Any], runs: int) -> tuple[Figures, dict]:
    """Milliseconds per query and page, and what each answered."""
    today = vietnam_today()
    scopes = {
        "producer": analytics.Scope(organisation_id=seeded["producer"]),
        "authority": analytics.Scope(),
    }
    clients = {
        "producer": signed_in(app, "producer@bench.vn"),
        "authority": signed_in(app, "authority@bench.vn"),
    }
    figures: Figures = {}
    answers: dict[tuple[str, str], Any] = {}

    def time_it(column: str, row: str, action: Callable[[], Any]) -> None:
        figures[column][row], answers[(column, row)] = median_ms(action, runs)

    for who, scope in scopes.items():
        for days in (30, 90):
            period = analytics.Period.last(days, today)
            column = f"{who} {days}d"
            figures[column] = {}
            with db.sessionmaker() as session:
                batches = analytics.batches_in(session, scope)
                ids = None if scope.everything else set(batches)  # as the dashboard does
                time_it(
                    column,
                    "batches in scope",
                    lambda s=session, c=scope: analytics.batches_in(s, c),
                )
                time_it(
                    column,
                    "scans per day and batch",
                    lambda s=session, i=set(batches), p=period: analytics.tallies(s, i, p),
                )
                time_it(
                    column,
                    "suspect stamps",
                    lambda s=session, i=ids, p=period: analytics.suspect_stamps(
                        s, i, p, device_threshold=10
                    ),
                )
                time_it(
                    column, "places", lambda s=session, i=ids, p=period: analytics.places(s, i, p)
                )
                time_it(
                    column,
                    "dashboard (all queries)",
                    lambda s=session, c=scope, p=period: analytics.dashboard(
                        s, c, p, device_threshold=10
                    ),
                )
            start = period.start.isoformat()
            url = f"/console/analytics?start={start}&end={today.isoformat()}"
            time_it(column, "GET /console/analytics", page(clients[who], url))
            csv_url = url.replace("analytics?", "analytics.csv?")
            time_it(column, "GET /console/analytics.csv", page(clients[who], csv_url))
    recall = f"/console/analytics?lot={seeded['recalled']}"
    time_it("producer 30d", "GET ?lot= (recalled lot)", page(clients["producer"], recall))
    return figures, answers


def report(title: str, figures: Figures) -> None:
    columns = list(figures)
    rows = list(dict.fromkeys(row for col in figures.values() for row in col))
    print(f"\n{title} (ms, median)")
    print(f"  {'':30}" + "".join(f"{c:>15}" for c in columns))
    for row in rows:
        cells = [figures[c].get(row) for c in columns]
        print(
            f"  {row:30}" + "".join(f"{v:15.1f}" if v is not None else f"{'':>15}" for v in cells)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary file")
    parser.add_argument("--scans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline-runs",
        type=int,
        default=1,
        help="without the indexes (slow: seconds each), after one untimed warm-up run",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, database(args.database_url) as (db, url):
        engine = db.engine.dialect.name
        started = time.perf_counter()
        seeded = seed_records(db)
        set_indexes(db, new=False)
        seed_scans(db, seeded["batches"], args.scans, args.days)
        with db.engine.connect() as conn:
            logged = conn.scalar(select(func.count()).select_from(ScanLog.__table__))
            stamps = conn.scalar(select(func.count()).select_from(StampScan.__table__))
        seconds = time.perf_counter() - started
        with db.sessionmaker() as session:
            own = analytics.batches_in(session, analytics.Scope(organisation_id=seeded["producer"]))
            today = vietnam_today()
            mine = analytics.tallies(session, set(own), analytics.Period.last(args.days, today))
        share = sum(t.counts.total for t in mine)
        expect(logged == args.scans, f"seeded {logged:,} scans, not {args.scans:,}")
        expect(0 < share < logged, f"the producer's batches have {share:,} of {logged:,} scans")
        print(f"engine: {engine}")
        print(f"seeded {logged:,} scans of {stamps:,} stamps in 200 batches in {seconds:.0f} s")
        print(f"the producer's {len(own)} batches have {share:,} of them")
        app = create_app(
            {
                "database_url": url,
                "instance": Path(folder) / "instance",
                "secret_key": "bench",
                "rate_limit": None,
            }
        )
        without, before = measure(db, app, seeded, args.baseline_runs)
        report("without the indexes of 0005 (0004's only)", without)
        seconds = set_indexes(db, new=True)
        print(f"\ncreating the indexes of 0005 took {seconds:.1f} s")
        figures, after = measure(db, app, seeded, args.runs)
        report("with the indexes of 0005", figures)
        app.extensions["ocop.db"].dispose()
        differ = [" / ".join(key) for key in before if before[key] != after[key]]
        expect(not differ, "answers differ with and without the indexes: " + "; ".join(differ))
        print("\nevery answer is the same with and without the indexes of 0005")


if __name__ == "__main__":
    main()
