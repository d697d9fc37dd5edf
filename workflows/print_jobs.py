"""The job that signs and writes a stamp request's print file, chunk by chunk.

The CSV job is the one that issues: the batch row was opened (``issuing``) when
the officer approved, and it becomes ``issued`` only in the transaction that
finishes this job, after the whole file is written and the lot and key are
checked once more; a recalled lot or a revoked key fails the job, the batch and
the request, with the reason the producer reads. The PDF and ZIP jobs print the
same stamps again and never change the batch. A killed worker's job resumes
from its last finished chunk; the stamps it writes again are the same stamps,
because stamp *i* of batch *b* is a pure function of (key, b, i) and the batch
row is the same one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from ocop.keys.keystore import ensure_private_dir
from ocop.stamps.issuance import check_issuable, finish_batch, generate_stamps
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.outputs import OutputKind, label_text
from ocop.stamps.parts import ChunkPlan, FileDigest, is_intact
from ocop.stamps.printing import encoder_workers
from ocop.stamps.qr import QrEncoder
from ocop.trace.db import rowcount, utcnow, vietnam_today

from . import audit
from .errors import IssuanceFailed, RequestRefused
from .jobs import JobContext, JobLost, JobType, cancel_request_jobs, finish, record_chunk, register
from .models import Job, JobKind, RequestStatus, StampRequest


def output_path(outputs: Path, request_id: int, kind: OutputKind) -> Path:
    return outputs / f"request-{request_id}{kind.value}"


def parts_folder(outputs: Path, request_id: int, kind: OutputKind) -> Path:
    return outputs / f".request-{request_id}{kind.value}.parts"


def job_key(request_id: int, kind: OutputKind) -> str:
    return f"request:{request_id}:{kind.value}"


def _plan(context: JobContext, job: Job) -> tuple[ChunkPlan, int, str, bool]:
    """What to print, read in one short transaction: (plan, batch, signing kid, issuing)."""
    from .stamp_requests import DEFAULT_LAYOUT, LAYOUTS, print_layout

    assert job.output is not None  # print jobs always name their output
    kind = OutputKind(job.output)
    with context.database.transaction() as session:
        request = session.get_one(StampRequest, job.request_id)
        batch = request.batch
        if request.status not in (RequestStatus.SIGNING, RequestStatus.ISSUED) or batch is None:
            raise JobLost(job.id)  # abandoned, or failed meanwhile
        # The first CSV issues the batch; a CSV written again later (its file was lost)
        # is a copy like any PDF.
        issuing = kind is OutputKind.CSV and batch.status is BatchStatus.ISSUING
        if issuing:
            check_issuable(session, batch.lot, batch.key, vietnam_today())
        elif batch.status in (BatchStatus.VOIDED, BatchStatus.FAILED):
            raise IssuanceFailed(
                "batch %(id)s is %(status)s: its stamps are not printed", id=batch.id,
                status=batch.status,
            )
        text = label_text(session, batch.lot, vietnam_today())
        try:
            layout = print_layout(request.layout)
        except RequestRefused:  # a name from a version that had other layouts
            layout = LAYOUTS[DEFAULT_LAYOUT]
        plan = ChunkPlan.make(
            kind,
            batch.count,
            job.chunk_size or context.chunk_size,
            text=text,
            pin=batch.pin,
            layout=layout,
        )
        return plan, batch.id, batch.key.kid, issuing


def run_print_job(context: JobContext, job: Job) -> None:
    plan, batch_id, kid, issuing = _plan(context, job)
    signer = context.keystore().load(kid)  # a wrong passphrase fails the job, with the reason
    pin_secret = context.pin_secret() if plan.pin else None
    assert job.request_id is not None
    ensure_private_dir(context.outputs)  # PINs are in these files: the service's user only
    folder = parts_folder(context.outputs, job.request_id, plan.kind)
    folder.mkdir(mode=0o700, exist_ok=True)
    parts = [FileDigest.from_json(p) for p in job.parts or []]
    paths = [folder / f"{chunk:06d}.part" for chunk in range(plan.chunks)]
    workers = 1 if plan.kind is OutputKind.CSV else min(
        context.encoder_workers, encoder_workers(plan.count)
    )
    with QrEncoder(workers) as encoder:
        for chunk, path in enumerate(paths):
            if chunk < len(parts) and is_intact(path, parts[chunk]):
                continue  # finished by this job before, maybe by a worker since killed
            start, end = plan.bounds(chunk)
            stamps = generate_stamps(
                signer, batch_id, end, base_url=context.base_url, pin_secret=pin_secret,
                start=start,
            )
            digest = plan.write_part(chunk, path, stamps, encoder=encoder)
            if chunk < len(parts):
                parts[chunk] = digest
            else:
                parts.append(digest)
            with context.database.transaction() as session:
                record_chunk(
                    session, job.id, context.worker, context.lease,
                    parts=[p.to_json() if p else None for p in parts], done=end,
                )
    out = output_path(context.outputs, job.request_id, plan.kind)
    digest = plan.assemble(out, paths)
    with context.database.transaction() as session:
        if not finish(
            session, job.id, context.worker, file_size=digest.size, file_sha256=digest.sha256,
            done=plan.count,
        ):
            raise JobLost(job.id)
        if issuing:
            _issue(session, job, batch_id, kid)
    shutil.rmtree(folder, ignore_errors=True)


def _issue(session: Session, job: Job, batch_id: int, kid: str) -> None:
    """Make the batch valid: the last step, in the transaction that finishes the job."""
    batch = session.get_one(StampBatch, batch_id)
    # Once more, at the end: a lot recalled or a key revoked while the file was written.
    check_issuable(session, batch.lot, batch.key, vietnam_today())
    changed = rowcount(session,
        update(StampRequest)
        .where(StampRequest.id == job.request_id, StampRequest.status == RequestStatus.SIGNING)
        .values(status=RequestStatus.ISSUED)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise JobLost(job.id)  # abandoned meanwhile: the batch stays failed
    finish_batch(session, batch_id, ok=True, now=utcnow())
    request = session.get_one(StampRequest, job.request_id, populate_existing=True)
    _audit(session, job, request, "stamp_request.issued", {"batch": batch_id, "kid": kid})


def fail_request(session: Session, job: Job, reason: str) -> None:
    """The request of a failed issuing job fails too, its batch never becomes valid, and
    its other jobs stop."""
    if job.output != OutputKind.CSV.value or job.request_id is None:
        return
    changed = rowcount(session,
        update(StampRequest)
        .where(StampRequest.id == job.request_id, StampRequest.status == RequestStatus.SIGNING)
        .values(status=RequestStatus.FAILED, decision_note=reason[:1000])
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        return
    request = session.get_one(StampRequest, job.request_id, populate_existing=True)
    if request.batch_id is not None:
        batch = session.get_one(StampBatch, request.batch_id)
        if batch.status is BatchStatus.ISSUING:
            finish_batch(session, batch.id, ok=False, now=utcnow())
    cancel_request_jobs(session, request.id)
    _audit(session, job, request, "stamp_request.failed", {"reason": reason[:200]})


def _audit(
    session: Session, job: Job, request: StampRequest, action: str, detail: dict[str, object]
) -> None:
    from .stamp_requests import audit_facts, audit_target

    audit.record_system(
        session,
        f"{job.created_by} (queue)",
        action,
        audit_target(request),
        {**audit_facts(request), **detail},
        organisation_id=(job.params or {}).get("signer_organisation_id"),
    )


register(JobKind.STAMPS, JobType(run=run_print_job, on_failure=fail_request))
