"""Trademarks and standards of a product, on its console page (Circular 02/2024 fields 8, 10)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ocop.trace.errors import DomainError
from ocop.trace.models import StandardKind
from ocop.workflows import audit, marks, records

from ..database import write_transaction
from . import bp
from .access import actor, requires
from .forms import Form, rule_error
from .products import ProductForm, _detail, _product


class TrademarkForm(Form):
    mark = StringField(_l("Nhãn hiệu (chữ hoặc tên của nhãn)"), validators=[DataRequired()])
    number = StringField(_l("Số giấy chứng nhận đăng ký nhãn hiệu"), validators=[DataRequired()])
    owner = StringField(_l("Chủ sở hữu nhãn hiệu"), validators=[DataRequired()])
    filed_on = DateField(_l("Ngày nộp đơn"), validators=[Optional()])
    granted_on = DateField(_l("Ngày cấp"), validators=[Optional()])
    classes = StringField(_l("Nhóm sản phẩm, dịch vụ (bảng phân loại Nice, ví dụ 29, 30)"))
    office = StringField(_l("Cơ quan cấp (để trống: Cục Sở hữu trí tuệ)"))


STANDARD_KINDS = {
    StandardKind.TCVN: "TCVN",
    StandardKind.QCVN: "QCVN",
    StandardKind.TCCS: "TCCS",
    StandardKind.ISO: "ISO",
    StandardKind.CODEX: "Codex",
    StandardKind.OTHER: _l("Khác"),
}


class StandardForm(Form):
    kind = SelectField(
        _l("Loại tiêu chuẩn"),
        choices=[SelectChoice(k.value, label) for k, label in STANDARD_KINDS.items()],
    )
    code = StringField(_l("Số hiệu (ví dụ QCVN 8-2:2011/BYT)"), validators=[DataRequired()])
    title = StringField(_l("Tên tiêu chuẩn"))


@bp.post("/products/<path:code>/trademarks")
@requires("products.edit")
def trademark_add(code: str) -> Response | tuple[str, int]:
    found = _product(code)
    form = TrademarkForm()
    if not form.validate():
        return _detail(found, ProductForm(obj=found), trademark_form=form), 400
    record = {name: form[name].data for name in form._fields if name != "csrf_token"}
    for day in ("filed_on", "granted_on"):
        record[day] = record[day].isoformat() if record[day] else None
    try:
        with write_transaction() as writer:
            marks.add_trademark(writer, found, record)
            audit.record(
                writer, actor(), "product.trademark_added", f"product {found.code}",
                {"number": form.number.data},
            )  # fmt: skip
    except DomainError as error:
        rule_error(form, error)
        return _detail(found, ProductForm(obj=found), trademark_form=form), records.status_of(
            error
        )
    flash(_("Đã ghi nhãn hiệu."))
    return redirect(url_for("console.product", code=found.code))


@bp.post("/products/<path:code>/standards")
@requires("products.edit")
def standard_add(code: str) -> Response | tuple[str, int]:
    found = _product(code)
    form = StandardForm()
    if not form.validate():
        return _detail(found, ProductForm(obj=found), standard_form=form), 400
    record = {"kind": form.kind.data, "code": form.code.data, "title": form.title.data}
    try:
        with write_transaction() as writer:
            marks.add_standard(writer, found, record)
            audit.record(
                writer, actor(), "product.standard_added", f"product {found.code}",
                {"code": form.code.data},
            )  # fmt: skip
    except DomainError as error:
        rule_error(form, error)
        return _detail(found, ProductForm(obj=found), standard_form=form), records.status_of(
            error
        )
    flash(_("Đã ghi tiêu chuẩn áp dụng."))
    return redirect(url_for("console.product", code=found.code))
