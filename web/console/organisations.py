"""Organisations: the authority registers them and keeps their contacts and address history."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ocop.trace.db import vietnam_today
from ocop.trace.errors import DomainError
from ocop.trace.models import Organisation, OrgKind, Product
from ocop.workflows import audit, records
from ocop.workflows.models import User

from .. import texts
from ..database import request_session, write_transaction
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .forms import Form, rule_error

CONTACT = ("kind", "tax_code", "name", "short_name", "phone", "email", "website")
ADDRESS = ("street", "commune", "district", "province", "effective_from")


class OrganisationForm(Form):
    """What may be sent for an existing organisation; the importer decides what may change."""

    kind = SelectField(
        _l("Loại tổ chức"), choices=[SelectChoice(k, v) for k, v in texts.ORG_KINDS.items()]
    )
    name = StringField(_l("Tên đầy đủ"), validators=[DataRequired()])
    short_name = StringField(_l("Tên viết tắt"))
    phone = StringField(_l("Điện thoại"))
    email = EmailField(_l("Email"))
    website = StringField(_l("Trang web"))
    street = StringField(_l("Số nhà, đường, thôn"))
    commune = StringField(_l("Xã, phường"))
    district = StringField(_l("Huyện (địa chỉ trước năm 2025)"))
    province = StringField(_l("Tỉnh, thành phố"))
    effective_from = DateField(_l("Địa chỉ có hiệu lực từ ngày"), validators=[Optional()])


class NewOrganisationForm(OrganisationForm):
    tax_code = StringField(_l("Mã số thuế (mã quan hệ ngân sách với cơ quan nhà nước)"),
                           validators=[DataRequired()])  # fmt: skip
    # A registered organisation has an address from the start.
    province = StringField(_l("Tỉnh, thành phố"), validators=[DataRequired()])
    effective_from = DateField(
        _l("Địa chỉ có hiệu lực từ ngày"), validators=[DataRequired()], default=vietnam_today
    )


@bp.get("/organisations")
@requires("organisations.view")
def organisations() -> str:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in {k.value for k in OrgKind}:
        abort(400)
    products = (
        select(Product.producer_id, func.count().label("n"))
        .group_by(Product.producer_id)
        .subquery()
    )
    query = (
        select(Organisation, func.coalesce(products.c.n, 0))
        .outerjoin(products, products.c.producer_id == Organisation.id)
        .options(selectinload(Organisation.addresses))
        .order_by(Organisation.name, Organisation.id)
    )
    if kind is not None:
        query = query.where(Organisation.kind == OrgKind(kind))
    page = records.page_of(request_session(), query, request.args.get("page", 1, type=int))
    return render_template(
        "console/organisations_list.html",
        page=page,
        kind=kind,
        today=vietnam_today(),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@requires("organisations.manage")
def organisation_new() -> Response | tuple[str, int]:
    form = NewOrganisationForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            with write_transaction() as writer:
                # What an officer registers is governed by the officer's council.
                council = writer.get_one(Organisation, actor().organisation_id)
                record = {**_record(form), "council": council.tax_code}
                saved = records.register_organisation(writer, record)
                if saved.created:
                    audit.record(
                        writer, actor(), "organisation.registered",
                        f"organisation {saved.record.tax_code}",
                        {"kind": saved.record.kind.value, "name": saved.record.name},
                    )  # fmt: skip
                org_id = saved.record.id
        except DomainError as error:
            rule_error(form, error)
            status = records.status_of(error)
        else:
            if saved.created:
                flash(_("Đã đăng ký tổ chức."))
            else:
                flash(_("Tổ chức này đã được đăng ký trước đó; không có gì thay đổi."))
            return redirect(url_for("console.organisation", org_id=org_id))
    return render_template("console/organisations_new.html", form=form), status


@bp.get("/organisations/<int:org_id>")
@requires("organisations.view")
def organisation(org_id: int) -> str:
    org = _organisation(org_id)
    return _detail(org, OrganisationForm(obj=org))


@bp.post("/organisations/<int:org_id>")
@requires("organisations.manage")
def organisation_update(org_id: int) -> Response | tuple[str, int]:
    org = _organisation(org_id)
    ensure_governs(org)  # another province's contacts are its council's to change
    form = OrganisationForm()
    if not form.validate():
        return _detail(org, form), 400
    try:
        with write_transaction() as writer:
            summary = records.update_organisation(writer, org, _record(form))
            if summary.changed_anything:
                audit.record(
                    writer, actor(), "organisation.updated", f"organisation {org.tax_code}",
                    records.changes(summary),
                )  # fmt: skip
    except DomainError as error:
        rule_error(form, error)
        return _detail(org, form), records.status_of(error)
    flash(_("Đã lưu.") if summary.changed_anything else _("Không có gì thay đổi."))
    return redirect(url_for("console.organisation", org_id=org.id))


def _organisation(org_id: int) -> Organisation:
    org = request_session().get(Organisation, org_id)
    if org is None:
        abort(404)
    ensure_own(org.id)
    return org


def _detail(org: Organisation, form: OrganisationForm) -> str:
    session = request_session()
    products = session.scalars(
        select(Product).where(Product.producer_id == org.id).order_by(Product.name)
    ).all()
    users = session.scalar(
        select(func.count()).select_from(User).where(User.organisation_id == org.id)
    )
    return render_template(
        "console/organisations_detail.html",
        org=org,
        form=form,
        products=products,
        users=users or 0,
        today=vietnam_today(),
    )


def _record(form: OrganisationForm) -> dict[str, Any]:
    """The form as an import record: an address only when one was typed in."""
    record: dict[str, Any] = {name: form[name].data for name in CONTACT if name in form}
    address = {name: form[name].data for name in ADDRESS}
    if any(address.values()):
        day = address["effective_from"]
        address["effective_from"] = day.isoformat() if day else None
        record["addresses"] = [address]
    return record
