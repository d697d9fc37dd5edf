"""Stamp batches and what the verifier learns from scans.

Stamps themselves are not stored: stamp *i* of batch *b* is a pure function of
(key, b, i). A batch is one row however many stamps it prints; storage grows
with scans, not with prints.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocop.keys.models import IssuerKey
from ocop.trace.db import Base, UtcDateTime, created_at, enum_column, intpk, str200
from ocop.trace.models import Lot


class BatchStatus(StrEnum):
    ISSUING = "issuing"  # row written, outputs being produced; not yet valid
    ISSUED = "issued"
    FAILED = "failed"  # the output could not be written; nothing from it was printed
    VOIDED = "voided"


class StampBatch(Base):
    __tablename__ = "stamp_batches"
    __table_args__ = (
        CheckConstraint("count >= 1", name="count_positive"),
        # The batch number travels as an unsigned 32-bit field of the token.
        CheckConstraint("id >= 1 AND id <= 4294967295", name="id_fits_token"),
    )

    # The primary key is the batch number printed in every token and serial.
    id: Mapped[intpk]
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("issuer_keys.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    pin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[BatchStatus] = mapped_column(
        enum_column(BatchStatus, "batch_status"), default=BatchStatus.ISSUING
    )
    issued_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    void_reason: Mapped[str | None]
    created_by: Mapped[str200]
    created_at: Mapped[created_at]

    lot: Mapped[Lot] = relationship(lazy="joined")
    key: Mapped[IssuerKey] = relationship(lazy="joined")


class StampActivation(Base):
    """A range of a batch's stamps put into use by their owner (stamps/activation.py).

    A stamp is active when its index falls in one of its batch's ranges; the
    ranges of a batch never overlap. Rows are never changed: a range once
    activated stays so.
    """

    __tablename__ = "stamp_activations"
    __table_args__ = (
        CheckConstraint("first_index >= 0 AND first_index <= last_index", name="range_ordered"),
        Index("ix_stamp_activations_batch_first", "batch_id", "first_index"),
    )

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(ForeignKey("stamp_batches.id"))
    first_index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    last_index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    activated_by: Mapped[str200]
    activated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class StampScan(Base):
    """Everything the verifier has seen of one stamp, created on its first scan.

    Counters move only by ``UPDATE ... SET n = n + 1`` in the database, so
    concurrent scans on many workers lose no count.
    """

    __tablename__ = "stamp_scans"

    batch_id: Mapped[int] = mapped_column(ForeignKey("stamp_batches.id"), primary_key=True)
    index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                       primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
    devices: Mapped[int] = mapped_column(Integer, default=0)
    pin_claims: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    pin_claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Copy detection (stamps/copies.py): a sighting is a device new to the stamp
    # on a network new to it; far_apart counts places shared too far apart too soon.
    sightings: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    far_apart: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last place a scanner shared, and from which network (a keyed hash).
    place: Mapped[str | None] = mapped_column(String(100))
    place_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    place_network: Mapped[str | None] = mapped_column(String(32))
    # PIN entries in the current window (stamps/pins.py): the stamp's own guess budget.
    pin_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_window_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class StampDevice(Base):
    """A keyed hash of each device cookie that scanned a stamp: no raw ids kept."""

    __tablename__ = "stamp_devices"

    batch_id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                       primary_key=True, autoincrement=False)
    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class StampNetwork(Base):
    """Each network (a keyed hash of its address prefix) that scanned a stamp."""

    __tablename__ = "stamp_networks"

    batch_id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                       primary_key=True, autoincrement=False)
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class FactsVersion(Base):
    """One number that moves whenever a record a verdict reads changes.

    Database triggers (migration 0006) bump it on any change to batches, keys,
    lots, products, organisations, recalls and certifications, in the same
    transaction as the change; the verifier caches batch facts per process
    under it, and each counted scan reads it, so a recall, a void or a
    revocation shows on the very next scan whichever code path wrote it.
    """

    __tablename__ = "facts_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class ScanLog(Base):
    """One row per counted scan, for analytics by day, batch and coarse place."""

    __tablename__ = "scan_log"
    __table_args__ = (
        # Scan analytics count ranges of these without reading the table
        # (stamps/analytics.py); the first also serves any query by batch and time.
        Index("ix_scan_log_batch_first_at", "batch_id", "first_for_device", "scanned_at"),
        Index("ix_scan_log_place_at", "place", "scanned_at", "batch_id"),
    )

    id: Mapped[intpk]
    batch_id: Mapped[int] = mapped_column(ForeignKey("stamp_batches.id"))
    index: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    scanned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    first_for_device: Mapped[bool] = mapped_column(default=True)
    # A place the scanner chose to share, coarse on purpose (province level).
    place: Mapped[str | None] = mapped_column(String(100))


__all__ = [
    "BatchStatus",
    "FactsVersion",
    "ScanLog",
    "StampActivation",
    "StampBatch",
    "StampDevice",
    "StampNetwork",
    "StampScan",
]
