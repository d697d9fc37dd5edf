"""Counting scans: atomic in the database, whatever the number of workers."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Boolean, Executable, Integer, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ocop.trace.db import UtcDateTime

from .models import ScanLog, StampDevice, StampScan

# Core tables on the session's connection, not mapped classes through the
# session: every statement here runs on each scan, and the ORM's machinery
# around them cost more than the database did.
_SCANS = StampScan.__table__
_DEVICES = StampDevice.__table__
_LOG = ScanLog.__table__


@dataclass(frozen=True, slots=True)
class ScanSummary:
    count: int
    devices: int
    pin_claims: int
    first_at: dt.datetime
    last_at: dt.datetime

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "devices": self.devices,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
        }


def _insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


@dataclass(frozen=True, slots=True)
class _ScanStatements:
    device: Executable
    upsert: Executable
    log: Executable


@functools.cache
def _statements(dialect: str) -> _ScanStatements:
    """Built once per dialect: building them on every scan cost as much as running them."""
    module = postgresql if dialect == "postgresql" else sqlite
    now = bindparam("now", type_=UtcDateTime())
    new_devices = bindparam("new_devices", type_=Integer())
    stamp: dict[str, BindParameter[Any]] = {
        "batch_id": bindparam("batch_id"),
        "index": bindparam("index"),
    }
    device = (
        module.insert(_DEVICES)
        .values(**stamp, device=bindparam("device"), first_at=now)
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: a returned row is reliable on every driver.
        .returning(_DEVICES.c.device)
    )
    upsert = (
        module.insert(_SCANS)
        .values(**stamp, count=1, devices=new_devices, pin_claims=0, first_at=now, last_at=now)
        .on_conflict_do_update(
            index_elements=[_SCANS.c.batch_id, _SCANS.c.index],
            set_={
                "count": _SCANS.c.count + 1,
                "devices": _SCANS.c.devices + new_devices,
                "last_at": now,
            },
        )
        .returning(
            _SCANS.c.count,
            _SCANS.c.devices,
            _SCANS.c.pin_claims,
            _SCANS.c.first_at,
            _SCANS.c.last_at,
        )
    )
    log = _LOG.insert().values(
        **stamp,
        scanned_at=now,
        first_for_device=bindparam("new_device", type_=Boolean()),
        place=bindparam("place"),
    )
    return _ScanStatements(device, upsert, log)


def record_scan(
    session: Session,
    batch_id: int,
    index: int,
    *,
    device: str | None,
    now: dt.datetime,
    place: str | None = None,
) -> ScanSummary:
    """Count one scan of stamp (batch, index); ``device`` is a keyed hash or None."""
    connection = session.connection()
    statements = _statements(connection.dialect.name)
    params = {"batch_id": batch_id, "index": index, "now": now}
    new_device = (
        device is not None
        and connection.execute(statements.device, {**params, "device": device}).first() is not None
    )
    row = connection.execute(statements.upsert, {**params, "new_devices": int(new_device)}).one()
    connection.execute(statements.log, {**params, "new_device": new_device, "place": place})
    return _summary(row)


_SUMMARY = select(
    _SCANS.c.count, _SCANS.c.devices, _SCANS.c.pin_claims, _SCANS.c.first_at, _SCANS.c.last_at
).where(_SCANS.c.batch_id == bindparam("batch_id"), _SCANS.c.index == bindparam("index"))


def scan_summary(session: Session, batch_id: int, index: int) -> ScanSummary | None:
    """What has been seen of a stamp, counting nothing (a bulk stock check runs this per code)."""
    row = session.connection().execute(_SUMMARY, {"batch_id": batch_id, "index": index}).first()
    return _summary(row) if row else None


def claim_pin(session: Session, batch_id: int, index: int, now: dt.datetime) -> int:
    """Record a correct PIN entry; returns how many claims there have been, this one included."""
    stmt = _insert(session, _SCANS).values(
        batch_id=batch_id,
        index=index,
        count=0,
        devices=0,
        pin_claims=1,
        first_at=now,
        last_at=now,
        pin_claimed_at=now,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[_SCANS.c.batch_id, _SCANS.c.index],
        set_={"pin_claims": _SCANS.c.pin_claims + 1},
    ).returning(_SCANS.c.pin_claims)
    claims = session.execute(upsert).scalar_one()
    if claims == 1:
        session.execute(
            update(_SCANS)
            .where(_SCANS.c.batch_id == batch_id, _SCANS.c.index == index)
            .values(pin_claimed_at=now)
        )
    return claims


def _summary(row: Row[int, int, int, Any, Any]) -> ScanSummary:
    count, devices, pin_claims, first_at, last_at = row
    return ScanSummary(count, devices, pin_claims, _aware(first_at), _aware(last_at))


def _aware(value: dt.datetime) -> dt.datetime:
    # RETURNING bypasses the column type on some drivers; SQLite hands back naive UTC.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
