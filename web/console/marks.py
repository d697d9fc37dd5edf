"""Trademarks and standards of a product, on its console page (Circular 02/2024 fields 8, 10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ocop.trace.errors import DomainError
from ocop.trace.models import Product, StandardKind
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
    form = TrademarkForm()
    record = {name: form[name].data for name in form._fields if name != "csrf_token"}
    for day in ("filed_on", "granted_on"):
        record[day] = record[day].isoformat() if record[day] else None
    return _add(
        code, form, "trademark_form", marks.add_trademark, record,
        "product.trademark_added", {"number": form.number.data}, _("Đã ghi nhãn hiệu."),
    )  # fmt: skip


@bp.post("/products/<path:code>/standards")
@requires("products.edit")
def standard_add(code: str) -> Response | tuple[str, int]:
    form = StandardForm()
    record = {"kind": form.kind.data, "code": form.code.data, "title": form.title.data}
    return _add(
        code, form, "standard_form", marks.add_standard, record,
        "product.standard_added", {"code": form.code.data}, _("Đã ghi tiêu chuẩn áp dụng."),
    )  # fmt: skip


def _add(
    code: str,
    form: Form,
    form_name: str,
    add: Callable[[Session, Product, dict[str, Any]], object],
    record: dict[str, Any],
    action: str,
    detail: dict[str, Any],
    done: str,
) -> Response | tuple[str, int]:
    """Record one trademark or standard of a product: checked, written, audited."""
    found = _product(code)
    if not form.validate():
        return _detail(found, ProductForm(obj=found), **{form_name: form}), 400
    try:
        with write_transaction() as writer:
            add(writer, found, record)
            audit.record(writer, actor(), action, f"product {found.code}", detail)
    except DomainError as error:
        rule_error(form, error)
        page = _detail(found, ProductForm(obj=found), **{form_name: form})
        return page, records.status_of(error)
    flash(done)
    return redirect(url_for("console.product", code=found.code))
