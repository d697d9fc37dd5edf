"""Stamp requests: a producer asks, an authority approves (and signs) or rejects,
and the producer downloads the print files.

The rules are :mod:`ocop.workflows.stamp_requests`; these views parse, call and render.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ocop.stamps.outputs import OutputKind
from ocop.stamps.pin import PinSecret
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.errors import DomainError, NotFound
from ocop.trace.models import Lot, Organisation
from ocop.trace.queries import find_lot
from ocop.workflows import audit
from ocop.workflows.errors import InvalidInput, IssuanceFailed, RequestConflict
from ocop.workflows.models import StampRequest
from ocop.workflows.stamp_requests import (
    CONSOLE_MAX_STAMPS,
    DEFAULT_LAYOUT,
    LAYOUTS,
    MAX_NOTE,
    STUCK_AFTER,
    abandon_request,
    approve_request,
    audit_facts,
    audit_target,
    list_requests,
    lot_problem,
    reject_request,
    request_output,
    stampable_lots,
    submit_request,
)

from ..config import Settings
from ..database import database, request_session, write_transaction
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .forms import Form, OnceForm, rule_error

MIMETYPES = {
    OutputKind.CSV: "text/csv",
    OutputKind.PDF: "application/pdf",
    OutputKind.ZIP: "application/zip",
}


def _layout_label(name: str) -> str:
    layout = LAYOUTS[name]
    return _(
        "A4, %(c)s × %(r)s nhãn %(w)g × %(h)g mm (%(n)s tem một trang)",
        c=layout.columns,
        r=layout.rows,
        w=layout.label_width_mm,
        h=layout.label_height_mm,
        n=layout.per_page,
    )


class RequestForm(OnceForm):
    # Checked against the organisation's lots in the view: a foreign code is a 404.
    lot = SelectField(_l("Lô hàng"), validators=[DataRequired()], validate_choice=False)
    count = StringField(_l("Số tem"), validators=[DataRequired(_l("Nhập số tem.")), Length(max=20)])
    pin = BooleanField(_l("In mã PIN dưới lớp cào cho mỗi tem"))
    layout = SelectField(_l("Khổ nhãn (tệp PDF)"), default=DEFAULT_LAYOUT)
    note = TextAreaField(
        _l("Ghi chú cho hội đồng (không bắt buộc)"), validators=[Optional(), Length(max=MAX_NOTE)]
    )


class RejectForm(Form):
    reason = TextAreaField(
        _l("Lý do từ chối (nhà sản xuất sẽ đọc)"),
        validators=[DataRequired(_l("Cần ghi lý do từ chối.")), Length(max=MAX_NOTE)],
    )


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _maximum() -> int:
    return min(CONSOLE_MAX_STAMPS, _settings().max_batch)


def _outputs() -> Path:
    return _settings().instance / "outputs"


def _pin_secret() -> PinSecret:
    return PinSecret(_settings().resolved_pin_secret())


def _request_or_404(session: Session, request_id: int) -> StampRequest:
    found = session.get(StampRequest, request_id)
    if found is None:
        abort(404)
    ensure_own(found.organisation_id)
    return found


def _lot_or_404(session: Session, code: str) -> Lot:
    try:
        lot = find_lot(session, code)
    except NotFound:
        abort(404)
    ensure_own(lot.owner_id)
    return lot


@bp.get("/stamp-requests")
@requires("stamp_requests.view")
def stamp_requests() -> str:
    who = actor()
    rows = list_requests(request_session(), None if who.is_authority else who.organisation_id)
    return render_template("console/stamp_requests_list.html", rows=rows)


@bp.route("/stamp-requests/new", methods=["GET", "POST"])
@requires("stamp_requests.submit")
def stamp_requests_new() -> Response | tuple[str, int]:
    who = actor()
    session = request_session()
    today = vietnam_today()
    lots = stampable_lots(session, who.organisation_id, today)
    form = RequestForm()
    form.lot.choices = [(lot.code, f"{lot.code} · {lot.description}") for lot in lots]
    form.layout.choices = [(name, _layout_label(name)) for name in LAYOUTS]
    problem = None
    if request.method == "GET" and request.args.get("lot"):
        lot = _lot_or_404(session, request.args["lot"])
        form.lot.data = lot.code
        problem = lot_problem(session, lot, today)
    if form.validate_on_submit():
        lot = _lot_or_404(session, form.lot.data)
        try:
            with write_transaction() as writer:
                made, created = submit_request(
                    writer,
                    writer.get_one(Lot, lot.id),
                    writer.get_one(Organisation, who.organisation_id),
                    count=form.count.data,
                    pin=bool(form.pin.data),
                    layout=form.layout.data,
                    note=form.note.data,
                    nonce=form.nonce.data,
                    actor=who.email,
                    maximum=_maximum(),
                    today=today,
                )
                if created:
                    audit.record(
                        writer, who, "stamp_request.submit", audit_target(made), audit_facts(made)
                    )
                request_id = made.id
        except DomainError as error:
            field = getattr(error, "field", None)
            rule_error(form, InvalidInput(str(error), field) if field else error)
        else:
            if created:
                flash(_("Đã gửi yêu cầu tem. Hội đồng OCOP sẽ xem xét và ký."))
            else:
                flash(_("Yêu cầu này đã được gửi rồi; không tạo thêm yêu cầu mới."))
            return redirect(url_for("console.stamp_request", request_id=request_id))
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "console/stamp_requests_new.html",
        form=form,
        has_lots=bool(lots),
        problem=problem,
        maximum=_maximum(),
    )
    return page, status


@bp.get("/stamp-requests/<int:request_id>")
@requires("stamp_requests.view")
def stamp_request(request_id: int) -> str:
    return _detail(_request_or_404(request_session(), request_id))


@bp.post("/stamp-requests/<int:request_id>/approve")
@requires("stamp_requests.decide")
def stamp_request_approve(request_id: int) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    ensure_governs(found.organisation)
    settings = _settings()
    try:
        approve_request(
            database(),
            _settings().keystore(),
            found.id,
            actor=who,
            outputs=_outputs(),
            base_url=settings.base_url,
            pin_secret=_pin_secret(),
        )
    except DomainError as error:
        message = str(error)
        if isinstance(error, IssuanceFailed):
            message = _("Không cấp được tem: %(why)s", why=message)
        return _detail(_reread(found), error=message), 409
    flash(_("Đã duyệt và ký lô tem. Nhà sản xuất có thể tải tệp in."))
    return redirect(url_for("console.stamp_request", request_id=found.id))


@bp.post("/stamp-requests/<int:request_id>/reject")
@requires("stamp_requests.decide")
def stamp_request_reject(request_id: int) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    ensure_governs(found.organisation)
    form = RejectForm()
    if not form.validate_on_submit():
        return _detail(found, reject_form=form), 400
    try:
        with write_transaction() as writer:
            decided = reject_request(writer, found.id, reason=form.reason.data, actor=who.email)
            detail = {"reason": form.reason.data}
            audit.record(writer, who, "stamp_request.reject", audit_target(decided), detail)
    except RequestConflict as error:
        return _detail(_reread(found), error=str(error)), 409
    except DomainError as error:
        rule_error(form, error)
        return _detail(found, reject_form=form), 400
    flash(_("Đã từ chối yêu cầu tem."))
    return redirect(url_for("console.stamp_request", request_id=found.id))


@bp.post("/stamp-requests/<int:request_id>/abandon")
@requires("stamp_requests.decide")
def stamp_request_abandon(request_id: int) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    ensure_governs(found.organisation)
    try:
        with write_transaction() as writer:
            closed = abandon_request(writer, found.id, actor=who.email)
            audit.record(writer, who, "stamp_request.abandon", audit_target(closed))
    except RequestConflict as error:
        return _detail(_reread(found), error=str(error)), 409
    flash(_("Đã đóng yêu cầu tem bị dở dang; chủ thể có thể gửi yêu cầu mới."))
    return redirect(url_for("console.stamp_request", request_id=found.id))


@bp.get("/stamp-requests/<int:request_id>/stamps.csv")
@requires("stamp_outputs.download")
def stamp_request_csv(request_id: int) -> Response | tuple[str, int]:
    return _download(request_id, OutputKind.CSV)


@bp.get("/stamp-requests/<int:request_id>/stamps.pdf")
@requires("stamp_outputs.download")
def stamp_request_pdf(request_id: int) -> Response | tuple[str, int]:
    return _download(request_id, OutputKind.PDF)


@bp.get("/stamp-requests/<int:request_id>/stamps.zip")
@requires("stamp_outputs.download")
def stamp_request_zip(request_id: int) -> Response | tuple[str, int]:
    return _download(request_id, OutputKind.ZIP)


def _download(request_id: int, kind: OutputKind) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    settings = _settings()
    try:
        path = request_output(
            database(),
            _settings().keystore(),
            found,
            kind,
            outputs=_outputs(),
            base_url=settings.base_url,
            pin_secret=_pin_secret(),
        )
    except DomainError as error:
        return _detail(found, error=str(error)), 409
    batch_id = found.batch_id
    with write_transaction() as writer:
        audit.record(
            writer,
            who,
            "stamp_outputs.download",
            audit_target(found),
            {"kind": kind.value.lstrip("."), "batch": batch_id},
        )
    response = send_file(
        path,
        mimetype=MIMETYPES[kind],
        as_attachment=True,
        download_name=f"tem-ocop-{batch_id}{kind.value}",
        conditional=False,
        etag=False,
    )
    # PINs and signed codes: never kept by a browser or a proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _detail(
    found: StampRequest, *, error: str | None = None, reject_form: RejectForm | None = None
) -> str:
    who = actor()
    session = request_session()
    pending = found.status == "pending"
    problem = lot_problem(session, found.lot, vietnam_today()) if pending else None
    stuck = (
        found.status == "signing"
        and found.decided_at is not None
        and found.decided_at < utcnow() - STUCK_AFTER
    )
    return render_template(
        "console/stamp_requests_detail.html",
        r=found,
        stuck=stuck,
        error=error,
        problem=problem,
        reject_form=reject_form or (RejectForm(formdata=None) if who.is_authority else None),
        layout_label=_layout_label(found.layout) if found.layout in LAYOUTS else found.layout,
    )


def _reread(found: StampRequest) -> StampRequest:
    """The request as it is now, after writes made in other sessions."""
    session = request_session()
    session.rollback()  # ends the read snapshot and expires what it loaded
    return _request_or_404(session, found.id)
