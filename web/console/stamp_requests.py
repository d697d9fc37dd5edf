"""Stamp requests: a producer asks, an authority approves (and signs) or rejects,
and the producer downloads the print files.

The rules are :mod:`ocop.workflows.stamp_requests`; these views parse, call and render.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ocop.stamps.outputs import OutputKind
from ocop.trace.db import vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import Lot
from ocop.workflows import audit
from ocop.workflows.approval import approval_facts
from ocop.workflows.confirmations import reject_consequences
from ocop.workflows.errors import InvalidInput, IssuanceFailed, RequestConflict
from ocop.workflows.jobs import Progress
from ocop.workflows.models import RequestStatus, StampRequest
from ocop.workflows.stamp_requests import (
    DEFAULT_LAYOUT,
    LAYOUTS,
    MAX_NOTE,
    abandon_request,
    approve_request,
    audit_facts,
    audit_target,
    list_requests,
    lot_problem,
    prepare_download,
    print_layout,
    reject_request,
    request_jobs,
    stampable_lots,
    submit_request,
)

from ..config import Settings
from ..database import database, job_queue, request_session, write_transaction
from ..messages import say
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .confirm import ConfirmedForm, confirm_page, until_confirmed
from .forms import OnceForm, rule_error
from .lookups import lot_or_404
from .lots import UNIT_LABELS

MIMETYPES = {
    OutputKind.CSV: "text/csv",
    OutputKind.PDF: "application/pdf",
    OutputKind.ZIP: "application/zip",
}


def _layout_label(name: str) -> str:
    """The print options a layout name stands for, the error correction included."""
    try:
        layout = print_layout(name)
    except DomainError:
        return name
    if layout.roll:
        paper = _(
            "Cuộn nhãn %(w)g × %(h)g mm, một nhãn một trang",
            w=layout.label_width_mm,
            h=layout.label_height_mm,
        )
    else:
        paper = _(
            "A4, %(c)s × %(r)s nhãn %(w)g × %(h)g mm (%(n)s tem một trang)",
            c=layout.columns,
            r=layout.rows,
            w=layout.label_width_mm,
            h=layout.label_height_mm,
            n=layout.per_page,
        )
    module = format_decimal(layout.module, format="0.000")  # 0,508 in Vietnamese
    return _(
        "%(paper)s; mô-đun %(m)s mm (%(dots)s điểm ở %(dpi)s dpi), sửa lỗi %(ec)s",
        paper=paper,
        m=module,
        dots=layout.module_dots,
        dpi=layout.dpi,
        ec=layout.ec_level,
    )


def _printer_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Theo khổ nhãn (tờ A4: máy in laser 600 dpi; cuộn: máy in nhiệt 203 dpi)")),
        ("203", _("Máy in nhiệt 203 dpi (mô-đun 0,5 mm = 4 điểm)")),
        ("300", _("Máy in nhiệt 300 dpi (mô-đun 0,508 mm = 6 điểm)")),
        ("600", _("Máy in laser hoặc nhiệt 600 dpi (mô-đun 0,508 mm = 12 điểm)")),
    ]


class RequestForm(OnceForm):
    # Checked against the organisation's lots in the view: a foreign code is a 404.
    lot = SelectField(_l("Lô hàng"), validators=[DataRequired()], validate_choice=False)
    # Digits on a phone's keypad; "10.000" is read by the one rule for numbers.
    count = StringField(
        _l("Số lượng tem"),
        validators=[DataRequired(_l("Nhập số tem.")), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    pin = BooleanField(_l("In mã PIN dưới lớp cào cho mỗi tem"))
    layout = SelectField(_l("Khổ nhãn (tệp PDF)"), default=DEFAULT_LAYOUT)
    printer = SelectField(_l("Máy in (tệp PDF)"), default="")
    note = TextAreaField(
        _l("Ghi chú cho hội đồng (không bắt buộc)"), validators=[Optional(), Length(max=MAX_NOTE)]
    )


class RejectForm(ConfirmedForm):
    reason = TextAreaField(
        _l("Lý do từ chối (nhà sản xuất sẽ đọc)"),
        validators=[DataRequired(_l("Cần ghi lý do từ chối.")), Length(max=MAX_NOTE)],
    )


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _maximum() -> int:
    return _settings().max_batch


def _outputs() -> Path:
    return _settings().instance / "outputs"


OUTPUT_NAMES = {
    ".csv": _l("Ký tem và ghi tệp CSV"),
    ".pdf": _l("Trang nhãn PDF"),
    ".zip": _l("Ảnh PNG (ZIP)"),
}
REFRESH_SECONDS = 5


def _request_or_404(session: Session, request_id: int) -> StampRequest:
    found = session.get(StampRequest, request_id)
    if found is None:
        abort(404)
    ensure_own(found.organisation_id)
    return found


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
    form.printer.choices = _printer_choices()
    problem = None
    if request.method == "GET" and request.args.get("lot"):
        lot = lot_or_404(session, request.args["lot"])
        form.lot.data = lot.code
        problem = _said(lot_problem(session, lot, today))
    if form.validate_on_submit():
        lot = lot_or_404(session, form.lot.data)
        try:
            with write_transaction() as writer:
                made, created = submit_request(
                    writer,
                    writer.get_one(Lot, lot.id),
                    who,
                    count=form.count.data,
                    pin=bool(form.pin.data),
                    layout=_layout_name(form.layout.data, form.printer.data),
                    note=form.note.data,
                    nonce=form.nonce.data,
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
            rule_error(form, InvalidInput(error, field) if field else error)
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
        _approved, queued = approve_request(
            database(),
            settings.keystore(),
            found.id,
            actor=who,
            queue=job_queue(),
            chunk_size=settings.job_chunk,
        )
    except DomainError as error:
        message = say(error)
        if isinstance(error, IssuanceFailed):
            message = _("Không cấp được tem: %(why)s", why=message)
        return _detail(_reread(found), error=message), 409
    if queued:
        flash(_("Đã duyệt. Tem đang được ký và ghi tệp; trang này cho biết tiến độ."))
    else:
        flash(
            _(
                "Đã duyệt. Yêu cầu đang chờ trong hàng đợi (hàng đợi tạm thời không liên lạc "
                "được); việc ký tem sẽ tự bắt đầu khi hàng đợi hoạt động lại, không mất gì."
            )
        )
    return redirect(url_for("console.stamp_request", request_id=found.id))


@bp.route("/stamp-requests/<int:request_id>/reject", methods=["GET", "POST"])
@requires("stamp_requests.decide")
def stamp_request_reject(request_id: int) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    ensure_governs(found.organisation)
    form = RejectForm()
    consequences = reject_consequences(found)

    def page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return confirm_page(
            consequences, form, error=error, status=status,
            action=url_for("console.stamp_request_reject", request_id=found.id),
            cancel=url_for("console.stamp_request", request_id=found.id),
            subject=_(
                "%(org)s xin %(n)s tem cho lô %(lot)s",
                org=found.organisation.name, n=found.count, lot=found.lot.code,
            ),
        )  # fmt: skip

    if found.status is not RequestStatus.PENDING:
        # Decided meanwhile: nothing to confirm any more; the request's page says how.
        if request.method == "GET":
            return redirect(url_for("console.stamp_request", request_id=found.id))
        conflict = RequestConflict(
            "stamp request %(request)s is already %(status)s; only a pending request can be "
            "decided",
            request=found.id,
            status=found.status,
        )
        return _detail(found, error=say(conflict)), 409
    answer = until_confirmed(consequences, form, page)
    if answer is not None:
        return answer
    try:
        with write_transaction() as writer:
            decided = reject_request(writer, found.id, reason=form.reason.data, actor=who.email)
            detail = {"reason": form.reason.data}
            audit.record(writer, who, "stamp_request.reject", audit_target(decided), detail)
    except RequestConflict as error:
        return _detail(_reread(found), error=say(error)), 409
    except DomainError as error:
        rule_error(form, error)
        return page(status=400)
    flash(_("Đã từ chối yêu cầu tem."))
    return redirect(url_for("console.stamp_request", request_id=found.id))


@bp.post("/stamp-requests/<int:request_id>/abandon")
@requires("stamp_requests.abandon")
def stamp_request_abandon(request_id: int) -> Response | tuple[str, int]:
    who = actor()
    found = _request_or_404(request_session(), request_id)
    if who.is_authority:  # a producer reaches only its own requests (ensure_own)
        ensure_governs(found.organisation)
    try:
        with write_transaction() as writer:
            closed = abandon_request(writer, found.id, actor=who.email)
            audit.record(writer, who, "stamp_request.abandon", audit_target(closed))
    except RequestConflict as error:
        return _detail(_reread(found), error=say(error)), 409
    flash(_("Đã hủy việc ký tem. Lô tem này không bao giờ hợp lệ; có thể gửi yêu cầu mới."))
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
        ready = prepare_download(
            database(),
            job_queue(),
            found.id,
            kind,
            outputs=_outputs(),
            actor=who.email,
            chunk_size=settings.job_chunk,
        )
    except DomainError as error:
        return _detail(found, error=say(error)), 409
    if ready.path is None:
        # Not written yet, or found missing or damaged and being written again.
        notice = _("Tệp %(kind)s đang được chuẩn bị; trang này tự tải lại khi xong.",
                   kind=kind.value.lstrip(".").upper())
        return _detail(_reread(found), notice=notice), 202
    batch_id = found.batch_id
    with write_transaction() as writer:
        audit.record(
            writer,
            who,
            "stamp_outputs.download",
            audit_target(found),
            {"kind": kind.value.lstrip("."), "batch": batch_id},
        )
    # Streamed from the file (send_file), never read into memory: it can be gigabytes.
    response = send_file(
        ready.path,
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
    found: StampRequest,
    *,
    error: str | None = None,
    notice: str | None = None,
) -> str:
    who = actor()
    session = request_session()
    today = vietnam_today()
    pending = found.status == "pending"
    problem = _said(lot_problem(session, found.lot, today)) if pending else None
    jobs = [(job, Progress.of(job)) for job in request_jobs(session, found.id)]
    working = any(job.active for job, _progress in jobs)
    return render_template(
        "console/stamp_requests_detail.html",
        r=found,
        error=error,
        notice=notice,
        problem=problem,
        jobs=jobs,
        names=OUTPUT_NAMES,
        refresh=REFRESH_SECONDS if working else None,
        layout_label=_layout_label(found.layout),
        # What an officer weighs before signing; a producer knows its own lot.
        facts=approval_facts(session, found, today) if who.is_authority else None,
        unit_labels=UNIT_LABELS,
        duration=_duration,
    )


def _layout_name(layout: str | None, printer: str | None) -> str:
    return f"{layout}@{printer}" if printer else (layout or "")


def _said(error: DomainError | None) -> str | None:
    return say(error) if error is not None else None


def _duration(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)s giây", n=seconds)
    minutes = -(-seconds // 60)
    if minutes < 60:
        return _("%(n)s phút", n=minutes)
    return _("%(h)s giờ %(m)s phút", h=minutes // 60, m=minutes % 60)


def _reread(found: StampRequest) -> StampRequest:
    """The request as it is now, after writes made in other sessions."""
    session = request_session()
    session.rollback()  # ends the read snapshot and expires what it loaded
    return _request_or_404(session, found.id)
