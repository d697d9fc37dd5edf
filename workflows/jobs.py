"""Background jobs: their life in our own table, whatever queue carries them.

A job row is written in the transaction that asks for the work, and only then
is its id handed to the queue (:class:`JobQueue`). A worker takes a job with a
lease (:func:`claim`), one conditional ``UPDATE`` that only one worker can win,
and renews it after each chunk (:func:`record_chunk`); a worker killed with
SIGKILL simply stops renewing, and once the lease lapses :func:`recover` hands
the job to the queue again, to be resumed from its last finished chunk. A
message the queue lost (it was down when the job was made) is sent again the
same way. A message delivered twice finds the job taken or done and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.keys.keystore import Keystore
from ocop.stamps.pin import PinSecret
from ocop.trace.db import Database, rowcount, utcnow
from ocop.trace.errors import DomainError

from .models import Job, JobKind, JobStatus

log = logging.getLogger(__name__)

# A worker renews its lease after every chunk (a few seconds of work); one not
# renewed for this long belonged to a worker that died.
DEFAULT_LEASE = dt.timedelta(seconds=60)
# A queued job whose message has not been taken for this long may have been lost
# with a queue that restarted without its data: it is sent again (a duplicate
# message finds the job taken or done, and does nothing).
RESEND_AFTER = dt.timedelta(minutes=10)
# Each claim counts; a job that keeps killing its workers stops being retried.
MAX_ATTEMPTS = 5
DEFAULT_CHUNK = 20_000  # stamps a chunk: a few seconds of work, a lease renewal each


class JobQueue(Protocol):
    """What the workflows need of a queue: hand it a job's id."""

    def enqueue(self, job_id: int) -> bool:
        """Send the job to a worker; ``False`` when the queue cannot be reached now
        (the job stays queued in our table and :func:`recover` sends it later)."""
        ...


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a worker needs to run any job: given by the composition root (``ocop.web``)."""

    database: Database
    keystore: Callable[[], Keystore]
    pin_secret: Callable[[], PinSecret]
    outputs: Path
    base_url: str
    chunk_size: int = DEFAULT_CHUNK
    lease: dt.timedelta = DEFAULT_LEASE
    encoder_workers: int = 1
    worker: str = field(default_factory=lambda: worker_name())


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


class JobLost(Exception):
    """This worker no longer holds the job (cancelled, or its lease was taken over)."""


# ---- making jobs


def create_job(
    session: Session,
    kind: JobKind,
    key: str,
    *,
    created_by: str,
    request_id: int | None = None,
    output: str | None = None,
    organisation_id: int | None = None,
    params: Mapping[str, Any] | None = None,
    total: int = 0,
    chunk_size: int = 0,
) -> tuple[Job, bool]:
    """The job named ``key``: a new one, queued, or the one made before (job, created)."""
    existing = job_by_key(session, key)
    if existing is not None:
        return existing, False
    job = Job(
        kind=kind,
        key=key,
        status=JobStatus.QUEUED,
        request_id=request_id,
        output=output,
        organisation_id=organisation_id,
        params=dict(params) if params else None,
        total=total,
        done=0,
        chunk_size=chunk_size,
        chunks_done=0,
        attempts=0,
        created_by=created_by[:200],
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:  # asked for twice at once: the other made it first
        existing = job_by_key(session, key)
        if existing is None:
            raise
        return existing, False
    return job, True


def job_by_key(session: Session, key: str) -> Job | None:
    return session.scalars(select(Job).where(Job.key == key)).one_or_none()


def send(database: Database, queue: JobQueue, job_ids: Sequence[int]) -> bool:
    """Hand committed jobs to the queue; ``False`` if any could not be sent now."""
    sent_all = True
    for job_id in job_ids:
        try:
            sent = queue.enqueue(job_id)
        except Exception:  # any broker failure: the row stays queued, recover() resends
            log.warning("job %s could not be queued now; it will be sent again", job_id)
            sent = False
        if sent:
            with database.transaction() as session:
                session.execute(
                    update(Job).where(Job.id == job_id).values(enqueued_at=utcnow())
                )
        sent_all = sent_all and sent
    return sent_all


def restart(session: Session, job: Job, *, total: int | None = None) -> None:
    """Queue a finished or failed job again from its first chunk (its file is gone)."""
    job.status = JobStatus.QUEUED
    job.done = 0
    job.chunks_done = 0
    job.parts = None
    job.file_size = None
    job.file_sha256 = None
    job.error = None
    job.attempts = 0
    job.worker = None
    job.lease_until = None
    job.enqueued_at = None
    job.finished_at = None
    job.started_at = None
    if total is not None:
        job.total = total


# ---- running jobs


def claim(session: Session, job_id: int, worker: str, lease: dt.timedelta) -> bool:
    """Take the job for ``worker`` unless another worker holds a live lease on it."""
    now = utcnow()
    changed = rowcount(session,
        update(Job)
        .where(
            Job.id == job_id,
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            or_(Job.lease_until.is_(None), Job.lease_until < now),
        )
        .values(
            status=JobStatus.RUNNING,
            worker=worker,
            lease_until=now + lease,
            attempts=Job.attempts + 1,
            started_at=func.coalesce(Job.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    return changed == 1


def record_chunk(
    session: Session,
    job_id: int,
    worker: str,
    lease: dt.timedelta,
    *,
    parts: list[Any] | None = None,
    done: int | None = None,
) -> None:
    """Record progress and renew the lease; raises :class:`JobLost` if the job was
    cancelled or taken over meanwhile, so that the worker stops."""
    values: dict[str, Any] = {"lease_until": utcnow() + lease}
    if parts is not None:
        values["parts"] = parts
        values["chunks_done"] = len(parts)
    if done is not None:
        values["done"] = done
    changed = rowcount(session,
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise JobLost(job_id)


def finish(session: Session, job_id: int, worker: str, **values: Any) -> bool:
    """Mark the job done, if this worker still holds it."""
    changed = rowcount(session,
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.DONE, finished_at=utcnow(), lease_until=None, error=None, **values
        )
        .execution_options(synchronize_session=False)
    )
    return changed == 1


def fail(session: Session, job_id: int, reason: str) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .values(
            status=JobStatus.FAILED, error=reason[:2000], finished_at=utcnow(), lease_until=None
        )
        .execution_options(synchronize_session=False)
    )


def cancel_request_jobs(session: Session, request_id: int) -> None:
    """Stop every unfinished job of a stamp request; their workers stop at the next chunk."""
    session.execute(
        update(Job)
        .where(
            Job.request_id == request_id,
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), lease_until=None)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, job_id: int, worker: str) -> None:
    """Give the job back after an unexpected error, for the next attempt."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING)
        .values(status=JobStatus.QUEUED, lease_until=None, enqueued_at=None)
        .execution_options(synchronize_session=False)
    )


Runner = Callable[[JobContext, Job], None]
Failure = Callable[[Session, Job, str], None]


@dataclass(frozen=True, slots=True)
class JobType:
    run: Runner
    # What else a failure must change (a stamp request fails with its job).
    on_failure: Failure | None = None


_TYPES: dict[JobKind, JobType] = {}


def register(kind: JobKind, job_type: JobType) -> None:
    _TYPES[kind] = job_type


def run_job(context: JobContext, job_id: int) -> None:
    """Run one job to its end, or as far as this worker gets; what the queue calls."""
    _load_job_types()
    database, worker = context.database, context.worker
    with database.transaction() as session:
        if not claim(session, job_id, worker, context.lease):
            return  # done, cancelled, or alive in another worker
        job = session.get_one(Job, job_id, populate_existing=True)
        session.expunge(job)
    if job.attempts > MAX_ATTEMPTS:
        reason = "gave up after %(n)s attempts: each stopped the worker midway"
        _failed(context, job, DomainError(reason, n=MAX_ATTEMPTS).render())
        return
    job_type = _TYPES[job.kind]
    try:
        job_type.run(context, job)
    except JobLost:
        log.info("job %s was cancelled or taken over; stopping", job_id)
    except DomainError as error:
        _failed(context, job, str(error))
    except OSError as error:  # a full disk, a vanished folder: the operator's to fix
        _failed(context, job, f"writing the file failed: {error.strerror or error}")
    except BaseException:
        with database.transaction() as session:
            release(session, job_id, worker)
        raise


def _failed(context: JobContext, job: Job, reason: str) -> None:
    with context.database.transaction() as session:
        fail(session, job.id, reason)
        on_failure = _TYPES[job.kind].on_failure
        if on_failure is not None:
            on_failure(session, job, reason)
    log.warning("job %s failed: %s", job.id, reason)


def recover(session: Session, *, now: dt.datetime | None = None) -> list[int]:
    """Jobs to hand to the queue again: a lapsed lease (its worker died) or a queued
    message that may have been lost. Marks them sent; the caller sends them."""
    now = now or utcnow()
    lapsed = and_(Job.status == JobStatus.RUNNING, Job.lease_until < now)
    unsent = and_(
        Job.status == JobStatus.QUEUED,
        or_(Job.enqueued_at.is_(None), Job.enqueued_at < now - RESEND_AFTER),
    )
    ids = list(session.scalars(select(Job.id).where(or_(lapsed, unsent)).order_by(Job.id)))
    if ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def _load_job_types() -> None:
    # Each module registers its own kind; imported here so that a worker knows them all.
    from . import certificate_jobs, exports, print_jobs  # noqa: F401


# ---- what the console shows


@dataclass(frozen=True, slots=True)
class Progress:
    status: JobStatus
    done: int
    total: int
    percent: int
    seconds_left: int | None
    error: str | None

    @classmethod
    def of(cls, job: Job, now: dt.datetime | None = None) -> Progress:
        now = now or utcnow()
        total = max(job.total, 0)
        done = min(job.done, total) if total else job.done
        percent = 100 if job.status is JobStatus.DONE else (done * 100 // total if total else 0)
        left = None
        if job.status is JobStatus.RUNNING and job.started_at and 0 < done < total:
            elapsed = (now - job.started_at).total_seconds()
            left = max(1, round(elapsed / done * (total - done)))
        return cls(job.status, done, total, min(percent, 100), left, job.error)


__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_LEASE",
    "MAX_ATTEMPTS",
    "Job",
    "JobContext",
    "JobLost",
    "JobQueue",
    "JobType",
    "Progress",
    "cancel_request_jobs",
    "claim",
    "create_job",
    "fail",
    "finish",
    "job_by_key",
    "record_chunk",
    "recover",
    "register",
    "release",
    "restart",
    "run_job",
    "send",
]
