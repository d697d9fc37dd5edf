"""Scan analytics for producers and authorities: where and how often stamps are scanned.

A producer sees the stamps of its own organisation's lots and products; an
authority sees everything, or one producer's. The page and its CSV take the same
filters from the query string; the counting is in :mod:`ocop.stamps.analytics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField
from wtforms.widgets import DateInput, NumberInput

from ocop.stamps.analytics import (
    EARLIEST_DAY,
    LATEST_DAY,
    LONGEST_PERIOD,
    BatchInfo,
    Dashboard,
    Period,
    Scope,
    batches_in,
    dashboard,
    scans_since,
)
from ocop.stamps.models import StampBatch
from ocop.stamps.token import UINT32_MAX
from ocop.trace.db import VIETNAM, vietnam_today
from ocop.trace.errors import NotFound
from ocop.trace.models import PRODUCER_KINDS, Lot, Organisation, Product, Recall
from ocop.trace.queries import find_lot, find_organisation, find_product
from ocop.workflows.access import Actor
from ocop.workflows.errors import InvalidInput
from ocop.workflows.exports import request_export
from ocop.workflows.jobs import send

from .. import charts
from ..database import database, job_queue, request_session, write_transaction
from ..messages import say
from . import bp
from .access import actor, ensure_own, requires
from .forms import Form

T = TypeVar("T")

DEFAULT_DAYS = 30
TOP = 15  # products and batches drawn in a bar chart; the tables list them all
CODE_LENGTH = 40  # product and lot codes are str40 in the records


class FilterForm(Form):
    """The page's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET form: it changes nothing, and its address can be shared

    start = StringField(_l("Từ ngày"), widget=DateInput())
    end = StringField(_l("Đến ngày"), widget=DateInput())
    producer = SelectField(_l("Cơ sở sản xuất"), validate_choice=False)
    product = SelectField(_l("Sản phẩm"), validate_choice=False)
    lot = StringField(_l("Mã lô hàng"))
    batch = StringField(_l("Số lô tem"), widget=NumberInput(min=1))


@dataclass(frozen=True, slots=True)
class Filters:
    period: Period
    scope: Scope
    lot: Lot | None


@bp.get("/analytics")
@requires("analytics.view")
def analytics() -> tuple[str, int]:
    session, who = request_session(), actor()
    form = _form(session, who)
    try:
        filters = _filters(session, who, form)
    except InvalidInput as error:
        _attach(form, error)
        return render_template("console/analytics_dashboard.html", form=form, page=None), 400
    # Show the period in force, the default one included.
    form.start.data, form.end.data = (
        filters.period.start.isoformat(),
        filters.period.end.isoformat(),
    )
    settings = current_app.config["OCOP"]
    threshold = settings.device_threshold
    board = dashboard(
        session, filters.scope, filters.period, rule=settings.copy_rule, top=TOP
    )
    page = {
        "dashboard": board,
        "threshold": threshold,
        "charts": _charts(board),
        "recall": _recall(session, filters),
        "csv_url": url_for(
            "console.analytics_csv",
            **{k: v for k, v in request.args.items() if k in FilterForm.__dict__},
        ),
        "history": "console.stamp_history" in current_app.view_functions,
    }
    return render_template("console/analytics_dashboard.html", form=form, page=page), 200


@bp.get("/analytics.csv")
@requires("analytics.view")
def analytics_csv() -> Response | tuple[str, int]:
    """Ask a worker for the export (it can be a year of every producer's scans), then
    follow its progress on the job's page, which links to the file once written."""
    session, who = request_session(), actor()
    try:
        filters = _filters(session, who, FilterForm(formdata=request.args))
    except InvalidInput as error:
        title = _("Bộ lọc không hợp lệ")
        return render_template("error.html", status=400, title=title, detail=say(error)), 400
    with write_transaction() as writer:
        job = request_export(
            writer,
            filters.scope,
            filters.period,
            organisation_id=who.organisation_id,
            created_by=who.email,
        )
        job_id = job.id
    send(database(), job_queue(), [job_id])
    return redirect(url_for("console.job", job_id=job_id), 303)


def _form(session: Session, who: Actor) -> FilterForm:
    """The filter form with the choices this actor may pick from."""
    form = FilterForm(formdata=request.args)
    products = select(Product.code, Product.name).order_by(Product.name)
    if who.is_authority:
        producers = session.execute(
            select(Organisation.tax_code, Organisation.name)
            .where(Organisation.kind.in_(PRODUCER_KINDS))
            .order_by(Organisation.name)
        )
        form.producer.choices = [("", _("Tất cả")), *((code, name) for code, name in producers)]
        if form.producer.data:
            products = products.join(Organisation, Product.producer_id == Organisation.id).where(
                Organisation.tax_code == form.producer.data
            )
    else:
        del form.producer  # not a choice a producer has
        products = products.where(Product.producer_id == who.organisation_id)
    choices = [(code, name) for code, name in session.execute(products)]
    form.product.choices = [("", _("Tất cả")), *choices]
    return form


def _filters(session: Session, who: Actor, form: FilterForm) -> Filters:
    """What the query string asks for; a malformed value is an InvalidInput (400), and
    a code or number of a record this actor may not see is a 404, as if unknown."""
    period = _period(form)
    organisation = None if who.is_authority else who.organisation_id
    # Only an authority picks a producer; anyone else's scope is their own, whatever they ask.
    if who.is_authority and form.producer.data:
        organisation = _found(find_organisation, session, form.producer.data).id
    product_id = lot = batch_id = None
    if form.product.data:
        product = _found(find_product, session, _code(form.product.data, "product"))
        ensure_own(product.producer_id)
        product_id = product.id
    if form.lot.data:
        lot = _found(find_lot, session, _code(form.lot.data, "lot"))
        ensure_own(lot.owner_id)
    if form.batch.data:
        batch = session.get(StampBatch, _number(form.batch.data))
        if batch is None:
            abort(404)
        ensure_own(batch.lot.owner_id)
        batch_id = batch.id
    scope = Scope(
        organisation_id=organisation,
        product_id=product_id,
        lot_id=lot.id if lot else None,
        batch_id=batch_id,
    )
    return Filters(period, scope, lot)


def _period(form: FilterForm) -> Period:
    today = vietnam_today()
    end = _date(form.end.data, "end") or today
    start = _date(form.start.data, "start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise InvalidInput("The end date must be after the start date.", field="end")
    if (end - start).days >= LONGEST_PERIOD:
        raise InvalidInput(
            "Choose at most %(days)s days.", field="start", days=LONGEST_PERIOD
        )
    return Period(start, end)


def _date(raw: str | None, field: str) -> dt.date | None:
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "Invalid date: write it as year-month-day, e.g. 2026-11-29.", field=field
        ) from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            "Choose a day from %(first)s to %(last)s.",
            field=field,
            first=EARLIEST_DAY.isoformat(),
            last=LATEST_DAY.isoformat(),
        )
    return day


def _code(raw: str, field: str) -> str:
    if len(raw) > CODE_LENGTH:
        raise InvalidInput(
            "Codes are at most %(most)s characters long.", field=field, most=CODE_LENGTH
        )
    return raw


def _number(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= UINT32_MAX:
        raise InvalidInput("The stamp batch number must be a positive whole number.", field="batch")
    return int(raw)


def _found(find: Callable[[Session, str], T], session: Session, key: str) -> T:
    try:
        return find(session, key)
    except NotFound:
        abort(404)


def _attach(form: FilterForm, error: InvalidInput) -> None:
    field = form._fields.get(error.field or "")
    if field is None:
        form.form_errors.append(say(error))
    else:
        field.errors = [*field.errors, say(error)]  # type: ignore[assignment]


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m")


def _batch_label(info: BatchInfo) -> str:
    return _("Lô tem %(n)s · %(lot)s", n=info.id, lot=info.lot_code)


def _charts(board: Dashboard) -> dict[str, Markup]:
    first, repeat = _("Quét lần đầu"), _("Quét lại")
    days = [_day(day) for day, _counts in board.days]
    products = board.products[:TOP]
    batches = board.batches[:TOP]
    return {
        "days": charts.column_chart(
            days,
            [
                charts.Series(first, [c.first for _day, c in board.days]),
                charts.Series(repeat, [c.repeat for _day, c in board.days]),
            ],
            title=_("Lượt quét mỗi ngày"),
            empty=_("Chưa có lượt quét nào trong khoảng thời gian này."),
            chart_id="chart-days",
        ),
        "products": charts.bar_chart(
            [p.name or p.code or "?" for p in products],
            [
                charts.Series(first, [p.counts.first for p in products]),
                charts.Series(repeat, [p.counts.repeat for p in products]),
            ],
            title=_("Lượt quét theo sản phẩm"),
            empty=_("Chưa có lượt quét nào."),
            chart_id="chart-products",
        ),
        "batches": charts.bar_chart(
            [_batch_label(info) for info, _counts in batches],
            [
                charts.Series(first, [c.first for _info, c in batches]),
                charts.Series(repeat, [c.repeat for _info, c in batches]),
            ],
            title=_("Lượt quét theo lô tem"),
            empty=_("Chưa có lượt quét nào."),
            chart_id="chart-batches",
        ),
    }


def _recall(session: Session, filters: Filters) -> dict[str, object] | None:
    """For a recalled lot: its notice, and how many of its stamps were scanned since."""
    lot = filters.lot
    recall: Recall | None = lot.active_recall if lot else None
    if lot is None or recall is None:
        return None
    batches = batches_in(session, Scope(lot_id=lot.id))
    days = scans_since(session, set(batches), recall.recalled_at, vietnam_today())
    return {
        "lot": lot,
        "notice": recall.notice,
        "at": recall.recalled_at.astimezone(VIETNAM),
        "days": [(day, n) for day, n in days if n],
        "total": sum(n for _day, n in days),
        "chart": charts.line_chart(
            [_day(day) for day, _n in days],
            [n for _day, n in days],
            title=_("Lượt quét tem của lô từ khi thu hồi"),
            label=_("Lượt quét"),
            empty=_("Chưa có lượt quét nào từ khi thu hồi."),
            chart_id="chart-recall",
        ),
    }
