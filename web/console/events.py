"""Events in forms and from a CSV file, and the list of an organisation's events.

Both ways build an import document (docs/import-format.md) and hand it to
:func:`ocop.workflows.events.record_events`: every rule about events is the
importer's, plus the console's own (an organisation records events only about
its own lots, at its own facilities), which is the workflow's.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import DateField, FieldList, FormField, SelectField, StringField, TimeField
from wtforms import Form as SubForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Regexp

from ocop.trace import event_csv
from ocop.trace.db import VIETNAM, utcnow
from ocop.trace.epcis import local_event_time
from ocop.trace.errors import ConflictingRecord, DomainError, InvalidRecord
from ocop.trace.importer.vocabulary import FORMAT, UNITS
from ocop.trace.models import Event, Facility, FacilityKind, Lot, Organisation
from ocop.workflows.access import Actor
from ocop.workflows.events import SECTIONS, record_events

from .. import texts
from ..database import request_session, write_transaction
from ..guards import query_id
from ..messages import say
from . import bp
from .access import actor, requires
from .forms import Form, OnceForm, strip

STEP_LABELS = {**texts.BIZ_STEPS, "planting": _l("Gieo trồng")}
# The steps a cooperative records by hand (CBV words, and ours for the farm).
OBJECT_STEPS = (
    "planting", "harvesting", "inspecting", "packing", "shipping", "receiving", "commissioning",
)  # fmt: skip
ACTIONS = {"ADD": _l("Bắt đầu theo dõi lô (ADD)"), "OBSERVE": _l("Ghi nhận lô đã có (OBSERVE)")}
DISPOSITIONS = {
    "": "—",
    "active": _l("Đang dùng (active)"),
    "in_transit": _l("Đang vận chuyển (in_transit)"),
    "sellable_accessible": _l("Bày bán (sellable_accessible)"),
    "sellable_not_accessible": _l("Trong kho, chưa bày bán (sellable_not_accessible)"),
    "non_conformant": _l("Không đạt (non_conformant)"),
}
DOCUMENT_TYPES = {
    "": "—",
    "desadv": _l("Phiếu xuất kho, giao hàng (desadv)"),
    "inv": _l("Hóa đơn (inv)"),
    "po": _l("Đơn đặt hàng (po)"),
    "recadv": _l("Biên bản nhận hàng (recadv)"),
    "cert": _l("Giấy chứng nhận, phiếu kiểm nghiệm (cert)"),
}
PAGE = 100

# A form's event id is derived from its nonce: submitting the same form twice
# names the same event, which the importer then finds unchanged.
_FORM_NAMESPACE = uuid.UUID("cd1ab6ef-bb9f-4afa-8809-983f8e803f54")
_EVENT_PATH = re.compile(r"^\$\.events\[(\d+)\]\.([a-z_]+)(?:\[(\d+)\](?:\.([a-z_]+))?)?")


# --------------------------------------------------------------------------- forms


class LineForm(SubForm):
    """One lot of an event: which lot, how much."""

    lot = StringField(_l("Mã lô"), filters=[strip])
    quantity = StringField(_l("Số lượng"), filters=[strip])
    unit = SelectField(
        _l("Đơn vị"),
        choices=[SelectChoice("", "—"), *(SelectChoice(u) for u in UNITS)],
        default="",  # rows the browser did not send are empty rows, not bad choices
    )


def _choices(labels: Mapping[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _lines(label: Any, rows: int) -> FieldList:
    return FieldList(FormField(LineForm), label=label, min_entries=rows, max_entries=50)


class EventForm(OnceForm):
    # InputRequired, not DataRequired: that one would hide "Not a valid date value".
    day = DateField(_l("Ngày"), validators=[InputRequired()])
    clock = TimeField(_l("Giờ"), validators=[InputRequired()])
    offset = StringField(
        _l("Múi giờ (giờ Việt Nam: +07:00)"),
        default="+07:00",
        validators=[Regexp(r"^[+-]\d{2}:\d{2}$", message=_l("Viết múi giờ dạng +07:00"))],
    )
    facility = SelectField(_l("Nơi diễn ra"), validate_choice=False)


class ObjectEventForm(EventForm):
    biz_step = SelectField(
        _l("Công đoạn"), choices=[SelectChoice(s, STEP_LABELS[s]) for s in OBJECT_STEPS]
    )
    action = SelectField(_l("Loại ghi nhận"), choices=_choices(ACTIONS))
    disposition = SelectField(_l("Tình trạng sau công đoạn"), choices=_choices(DISPOSITIONS))
    document_type = SelectField(_l("Chứng từ kèm theo"), choices=_choices(DOCUMENT_TYPES))
    document_id = StringField(_l("Số chứng từ"))
    lots = _lines(_l("Các lô"), 5)


class TransformationForm(EventForm):
    inputs = _lines(_l("Nguyên liệu đưa vào"), 8)
    outputs = _lines(_l("Thành phẩm làm ra"), 3)


class UploadForm(Form):
    file = FileField(_l("Tệp CSV"), validators=[FileRequired(_l("Chọn một tệp CSV để tải lên."))])


FORMS: dict[str, type[EventForm]] = {
    "object": ObjectEventForm,
    "transformation": TransformationForm,
}


# --------------------------------------------------------------------------- rules


def form_event_document(form: EventForm, organisation: Organisation) -> dict[str, Any]:
    """The import document of an event form; the event id comes from the form's nonce."""
    name = f"{organisation.id}:{form.nonce.data}"
    event: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid5(_FORM_NAMESPACE, name)}",
        "time": f"{form.day.data.isoformat()}T{form.clock.data:%H:%M:%S}{form.offset.data}",
        "organisation": organisation.tax_code,
    }
    if form.facility.data:
        event["facility"] = form.facility.data
    if isinstance(form, ObjectEventForm):
        event |= {"type": "ObjectEvent", "action": form.action.data, "biz_step": form.biz_step.data}
        if form.disposition.data:
            event["disposition"] = form.disposition.data
        if form.document_type.data or form.document_id.data:
            document = {"type": form.document_type.data, "id": form.document_id.data}
            event["documents"] = [{k: v for k, v in document.items() if v}]
    else:
        event |= {"type": "TransformationEvent", "biz_step": "transforming"}
    for section in SECTIONS:
        if section in form:
            event[section] = [_line_json(entry.form) for entry in _filled(form[section])]
    return {"format": FORMAT, "events": [event]}


def _filled(lines: FieldList) -> list[FormField]:
    return [entry for entry in lines if entry.form.lot.data or entry.form.quantity.data]


def _line_json(line: LineForm) -> dict[str, Any]:
    values = {"lot": line.lot.data, "quantity": line.quantity.data, "unit": line.unit.data}
    return {k: v for k, v in values.items() if v}


def attach_error(form: EventForm, error: DomainError) -> None:
    """Put a rule's error, in the reader's language, beside the field (or the lot row)
    its path names."""
    path = getattr(error, "path", None) or ""
    match = _EVENT_PATH.match(path)
    message = say(error.reason if isinstance(error, InvalidRecord) else error)
    target = None
    if match:
        name, index, sub = match.group(2), match.group(3), match.group(4)
        if name in SECTIONS and index is not None and name in form:
            filled = _filled(form[name])
            if int(index) < len(filled):
                target = filled[int(index)].form[sub if sub in ("quantity", "unit") else "lot"]
        elif name == "time":
            target = form.day
        elif name == "documents":
            target = form["document_type" if sub == "type" else "document_id"]
        elif name in form:
            target = form[name]
    if target is None:
        form.form_errors.append(say(error))
    else:
        target.errors = [*target.errors, message]  # type: ignore[assignment]


def _check_lines(form: EventForm) -> bool:
    """Each filled row names its lot, and the event has the rows it needs."""
    ok = True
    for section in SECTIONS:
        if section not in form:
            continue
        filled = _filled(form[section])
        for entry in filled:
            if not entry.form.lot.data:
                entry.form.lot.errors = [_("Nhập mã lô của dòng này.")]
                ok = False
        if not filled:
            form.form_errors.append(
                _("Cần ít nhất một lô: %(what)s.", what=form[section].label.text)
            )
            ok = False
    return ok


@dataclass(frozen=True, slots=True)
class Upload:
    """What an upload did: the file's events, each new or already recorded."""

    name: str
    rows: int
    events: Sequence[tuple[event_csv.EventRef, bool]]

    @property
    def created(self) -> int:
        return sum(1 for _ref, new in self.events if new)


def upload_events(session: Session, who: Actor, raw: bytes, name: str) -> Upload:
    """Import the events of a CSV file; any bad row refuses all, naming the row."""
    organisation = session.get_one(Organisation, who.organisation_id)
    parsed = event_csv.parse_events_csv(raw, organisation=organisation.tax_code, name=name)
    detail = {"file": name, "rows": parsed.rows, "bytes": len(raw)}
    try:
        created = record_events(session, who, parsed.document, "events.upload", name, detail)
    except InvalidRecord as error:
        raise parsed.locate(error) from None
    events = [(ref, ref.event_id in created) for ref in parsed.events]
    return Upload(name, parsed.rows, events)


def example_rows(session: Session, organisation_id: int) -> list[dict[str, str]]:
    """An example file made of the organisation's own codes (placeholders where it has none)."""
    places = _first_of_each_kind(session, organisation_id)
    lots = session.scalars(
        select(Lot).where(Lot.owner_id == organisation_id).order_by(Lot.id.desc())
    ).all()
    raw = [lot.code for lot in lots if lot.product_id is None] + ["LO-NGUYEN-LIEU-1", "LO-NL-2"]
    made = next((lot.code for lot in lots if lot.product_id is not None), "LO-THANH-PHAM-1")
    field_place = places.get(FacilityKind.RAW_MATERIAL_AREA) or places.get(
        FacilityKind.FARM, "MA-VUNG-TRONG"
    )
    plant = places.get(FacilityKind.PROCESSING_PLANT, "MA-XUONG")
    day = (utcnow().astimezone(VIETNAM) - dt.timedelta(days=1)).date().isoformat()
    harvest = {"event_id": "VD-THU-HOACH-1", "type": "ObjectEvent", "action": "ADD",
               "biz_step": "harvesting", "time": f"{day} 06:30", "facility": field_place,
               "disposition": "active"}  # fmt: skip
    making = {"event_id": "VD-CHE-BIEN-1", "type": "TransformationEvent",
              "biz_step": "transforming", "time": f"{day} 09:00", "facility": plant}  # fmt: skip
    shipping = {"event_id": "VD-XUAT-HANG-1", "type": "ObjectEvent", "action": "OBSERVE",
                "biz_step": "shipping", "time": f"{day} 15:00", "facility": plant,
                "disposition": "in_transit", "document_type": "desadv",
                "document_id": "PXK-VD-01"}  # fmt: skip
    more = {"event_id": "VD-CHE-BIEN-1"}  # the event's later rows repeat only its event_id
    return [
        harvest | _example_line(raw[0], "object", "100", "kg"),
        making | _example_line(raw[0], "input", "60", "kg"),
        more | _example_line(raw[1], "input", "10", "kg"),
        more | _example_line(made, "output", "200", "box"),
        shipping | _example_line(made, "object", "50", "box"),
    ]


def _example_line(lot: str, role: str, quantity: str, unit: str) -> dict[str, str]:
    return {"lot": lot, "role": role, "quantity": quantity, "unit": unit}


def _first_of_each_kind(session: Session, organisation_id: int) -> dict[FacilityKind, str]:
    found: dict[FacilityKind, str] = {}
    for facility in _own_facilities(session, organisation_id):
        found.setdefault(facility.kind, facility.code)
    return found


def _own_facilities(session: Session, organisation_id: int) -> Sequence[Facility]:
    return session.scalars(
        select(Facility).where(Facility.organisation_id == organisation_id).order_by(Facility.code)
    ).all()


def _own_lots(session: Session, organisation_id: int) -> Sequence[Lot]:
    return session.scalars(
        select(Lot).where(Lot.owner_id == organisation_id).order_by(Lot.code)
    ).all()


def _file_name(name: str | None) -> str:
    # Shown back and logged: the last part of whatever path the browser sent, short.
    base = re.split(r"[\\/]", name or "")[-1].strip()
    return base[:100] or "upload.csv"


# --------------------------------------------------------------------------- views


@bp.get("/events")
@requires("records.view")
def events() -> str:
    who, session = actor(), request_session()
    query = select(Event).order_by(Event.id.desc()).limit(PAGE)
    chosen = query_id("org") if who.is_authority else who.organisation_id
    if chosen is not None:
        query = query.where(Event.organisation_id == chosen)
    before = query_id("before")
    if before is not None:
        query = query.where(Event.id < before)
    rows = session.scalars(query).all()
    return render_template(
        "console/events_list.html",
        # The time as recorded, in its own offset (shown beside it): a wall-clock time.
        events=[(event, local_event_time(event).replace(tzinfo=None)) for event in rows],
        steps=STEP_LABELS,
        chosen=chosen,
        more=rows[-1].id if len(rows) == PAGE else None,
    )


@bp.route("/events/new", methods=["GET", "POST"])
@requires("records.edit")
def event_new() -> Response | tuple[str, int]:
    who, session = actor(), request_session()
    kind = request.args.get("kind", "object")
    if kind not in FORMS:
        kind = "object"
    now = utcnow().astimezone(VIETNAM).replace(second=0, microsecond=0)
    form = FORMS[kind](
        data={"day": now.date(), "clock": now.time()} if request.method == "GET" else None
    )
    form.facility.choices = [SelectChoice("", "—")] + [
        SelectChoice(f.code, f"{f.code} · {f.name}")
        for f in _own_facilities(session, who.organisation_id)
    ]
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit() and _check_lines(form):
            try:
                with write_transaction() as writer:
                    organisation = writer.get_one(Organisation, who.organisation_id)
                    document = form_event_document(form, organisation)
                    event = document["events"][0]
                    lots = [x["lot"] for s in SECTIONS for x in event.get(s, [])]
                    detail = {"type": event["type"], "biz_step": event["biz_step"], "lots": lots}
                    created = record_events(
                        writer, who, document, "event.create", event["id"], detail
                    )
            except DomainError as error:
                attach_error(form, error)
                if isinstance(error, ConflictingRecord):
                    status = 409
            else:
                flash(
                    _("Đã ghi sự kiện.")
                    if created
                    else _("Sự kiện này đã được ghi từ trước; không có gì mới.")
                )
                return redirect(url_for("console.events"))
    page = render_template(
        "console/events_form.html",
        form=form,
        kind=kind,
        lots=_own_lots(session, who.organisation_id),
        sections=[s for s in SECTIONS if s in form],
    )
    return page, status


@bp.route("/events/upload", methods=["GET", "POST"])
@requires("records.edit")
def events_upload() -> tuple[str, int]:
    who = actor()
    form = UploadForm()
    result, status = None, 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            name = _file_name(form.file.data.filename)
            raw = form.file.data.read()
            try:
                with write_transaction() as writer:
                    result = upload_events(writer, who, raw, name)
            except DomainError as error:
                form.file.errors = [*form.file.errors, say(error)]
                if isinstance(error, ConflictingRecord):
                    status = 409
            else:
                status = 200
    page = render_template(
        "console/events_upload.html",
        form=form,
        result=result,
        columns=event_csv.COLUMNS,
        steps=STEP_LABELS,
        max_rows=event_csv.MAX_ROWS,
    )
    return page, status


@bp.get("/events/upload/example.csv")
@requires("records.edit")
def events_example() -> Response:
    rows = example_rows(request_session(), actor().organisation_id)
    return Response(
        event_csv.write_events_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="su-kien-mau.csv"'},
    )
