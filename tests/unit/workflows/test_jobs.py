"""Jobs in our own table: one worker at a time holds a job, a dead worker's job comes
back, a cancelled job stops its worker, and a job named twice is one job."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.trace.db import utcnow
from ocop.workflows.jobs import (
    JobLost,
    Progress,
    claim,
    create_job,
    fail,
    finish,
    record_chunk,
    recover,
    restart,
)
from ocop.workflows.models import Job, JobKind, JobStatus

LEASE = dt.timedelta(seconds=60)


def _job(session, key: str = "test:1", total: int = 100) -> Job:
    job, created = create_job(
        session, JobKind.ANALYTICS_CSV, key, created_by="t@test.vn", total=total
    )
    assert created
    return job


def _reload(session, job: Job) -> Job:
    return session.get_one(Job, job.id, populate_existing=True)


def test_the_same_work_asked_twice_is_one_job(session):
    first = _job(session)
    again, created = create_job(session, JobKind.ANALYTICS_CSV, "test:1", created_by="x")
    assert again.id == first.id and not created


def test_one_worker_at_a_time_holds_a_job(session):
    job = _job(session)
    assert claim(session, job.id, "a", LEASE)
    assert not claim(session, job.id, "b", LEASE)  # a's lease is alive
    job = _reload(session, job)
    assert (job.status, job.worker, job.attempts) == (JobStatus.RUNNING, "a", 1)
    assert job.started_at is not None
    record_chunk(session, job.id, "a", LEASE, parts=[[10, "ab"]], done=40)
    job = _reload(session, job)
    assert (job.chunks_done, job.done, job.parts) == (1, 40, [[10, "ab"]])
    with pytest.raises(JobLost):
        record_chunk(session, job.id, "b", LEASE, done=50)  # not b's job


def test_a_dead_workers_job_is_sent_again_and_resumed_by_another(session):
    job = _job(session)
    assert claim(session, job.id, "a", LEASE)
    record_chunk(session, job.id, "a", LEASE, parts=[[1, "x"]], done=10)
    assert job.id not in recover(session)  # alive
    session.get_one(Job, job.id).lease_until = utcnow() - dt.timedelta(seconds=1)  # a died
    session.flush()
    assert job.id in recover(session)
    assert claim(session, job.id, "b", LEASE)
    job = _reload(session, job)
    assert (job.worker, job.attempts, job.chunks_done) == ("b", 2, 1)  # resumes, not restarts
    with pytest.raises(JobLost):  # a comes back from the dead: it no longer holds the job
        record_chunk(session, job.id, "a", LEASE, done=20)


def test_a_queued_job_whose_message_was_never_sent_is_sent(session):
    job = _job(session)
    assert recover(session) == [job.id]
    assert _reload(session, job).enqueued_at is not None
    assert recover(session) == []  # sent a moment ago: not again at once


def test_finished_failed_and_cancelled_jobs_are_never_taken(session):
    done, failed, cancelled = _job(session, "a"), _job(session, "b"), _job(session, "c")
    assert claim(session, done.id, "w", LEASE)
    assert finish(session, done.id, "w", file_size=3, file_sha256="x" * 64)
    fail(session, failed.id, "the lot was recalled")
    session.get_one(Job, cancelled.id).status = JobStatus.CANCELLED
    session.flush()
    for job in (done, failed, cancelled):
        assert not claim(session, job.id, "w2", LEASE)
    assert _reload(session, failed).error == "the lot was recalled"
    assert recover(session) == []


def test_restart_starts_again_from_the_first_chunk(session):
    job = _job(session)
    assert claim(session, job.id, "w", LEASE)
    record_chunk(session, job.id, "w", LEASE, parts=[[1, "x"]], done=50)
    assert finish(session, job.id, "w", file_size=3, file_sha256="y" * 64)
    job = _reload(session, job)
    restart(session, job, total=120)
    session.flush()
    job = _reload(session, job)
    assert (job.status, job.chunks_done, job.parts, job.file_sha256, job.total) == (
        JobStatus.QUEUED, 0, None, None, 120,
    )
    assert claim(session, job.id, "w", LEASE)


def test_progress_says_percent_done_and_time_left(session):
    job = _job(session, total=1000)
    assert claim(session, job.id, "w", LEASE)
    record_chunk(session, job.id, "w", LEASE, done=250)
    job = _reload(session, job)
    progress = Progress.of(job, now=job.started_at + dt.timedelta(seconds=10))
    assert (progress.percent, progress.done, progress.seconds_left) == (25, 250, 30)
    queued = Progress.of(_job(session, "other"))
    assert (queued.percent, queued.seconds_left) == (0, None)
