"""Lots: the list, a new lot, the lot page (its tree, journey and stamp batches),
and the authority's two brakes: recalling a lot and voiding a batch of stamps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from ocop.stamps.errors import StampError
from ocop.stamps.issuance import batches_of_lot, void_batch
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.token import UINT32_MAX
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.errors import ConflictingRecord, DomainError
from ocop.trace.genealogy import (
    LotInput,
    LotTree,
    journey,
    one_step_back,
    one_step_forward,
    upstream_tree,
)
from ocop.trace.importer.vocabulary import UNITS
from ocop.trace.lots import NewLot, add_lot, recall_lot
from ocop.trace.models import Facility, Lot, Organisation, Product
from ocop.trace.queries import list_lots, valid_ocop_certificate
from ocop.workflows import audit
from ocop.workflows.confirmations import recall_consequences, void_consequences

from ..database import request_session, write_transaction
from ..messages import say
from ..presenters import event_json
from . import bp
from .access import actor, ensure_governs, ensure_own, requires
from .confirm import ConfirmedForm, confirm_page, until_confirmed
from .forms import Form, rule_error
from .lookups import lot_or_404

PAGE = 100
MAX_PAGE = 10_000
MAX_NOTICE = 2000
MAX_REASON = 500

UNIT_LABELS = {
    "kg": _l("kg"),
    "g": _l("gam"),
    "t": _l("tấn"),
    "l": _l("lít"),
    "ml": _l("ml"),
    "piece": _l("cái, chiếc"),
    "box": _l("hộp"),
    "bag": _l("túi, bao"),
    "pack": _l("gói"),
}

BATCH_STATUS = {
    "issuing": _l("đang phát hành"),
    "issued": _l("đã phát hành"),
    "failed": _l("phát hành lỗi, không dùng được"),
    "voided": _l("đã hủy"),
}


class LotForm(Form):
    code = StringField(
        _l("Mã lô (in trên bao bì và tem)"), validators=[DataRequired(_l("Xin nhập mã lô."))]
    )
    # The choices list the organisation's own records only; refusing anyone
    # else's is add_lot's rule, so the select does not check choices again.
    product = SelectField(_l("Sản phẩm"), validate_choice=False)
    item = StringField(_l("Nguyên liệu (chỉ với lô nguyên liệu, ví dụ: Gạo nếp cái hoa vàng)"))
    facility = SelectField(_l("Nơi sản xuất hoặc thu hoạch"), validate_choice=False)
    produced_on = StringField(_l("Ngày sản xuất"), widget=DateInput())
    best_before = StringField(_l("Hạn sử dụng"), widget=DateInput())
    # Text, not type=number: a number box sends "1.5" whatever the page's language,
    # and the one rule for numbers (trace/numbers.py) reads "1,5" and "1.200".
    quantity = StringField(_l("Số lượng"), render_kw={"inputmode": "decimal"})
    unit = SelectField(_l("Đơn vị"), validate_choice=False)

    def new_lot(self) -> NewLot:
        return NewLot(
            code=self.code.data,
            product=self.product.data or None,
            item=self.item.data or None,
            facility=self.facility.data or None,
            produced_on=self.produced_on.data or None,
            best_before=self.best_before.data or None,
            quantity=self.quantity.data or None,
            unit=self.unit.data or None,
        )


class RecallForm(ConfirmedForm):
    notice = TextAreaField(
        _l("Thông báo thu hồi: người mua cần làm gì với sản phẩm"),
        validators=[
            DataRequired(_l("Xin ghi thông báo cho người mua.")),
            Length(max=MAX_NOTICE, message=_l("Thông báo dài quá %(max)d ký tự.")),
        ],
    )


class VoidForm(ConfirmedForm):
    reason = StringField(
        _l("Lý do hủy"),
        validators=[
            DataRequired(_l("Xin ghi lý do hủy: trang kiểm tra tem sẽ hiện lý do này.")),
            Length(max=MAX_REASON, message=_l("Lý do dài quá %(max)d ký tự.")),
        ],
    )


# --------------------------------------------------------------------------- queries


def issued_stamps(session: Session, lot_codes: Iterable[str]) -> dict[str, int]:
    """Stamps of issued (not voided) batches, by lot code."""
    codes = list(lot_codes)
    if not codes:
        return {}
    rows = session.execute(
        select(Lot.code, func.sum(StampBatch.count))
        .select_from(StampBatch)
        .join(Lot, Lot.id == StampBatch.lot_id)
        .where(Lot.code.in_(codes), StampBatch.status == BatchStatus.ISSUED)
        .group_by(Lot.code)
    )
    return {code: int(total) for code, total in rows}


def lot_owners(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every organisation that owns a lot: the authority's filter."""
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(select(Lot.owner_id)))
        .order_by(Organisation.name)
    )
    return [(org_id, name) for org_id, name in rows]


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One lot of the upstream tree, as a nested list shows it."""

    node: LotTree
    via: LotInput | None  # how it went into the lot one level up
    depth: int
    opens: bool  # begins a nested list under the row before
    closes: int  # nested lists to close before this row
    repeated: bool  # its inputs are listed higher up, not again


def tree_rows(tree: LotTree) -> tuple[list[TreeRow], int]:
    """The tree depth first, and how many nested lists the last row leaves open.

    No recursion, here or in the template: a genealogy may be a thousand lots deep.
    A lot reached twice (a diamond) lists its inputs only the first time.
    """
    rows: list[TreeRow] = []
    seen: set[int] = set()
    stack: list[tuple[LotTree, LotInput | None, int]] = [(tree, None, 0)]
    previous = 0
    while stack:
        node, via, depth = stack.pop()
        again = node.lot.id in seen
        rows.append(
            TreeRow(
                node,
                via,
                depth,
                depth > previous,
                max(previous - depth, 0),
                again and bool(node.inputs),
            )
        )
        previous = depth
        if again:
            continue
        seen.add(node.lot.id)
        stack.extend((link.tree, link, depth + 1) for link in reversed(node.inputs))
    return rows, previous


def _organisation_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
    )
    return {org_id: name for org_id, name in rows}


def _own_choices(
    session: Session, model: type[Product] | type[Facility], column: Any, org_id: int
) -> list[tuple[str, str]]:
    rows = session.execute(
        select(model.code, model.name).where(column == org_id).order_by(model.name)
    )
    return [(code, f"{name} ({code})") for code, name in rows]


# --------------------------------------------------------------------------- views


@bp.get("/lots")
@requires("records.view")
def lots() -> str:
    who, session = actor(), request_session()
    owners = lot_owners(session) if who.is_authority else []
    owner: int | None = who.organisation_id
    if who.is_authority:
        wanted = request.args.get("owner", type=int)
        owner = wanted if wanted in {org_id for org_id, _name in owners} else None
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    found = list_lots(
        session, vietnam_today(), owner_id=owner, limit=PAGE + 1, offset=(page - 1) * PAGE
    )
    shown = found[:PAGE]
    return render_template(
        "console/lots_list.html",
        lots=shown,
        counts=issued_stamps(session, (lot.code for lot in shown)),
        owners=owners,
        owner=owner,
        page=page,
        more=len(found) > PAGE,
    )


@bp.route("/lots/new", methods=["GET", "POST"])
@requires("records.edit")
def lots_new() -> Response | tuple[str, int]:
    who, session = actor(), request_session()
    form = LotForm()
    blank = [("", "—")]
    form.product.choices = [
        ("", _("— Lô nguyên liệu, không phải sản phẩm —")),
        *_own_choices(session, Product, Product.producer_id, who.organisation_id),
    ]
    form.facility.choices = [
        *blank,
        *_own_choices(session, Facility, Facility.organisation_id, who.organisation_id),
    ]
    form.unit.choices = [*blank, *((unit, str(UNIT_LABELS.get(unit, unit))) for unit in UNITS)]
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        new = form.new_lot()
        try:
            with write_transaction() as writer:
                owner = writer.get_one(Organisation, who.organisation_id)
                lot = add_lot(writer, owner, new)
                code = lot.code
                audit.record(writer, who, "lot.created", code, new.record(owner.tax_code))
        except DomainError as error:
            rule_error(form, error)
            status = 409 if isinstance(error, ConflictingRecord) else 400
        else:
            flash(_("Đã thêm lô %(code)s.", code=code))
            return redirect(url_for("console.lot_page", code=code))
    return render_template("console/lots_new.html", form=form), status


# Lot codes may hold a slash ("01/2025"): the path converter keeps it.
@bp.get("/lots/<path:code>")
@requires("records.view")
def lot_page(code: str) -> tuple[str, int]:
    session = request_session()
    return _lot_page(session, lot_or_404(session, code))


def _lot_page(
    session: Session,
    lot: Lot,
    *,
    status: int = 200,
) -> tuple[str, int]:
    who, today = actor(), vietnam_today()
    certificate = valid_ocop_certificate(session, lot.product, today) if lot.product else None
    rows, still_open = tree_rows(upstream_tree(session, lot))
    recalls = list(reversed(lot.recalls))  # newest first: the one the stamps show
    views = current_app.view_functions
    request_url = None
    if (
        "console.stamp_requests_new" in views
        and who.may("stamp_requests.submit")
        and certificate is not None
        and not recalls
    ):
        request_url = url_for("console.stamp_requests_new", lot=lot.code)
    analytics_url = None
    if recalls and "console.analytics" in views and who.may("analytics.view"):
        analytics_url = url_for("console.analytics", lot=lot.code)
    page = render_template(
        "console/lots_page.html",
        lot=lot,
        certificate=certificate,
        rows=rows,
        still_open=still_open,
        back=one_step_back(session, lot),
        forward=one_step_forward(session, lot),
        journey=[event_json(event) for event in journey(session, lot)],
        batches=sorted(batches_of_lot(session, lot), key=lambda b: b.id),
        batch_status=BATCH_STATUS,
        unit_labels=UNIT_LABELS,
        recalls=recalls,
        recalled_by=_organisation_names(session, (r.recalled_by_id for r in recalls)),
        request_url=request_url,
        analytics_url=analytics_url,
    )
    return page, status


@bp.route("/lots/<path:code>/recall", methods=["GET", "POST"])
@requires("lots.recall")
def lot_recall(code: str) -> Response | tuple[str, int]:
    session = request_session()
    lot = lot_or_404(session, code)
    ensure_governs(lot.owner)
    form = RecallForm()
    consequences = recall_consequences(session, lot)

    def page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return confirm_page(
            consequences, form, error=error, status=status,
            action=url_for("console.lot_recall", code=lot.code),
            cancel=url_for("console.lot_page", code=lot.code),
            subject=f"{lot.code} · {lot.description} · {lot.owner.name}",
        )  # fmt: skip

    answer = until_confirmed(consequences, form, page)
    if answer is not None:
        return answer
    who = actor()
    try:
        with write_transaction() as writer:
            recall = recall_lot(
                writer,
                writer.get_one(Lot, lot.id),
                form.notice.data,
                by=writer.get_one(Organisation, who.organisation_id),
                at=utcnow(),
            )
            audit.record(
                writer,
                who,
                "lot.recalled",
                lot.code,
                {"recall": recall.id, "notice": recall.notice, "stamps": consequences.stamps},
            )
    except DomainError as error:
        rule_error(form, error)
        return page(status=409 if isinstance(error, ConflictingRecord) else 400)
    flash(_("Đã thu hồi lô %(code)s: mọi tem của lô hiện thông báo này.", code=lot.code))
    return redirect(url_for("console.lot_page", code=lot.code))


@bp.route(f"/batches/<int(min=1, max={UINT32_MAX}):batch_id>/void", methods=["GET", "POST"])
@requires("batches.void")
def batch_void(batch_id: int) -> Response | tuple[str, int]:
    session = request_session()
    batch = session.get(StampBatch, batch_id)
    if batch is None:
        abort(404)
    ensure_own(batch.lot.owner_id)
    ensure_governs(batch.lot.owner)
    form = VoidForm()
    consequences = void_consequences(session, batch)

    def page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return confirm_page(
            consequences, form, error=error, status=status,
            action=url_for("console.batch_void", batch_id=batch_id),
            cancel=url_for("console.lot_page", code=batch.lot.code),
            subject=_(
                "Lô tem số %(n)s của lô %(lot)s · %(count)s tem",
                n=batch_id, lot=batch.lot.code, count=batch.count,
            ),
        )  # fmt: skip

    answer = until_confirmed(consequences, form, page)
    if answer is not None:
        return answer
    who = actor()
    try:
        with write_transaction() as writer:
            void_batch(writer, batch_id, reason=form.reason.data, now=utcnow())
            audit.record(
                writer,
                who,
                "batch.voided",
                f"batch {batch_id}",
                {"lot": batch.lot.code, "reason": form.reason.data},
            )
    except StampError as error:
        # The batch exists and the reason is given: a refusal now means the
        # batch is already void, a conflict with its state.
        return page(say(error), 409)
    flash(_("Đã hủy lô tem %(n)s: tem của lô này không còn hợp lệ.", n=batch_id))
    return redirect(url_for("console.lot_page", code=batch.lot.code))
