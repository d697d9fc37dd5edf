"""The daily job that marks certificates past their end ``expired``.

Every worker's sweep asks for today's job (:func:`schedule_daily`); the job's key
holds the date, so however many workers ask, it runs once a day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ocop.trace.db import vietnam_today
from ocop.trace.expiry import expire_certificates

from .jobs import JobContext, JobLost, JobType, create_job, finish, register
from .models import Job, JobKind


def schedule_daily(session: Session, today: dt.date) -> int | None:
    """Today's expiry job's id if this call made it, else ``None``."""
    job, created = create_job(
        session, JobKind.CERTIFICATE_EXPIRY, f"certificate_expiry:{today.isoformat()}",
        created_by="ocop worker", params={"day": today.isoformat()},
    )
    return job.id if created else None


def run_expiry(context: JobContext, job: Job) -> None:
    day = dt.date.fromisoformat((job.params or {}).get("day") or vietnam_today().isoformat())
    with context.database.transaction() as session:
        marked = expire_certificates(session, day)
        if not finish(session, job.id, context.worker, total=marked, done=marked):
            raise JobLost(job.id)


register(JobKind.CERTIFICATE_EXPIRY, JobType(run=run_expiry))
