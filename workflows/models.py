"""The workflows' tables: accounts, the audit log, API tokens, stamp requests and
fake-stamp reports.

They live on trace's declarative base (one schema, one migration history);
their migrations are this package's own (``workflows/migrations``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocop.stamps.models import StampBatch
from ocop.trace.db import Base, BigIntId, UtcDateTime, created_at, enum_column, intpk, str200
from ocop.trace.models import PRODUCER_KINDS, Lot, Organisation, OrgKind


class Role(StrEnum):
    AUTHORITY = "authority_officer"
    PRODUCER = "producer_member"
    DISTRIBUTOR = "distributor_member"


# A role only makes sense in an organisation of the matching kind.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.AUTHORITY: frozenset({OrgKind.AUTHORITY}),
    Role.PRODUCER: PRODUCER_KINDS,
    Role.DISTRIBUTOR: frozenset({OrgKind.DISTRIBUTOR, OrgKind.RETAILER}),
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    # Lower-cased NFC: the natural key people type.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Moves on every password change: a session cookie carries the epoch it was
    # made in, so changing the password signs every other browser out.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    last_signin_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the hash
        return f"<User {self.id} {self.email} {self.role}>"


class AuditEntry(Base):
    """One write made through the console or the API. Rows are never updated."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who, as text, so the entry still reads right if the account changes.
    actor: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


class ApiToken(Base):
    """A distributor's system's credential. Only a SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, shown in lists so people can tell them apart.
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str200]
    created_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str200 | None]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class FakeReport(Base):
    """A consumer's report that a stamp looks fake, from the verify page."""

    __tablename__ = "fake_reports"

    id: Mapped[intpk]
    token: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("stamp_batches.id"), index=True)
    index: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str200 | None]
    where_bought: Mapped[str200 | None]
    client_hash: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    handled_by: Mapped[str200 | None]
    handled_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    batch: Mapped[StampBatch | None] = relationship()


class RequestStatus(StrEnum):
    PENDING = "pending"  # asked for by the producer, waiting for the authority
    SIGNING = "signing"  # approved; the batch is being issued and written
    ISSUED = "issued"
    REJECTED = "rejected"
    FAILED = "failed"  # approved, but issuing failed; the reason says why


class StampRequest(Base):
    """A producer's request for a batch of stamps, decided by an authority.

    ``nonce`` comes from the form the producer filled in: submitting the same
    form twice finds the first request instead of making a second.
    """

    __tablename__ = "stamp_requests"
    __table_args__ = (
        UniqueConstraint("organisation_id", "nonce"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    id: Mapped[intpk]
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    pin: Mapped[bool] = mapped_column(default=False)
    layout: Mapped[str] = mapped_column(String(20), default="a4-5x8")
    note: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(String(64))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.PENDING, index=True
    )
    requested_by: Mapped[str200]
    requested_at: Mapped[created_at]
    decided_by: Mapped[str200 | None]
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("stamp_batches.id"), unique=True)

    lot: Mapped[Lot] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship()
    batch: Mapped[StampBatch | None] = relationship()


class JobKind(StrEnum):
    STAMPS = "stamps"  # sign and write one print file of a stamp request
    ANALYTICS_CSV = "analytics_csv"  # a scan analytics export
    CERTIFICATE_EXPIRY = "certificate_expiry"  # the daily pass over certificates


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker (or for the queue to come back)
    RUNNING = "running"  # a worker holds its lease; a lapsed lease means it died
    DONE = "done"
    FAILED = "failed"  # the error says why
    CANCELLED = "cancelled"  # its request was abandoned


class Job(Base):
    """Background work and everything known about it: ours, not the queue's.

    The queue only carries a job's id. Whatever a worker learns (chunks done, each
    finished part's size and digest, the output's digest, the error) is here, so
    that the next worker resumes a killed one's job from its last finished chunk,
    and a queue that lost its messages loses no job (:func:`jobs.recover`).
    ``key`` names the work: asking for the same work twice finds the same job.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("done >= 0 AND done <= total", name="done_in_total"),
        CheckConstraint("chunks_done >= 0", name="chunks_done_positive"),
    )

    id: Mapped[intpk]
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind, "job_kind"))
    key: Mapped[str200] = mapped_column(unique=True)
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED, index=True
    )
    request_id: Mapped[int | None] = mapped_column(ForeignKey("stamp_requests.id"), index=True)
    output: Mapped[str | None] = mapped_column(String(8))  # ".csv", ".pdf", ".zip"
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)
    done: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)
    chunk_size: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    # [size, sha256] of each finished chunk's part, in order.
    parts: Mapped[list[Any] | None] = mapped_column(JSON)
    file_size: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str200]
    created_at: Mapped[created_at]

    request: Mapped[StampRequest | None] = relationship()

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


__all__ = [
    "ROLE_ORG_KINDS",
    "ApiToken",
    "AuditEntry",
    "FakeReport",
    "Job",
    "JobKind",
    "JobStatus",
    "RequestStatus",
    "Role",
    "StampRequest",
    "User",
]
