"""Stamp requests: a producer asks for stamps for a lot, an authority approves and signs.

Submitting checks the lot with the issuance rules (:func:`check_lot_issuable`)
so a request that could never be signed is refused at once. Approving claims
the request with one ``UPDATE ... WHERE status = 'pending'``: of two officers
approving at once, one claims it and the other is refused, so one request
makes at most one batch. The batch is then issued by
:func:`ocop.stamps.printing.issue_and_write`, which writes the print house's
CSV first; the PDF and the ZIP are written from the same stamps when first
downloaded.

The console issues inside an HTTP request, so a request is capped at
:data:`CONSOLE_MAX_STAMPS`; bigger batches go through ``ocop stamps issue``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.keys.keystore import Keystore, ensure_private_dir
from ocop.stamps.errors import IssuanceRefused
from ocop.stamps.issuance import check_lot_issuable, finish_batch, parse_count
from ocop.stamps.models import BatchStatus
from ocop.stamps.outputs import OutputKind
from ocop.stamps.pin import PinSecret
from ocop.stamps.printing import PrintJob, issue_and_write, rewrite_output
from ocop.stamps.render.files import OutputNotWritable
from ocop.stamps.render.labels import LabelLayout
from ocop.trace.db import Database, utcnow, vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import Lot, Organisation

from . import audit
from .access import Actor
from .errors import IssuanceFailed, OutOfScope, RequestConflict, RequestRefused
from .models import RequestStatus, StampRequest

# Issued, and printed on first download, within one HTTP request: a PDF or ZIP
# of this many labels takes 10 to 25 s on one core (a CSV a few seconds), inside
# a gunicorn worker's 30 s timeout.
CONSOLE_MAX_STAMPS = 10_000
MAX_NOTE = 1000
MAX_NONCE = 64

# Label sheets a producer can choose from, by the name stored in the request.
LAYOUTS: dict[str, LabelLayout] = {
    "a4-5x8": LabelLayout(),  # 38 x 33 mm, 40 a sheet: the common decal sheet
    "a4-4x10": LabelLayout(label_width_mm=48, label_height_mm=26, columns=4, qr_mm=15),
    "a4-3x7": LabelLayout(label_width_mm=64, label_height_mm=39, columns=3, qr_mm=25),
}
DEFAULT_LAYOUT = "a4-5x8"


def submit_request(
    session: Session,
    lot: Lot,
    organisation: Organisation,
    *,
    count: object,
    pin: bool,
    layout: str,
    note: str | None,
    nonce: str,
    actor: str,
    maximum: int,
    today: dt.date | None = None,
) -> tuple[StampRequest, bool]:
    """A new pending request, or the one this form already made: (request, created).

    ``nonce`` identifies the form filled in; sending it again finds the first
    request, even when two sends race each other.
    """
    nonce = (nonce or "").strip()
    if not 1 <= len(nonce) <= MAX_NONCE:
        raise RequestRefused("the form has expired; open it again")
    existing = _by_nonce(session, organisation.id, nonce)
    if existing is not None:
        return existing, False
    if not organisation.kind.is_producer:
        raise RequestRefused(f"{organisation.name} is not a producer; only producers get stamps")
    if lot.owner_id != organisation.id:
        raise RequestRefused(f"lot {lot.code} does not belong to {organisation.name}", "lot")
    if layout not in LAYOUTS:
        raise RequestRefused(f"unknown label layout {layout[:20]!r}", "layout")
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise RequestRefused(f"the note is longer than {MAX_NOTE} characters", "note")
    try:
        number = parse_count(count, maximum)
    except IssuanceRefused as error:
        raise RequestRefused(str(error), "count") from None
    check_lot_issuable(session, lot, today or vietnam_today())
    request = StampRequest(
        lot=lot,
        organisation_id=organisation.id,
        count=number,
        pin=pin,
        layout=layout,
        note=note,
        nonce=nonce,
        status=RequestStatus.PENDING,
        requested_by=actor[:200],
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        # The same form sent twice at once: the other send inserted first.
        existing = _by_nonce(session, organisation.id, nonce)
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
        raise RequestRefused(f"the reason is longer than {MAX_NOTE} characters", "reason")
    return _claim(
        session, request_id, RequestStatus.REJECTED, actor=actor, now=now or utcnow(), note=reason
    )


# Issuing a console request takes seconds (at most 10,000 stamps): one still
# "signing" after this long lost its process midway.
STUCK_AFTER = dt.timedelta(minutes=30)


def abandon_request(
    session: Session, request_id: int, *, actor: str, now: dt.datetime | None = None
) -> StampRequest:
    """Close a request whose issuing never finished (the server stopped midway).

    Its batch, if one was opened, stays ``issuing`` and never verifies; the request
    becomes ``failed`` so that the producer can ask again.
    """
    now = now or utcnow()
    changed = session.execute(
        update(StampRequest)
        .where(
            StampRequest.id == request_id,
            StampRequest.status == RequestStatus.SIGNING,
            StampRequest.decided_at < now - STUCK_AFTER,
        )
        .values(
            status=RequestStatus.FAILED,
            decision_note=f"issuing did not finish; closed by {actor[:150]}; ask again",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    request = session.get(StampRequest, request_id, populate_existing=True)
    if request is None:
        raise RequestRefused(f"there is no stamp request {request_id}")
    if changed != 1:
        raise RequestConflict(
            f"stamp request {request_id} is {request.status}; only a request still signing "
            f"{STUCK_AFTER.seconds // 60} minutes after approval can be closed"
        )
    return request


def approve_request(
    database: Database,
    keystore: Keystore,
    request_id: int,
    *,
    actor: Actor,
    outputs: Path,
    base_url: str,
    pin_secret: PinSecret,
) -> StampRequest:
    """Approve a pending request and issue its batch, signed by ``actor``'s council's key.

    Three short transactions: claim (pending -> signing), the issuance's own,
    then the outcome (issued with its batch, or failed with the reason). A
    failure leaves no valid batch behind and raises :class:`IssuanceFailed`.
    """
    outputs_folder(outputs)
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
        job = PrintJob(
            lot_code=request.lot.code,
            count=request.count,
            out=output_path(outputs, request_id, OutputKind.CSV),
            pin_secret=pin_secret if request.pin else None,
            org_id=actor.organisation_id,
        )
        _audit(session, actor, "stamp_request.approve", request, {"count": request.count})
    try:
        issued = issue_and_write(
            database, keystore, job, base_url=base_url, actor=actor.email
        )
    except Exception as error:
        user_error = isinstance(error, DomainError)
        reason = str(error) if user_error else f"unexpected error ({type(error).__name__})"
        _fail(database, request_id, reason, None, actor)
        if user_error:
            raise IssuanceFailed(reason) from error
        raise
    try:
        with database.transaction() as session:
            request = session.get_one(StampRequest, request_id)
            request.status = RequestStatus.ISSUED
            request.batch_id = issued.batch
            detail = {"batch": issued.batch, "kid": issued.kid}
            _audit(session, actor, "stamp_request.issued", request, detail)
    except Exception:
        _fail(
            database, request_id, "the issued batch could not be recorded", issued.batch, actor
        )
        raise
    return request


def request_output(
    database: Database,
    keystore: Keystore,
    request: StampRequest,
    kind: OutputKind,
    *,
    outputs: Path,
    base_url: str,
    pin_secret: PinSecret,
) -> Path:
    """The print file of an issued request, written on first use and kept.

    A missing file (another machine served the approval, or it was deleted)
    is simply written again: the stamps are the same every time.
    """
    batch = request.batch
    if request.status is not RequestStatus.ISSUED or batch is None:
        raise RequestConflict(
            f"stamp request {request.id} is {request.status}: there are no stamps to download"
        )
    if batch.status is not BatchStatus.ISSUED:
        raise RequestConflict(f"batch {batch.id} is {batch.status}: its stamps are not valid")
    path = output_path(outputs, request.id, kind)
    if not path.is_file():
        outputs_folder(outputs)
        layout = LAYOUTS.get(request.layout, LAYOUTS[DEFAULT_LAYOUT])
        try:
            rewrite_output(
                database,
                keystore,
                batch.id,
                path,
                base_url=base_url,
                pin_secret=pin_secret,
                layout=layout if kind is OutputKind.PDF else None,
            )
        except OSError as error:  # a full disk: the file was not written, nothing else changed
            raise OutputNotWritable(f"writing {path.name} failed: {error.strerror}") from None
    return path


def output_path(outputs: Path, request_id: int, kind: OutputKind) -> Path:
    return outputs / f"request-{request_id}{kind.value}"


def outputs_folder(outputs: Path) -> Path:
    """The folder of print files, readable by the service's user only (PINs are in them)."""
    ensure_private_dir(outputs)
    return outputs


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


def lot_problem(session: Session, lot: Lot, today: dt.date) -> str | None:
    """Why ``lot`` cannot get stamps today, or ``None`` when it can."""
    try:
        check_lot_issuable(session, lot, today)
    except IssuanceRefused as error:
        return str(error)
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
    changed = session.execute(
        update(StampRequest)
        .where(StampRequest.id == request_id, StampRequest.status == RequestStatus.PENDING)
        .values(status=status, decided_by=actor[:200], decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    request = session.get(StampRequest, request_id, populate_existing=True)
    if request is None:
        raise RequestRefused(f"there is no stamp request {request_id}")
    if changed != 1:
        raise RequestConflict(
            f"stamp request {request_id} is already {request.status}; "
            "only a pending request can be decided"
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
    "CONSOLE_MAX_STAMPS",
    "DEFAULT_LAYOUT",
    "LAYOUTS",
    "abandon_request",
    "approve_request",
    "audit_facts",
    "audit_target",
    "list_requests",
    "lot_problem",
    "output_path",
    "outputs_folder",
    "reject_request",
    "request_output",
    "stampable_lots",
    "submit_request",
]
