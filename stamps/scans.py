"""Counting scans: atomic in the database, whatever the number of workers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import ScanLog, StampDevice, StampScan


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


def _insert(session: Session, table: type) -> Insert:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


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
    new_device = device is not None and _add_device(session, batch_id, index, device, now)
    stmt = _insert(session, StampScan).values(
        batch_id=batch_id,
        index=index,
        count=1,
        devices=1 if new_device else 0,
        pin_claims=0,
        first_at=now,
        last_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StampScan.batch_id, StampScan.index],
        set_={
            "count": StampScan.count + 1,
            "devices": StampScan.devices + (1 if new_device else 0),
            "last_at": now,
        },
    ).returning(
        StampScan.count,
        StampScan.devices,
        StampScan.pin_claims,
        StampScan.first_at,
        StampScan.last_at,
    )
    row = session.execute(stmt).one()
    session.add(
        ScanLog(
            batch_id=batch_id, index=index, scanned_at=now, first_for_device=new_device, place=place
        )
    )
    return _summary(row)


def _add_device(session: Session, batch_id: int, index: int, device: str, now: dt.datetime) -> bool:
    stmt = (
        _insert(session, StampDevice)
        .values(batch_id=batch_id, index=index, device=device, first_at=now)
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: rowcount of an ORM-enabled insert is not
        # reliable across drivers, a returned row is.
        .returning(StampDevice.device)
    )
    return session.execute(stmt).first() is not None


def scan_summary(session: Session, batch_id: int, index: int) -> ScanSummary | None:
    row = session.execute(
        select(
            StampScan.count,
            StampScan.devices,
            StampScan.pin_claims,
            StampScan.first_at,
            StampScan.last_at,
        ).where(StampScan.batch_id == batch_id, StampScan.index == index)
    ).one_or_none()
    return _summary(row) if row else None


def claim_pin(session: Session, batch_id: int, index: int, now: dt.datetime) -> int:
    """Record a correct PIN entry; returns how many claims there have been, this one included."""
    stmt = _insert(session, StampScan).values(
        batch_id=batch_id,
        index=index,
        count=0,
        devices=0,
        pin_claims=1,
        first_at=now,
        last_at=now,
        pin_claimed_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StampScan.batch_id, StampScan.index],
        set_={"pin_claims": StampScan.pin_claims + 1},
    ).returning(StampScan.pin_claims)
    claims = session.execute(stmt).scalar_one()
    if claims == 1:
        session.execute(
            update(StampScan)
            .where(StampScan.batch_id == batch_id, StampScan.index == index)
            .values(pin_claimed_at=now)
        )
    return claims


def _summary(row: object) -> ScanSummary:
    count, devices, pin_claims, first_at, last_at = row  # type: ignore[misc]
    return ScanSummary(count, devices, pin_claims, _aware(first_at), _aware(last_at))


def _aware(value: dt.datetime) -> dt.datetime:
    # RETURNING bypasses the column type on some drivers; SQLite hands back naive UTC.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
