"""Farms, raw-material areas, plants and warehouses: list, create, edit.

A facility is created and changed by importing a one-record document
(docs/import-format.md), so every rule about facilities is the importer's:
the console only decides whose facility it is and reports the importer's word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

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
from ocop.trace.importer import import_records
from ocop.trace.importer.vocabulary import FORMAT
from ocop.trace.models import Facility, FacilityKind, Organisation
from ocop.workflows import audit
from ocop.workflows.access import Actor
from ocop.workflows.errors import InvalidInput

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

# What the importer lets change on a stored facility (a GLN only while it is empty).
EDITABLE = (
    "name", "gln", "planting_area_code", "crop", "area_ha", "latitude", "longitude", "address",
)  # fmt: skip


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


class FacilityCodeTaken(InvalidInput):
    """A new facility's code is already someone's: creating must never update."""


# --------------------------------------------------------------------------- rules


def facilities_of(session: Session, organisation_id: int | None) -> Sequence[Facility]:
    """The facilities of one organisation, or of all when ``organisation_id`` is None."""
    query = select(Facility).order_by(Facility.code)
    if organisation_id is not None:
        query = query.where(Facility.organisation_id == organisation_id)
    return session.scalars(query).all()


def create_facility(
    session: Session, who: Actor, organisation: Organisation, values: Mapping[str, str | None]
) -> None:
    """Record a new facility of ``organisation`` through the importer, audited."""
    code = values.get("code") or ""
    if session.scalar(select(Facility.id).where(Facility.code == code)) is not None:
        raise FacilityCodeTaken(_("Mã %(code)s đã được dùng; chọn mã khác.", code=code), "code")
    import_records(session, _document(organisation.tax_code, values))
    audit.record(
        session, who, "facility.create", code, {"kind": values.get("kind"), "name": values["name"]}
    )


def update_facility(
    session: Session, who: Actor, facility: Facility, values: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Change what the importer lets change; the changed fields (new values), audited."""
    for name in EDITABLE:
        if not values.get(name) and getattr(facility, name) is not None:
            # The importer never erases a stored value; say so rather than seem to.
            raise InvalidInput(_("Không xóa được giá trị đã lưu; hãy nhập giá trị mới."), name)
    before = shown_values(facility)
    record = {"code": facility.code, "kind": facility.kind.value, **values}
    import_records(session, _document(facility.organisation.tax_code, record))
    changes = {k: v for k, v in shown_values(facility).items() if v != before[k]}
    if changes:
        audit.record(session, who, "facility.update", facility.code, {"changed": changes})
    return changes


def shown_values(facility: Facility) -> dict[str, str | None]:
    """The editable fields as a form shows them (12.5, not 12.5000)."""
    return {name: _shown(getattr(facility, name)) for name in EDITABLE}


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _document(tax_code: str, values: Mapping[str, str | None]) -> dict[str, object]:
    # Left-out fields keep what is stored; empty ones are left out.
    record = {k: v for k, v in values.items() if v} | {"organisation": tax_code}
    return {"format": FORMAT, "facilities": [record]}


def _form_values(form: Form, names: Sequence[str]) -> dict[str, str | None]:
    return {name: form[name].data or None for name in names}


# --------------------------------------------------------------------------- views


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
        values = _form_values(form, ("code", "kind", *EDITABLE))
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
    form = FacilityForm(data=shown_values(item)) if actor().may("records.edit") else None
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
            changes = update_facility(writer, who, stored, _form_values(form, EDITABLE))
    except DomainError as error:
        rule_error(form, error)
        return _detail(item, form, 409 if isinstance(error, ConflictingRecord) else 400)
    flash(_("Đã lưu thay đổi.") if changes else _("Không có gì thay đổi."))
    return redirect(url_for("console.facility", code=code))


from . import events  # noqa: E402, F401  (views.py imports a fixed list; events register here)
