"""Reports of suspected fakes, read as an inbox, and what the verifier saw of one stamp.

Consumers file reports from the verify page. A producer reads the reports about
stamps of its own lots; an authority reads every report, also those whose code
did not verify, which no producer owns. A report is handled once: the first
note stays, so two people answering the same consumer notice each other.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from ocop.stamps.errors import MalformedToken
from ocop.stamps.models import ScanLog, StampBatch, StampScan
from ocop.stamps.serial import Serial
from ocop.stamps.token import UINT32_MAX, StampToken
from ocop.trace.db import rowcount
from ocop.trace.models import Lot

from .errors import NotAStamp, ReportAlreadyHandled, ReportRefused, UnknownStamp
from .models import FakeReport

HISTORY_ROWS = 100
MAX_NOTE = 2000
MAX_REPORT = 2000
# Reports about one stamp shown beside it; a stamp copied a thousand times
# needs the first few to act, not all of them.
SAME_STAMP_REPORTS = 50


def file_report(
    session: Session,
    *,
    token: str,
    batch_id: int | None,
    index: int | None,
    message: str,
    contact: str = "",
    where_bought: str = "",
    client_hash: str | None = None,
) -> FakeReport:
    """Store a consumer's report about the stamp ``token``, as plain text.

    ``token`` must parse as a stamp code (a forged signature is worth a report;
    text that is not a code at all is not): :class:`NotAStamp` otherwise. It is
    stored in its canonical spelling. ``batch_id`` and ``index`` are given only
    for a code whose signature verified: a forger chooses what a bad code says.
    """
    try:
        code = StampToken.parse(token).encode()
    except MalformedToken:
        raise NotAStamp("there is no stamp code to report about") from None
    text = _plain(message, keep="\n")
    if not text or len(text) > MAX_REPORT:
        raise ReportRefused(
            "a report says something, in at most %(most)s characters", most=MAX_REPORT
        )
    report = FakeReport(
        token=code,
        batch_id=batch_id,
        index=index,
        message=text,
        contact=_plain(contact)[:200] or None,
        where_bought=_plain(where_bought)[:200] or None,
        client_hash=client_hash,
    )
    session.add(report)
    session.flush()
    return report


def _plain(text: str, keep: str = "") -> str:
    """What a person typed, as NFC text without control characters.

    PostgreSQL refuses a NUL in text, and nothing else invisible belongs in a
    report someone will read.
    """
    cleaned = "".join(ch for ch in text if ch in keep or unicodedata.category(ch)[0] != "C")
    return unicodedata.normalize("NFC", cleaned).strip()


class ReportState(StrEnum):
    OPEN = "open"
    HANDLED = "handled"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class StampHistory:
    batch: StampBatch
    serial: Serial
    scans: StampScan | None  # None until the stamp's first counted scan
    log: list[ScanLog]  # newest first, at most HISTORY_ROWS
    reports: list[FakeReport]  # newest first

    @property
    def lot(self) -> Lot:
        return self.batch.lot


def report_owner(report: FakeReport) -> int | None:
    """The organisation whose lot the reported stamp belongs to; None for a code
    that did not verify (only authorities read those)."""
    return report.batch.lot.owner_id if report.batch is not None else None


def report_serial(report: FakeReport) -> Serial | None:
    if report.batch_id is None or report.index is None:
        return None
    return Serial(report.batch_id, report.index)


def list_reports(
    session: Session,
    *,
    owner_id: int | None,
    state: ReportState = ReportState.OPEN,
    before_id: int | None = None,
    limit: int = 50,
) -> list[FakeReport]:
    """Newest first, a page at a time (``before_id``: the last id of the previous page).

    ``owner_id`` keeps the reports about stamps of that organisation's lots;
    None means every report.
    """
    query = (
        select(FakeReport)
        .options(joinedload(FakeReport.batch))
        .order_by(FakeReport.id.desc())
        .limit(limit)
    )
    if owner_id is not None:
        query = (
            query.join(StampBatch, FakeReport.batch_id == StampBatch.id)
            .join(Lot, StampBatch.lot_id == Lot.id)
            .where(Lot.owner_id == owner_id)
        )
    if state is ReportState.OPEN:
        query = query.where(FakeReport.handled_at.is_(None))
    elif state is ReportState.HANDLED:
        query = query.where(FakeReport.handled_at.is_not(None))
    if before_id is not None:
        query = query.where(FakeReport.id < before_id)
    return list(session.scalars(query))


def mark_handled(
    session: Session, report_id: int, *, by: str, note: str | None, now: dt.datetime
) -> None:
    """Mark a report handled, once: a second attempt raises :class:`ReportAlreadyHandled`."""
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ReportRefused("the note can have at most %(most)s characters", most=MAX_NOTE)
    # One conditional UPDATE: of two people handling it at once, exactly one wins.
    changed = rowcount(
        session,
        update(FakeReport)
        .where(FakeReport.id == report_id, FakeReport.handled_at.is_(None))
        .values(handled_at=now, handled_by=by, handled_note=note),
    )
    if changed != 1:
        report = session.get(FakeReport, report_id)
        if report is None:
            raise ReportRefused("there is no report %(report)s", report=report_id)
        assert report.handled_at is not None
        raise ReportAlreadyHandled(
            "report %(report)s was already handled by %(by)s at %(at)s UTC",
            report=report_id,
            by=report.handled_by,
            at=report.handled_at.strftime("%Y-%m-%d %H:%M"),
        )


def same_stamp_reports(session: Session, report: FakeReport) -> list[FakeReport]:
    """Other reports about the stamp of ``report``; for a code that did not
    verify, other reports of the same code (a forgery copied many times)."""
    query = select(FakeReport).where(FakeReport.id != report.id)
    if report.batch_id is not None:
        query = query.where(
            FakeReport.batch_id == report.batch_id, FakeReport.index == report.index
        )
    else:
        query = query.where(FakeReport.batch_id.is_(None), FakeReport.token == report.token)
    query = query.order_by(FakeReport.id.desc()).limit(SAME_STAMP_REPORTS)
    return list(session.scalars(query))


def stamp_history(
    session: Session, batch_id: int, index: int, *, rows: int = HISTORY_ROWS
) -> StampHistory:
    """Counters, the last ``rows`` scans and the reports of stamp ``index`` of ``batch_id``."""
    batch = session.get(StampBatch, batch_id) if 0 < batch_id <= UINT32_MAX else None
    if batch is None:
        raise UnknownStamp("there is no batch %(batch)s", batch=batch_id)
    if not 0 <= index < batch.count:
        raise UnknownStamp(
            "batch %(batch)s has stamps 1 to %(count)s, not %(number)s",
            batch=batch_id,
            count=batch.count,
            number=index + 1,
        )
    scans = session.get(StampScan, (batch_id, index))
    log = session.scalars(
        select(ScanLog)
        .where(ScanLog.batch_id == batch_id, ScanLog.index == index)
        .order_by(ScanLog.scanned_at.desc(), ScanLog.id.desc())
        .limit(rows)
    ).all()
    reports = session.scalars(
        select(FakeReport)
        .where(FakeReport.batch_id == batch_id, FakeReport.index == index)
        .order_by(FakeReport.id.desc())
        .limit(SAME_STAMP_REPORTS)
    ).all()
    return StampHistory(batch, Serial(batch_id, index), scans, list(log), list(reports))


__all__ = [
    "HISTORY_ROWS",
    "MAX_NOTE",
    "ReportState",
    "StampHistory",
    "list_reports",
    "mark_handled",
    "report_owner",
    "report_serial",
    "same_stamp_reports",
    "stamp_history",
]
