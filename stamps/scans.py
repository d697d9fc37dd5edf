"""Counting scans: atomic in the database, whatever the number of workers.

The module is longer than 600 lines because the scan statements of both engines,
the connections kept per thread and the PIN budget share one transaction model;
split apart, each part would have to explain it again.

A scan is the hot path of the whole service. :class:`ScanCounter` counts one on
a driver connection of its own (one per thread, no ORM Session, no pool
checkout): on PostgreSQL one statement in autocommit, a single round trip that
also returns the facts version (stamps/facts.py); on SQLite, where a statement
cannot modify several tables, one short ``BEGIN IMMEDIATE`` transaction of four,
in process. :func:`record_scan` runs the very same statements inside a
Session's transaction, for commands and tests.

Counters move only in SQL (``count = count + 1``, inserts that do nothing on
conflict), so concurrent scans on many workers lose no count and count a new
device or network exactly once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ocop.trace.db import make_engine

from .copies import CopyRule, SharedPlace
from .models import ScanLog, StampScan

log = logging.getLogger(__name__)

_SCANS = StampScan.__table__
_LOG = ScanLog.__table__


@dataclass(frozen=True, slots=True)
class ScanSummary:
    count: int
    devices: int
    pin_claims: int
    first_at: dt.datetime
    last_at: dt.datetime
    sightings: int = 0
    far_apart: int = 0
    # The scan_log row of the scan just counted (None when nothing was counted):
    # the page's "share your province" form refers to it.
    log_id: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "devices": self.devices,
            "sightings": self.sightings,
            "far_apart": self.far_apart,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CountedScan:
    summary: ScanSummary
    facts_version: int


# --- the statements -------------------------------------------------------

# "index" is a keyword in SQLite, so it is quoted everywhere.
_POSTGRES_SCAN = """
WITH dev AS (
    INSERT INTO stamp_devices (batch_id, "index", device, first_at)
    VALUES (:b, :i, :device, :now) ON CONFLICT DO NOTHING RETURNING 1
), net AS (
    INSERT INTO stamp_networks (batch_id, "index", network, first_at)
    VALUES (:b, :i, :network, :now) ON CONFLICT DO NOTHING RETURNING 1
), fresh AS (
    SELECT (SELECT count(*) FROM dev)::int AS d, (SELECT count(*) FROM net)::int AS n
), s AS (
    INSERT INTO stamp_scans AS s (batch_id, "index", count, devices, sightings, far_apart,
                                  pin_claims, pin_attempts, first_at, last_at)
    SELECT :b, :i, 1, d, d * n, 0, 0, 0, :now, :now FROM fresh
    ON CONFLICT (batch_id, "index") DO UPDATE SET
        count = s.count + 1,
        devices = s.devices + excluded.devices,
        sightings = s.sightings + excluded.sightings,
        last_at = excluded.last_at
    RETURNING s.count, s.devices, s.pin_claims, s.first_at, s.last_at, s.sightings, s.far_apart
), logged AS (
    INSERT INTO scan_log (batch_id, "index", scanned_at, first_for_device, place)
    SELECT :b, :i, :now, d > 0, :place FROM fresh RETURNING id
)
SELECT s.*, logged.id, (SELECT version FROM facts_version WHERE id = 1)
FROM s, logged
"""

_SQLITE_DEVICE = """
INSERT INTO stamp_devices (batch_id, "index", device, first_at)
VALUES (:b, :i, :device, :now) ON CONFLICT DO NOTHING RETURNING 1
"""
_SQLITE_NETWORK = """
INSERT INTO stamp_networks (batch_id, "index", network, first_at)
VALUES (:b, :i, :network, :now) ON CONFLICT DO NOTHING RETURNING 1
"""
_SQLITE_UPSERT = """
INSERT INTO stamp_scans (batch_id, "index", count, devices, sightings, far_apart,
                         pin_claims, pin_attempts, first_at, last_at)
VALUES (:b, :i, 1, :d, :d * :n, 0, 0, 0, :now, :now)
ON CONFLICT (batch_id, "index") DO UPDATE SET
    count = count + 1,
    devices = devices + excluded.devices,
    sightings = sightings + excluded.sightings,
    last_at = excluded.last_at
RETURNING count, devices, pin_claims, first_at, last_at, sightings, far_apart
"""
_SQLITE_LOG = """
INSERT INTO scan_log (batch_id, "index", scanned_at, first_for_device, place)
VALUES (:b, :i, :now, :d > 0, :place)
"""
_VERSION = "SELECT version FROM facts_version WHERE id = 1"


def _pyformat(sql: str) -> str:
    """``:name`` to psycopg's ``%(name)s`` (no literal ``%`` or ``::`` casts hit here)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


_POSTGRES_SCAN_PY = _pyformat(_POSTGRES_SCAN)
_VERSION_PY = _VERSION


def _sqlite_time(value: dt.datetime) -> str:
    # The very text SQLAlchemy's SQLite DateTime writes (naive UTC), so that
    # analytics' range queries compare like with like.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _count_on(
    dbapi: Any, dialect: str, batch_id: int, index: int, scan: ScanParams
) -> CountedScan:
    """The statements of one scan on a driver connection, inside the caller's transaction."""
    cursor = dbapi.cursor()
    try:
        if dialect == "postgresql":
            params = {
                "b": batch_id,
                "i": index,
                "device": scan.device,
                "network": scan.network,
                "now": scan.now,
                "place": scan.place,
            }
            cursor.execute(_POSTGRES_SCAN_PY, params)
            row = cursor.fetchone()
            *counters, log_id, version = row
        else:
            now = _sqlite_time(scan.now)
            stamp = {"b": batch_id, "i": index, "now": now}
            cursor.execute(_SQLITE_DEVICE, {**stamp, "device": scan.device})
            d = len(cursor.fetchall())
            cursor.execute(_SQLITE_NETWORK, {**stamp, "network": scan.network})
            n = len(cursor.fetchall())
            cursor.execute(_SQLITE_UPSERT, {**stamp, "d": d, "n": n})
            counters = cursor.fetchone()
            cursor.execute(_SQLITE_LOG, {**stamp, "d": d, "place": scan.place})
            log_id = cursor.lastrowid
            cursor.execute(_VERSION)
            version = cursor.fetchone()[0]
    finally:
        cursor.close()
    return CountedScan(_summary(counters, log_id), version or 0)


@dataclass(frozen=True, slots=True)
class ScanParams:
    """One scan to count: who (keyed hashes from the web), when, and any place shared."""

    device: str
    network: str
    now: dt.datetime
    place: str | None = None


def record_scan(
    session: Session,
    batch_id: int,
    index: int,
    *,
    device: str | None,
    now: dt.datetime,
    network: str | None = None,
    place: str | None = None,
) -> ScanSummary:
    """Count one scan of stamp (batch, index) inside ``session``'s transaction.

    ``device`` and ``network`` are keyed hashes (web/scanning.py); a scan with
    no network (a command, a test) is its device's own network.
    """
    device = device or "unknown"
    params = ScanParams(device=device, network=network or device, now=now, place=place)
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    return _count_on(dbapi, connection.dialect.name, batch_id, index, params).summary


class ScanCounter:
    """Counts scans on one driver connection per thread, kept between requests.

    ``synchronous_commit=False`` (PostgreSQL) acknowledges a scan before its WAL
    record reaches the disk: a crash of the database server, never of a web
    process, may then lose the last ~0.6 s of scans (docs/scan-path.md).
    On SQLite the counter's connections never checkpoint: a thread of its own
    does, so no scan waits for the fsyncs of a checkpoint.
    """

    # A connection idle this long is pinged before use (a restarted server).
    STALE_AFTER = 30.0

    def __init__(self, url: str, *, synchronous_commit: bool = True) -> None:
        self.url = url
        self.synchronous_commit = synchronous_commit
        self._engine = make_engine(url, poolclass=NullPool, wal_autocheckpoint=0)
        self.dialect = self._engine.dialect.name
        self._local = threading.local()
        self._checkpointer: _Checkpointer | None = None
        self._lock = threading.Lock()
        self._open: list[_Held] = []  # every thread's, so that close() reaches them all
        sqlite_file = self._engine.url.database if self.dialect == "sqlite" else None
        self._writers = _WriterQueue(sqlite_file)

    def count(self, batch_id: int, index: int, scan: ScanParams) -> CountedScan:
        held = self._connection()
        try:
            if self.dialect == "postgresql":
                return _count_on(held.dbapi, self.dialect, batch_id, index, scan)
            with self._writers.turn():
                held.dbapi.execute("BEGIN IMMEDIATE")
                try:
                    counted = _count_on(held.dbapi, self.dialect, batch_id, index, scan)
                except BaseException:
                    held.dbapi.execute("ROLLBACK")
                    raise
                held.dbapi.execute("COMMIT")
            return counted
        except self._engine.dialect.loaded_dbapi.Error:
            self._discard()
            raise
        finally:
            held.used_at = time.monotonic()

    def _connection(self) -> _Held:
        held: _Held | None = getattr(self._local, "held", None)
        pid = os.getpid()
        if held is not None and held.pid != pid:
            held = None  # inherited through fork: the parent's, not ours to use or close
        stale = held is not None and time.monotonic() - held.used_at > self.STALE_AFTER
        if stale and not self._alive(held):  # type: ignore[arg-type]
            self._discard()
            held = None
        if held is None:
            held = self._connect(pid)
            self._local.held = held
        return held

    def _connect(self, pid: int) -> _Held:
        fairy = self._engine.raw_connection()
        dbapi: Any = fairy.dbapi_connection  # psycopg's or sqlite3's, used as such
        if self.dialect == "postgresql":
            dbapi.autocommit = True
            if not self.synchronous_commit:
                dbapi.execute("SET synchronous_commit TO off")
        else:
            self._start_checkpointer(pid)
        held = _Held(fairy, dbapi, pid, time.monotonic())
        with self._lock:
            self._open.append(held)
        return held

    def _alive(self, held: _Held) -> bool:
        try:
            cursor = held.dbapi.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        except self._engine.dialect.loaded_dbapi.Error:
            return False
        return True

    def _discard(self) -> None:
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            self._close(held)

    def _close(self, held: _Held) -> None:
        with self._lock:
            if held in self._open:
                self._open.remove(held)
        if held.pid == os.getpid():
            try:
                held.fairy.close()
            except Exception:  # a broken connection may refuse to close
                log.debug("closing a broken scan connection failed", exc_info=True)

    def _start_checkpointer(self, pid: int) -> None:
        with self._lock:
            if self._checkpointer is None or self._checkpointer.pid != pid:
                self._checkpointer = _Checkpointer(self._engine, pid)
                self._checkpointer.start()

    def close(self) -> None:
        """Closes every thread's connection and stops the checkpointer."""
        self._local.held = None
        with self._lock:
            held = list(self._open)
        for one in held:
            self._close(one)
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._writers.close()
        self._engine.dispose()


class _WriterQueue:
    """SQLite's scan writers, one at a time, woken in turn rather than polling.

    SQLite lets one writer in; the others wait in its busy handler, which
    sleeps 1, 2, 5, 10 ... 100 ms between tries. With several threads and
    workers counting at once, some scans slept for seconds. Here the threads of
    a process queue on a lock, and the processes on an ``flock`` of a file
    beside the database: the kernel wakes the next writer the moment the lock
    is free (and frees it if its holder dies).
    """

    def __init__(self, database: str | None) -> None:
        self._path = f"{database}-scanlock" if database and database != ":memory:" else None
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


@dataclass(slots=True, eq=False)
class _Held:
    fairy: Any
    dbapi: Any
    pid: int
    used_at: float


class _Checkpointer(threading.Thread):
    """Moves SQLite's write-ahead log into the database file, off the request path.

    Commits in WAL mode with ``synchronous=NORMAL`` write the log and do not
    fsync; a checkpoint fsyncs the log and the database. Left to the connection
    that commits the 1000th page, it stalls that request for tens of
    milliseconds on a busy disk; here a daemon thread does it every second.
    A PASSIVE checkpoint never blocks a writer or a reader.
    """

    INTERVAL = 1.0

    def __init__(self, engine: Engine, pid: int) -> None:
        super().__init__(name="ocop-sqlite-checkpoint", daemon=True)
        self.engine = engine
        self.pid = pid
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.INTERVAL):
            try:
                fairy = self.engine.raw_connection()
                try:
                    dbapi: Any = fairy.dbapi_connection  # sqlite3's own connection
                    dbapi.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                finally:
                    fairy.close()
            except Exception:  # a failed checkpoint is retried next second
                log.warning("SQLite checkpoint failed", exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()


# --- reading, without counting --------------------------------------------

_SUMMARY_COLUMNS = (
    _SCANS.c.count,
    _SCANS.c.devices,
    _SCANS.c.pin_claims,
    _SCANS.c.first_at,
    _SCANS.c.last_at,
    _SCANS.c.sightings,
    _SCANS.c.far_apart,
)
_SUMMARY = select(*_SUMMARY_COLUMNS).where(
    _SCANS.c.batch_id == bindparam("batch_id"), _SCANS.c.index == bindparam("index")
)


def scan_summary(session: Session, batch_id: int, index: int) -> ScanSummary | None:
    """What has been seen of a stamp, counting nothing."""
    row = session.connection().execute(_SUMMARY, {"batch_id": batch_id, "index": index}).first()
    return _summary(row) if row else None


def scan_summaries(
    session: Session, stamps: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], ScanSummary]:
    """:func:`scan_summary` of many stamps in few queries (a bulk stock check)."""
    wanted = sorted(set(stamps))
    found: dict[tuple[int, int], ScanSummary] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(_SCANS.c.batch_id, _SCANS.c.index, *_SUMMARY_COLUMNS).where(
            tuple_(_SCANS.c.batch_id, _SCANS.c.index).in_(chunk)
        )
        for batch_id, index, *rest in session.execute(query):
            found[(batch_id, index)] = _summary(rest)
    return found


# --- places ---------------------------------------------------------------


# How long after a scan its place may still be shared.
PLACE_WINDOW = dt.timedelta(hours=1)


def record_place(
    session: Session,
    log_id: int,
    batch_id: int,
    index: int,
    shared: SharedPlace,
    rule: CopyRule,
    *,
    since: dt.datetime,
) -> bool:
    """Attach a shared place to scan ``log_id`` of stamp (batch, index), once.

    Returns False when that scan is not this stamp's, was made before
    ``since`` or already has a place (nothing changes). Otherwise the place
    lands in the scan log (the analytics' places) and on the stamp, where
    :meth:`CopyRule.far_apart` compares it with the place shared before.
    """
    placed = session.execute(
        update(_LOG)
        .where(
            _LOG.c.id == log_id,
            _LOG.c.batch_id == batch_id,
            _LOG.c.index == index,
            _LOG.c.place.is_(None),
            _LOG.c.scanned_at >= since,
        )
        .values(place=shared.place)
    )
    if placed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row = session.execute(
        select(_SCANS.c.place, _SCANS.c.place_at, _SCANS.c.place_network)
        .where(_SCANS.c.batch_id == batch_id, _SCANS.c.index == index)
        .with_for_update()
    ).first()
    before = SharedPlace(row[0], row[1], row[2]) if row is not None and row[0] else None
    far = rule.far_apart(before, shared)
    session.execute(
        update(_SCANS)
        .where(_SCANS.c.batch_id == batch_id, _SCANS.c.index == index)
        .values(
            place=shared.place,
            place_at=shared.at,
            place_network=shared.network,
            far_apart=_SCANS.c.far_apart + int(far),
        )
    )
    return True


# --- scratch-off PINs -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinBudget:
    """The stamp's PIN entries: this attempt's number in the window, and its limits."""

    attempt: int
    window_at: dt.datetime
    limit: int
    window: dt.timedelta

    @property
    def locked(self) -> bool:
        """More attempts than the limit: this one is refused unchecked."""
        return self.attempt > self.limit

    @property
    def locked_until(self) -> dt.datetime:
        return self.window_at + self.window

    @property
    def last(self) -> bool:
        """This attempt is the last one the window allows."""
        return self.attempt == self.limit


def take_pin_attempt(
    session: Session,
    batch_id: int,
    index: int,
    now: dt.datetime,
    *,
    limit: int,
    window: dt.timedelta,
) -> PinBudget:
    """Take one PIN attempt from the stamp's own budget, before the PIN is compared.

    One atomic upsert: however many requests race, each gets its own number,
    so at most ``limit`` guesses are ever compared in a window, across every
    worker and client. A window starts with its first attempt and ends
    ``window`` later; :func:`lock_pins` restarts it at the last wrong guess, so
    the lock lasts a full ``window`` from then.
    """
    expired = _SCANS.c.pin_window_at.is_(None) | (_SCANS.c.pin_window_at <= now - window)
    stmt = _pin_row(session, batch_id, index, now, pin_attempts=1, pin_window_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_SCANS.c.batch_id, _SCANS.c.index],
        set_={
            "pin_attempts": _case(expired, 1, _SCANS.c.pin_attempts + 1),
            "pin_window_at": _case(expired, now, _SCANS.c.pin_window_at),
        },
    ).returning(_SCANS.c.pin_attempts, _SCANS.c.pin_window_at)
    attempt, window_at = session.execute(stmt).one()
    return PinBudget(attempt, _aware(window_at), limit, window)


def _pin_row(
    session: Session, batch_id: int, index: int, now: dt.datetime, **pin: Any
) -> Any:
    """The INSERT of a stamp's row first touched by a PIN, not a scan: no scans counted."""
    values: dict[str, Any] = {
        "count": 0, "devices": 0, "sightings": 0, "far_apart": 0,
        "pin_claims": 0, "pin_attempts": 0, **pin,
    }  # fmt: skip
    return _insert(session).values(
        batch_id=batch_id, index=index, first_at=now, last_at=now, **values
    )


def lock_pins(session: Session, batch_id: int, index: int, now: dt.datetime) -> None:
    """The last wrong guess of a window: the lock runs a full window from now."""
    session.execute(
        update(_SCANS)
        .where(_SCANS.c.batch_id == batch_id, _SCANS.c.index == index)
        .values(pin_window_at=now)
    )


def claim_pin(session: Session, batch_id: int, index: int, now: dt.datetime) -> int:
    """Record a correct PIN entry; returns how many claims there have been, this one included.

    A correct entry clears the stamp's failed attempts: only the holder knows it.
    """
    stmt = _pin_row(session, batch_id, index, now, pin_claims=1, pin_claimed_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_SCANS.c.batch_id, _SCANS.c.index],
        set_={"pin_claims": _SCANS.c.pin_claims + 1, "pin_attempts": 0, "pin_window_at": None},
    ).returning(_SCANS.c.pin_claims)
    claims = session.execute(stmt).scalar_one()
    if claims == 1:
        session.execute(
            update(_SCANS)
            .where(_SCANS.c.batch_id == batch_id, _SCANS.c.index == index)
            .values(pin_claimed_at=now)
        )
    return claims


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(_SCANS)


def _case(condition: Any, then: Any, otherwise: Any) -> Any:
    from sqlalchemy import case

    return case((condition, then), else_=otherwise)


def _summary(row: Sequence[Any], log_id: int | None = None) -> ScanSummary:
    count, devices, pin_claims, first_at, last_at, sightings, far_apart = row
    return ScanSummary(
        count,
        devices,
        pin_claims,
        _aware(first_at),
        _aware(last_at),
        sightings,
        far_apart,
        log_id,
    )


def _aware(value: dt.datetime | str) -> dt.datetime:
    # Driver rows bypass the column type: SQLite hands back naive UTC text.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
