"""The inbox of fake reports from the verify page, and a stamp's scan history.

A producer sees the reports about stamps of its own lots; an authority sees all
of them. Reports are what strangers typed: the templates escape them, and the
contact a consumer left is shown only to the lot's owner and to authorities.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import Length

from ocop.trace.db import utcnow
from ocop.workflows import audit
from ocop.workflows.errors import ReportAlreadyHandled, ReportRefused, UnknownStamp
from ocop.workflows.fake_reports import (
    MAX_NOTE,
    ReportState,
    list_reports,
    mark_handled,
    report_owner,
    report_serial,
    same_stamp_reports,
    stamp_history,
)
from ocop.workflows.models import FakeReport

from ..database import request_session, write_transaction
from ..guards import query_id
from ..messages import say
from ..verifying import verifier
from . import bp
from .access import actor, ensure_own, requires
from .forms import Form

PAGE = 50
# Ids beyond this are no row's, and PostgreSQL's BIGINT would refuse them.

STATES = {
    ReportState.OPEN: _l("Chưa xử lý"),
    ReportState.HANDLED: _l("Đã xử lý"),
    ReportState.ALL: _l("Tất cả"),
}

# The verdict a reported code gets today, in a word.
HINTS = {
    "genuine": _l("Chính hãng"),
    "suspect": _l("Nghi bị sao chép"),
    "recalled": _l("Lô đã thu hồi"),
    "revoked": _l("Tem đã vô hiệu"),
    "invalid": _l("Không phải tem thật"),
}

BATCH_STATES = {
    "issuing": _l("đang phát hành"),
    "issued": _l("đã phát hành"),
    "failed": _l("phát hành lỗi"),
    "voided": _l("đã huỷ"),
}


class HandleForm(Form):
    note = TextAreaField(_l("Ghi chú xử lý (không bắt buộc)"), validators=[Length(max=MAX_NOTE)])


def _state() -> ReportState:
    try:
        return ReportState(request.args.get("state", ReportState.OPEN.value))
    except ValueError:
        abort(400)


@bp.get("/reports")
@requires("reports.view")
def reports() -> str:
    who = actor()
    state, before = _state(), query_id("before")
    rows = list_reports(
        request_session(),
        owner_id=None if who.is_authority else who.organisation_id,
        state=state,
        before_id=before,
        limit=PAGE + 1,
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    # The verdict the reported code gets today, counting no scan: a hint of
    # whether the consumer held a forgery, a copy, or a genuine stamp.
    check = verifier()
    now = utcnow()
    hints = {r.id: check.verify(r.token, now=now).status.value for r in rows}
    return render_template(
        "console/reports_list.html",
        rows=rows,
        hints=hints,
        state=state,
        states=STATES,
        hint_words=HINTS,
        serial_of=report_serial,
        owner_of=report_owner,
        next_before=rows[-1].id if more else None,
    )


def _reachable(session: Session, report_id: int) -> FakeReport:
    """The report, or 404 unless the actor may read it (a code that did not
    verify belongs to no producer: authorities only)."""
    report = session.get(FakeReport, report_id)
    if report is None:
        abort(404)
    ensure_own(report_owner(report))
    return report


def _detail(report_id: int, form: HandleForm, status: int = 200) -> tuple[str, int]:
    session = request_session()
    report = _reachable(session, report_id)
    history = (
        stamp_history(session, report.batch_id, report.index)
        if report.batch_id is not None and report.index is not None
        else None
    )
    page = render_template(
        "console/reports_detail.html",
        report=report,
        serial=report_serial(report),
        history=history,
        others=same_stamp_reports(session, report),
        hint=verifier().verify(report.token, now=utcnow()).status.value,
        hint_words=HINTS,
        owner=report_owner(report),
        form=form,
    )
    return page, status


@bp.get("/reports/<int:report_id>")
@requires("reports.view")
def report(report_id: int) -> tuple[str, int]:
    return _detail(report_id, HandleForm())


@bp.post("/reports/<int:report_id>/handled")
@requires("reports.handle")
def handle_report(report_id: int) -> Response | tuple[str, int]:
    form = HandleForm()
    if not form.validate_on_submit():
        return _detail(report_id, form, 400)
    who = actor()
    try:
        with write_transaction() as writer:
            found = _reachable(writer, report_id)
            serial = report_serial(found)
            mark_handled(writer, found.id, by=who.email, note=form.note.data, now=utcnow())
            audit.record(
                writer,
                who,
                "report.handle",
                f"report {found.id}",
                {
                    "serial": str(serial) if serial else None,
                    "note": (form.note.data or "")[:200] or None,
                },
            )
    except ReportRefused as error:
        form.form_errors.append(say(error))
        return _detail(report_id, form, 409 if isinstance(error, ReportAlreadyHandled) else 400)
    flash(_("Đã đánh dấu báo cáo là đã xử lý."))
    return redirect(url_for("console.report", report_id=report_id))


# The endpoint is console.stamp_history: the analytics page links here by that name.
@bp.get("/stamps/<int:batch>/<int:index>", endpoint="stamp_history")
@requires("reports.view")
def stamp_history_page(batch: int, index: int) -> str:
    try:
        history = stamp_history(request_session(), batch, index)
    except UnknownStamp:
        abort(404)
    ensure_own(history.lot.owner_id)
    return render_template(
        "console/reports_stamp.html",
        history=history,
        owner=history.lot.owner_id,
        batch_states=BATCH_STATES,
    )
