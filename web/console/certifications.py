"""Certifications: the authority records OCOP and other certificates, and revokes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ocop.trace.db import vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import Certification, Facility, Organisation, Product, Scheme
from ocop.workflows import audit, records

from .. import texts
from ..database import request_session, write_transaction
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .forms import Form, rule_error

FIELDS = (
    "scheme", "number", "product", "facility", "stars", "score", "level", "issuing_body",
    "decision_number", "decision_date", "legal_basis", "valid_from", "valid_until",
)  # fmt: skip


class CertificateForm(Form):
    scheme = SelectField(
        _l("Loại chứng nhận"), choices=[SelectChoice(k, v) for k, v in texts.SCHEMES.items()]
    )
    number = StringField(_l("Số giấy chứng nhận"), validators=[DataRequired()])
    product = StringField(_l("Mã sản phẩm (chứng nhận OCOP, hoặc chứng nhận khác cho sản phẩm)"))
    facility = StringField(_l("Hoặc mã cơ sở, vùng nguyên liệu (ví dụ VietGAP)"))
    # The importer says which star ratings exist: the choices only spare typing.
    stars = SelectField(
        _l("Số sao OCOP"),
        choices=[SelectChoice("", "—"), *(SelectChoice(n) for n in ("3", "4", "5"))],
        coerce=records.optional_int,
        validate_choice=False,
    )
    score = StringField(_l("Điểm (trên thang 100)"))
    level = SelectField(
        _l("Cấp chứng nhận"),
        choices=[SelectChoice("", "—"), *(SelectChoice(k, v) for k, v in texts.LEVELS.items())],
        default="",
    )
    issuing_body = StringField(_l("Cơ quan cấp"), validators=[DataRequired()])
    decision_number = StringField(_l("Số quyết định"))
    decision_date = DateField(_l("Ngày quyết định"), validators=[Optional()])
    legal_basis = StringField(_l("Căn cứ pháp lý (ví dụ 148/QĐ-TTg)"))
    valid_from = DateField(_l("Hiệu lực từ ngày"), validators=[DataRequired()])
    valid_until = DateField(_l("Hiệu lực đến ngày (để trống: 36 tháng)"), validators=[Optional()])


class RevokeForm(Form):
    status_reason = TextAreaField(_l("Lý do thu hồi (bắt buộc; ghi lại và cho người mua biết)"))


@bp.get("/certifications")
@requires("certifications.manage")
def certifications() -> str:
    scheme = request.args.get("scheme") or None
    if scheme is not None and scheme not in texts.SCHEMES:
        abort(400)
    query = (
        select(Certification)
        .options(selectinload(Certification.product), selectinload(Certification.facility))
        .order_by(Certification.id.desc())
    )
    if scheme is not None:
        query = query.where(Certification.scheme == Scheme(scheme))
    page = records.page_of(request_session(), query, request.args.get("page", 1, type=int))
    return render_template(
        "console/certifications_list.html", page=page, scheme=scheme, today=vietnam_today()
    )


@bp.route("/certifications/new", methods=["GET", "POST"])
@requires("certifications.manage")
def certification_new() -> Response | tuple[str, int]:
    form = CertificateForm(
        product=request.args.get("product"), facility=request.args.get("facility")
    )
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        holder = _holder_of(form)
        if holder is not None:
            ensure_governs(holder)
        try:
            with write_transaction() as writer:
                saved = records.record_certificate(writer, _record(form))
                cert = saved.record
                if saved.created:
                    audit.record(
                        writer, actor(), "certification.recorded",
                        f"certification {cert.scheme.value}/{cert.number}",
                        {"product": form.product.data or None,
                         "facility": form.facility.data or None, "stars": cert.stars,
                         "valid_until": cert.valid_until.isoformat()},
                    )  # fmt: skip
                cert_id = cert.id
        except DomainError as error:
            rule_error(form, error)
            status = records.status_of(error)
        else:
            if saved.created:
                flash(_("Đã ghi chứng nhận."))
            else:
                flash(_("Chứng nhận này đã được ghi trước đó; không có gì thay đổi."))
            return redirect(url_for("console.certification", cert_id=cert_id))
    return render_template("console/certifications_new.html", form=form), status


@bp.get("/certifications/<int:cert_id>")
@requires("certifications.manage")
def certification(cert_id: int) -> str:
    return _detail(_certification(cert_id), RevokeForm())


@bp.post("/certifications/<int:cert_id>/revoke")
@requires("certifications.manage")
def certification_revoke(cert_id: int) -> Response | tuple[str, int]:
    cert = _certification(cert_id)
    ensure_governs(_holder(cert))
    form = RevokeForm()
    if not form.validate():
        return _detail(cert, form), 400
    reason = form.status_reason.data or None
    try:
        with write_transaction() as writer:
            row = writer.get(Certification, cert.id)
            assert row is not None
            revoked = records.revoke_certificate(writer, row, reason)
            if revoked:
                audit.record(
                    writer, actor(), "certification.revoked",
                    f"certification {cert.scheme.value}/{cert.number}", {"reason": reason},
                )  # fmt: skip
    except DomainError as error:
        rule_error(form, error)
        return _detail(cert, form), records.status_of(error)
    flash(_("Đã thu hồi chứng nhận.") if revoked else _("Chứng nhận này đã bị thu hồi trước đó."))
    return redirect(url_for("console.certification", cert_id=cert.id))


def _certification(cert_id: int) -> Certification:
    cert = request_session().get(Certification, cert_id)
    if cert is None:
        abort(404)
    holder = _holder(cert)
    ensure_own(holder.id if holder else None)
    return cert


def _holder(cert: Certification) -> Organisation | None:
    if cert.product is not None:
        return cert.product.producer
    return cert.facility.organisation if cert.facility is not None else None


def _holder_of(form: CertificateForm) -> Organisation | None:
    """The organisation a new certificate is for; None when the form names nothing known
    (then the importer says what is wrong, and no council is exceeded)."""
    session = request_session()
    if form.product.data:
        product = session.scalars(
            select(Product).where(Product.code == form.product.data.strip())
        ).one_or_none()
        if product is not None:
            return product.producer
    if form.facility.data:
        facility = session.scalars(
            select(Facility).where(Facility.code == form.facility.data.strip())
        ).one_or_none()
        if facility is not None:
            return facility.organisation
    return None


def _detail(cert: Certification, form: RevokeForm) -> str:
    return render_template(
        "console/certifications_detail.html", cert=cert, form=form, today=vietnam_today()
    )


def _record(form: CertificateForm) -> dict[str, Any]:
    record = {name: form[name].data for name in FIELDS}
    for name, value in record.items():
        if isinstance(value, dt.date):
            record[name] = value.isoformat()
    return record
