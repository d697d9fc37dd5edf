"""Stamp requests: a producer asks for stamps for a lot, an authority approves and signs.

Submitting checks the lot with the issuance rules (:func:`check_lot_issuable`)
so a request that could never be signed is refused at once. Approving claims
the request with one ``UPDATE ... WHERE status = 'pending'``: of two officers
approving at once, one claims it and the other is refused, so one request
makes at most one batch. Approving opens the batch (``issuing``, its number and
key fixed) and asks for two jobs, the CSV that issues it and the PDF label
sheets; a queue worker writes them chunk by chunk (:mod:`.print_jobs`), however
many stamps, and the batch becomes valid only when the CSV is complete. The
ZIP of images is written when first asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.keys import active_key, signing_authority
from ocop.keys.keystore import Keystore
from ocop.stamps.errors import IssuanceRefused
from ocop.stamps.issuance import check_lot_issuable, finish_batch, open_batch, parse_count
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.outputs import OutputKind
from ocop.stamps.parts import FileDigest, is_intact
from ocop.stamps.render.labels import PRINTER_DPI, LabelLayout
from ocop.trace.db import Database, rowcount, utcnow, vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import Lot

from . import audit
from .access import Actor
from .errors import IssuanceFailed, OutOfScope, RequestConflict, RequestRefused
from .jobs import (
    DEFAULT_CHUNK,
    JobQueue,
    cancel_request_jobs,
    create_job,
    job_by_key,
    restart,
    send,
)
from .models import Job, JobKind, JobStatus, RequestStatus, StampRequest
from .print_jobs import job_key, output_path

MAX_NOTE = 1000
MAX_NONCE = 64

# Label sheets and rolls a producer can choose from, by the name stored in the request;
# "@203" after the name (print_layout) says which printer, so the modules are its dots.
LAYOUTS: dict[str, LabelLayout] = {
    "a4-5x8": LabelLayout(),  # 38 x 33 mm, 40 a sheet: the common decal sheet
    "a4-4x10": LabelLayout(label_width_mm=48, label_height_mm=26, columns=4),
    "a4-3x7": LabelLayout(label_width_mm=64, label_height_mm=39, columns=3),
    # The common die-cut rolls of 203 and 300 dpi thermal label printers.
    "roll-40x30": LabelLayout.for_roll(40, 30),
    "roll-50x30": LabelLayout.for_roll(50, 30),
    "roll-60x40": LabelLayout.for_roll(60, 40),
}
DEFAULT_LAYOUT = "a4-5x8"


def print_layout(name: str) -> LabelLayout:
    """The layout a request names: a preset of :data:`LAYOUTS`, with ``@dpi`` when the
    producer said which printer (``roll-40x30@300``); the module is then that printer's."""
    preset, at, dpi = name.partition("@")
    layout = LAYOUTS.get(preset)
    if layout is None or (at and dpi not in {str(d) for d in PRINTER_DPI}):
        raise RequestRefused("unknown label layout %(layout)r", "layout", layout=name[:20])
    if not at:
        return layout
    return replace(layout, dpi=int(dpi), module_mm=None)


def submit_request(
    session: Session,
    lot: Lot,
    actor: Actor,
    *,
    count: object,
    pin: bool,
    layout: str,
    note: str | None,
    nonce: str,
    maximum: int,
    today: dt.date | None = None,
) -> tuple[StampRequest, bool]:
    """``actor``'s organisation asks for stamps for its ``lot``: a new pending request,
    or the one this form already made: (request, created).

    ``nonce`` identifies the form filled in; sending it again finds the first
    request, even when two sends race each other.
    """
    nonce = (nonce or "").strip()
    if not 1 <= len(nonce) <= MAX_NONCE:
        raise RequestRefused("the form has expired; open it again")
    existing = _by_nonce(session, actor.organisation_id, nonce)
    if existing is not None:
        return existing, False
    if not actor.organisation_kind.is_producer:
        raise RequestRefused(
            "%(name)s is not a producer; only producers get stamps",
            name=actor.organisation_name,
        )
    if not actor.owns(lot.owner_id):
        raise RequestRefused(
            "lot %(lot)s does not belong to %(name)s",
            "lot",
            lot=lot.code,
            name=actor.organisation_name,
        )
    print_layout(layout)
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise RequestRefused("the note is longer than %(most)s characters", "note", most=MAX_NOTE)
    try:
        number = parse_count(count, maximum)
    except IssuanceRefused as error:
        raise RequestRefused(error, "count") from None
    check_lot_issuable(session, lot, today or vietnam_today())
    request = StampRequest(
        lot=lot,
        organisation_id=actor.organisation_id,
        count=number,
        pin=pin,
        layout=layout,
        note=note,
        nonce=nonce,
        status=RequestStatus.PENDING,
        requested_by=actor.email[:200],
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        # The same form sent twice at once: the other send inserted first.
        existing = _by_nonce(session, actor.organisation_id, nonce)
        if existing is None:
            raise
        return existing, False
    return request, True


def reject_request(
    session: Session,
    request_id: int,
    *,
    reason: str,
    actor: str,
    now: dt.datetime | None = None,
) -> StampRequest:
    """Refuse a pending request; the producer reads ``reason``."""
    reason = (reason or "").strip()
    if not reason:
        raise RequestRefused("say why the request is rejected: the producer reads it", "reason")
    if len(reason) > MAX_NOTE:
        raise RequestRefused(
            "the reason is longer than %(most)s characters", "reason", most=MAX_NOTE
        )
    return _claim(
        session, request_id, RequestStatus.REJECTED, actor=actor, now=now or utcnow(), note=reason
    )


def abandon_request(
    session: Session, request_id: int, *, actor: str, now: dt.datetime | None = None
) -> StampRequest:
    """Stop a request while it is being signed: it fails, its batch never becomes valid,
    and its jobs stop at their next chunk. The producer may ask again.

    One conditional ``UPDATE`` against the worker's own (``signing`` to ``issued``):
    whichever commits first wins, so a request is never both issued and abandoned.
    """
    changed = rowcount(
        session,
        update(StampRequest)
        .where(StampRequest.id == request_id, StampRequest.status == RequestStatus.SIGNING)
        .values(
            status=RequestStatus.FAILED,
            decision_note=f"abandoned by {actor[:150]} while being signed; ask again",
        )
        .execution_options(synchronize_session=False),
    )
    request = session.get(StampRequest, request_id, populate_existing=True)
    if request is None:
        raise RequestRefused("there is no stamp request %(request)s", request=request_id)
    if changed != 1:
        raise RequestConflict(
            "stamp request %(request)s is %(status)s; only a request being signed can be abandoned",
            request=request_id,
            status=request.status.value,
        )
    if request.batch_id is not None:
        batch = session.get_one(StampBatch, request.batch_id)
        if batch.status is BatchStatus.ISSUING:
            finish_batch(session, batch.id, ok=False, now=now or utcnow())
    cancel_request_jobs(session, request_id)
    return request


def approve_request(
    database: Database,
    keystore: Keystore,
    request_id: int,
    *,
    actor: Actor,
    queue: JobQueue,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[StampRequest, bool]:
    """Approve a pending request: open its batch, signed by ``actor``'s council's key,
    and queue the jobs that write it. Returns the request and whether the queue took
    the jobs (if not, they wait in our table and are sent when it is back).

    Two short transactions: the claim (pending -> signing), then the batch and its
    jobs. A batch that cannot be opened (a recalled lot, no active key, a wrong
    passphrase) fails the request, leaves no batch, and raises :class:`IssuanceFailed`.
    """
    with database.transaction() as session:
        asked = session.get(StampRequest, request_id)
        if asked is not None and not actor.governs(asked.organisation):
            # A council signs only for the producers of its province.
            raise OutOfScope(
                "stamp request %(id)s is from %(producer)s, which %(council)s does not govern",
                id=request_id,
                producer=asked.organisation.name,
                council=actor.organisation_name,
            )
        request = _claim(
            session, request_id, RequestStatus.SIGNING, actor=actor.email, now=utcnow()
        )
        _audit(session, actor, "stamp_request.approve", request, {"count": request.count})
    try:
        with database.transaction() as session:
            request = session.get_one(StampRequest, request_id)
            key = active_key(session, signing_authority(session, actor.organisation_id))
            keystore.load(key.kid)  # a wrong passphrase leaves no batch behind
            batch = open_batch(
                session, request.lot, key, count=request.count, pin=request.pin,
                actor=actor.email, today=vietnam_today(),
            )
            request.batch_id = batch.id
            job_ids = [
                _print_job(session, request, kind, actor, chunk_size).id
                for kind in (OutputKind.CSV, OutputKind.PDF)
            ]
    except DomainError as error:
        # The request keeps the reason in English, as the audit log does; the officer
        # reads it now in their own language.
        _fail(database, request_id, str(error), None, actor)
        raise IssuanceFailed(error) from error
    queued = send(database, queue, job_ids)
    with database.transaction() as session:
        return session.get_one(StampRequest, request_id), queued


def _print_job(
    session: Session, request: StampRequest, kind: OutputKind, who: str | Actor, chunk_size: int
) -> Job:
    job, _ = create_job(
        session,
        JobKind.STAMPS,
        job_key(request.id, kind),
        created_by=who.email if isinstance(who, Actor) else who,
        request_id=request.id,
        output=kind.value,
        organisation_id=request.organisation_id,
        params={"signer_organisation_id": who.organisation_id}
        if isinstance(who, Actor) else None,
        total=request.count,
        chunk_size=chunk_size,
    )
    return job


@dataclass(frozen=True, slots=True)
class Download:
    """A print file ready to serve, or the job writing it."""

    path: Path | None
    job: Job


def prepare_download(
    database: Database,
    queue: JobQueue,
    request_id: int,
    kind: OutputKind,
    *,
    outputs: Path,
    actor: str,
    chunk_size: int = DEFAULT_CHUNK,
) -> Download:
    """The print file of an issued request, if written and still intact; otherwise the
    job (re)writing it. A missing or damaged file (its size or digest differ from what
    its job recorded) is written again, never served."""
    with database.read_sessionmaker() as session:
        request = session.get_one(StampRequest, request_id)
        _check_downloadable(request)
        job = job_by_key(session, job_key(request_id, kind))
    path = output_path(outputs, request_id, kind)
    if job is not None and job.status is JobStatus.DONE:
        expected = FileDigest(job.file_size or 0, job.file_sha256 or "")
        if is_intact(path, expected):
            return Download(path, job)
    if job is not None and job.active:
        return Download(None, job)
    with database.transaction() as session:
        request = session.get_one(StampRequest, request_id)
        _check_downloadable(request)
        job = job_by_key(session, job_key(request_id, kind))
        if job is None:
            job = _print_job(session, request, kind, actor, chunk_size)
        elif not job.active:
            assert request.batch is not None
            restart(session, job, total=request.batch.count)
        job_id = job.id
    send(database, queue, [job_id])
    with database.read_sessionmaker() as session:
        return Download(None, session.get_one(Job, job_id))


def _check_downloadable(request: StampRequest) -> None:
    batch = request.batch
    if request.status is not RequestStatus.ISSUED or batch is None:
        raise RequestConflict(
            "stamp request %(request)s is %(status)s: there are no stamps to download",
            request=request.id,
            status=request.status,
        )
    if batch.status is not BatchStatus.ISSUED:
        raise RequestConflict(
            "batch %(batch)s is %(status)s: its stamps are not valid",
            batch=batch.id,
            status=batch.status,
        )


def request_jobs(session: Session, request_id: int) -> list[Job]:
    """The jobs of a request, CSV first, for its progress."""
    found = session.scalars(select(Job).where(Job.request_id == request_id)).all()
    order = {kind.value: n for n, kind in enumerate(OutputKind)}
    return sorted(found, key=lambda job: order.get(job.output or "", 9))


def list_requests(
    session: Session, organisation_id: int | None, *, limit: int = 200
) -> Sequence[StampRequest]:
    """Pending first, then newest; one organisation's, or everyone's when ``None``."""
    waiting = case((StampRequest.status == RequestStatus.PENDING, 0), else_=1)
    query = (
        select(StampRequest)
        .order_by(waiting, StampRequest.requested_at.desc(), StampRequest.id.desc())
        .limit(limit)
    )
    if organisation_id is not None:
        query = query.where(StampRequest.organisation_id == organisation_id)
    return session.scalars(query).all()


def stampable_lots(session: Session, organisation_id: int, today: dt.date) -> list[Lot]:
    """The organisation's lots that a request could be made for today."""
    lots = session.scalars(
        select(Lot)
        .where(Lot.owner_id == organisation_id, Lot.product_id.is_not(None))
        .order_by(Lot.produced_on.desc().nulls_last(), Lot.code)
    ).all()
    return [lot for lot in lots if lot_problem(session, lot, today) is None]


def lot_problem(session: Session, lot: Lot, today: dt.date) -> IssuanceRefused | None:
    """Why ``lot`` cannot get stamps today, or ``None`` when it can."""
    try:
        check_lot_issuable(session, lot, today)
    except IssuanceRefused as error:
        return error
    return None


def _by_nonce(session: Session, organisation_id: int, nonce: str) -> StampRequest | None:
    return session.scalars(
        select(StampRequest).where(
            StampRequest.organisation_id == organisation_id, StampRequest.nonce == nonce
        )
    ).one_or_none()


def _claim(
    session: Session,
    request_id: int,
    status: RequestStatus,
    *,
    actor: str,
    now: dt.datetime,
    note: str | None = None,
) -> StampRequest:
    # One statement decides who wins: a second officer's UPDATE finds no
    # pending row (PostgreSQL re-checks the WHERE after the first commits;
    # SQLite runs writers one at a time).
    changed = rowcount(
        session,
        update(StampRequest)
        .where(StampRequest.id == request_id, StampRequest.status == RequestStatus.PENDING)
        .values(status=status, decided_by=actor[:200], decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False),
    )
    request = session.get(StampRequest, request_id, populate_existing=True)
    if request is None:
        raise RequestRefused("there is no stamp request %(request)s", request=request_id)
    if changed != 1:
        raise RequestConflict(
            "stamp request %(request)s is already %(status)s; "
            "only a pending request can be decided",
            request=request_id,
            status=request.status,
        )
    return request


def _fail(
    database: Database, request_id: int, reason: str, batch_id: int | None, actor: Actor
) -> None:
    with database.transaction() as session:
        if batch_id is not None:
            finish_batch(session, batch_id, ok=False, now=utcnow())
        request = session.get_one(StampRequest, request_id)
        request.status = RequestStatus.FAILED
        request.decision_note = reason[:MAX_NOTE]
        _audit(session, actor, "stamp_request.failed", request, {"reason": reason[:200]})


def audit_target(request: StampRequest) -> str:
    """How the audit log names a stamp request."""
    return f"stamp request {request.id}"


def audit_facts(request: StampRequest) -> dict[str, object]:
    """What the audit log keeps of a stamp request with each entry about it."""
    return {
        "lot": request.lot.code,
        "count": request.count,
        "scratch_off": request.pin,
        "layout": request.layout,
    }


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    request: StampRequest,
    detail: Mapping[str, object],
) -> None:
    audit.record(session, actor, action, audit_target(request), {**audit_facts(request), **detail})


__all__ = [
    "DEFAULT_LAYOUT",
    "LAYOUTS",
    "Download",
    "abandon_request",
    "approve_request",
    "audit_facts",
    "audit_target",
    "list_requests",
    "lot_problem",
    "output_path",
    "prepare_download",
    "print_layout",
    "reject_request",
    "request_jobs",
    "stampable_lots",
    "submit_request",
]
