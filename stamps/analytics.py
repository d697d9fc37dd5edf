"""Scan analytics: what the verifier counted, by day, product, batch and place.

Days are Vietnamese calendar days: a scan at 23:30 UTC counts for the next
local day. The database does the counting, so a dashboard reads aggregated
rows (a few per day and batch), never the scans themselves; each engine counts
the way it is fast at (see :func:`tallies`), on the indexes of migration 0005.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    column,
    false,
    func,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import ScalarSelect

from ocop.trace.db import VIETNAM, UtcDateTime
from ocop.trace.models import Lot, Product

from .copies import CopyRule
from .models import ScanLog, StampActivation, StampBatch, StampScan
from .serial import Serial

K = TypeVar("K")

_LOG = ScanLog.__table__
_SCANS = StampScan.__table__
_ACTIVE = StampActivation.__table__

# Vietnam keeps UTC+7 all year, with no daylight saving: a fixed shift is exact.
_OFFSET = VIETNAM.utcoffset(None)
_HOURS = int(_OFFSET.total_seconds() // 3600)
assert dt.timedelta(hours=_HOURS) == _OFFSET, "the local-day SQL assumes a whole-hour offset"

LONGEST_PERIOD = 366  # days; a longer range is a mistake, or a query nobody should run
# The days a period may name: scans began long after the first, and a day near
# datetime's own limits (9999-12-31) overflows the arithmetic of a period's bounds.
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)


class _LocalDay(FunctionElement[dt.date]):
    """The Vietnamese calendar day of a UTC timestamp, computed by PostgreSQL."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(_LocalDay, "postgresql")
def _local_day_postgresql(element: _LocalDay, compiler: Any, **kw: Any) -> str:
    # An INTERVAL zone is ISO-signed (east positive), unlike a POSIX zone name,
    # and does not depend on the session's TimeZone.
    inner = compiler.process(element.clauses, **kw)
    return f"CAST(({inner}) AT TIME ZONE INTERVAL '+{_HOURS:02d}:00' AS DATE)"


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in Vietnam."""
    return dt.datetime.combine(day, dt.time(), VIETNAM).astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        if self.start < EARLIEST_DAY or self.end > LATEST_DAY:
            raise ValueError(f"a period lies between {EARLIEST_DAY} and {LATEST_DAY}")
        if len(self) > LONGEST_PERIOD:
            raise ValueError(f"a period is at most {LONGEST_PERIOD} days")

    @classmethod
    def last(cls, days: int, today: dt.date) -> Period:
        return cls(today - dt.timedelta(days=days - 1), today)

    def __len__(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(len(self))]

    @property
    def since(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def until(self) -> dt.datetime:
        """The first instant after the period (exclusive)."""
        return local_midnight(self.end + dt.timedelta(days=1))


@dataclass(frozen=True, slots=True)
class Scope:
    """Which stamps: an organisation's (its lots or its products), narrowed further."""

    organisation_id: int | None = None  # None: every organisation's
    product_id: int | None = None
    lot_id: int | None = None
    batch_id: int | None = None

    @property
    def everything(self) -> bool:
        return self == Scope()


@dataclass(frozen=True, slots=True)
class BatchInfo:
    id: int
    lot_code: str
    product_id: int | None
    product_code: str | None
    product_name: str | None


@dataclass(frozen=True, slots=True)
class Counts:
    """Scans from a device new to the stamp (first) and from one seen before (repeat)."""

    first: int = 0
    repeat: int = 0

    @property
    def total(self) -> int:
        return self.first + self.repeat

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.first + other.first, self.repeat + other.repeat)


@dataclass(frozen=True, slots=True)
class Tally:
    """One aggregated row: the scans of one batch on one local day."""

    day: dt.date
    batch_id: int
    counts: Counts


@dataclass(frozen=True, slots=True)
class ProductCounts:
    product_id: int | None
    code: str | None
    name: str | None
    counts: Counts


@dataclass(frozen=True, slots=True)
class SuspectStamp:
    serial: Serial
    lot_code: str | None
    product_name: str | None
    count: int
    devices: int
    pin_claims: int
    first_at: dt.datetime
    last_at: dt.datetime
    reasons: tuple[str, ...]  # the verifier's reason codes
    sightings: int = 0
    far_apart: int = 0

    @property
    def batch(self) -> int:
        return self.serial.batch

    @property
    def index(self) -> int:
        return self.serial.index


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: Period
    total: Counts
    days: list[tuple[dt.date, Counts]]
    products: list[ProductCounts]
    batches: list[tuple[BatchInfo, Counts]]
    suspects: list[SuspectStamp]
    suspect_total: int
    places: list[tuple[str, int]]  # the most frequent places
    other_places: int  # scans from the places beyond those
    unplaced: int  # scans whose scanner shared no place
    # Stamps scanned before their owner activated them: taken before packing?
    inert: list[InertStamp] = field(default_factory=list)
    inert_total: int = 0


@dataclass(frozen=True, slots=True)
class InertStamp:
    serial: Serial
    lot_code: str | None
    product_name: str | None
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


def batches_in(session: Session, scope: Scope) -> dict[int, BatchInfo]:
    """The stamp batches in ``scope``, by number, with their lot and product."""
    query = (
        select(StampBatch.id, Lot.code, Product.id, Product.code, Product.name)
        .join(Lot, StampBatch.lot_id == Lot.id)
        .outerjoin(Product, Lot.product_id == Product.id)
    )
    if scope.organisation_id is not None:
        org = scope.organisation_id
        query = query.where(or_(Lot.owner_id == org, Product.producer_id == org))
    if scope.product_id is not None:
        query = query.where(Lot.product_id == scope.product_id)
    if scope.lot_id is not None:
        query = query.where(StampBatch.lot_id == scope.lot_id)
    if scope.batch_id is not None:
        query = query.where(StampBatch.id == scope.batch_id)
    return {row[0]: BatchInfo(*row) for row in session.execute(query)}


def _within(query: Select[Any], column: Any, batch_ids: Collection[int] | None) -> Select[Any]:
    """Narrow to ``batch_ids``; None means every batch (the authority's whole view)."""
    if batch_ids is None:
        return query
    if not batch_ids:
        return query.where(false())
    return query.where(column.in_(sorted(batch_ids)))


def _in_period(period: Period) -> ColumnElement[bool]:
    return (_LOG.c.scanned_at >= period.since) & (_LOG.c.scanned_at < period.until)


def tallies(
    session: Session,
    batch_ids: Collection[int],
    period: Period,
    *,
    since: dt.datetime | None = None,
) -> list[Tally]:
    """Scans of ``batch_ids`` per local day and batch, first and repeat apart, in no order.

    Counts from the start of the period, or from ``since`` if that is later.
    """
    since = max(period.since, since) if since else period.since
    if not batch_ids:
        return []
    if session.get_bind().dialect.name == "sqlite":
        rows = _tallies_by_range(session, batch_ids, period, since)
    else:
        rows = _tallies_by_group(session, batch_ids, period, since)
    return [Tally(day, batch, Counts(first, repeat)) for day, batch, first, repeat in rows]


def _tallies_by_group(
    session: Session, batch_ids: Collection[int], period: Period, since: dt.datetime
) -> Sequence[tuple[Any, ...]]:
    day = _LocalDay(_LOG.c.scanned_at)
    first = _LOG.c.first_for_device
    query = select(
        day,
        _LOG.c.batch_id,
        func.count().filter(first),
        func.count().filter(~first),
    ).where(
        _LOG.c.batch_id.in_(sorted(batch_ids)),
        # Says nothing, but lets PostgreSQL read exact ranges of
        # ix_scan_log_batch_first_at, one per batch and kind, instead of the table.
        first.in_([False, True]),
        _LOG.c.scanned_at >= since,
        _LOG.c.scanned_at < period.until,
    )
    return session.execute(query.group_by(day, _LOG.c.batch_id)).all()


def _tallies_by_range(
    session: Session, batch_ids: Collection[int], period: Period, since: dt.datetime
) -> Sequence[tuple[Any, ...]]:
    # SQLite groups by a computed day by sorting every scan (seconds at a million
    # scans) but counts a range of an index fast: so two counts per day and
    # batch, first and repeat scans, each a range of ix_scan_log_batch_first_at.
    bounds = [
        (day, max(local_midnight(day), since), local_midnight(day + dt.timedelta(days=1)))
        for day in period.days
    ]
    # A CTE: SQLite knows no column list after a VALUES alias.
    days = (
        values(column("day", Date()), column("lo", UtcDateTime()), column("hi", UtcDateTime()))
        .data(bounds)
        .cte("d")
    )
    batches = select(StampBatch.id).where(StampBatch.id.in_(sorted(batch_ids))).subquery("b")

    def count(first: bool) -> ScalarSelect[int]:
        return (
            select(func.count())
            .where(
                _LOG.c.batch_id == batches.c.id,
                _LOG.c.first_for_device == first,
                _LOG.c.scanned_at >= days.c.lo,
                _LOG.c.scanned_at < days.c.hi,
            )
            .scalar_subquery()
        )

    grid = days.join(batches, true())
    query = select(days.c.day, batches.c.id, count(True), count(False)).select_from(grid)
    return [row for row in session.execute(query).all() if row[2] or row[3]]


def _sum_by(rows: Iterable[Tally], key: Callable[[Tally], K | None]) -> dict[K, Counts]:
    """Counts added up by ``key`` (rows whose key is None left out), in plain ints:
    a province's 90 days are tens of thousands of rows."""
    sums: dict[K, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        k = key(row)
        if k is not None:
            sums[k][0] += row.counts.first
            sums[k][1] += row.counts.repeat
    return {k: Counts(*n) for k, n in sums.items()}


def per_day(rows: Iterable[Tally], period: Period) -> list[tuple[dt.date, Counts]]:
    """Every day of the period, in order, days without scans included."""
    by_day = _sum_by(rows, lambda row: row.day)
    return [(day, by_day.get(day, Counts())) for day in period.days]


def per_batch(
    rows: Iterable[Tally], batches: dict[int, BatchInfo]
) -> list[tuple[BatchInfo, Counts]]:
    """Batches with scans, most scanned first."""
    by_batch = _sum_by(rows, lambda row: row.batch_id if row.batch_id in batches else None)
    found = [(batches[batch], counts) for batch, counts in by_batch.items()]
    return sorted(found, key=lambda item: (-item[1].total, item[0].id))


def per_product(rows: Iterable[Tally], batches: dict[int, BatchInfo]) -> list[ProductCounts]:
    """Products with scans, most scanned first."""
    labels = {info.product_id: info for info in batches.values()}

    def product(row: Tally) -> int | None:
        info = batches.get(row.batch_id)
        return info.product_id if info is not None else None

    found = [
        ProductCounts(p, labels[p].product_code, labels[p].product_name, counts)
        for p, counts in _sum_by(rows, product).items()
    ]
    return sorted(found, key=lambda item: (-item.counts.total, item.code or ""))


def suspect_stamps(
    session: Session,
    batch_ids: Collection[int] | None,
    period: Period,
    *,
    rule: CopyRule,
    batches: dict[int, BatchInfo] | None = None,
    limit: int = 50,
) -> tuple[list[SuspectStamp], int]:
    """Stamps the verifier flags as ``suspect`` that were scanned in the period.

    The rule is the verifier's own (:meth:`CopyRule.conditions`). Returns the
    most telling ``limit`` stamps (most sightings first) and how many there are in all.
    """
    rules = rule.conditions(_SCANS.c.sightings, _SCANS.c.far_apart, _SCANS.c.pin_claims)
    query = select(
        _SCANS.c.batch_id,
        _SCANS.c.index,
        _SCANS.c.count,
        _SCANS.c.devices,
        _SCANS.c.pin_claims,
        _SCANS.c.first_at,
        _SCANS.c.last_at,
        _SCANS.c.sightings,
        _SCANS.c.far_apart,
        func.count().over(),
    ).where(
        or_(*(condition for condition, _reason in rules)),
        _SCANS.c.last_at >= period.since,
        _SCANS.c.first_at < period.until,
    )
    query = _within(query, _SCANS.c.batch_id, batch_ids)
    query = query.order_by(
        _SCANS.c.sightings.desc(),
        _SCANS.c.pin_claims.desc(),
        _SCANS.c.devices.desc(),
        _SCANS.c.batch_id,
        _SCANS.c.index,
    ).limit(limit)
    rows = session.execute(query).all()
    found = [_suspect(row, batches or {}, rule) for row in rows]
    return found, rows[0][-1] if rows else 0


def _suspect(row: Any, batches: dict[int, BatchInfo], rule: CopyRule) -> SuspectStamp:
    batch_id, index, count, devices, pin_claims, first_at, last_at, sightings, far, _total = row
    info = batches.get(batch_id)
    return SuspectStamp(
        serial=Serial(batch_id, index),
        lot_code=info.lot_code if info else None,
        product_name=info.product_name if info else None,
        count=count,
        devices=devices,
        pin_claims=pin_claims,
        first_at=first_at,
        last_at=last_at,
        reasons=tuple(reason.value for reason in rule.reasons(sightings, far, pin_claims)),
        sightings=sightings,
        far_apart=far,
    )


def inert_stamps(
    session: Session,
    batch_ids: Collection[int] | None,
    period: Period,
    *,
    batches: dict[int, BatchInfo] | None = None,
    limit: int = 50,
) -> tuple[list[InertStamp], int]:
    """Stamps first scanned while no activated range held them, scanned in the period.

    The verifier answered ``not_activated`` to those scans: a stamp in the wild
    before its owner put it on a product was taken from a roll, a print shop
    or a packing line. A stamp activated later still shows: it was seen first.
    """
    activated_before = (
        select(_ACTIVE.c.id)
        .where(
            _ACTIVE.c.batch_id == _SCANS.c.batch_id,
            _ACTIVE.c.first_index <= _SCANS.c.index,
            _ACTIVE.c.last_index >= _SCANS.c.index,
            _ACTIVE.c.activated_at <= _SCANS.c.first_at,
        )
        .exists()
    )
    query = select(
        _SCANS.c.batch_id,
        _SCANS.c.index,
        _SCANS.c.count,
        _SCANS.c.first_at,
        _SCANS.c.last_at,
        func.count().over(),
    ).where(~activated_before, _SCANS.c.last_at >= period.since, _SCANS.c.first_at < period.until)
    query = _within(query, _SCANS.c.batch_id, batch_ids)
    query = query.order_by(_SCANS.c.last_at.desc(), _SCANS.c.batch_id, _SCANS.c.index).limit(limit)
    rows = session.execute(query).all()
    found = []
    for batch_id, index, count, first_at, last_at, _total in rows:
        info = (batches or {}).get(batch_id)
        found.append(
            InertStamp(
                serial=Serial(batch_id, index),
                lot_code=info.lot_code if info else None,
                product_name=info.product_name if info else None,
                count=count,
                first_at=first_at,
                last_at=last_at,
            )
        )
    return found, rows[0][-1] if rows else 0


def places(
    session: Session, batch_ids: Collection[int] | None, period: Period
) -> list[tuple[str, int]]:
    """The coarse places scanners chose to share, most scans first.

    Places are provinces, a few dozen at most, so all of them come back.
    """
    query = select(_LOG.c.place, func.count()).where(_in_period(period), _LOG.c.place.is_not(None))
    # "+ 0" keeps the planner off the batch index: it would read the table for
    # every scan's place, where ix_scan_log_place_at has it all (5 times faster).
    query = _within(query, _LOG.c.batch_id + 0, batch_ids)
    rows = [(place, n) for place, n in session.execute(query.group_by(_LOG.c.place))]
    # Sorted here: ties in name order whatever the database's collation.
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def scans_since(
    session: Session, batch_ids: Collection[int], since: dt.datetime, today: dt.date
) -> list[tuple[dt.date, int]]:
    """Scans of ``batch_ids`` from ``since`` on, per local day up to ``today`` (zeros included).

    For a recalled lot: how many of its stamps people still scan, and so still hold.
    A recall older than :data:`LONGEST_PERIOD` days shows that many last days.
    """
    start = since.astimezone(VIETNAM).date()
    period = Period(max(start, today - dt.timedelta(days=LONGEST_PERIOD - 1)), max(start, today))
    return [
        (day, c.total)
        for day, c in per_day(tallies(session, batch_ids, period, since=since), period)
    ]


def dashboard(
    session: Session, scope: Scope, period: Period, *, rule: CopyRule, top: int = 30
) -> Dashboard:
    """Everything the analytics page shows for ``scope`` over ``period``."""
    batches = batches_in(session, scope)
    batch_ids = None if scope.everything else set(batches)
    rows = tallies(session, set(batches), period)
    days = per_day(rows, period)
    total = sum((counts for _day, counts in days), Counts())
    suspects, suspect_total = suspect_stamps(
        session, batch_ids, period, rule=rule, batches=batches
    )
    shared = places(session, batch_ids, period)
    inert, inert_total = inert_stamps(session, batch_ids, period, batches=batches)
    return Dashboard(
        period=period,
        total=total,
        days=days,
        products=per_product(rows, batches),
        batches=per_batch(rows, batches),
        suspects=suspects,
        suspect_total=suspect_total,
        places=shared[:top],
        other_places=sum(n for _place, n in shared[top:]),
        unplaced=total.total - sum(n for _place, n in shared),
        inert=inert,
        inert_total=inert_total,
    )


def csv_rows(
    rows: Sequence[Tally], batches: dict[int, BatchInfo]
) -> Iterable[tuple[dt.date, BatchInfo, Counts]]:
    """Scans per day per batch (and so per product), in day then product then batch order."""
    known = [row for row in rows if row.batch_id in batches]
    known.sort(key=lambda r: (r.day, batches[r.batch_id].product_code or "", r.batch_id))
    for row in known:
        yield row.day, batches[row.batch_id], row.counts


__all__ = [
    "LONGEST_PERIOD",
    "BatchInfo",
    "Counts",
    "Dashboard",
    "Period",
    "ProductCounts",
    "Scope",
    "SuspectStamp",
    "Tally",
    "batches_in",
    "csv_rows",
    "dashboard",
    "local_midnight",
    "per_batch",
    "per_day",
    "per_product",
    "places",
    "scans_since",
    "suspect_stamps",
    "tallies",
]
