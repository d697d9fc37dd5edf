"""Scan analytics exports as CSV, written by a queue worker into a file.

A producer's or a council's whole year of scans can be many rows: the view
asks for a job, the worker writes the file (streamed, row by row) and records
its size and digest, and the console serves that file once it is intact.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from ocop.keys.keystore import ensure_private_dir
from ocop.stamps import analytics as scans
from ocop.stamps.render.files import atomic_output

from .jobs import JobContext, JobLost, JobType, create_job, finish, register
from .models import Job, JobKind

HEADER = ("day", "product_code", "product", "lot", "batch", "first_scans", "repeat_scans")


def export_path(outputs: Path, job_id: int) -> Path:
    return outputs / "exports" / f"scans-{job_id}.csv"


def request_export(
    session: Session,
    scope: scans.Scope,
    period: scans.Period,
    *,
    organisation_id: int,
    created_by: str,
) -> Job:
    """A new export job for this scope and period, owned by ``organisation_id``."""
    params: dict[str, Any] = {
        "organisation": scope.organisation_id,
        "product": scope.product_id,
        "lot": scope.lot_id,
        "batch": scope.batch_id,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    job, _ = create_job(
        session,
        JobKind.ANALYTICS_CSV,
        f"analytics:{uuid.uuid4().hex}",
        created_by=created_by,
        organisation_id=organisation_id,
        params=params,
    )
    return job


def export_name(job: Job) -> str:
    params = job.params or {}
    return f"ocop-scans-{params.get('start')}-{params.get('end')}.csv"


def run_export(context: JobContext, job: Job) -> None:
    params = job.params or {}
    scope = scans.Scope(
        organisation_id=params.get("organisation"),
        product_id=params.get("product"),
        lot_id=params.get("lot"),
        batch_id=params.get("batch"),
    )
    period = scans.Period(
        dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
    )
    out = export_path(context.outputs, job.id)
    ensure_private_dir(context.outputs)
    out.parent.mkdir(mode=0o700, exist_ok=True)
    with context.database.read_sessionmaker() as session:
        batches = scans.batches_in(session, scope)
        rows = scans.tallies(session, set(batches), period)
        with atomic_output(out, text=True) as fp:
            count = write_rows(fp, scans.csv_rows(rows, batches))
    from ocop.stamps.parts import digest_of

    digest = digest_of(out)
    assert digest is not None
    with context.database.transaction() as session:
        if not finish(
            session, job.id, context.worker, total=count, done=count,
            file_size=digest.size, file_sha256=digest.sha256,
        ):
            raise JobLost(job.id)


def write_rows(fp: TextIO, rows: Any) -> int:
    fp.write("\ufeff")  # the BOM: Excel then reads UTF-8, and Vietnamese names stay whole
    writer = csv.writer(fp, lineterminator="\r\n")
    writer.writerow(HEADER)
    count = 0
    for day, info, counts in rows:
        writer.writerow(
            [
                day.isoformat(),
                _cell(info.product_code or ""),
                _cell(info.product_name or ""),
                _cell(info.lot_code),
                info.id,
                counts.first,
                counts.repeat,
            ]
        )
        count += 1
    return count


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: never run a
    # product name as one (CSV injection).
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


register(JobKind.ANALYTICS_CSV, JobType(run=run_export))
