"""Farms, raw-material areas, plants and warehouses: list, create, edit.

The rules are :mod:`ocop.workflows.records` (through the importer); these
views decide whose facility it is, parse, call and render.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ocop.trace.errors import ConflictingRecord, DomainError
from ocop.trace.models import Facility, FacilityKind, Organisation
from ocop.workflows.errors import FacilityCodeTaken
from ocop.workflows.records import (
    FACILITY_FIELDS,
    create_facility,
    facilities_of,
    facility_values,
    update_facility,
)

from ..database import request_session, write_transaction
from ..guards import query_id
from . import bp
from .access import actor, ensure_own, requires
from .forms import Form, rule_error

KIND_LABELS = {
    FacilityKind.FARM: _l("Trang trại, vườn"),
    FacilityKind.RAW_MATERIAL_AREA: _l("Vùng nguyên liệu"),
    FacilityKind.PROCESSING_PLANT: _l("Cơ sở chế biến"),
    FacilityKind.WAREHOUSE: _l("Kho"),
    FacilityKind.SHOP: _l("Cửa hàng"),
}


class FacilityForm(Form):
    name = StringField(_l("Tên"), validators=[DataRequired()])
    gln = StringField(_l("GLN (mã địa điểm GS1, 13 chữ số)"))
    planting_area_code = StringField(_l("Mã số vùng trồng"))
    crop = StringField(_l("Cây trồng, vật nuôi"))
    area_ha = StringField(_l("Diện tích (ha)"))
    latitude = StringField(_l("Vĩ độ (ví dụ 20.5506)"))
    longitude = StringField(_l("Kinh độ (ví dụ 106.3469)"))
    address = StringField(_l("Địa chỉ"))


class NewFacilityForm(FacilityForm):
    code = StringField(
        _l("Mã cơ sở (không dấu cách, ví dụ NX-VUNG-NEP)"), validators=[DataRequired()]
    )
    kind = SelectField(
        _l("Loại"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()]
    )


# --------------------------------------------------------------------------- views


def _form_values(form: Form, names: Sequence[str]) -> dict[str, str | None]:
    return {name: form[name].data or None for name in names}


@bp.get("/facilities")
@requires("records.view")
def facilities() -> str:
    who, session = actor(), request_session()
    organisations: Sequence[Organisation] = ()
    if who.is_authority:
        chosen = query_id("org")
        organisations = session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(select(Facility.organisation_id)))
            .order_by(Organisation.name)
        ).all()
    else:
        chosen = who.organisation_id
    return render_template(
        "console/facilities_list.html",
        facilities=facilities_of(session, chosen),
        organisations=organisations,
        chosen=chosen,
        kinds=KIND_LABELS,
    )


@bp.route("/facilities/new", methods=["GET", "POST"])
@requires("records.edit")
def facility_new() -> Response | tuple[str, int]:
    who = actor()
    form = NewFacilityForm()
    status = 200
    if form.validate_on_submit():
        values = _form_values(form, ("code", "kind", *FACILITY_FIELDS))
        try:
            with write_transaction() as writer:
                organisation = writer.get_one(Organisation, who.organisation_id)
                create_facility(writer, who, organisation, values)
        except DomainError as error:
            rule_error(form, error)
            status = 409 if isinstance(error, FacilityCodeTaken | ConflictingRecord) else 400
        else:
            flash(_("Đã thêm cơ sở %(code)s.", code=values["code"]))
            return redirect(url_for("console.facility", code=values["code"]))
    elif request.method == "POST":
        status = 400
    return render_template("console/facilities_new.html", form=form, kinds=KIND_LABELS), status


def _facility_or_404(session: Session, code: str) -> Facility:
    facility = session.scalars(select(Facility).where(Facility.code == code)).one_or_none()
    if facility is None:
        abort(404)
    ensure_own(facility.organisation_id)
    return facility


def _detail(facility: Facility, form: FacilityForm | None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "console/facilities_detail.html", facility=facility, form=form, kinds=KIND_LABELS
    )
    return page, status


@bp.get("/facilities/<code>")
@requires("records.view")
def facility(code: str) -> tuple[str, int]:
    item = _facility_or_404(request_session(), code)
    form = FacilityForm(data=facility_values(item)) if actor().may("records.edit") else None
    return _detail(item, form)


@bp.post("/facilities/<code>")
@requires("records.edit")
def facility_edit(code: str) -> Response | tuple[str, int]:
    who = actor()
    item = _facility_or_404(request_session(), code)
    form = FacilityForm()
    if not form.validate_on_submit():
        return _detail(item, form, 400)
    try:
        with write_transaction() as writer:
            stored = writer.get_one(Facility, item.id)
            changes = update_facility(writer, who, stored, _form_values(form, FACILITY_FIELDS))
    except DomainError as error:
        rule_error(form, error)
        return _detail(item, form, 409 if isinstance(error, ConflictingRecord) else 400)
    flash(_("Đã lưu thay đổi.") if changes else _("Không có gì thay đổi."))
    return redirect(url_for("console.facility", code=code))


from . import events  # noqa: E402, F401  (views.py imports a fixed list; events register here)
