"""Products: a producer proposes its own, an authority registers and approves them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ocop.trace.db import vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import PRODUCER_KINDS, Organisation, Product
from ocop.trace.queries import certificates_of, valid_ocop_certificate
from ocop.workflows import audit, records
from ocop.workflows.access import Actor

from ..database import request_session, write_transaction
from ..guards import LARGEST_ID
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .forms import Form, rule_error

EDITABLE = (
    "name", "short_name", "description", "gtin", "sector", "group", "product_set",
    "taxonomy_basis",
)  # fmt: skip


class ProductForm(Form):
    name = StringField(_l("Tên sản phẩm"), validators=[DataRequired()])
    short_name = StringField(_l("Tên ngắn in trên tem (tối đa 60 ký tự)"))
    description = TextAreaField(_l("Mô tả"))
    gtin = StringField(_l("Mã vạch GTIN (8, 12, 13 hoặc 14 chữ số; của Việt Nam bắt đầu bằng 893)"))
    sector = StringField(_l("Ngành"))
    group = StringField(_l("Nhóm"))
    product_set = StringField(_l("Bộ sản phẩm"))
    taxonomy_basis = StringField(_l("Phân loại theo quyết định (ví dụ 148/QĐ-TTg)"))


class NewProductForm(ProductForm):
    code = StringField(_l("Mã sản phẩm (không có dấu cách)"), validators=[DataRequired()])
    # The ids are checked in the view (404 for one that does not exist).
    producer = SelectField(
        _l("Nhà sản xuất"),
        coerce=records.optional_int,
        validate_choice=False,
        validators=[DataRequired()],
    )


@bp.get("/products")
@requires("products.view")
def products() -> str:
    who = actor()
    state = request.args.get("state") or None
    if state not in (None, "pending", "approved"):
        abort(400)
    query = select(Product).order_by(Product.approved, Product.name, Product.id)
    if not who.is_authority:
        query = query.where(Product.producer_id == who.organisation_id)
    if state is not None:
        query = query.where(Product.approved.is_(state == "approved"))
    session = request_session()
    page = records.page_of(session, query, request.args.get("page", 1, type=int))
    today = vietnam_today()
    certs = {p.id: valid_ocop_certificate(session, p, today) for p in page.items}
    return render_template("console/products_list.html", page=page, state=state, certs=certs)


@bp.route("/products/new", methods=["GET", "POST"])
@requires("products.edit")
def product_new() -> Response | tuple[str, int]:
    who = actor()
    form = NewProductForm()
    if who.is_authority:
        form.producer.choices = [
            SelectChoice("", "—"),
            *(SelectChoice(str(o.id), o.name) for o in _producers()),
        ]
    else:
        del form.producer  # a producer proposes for its own organisation only
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        producer = _producer(who, form)
        try:
            with write_transaction() as writer:
                saved = records.create_product(writer, who, producer, _record(form, code=True))
                if saved.created:
                    audit.record(
                        writer, who,
                        "product.registered" if saved.record.approved else "product.proposed",
                        f"product {saved.record.code}", {"producer": producer.tax_code},
                    )  # fmt: skip
                code = saved.record.code
        except DomainError as error:
            rule_error(form, error)
            status = records.status_of(error)
        else:
            if not saved.created:
                flash(_("Sản phẩm này đã được ghi trước đó; không có gì thay đổi."))
            elif who.is_authority:
                flash(_("Đã ghi sản phẩm."))
            else:
                flash(_("Đã gửi đề xuất sản phẩm; sản phẩm chờ cơ quan quản lý duyệt."))
            return redirect(url_for("console.product", code=code))
    return render_template("console/products_new.html", form=form), status


@bp.get("/products/<path:code>")
@requires("products.view")
def product(code: str) -> str:
    found = _product(code)
    return _detail(found, ProductForm(obj=found))


@bp.post("/products/<path:code>")
@requires("products.edit")  # the producer for its own, an authority for any (ensure_own)
def product_update(code: str) -> Response | tuple[str, int]:
    found = _product(code)
    if actor().is_authority:
        ensure_governs(found.producer)
    form = ProductForm()
    if not form.validate():
        return _detail(found, form), 400
    try:
        with write_transaction() as writer:
            who = actor()
            summary = records.update_product(
                writer, found, _record(form), by_authority=who.is_authority
            )
            if summary.changed_anything:
                audit.record(
                    writer, actor(), "product.updated", f"product {found.code}",
                    records.changes(summary),
                )  # fmt: skip
    except DomainError as error:
        rule_error(form, error)
        return _detail(found, form), records.status_of(error)
    flash(_("Đã lưu.") if summary.changed_anything else _("Không có gì thay đổi."))
    return redirect(url_for("console.product", code=found.code))


@bp.post("/products/<path:code>/approve")
@requires("products.approve")
def product_approve(code: str) -> Response:
    found = _product(code)
    ensure_governs(found.producer)
    with write_transaction() as writer:
        row = writer.get(Product, found.id)
        assert row is not None
        approved = records.approve_product(writer, row)
        if approved:
            audit.record(writer, actor(), "product.approved", f"product {found.code}")
    flash(_("Đã duyệt sản phẩm.") if approved else _("Sản phẩm này đã được duyệt trước đó."))
    return redirect(url_for("console.product", code=found.code))


def _product(code: str) -> Product:
    found = request_session().scalars(select(Product).where(Product.code == code)).one_or_none()
    if found is None:
        abort(404)
    ensure_own(found.producer_id)
    return found


def _producers() -> list[Organisation]:
    return list(
        request_session().scalars(
            select(Organisation)
            .where(Organisation.kind.in_(PRODUCER_KINDS))
            .order_by(Organisation.name, Organisation.id)
        )
    )


def _producer(who: Actor, form: NewProductForm) -> Organisation:
    """The producer the product is for: the actor's own, or the one an authority chose."""
    org_id = form.producer.data if who.is_authority else who.organisation_id
    known = org_id is not None and 0 < org_id <= LARGEST_ID
    org = request_session().get(Organisation, org_id) if known else None
    if org is None:
        abort(404)
    ensure_own(org.id)
    if who.is_authority:
        ensure_governs(org)
    return org


def _detail(
    found: Product, form: ProductForm, *, trademark_form: Form | None = None,
    standard_form: Form | None = None, photo_form: Form | None = None,
) -> str:
    from .marks import StandardForm, TrademarkForm
    from .photos import PhotoForm

    session = request_session()
    today = vietnam_today()
    return render_template(
        "console/products_detail.html",
        product=found,
        form=form,
        trademark_form=trademark_form or TrademarkForm(formdata=None),
        standard_form=standard_form or StandardForm(formdata=None),
        photo_form=photo_form or PhotoForm(formdata=None),
        ocop=valid_ocop_certificate(session, found, today),
        certs=certificates_of(session, found),
        today=today,
    )


def _record(form: ProductForm, *, code: bool = False) -> dict[str, Any]:
    record = {name: form[name].data for name in EDITABLE}
    if code:
        record["code"] = form["code"].data
    return record
