"""Receiving stock: a distributor checks a delivery's stamps, then records the receipt.

Works without JavaScript: codes are pasted or typed (a scanner gun types one
per line) or read by the server from uploaded photos. With JavaScript and a
camera, ``receiving.js`` scans continuously and fills the same form. The
record step verifies every code again: the verdicts shown on the page are
never trusted back from the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ocop.stamps.errors import UnreadableImage
from ocop.trace.db import utcnow
from ocop.trace.errors import TraceError
from ocop.trace.models import Organisation
from ocop.workflows import audit
from ocop.workflows.delivery_seal import check_seal, seal_codes
from ocop.workflows.errors import (
    NothingToReceive,
    PhotoTooLarge,
    ReceiptConflict,
    ReceivingRefused,
)
from ocop.workflows.receiving import (
    DUPLICATE,
    MAX_PHOTO_PIXELS,
    MAX_REFERENCE_LENGTH,
    MAX_REQUEST_PIXELS,
    NOT_A_STAMP,
    CodeKind,
    DeliveryCheck,
    check_delivery,
    check_pixel_budget,
    codes_in_photo,
    photo_size,
    record_receipt,
)

from .. import texts
from ..api import MAX_BULK, MAX_CODE_LENGTH
from ..database import write_transaction
from ..messages import say
from ..site import CSP
from ..verifying import verifier
from . import bp, csrf
from .access import actor, requires
from .forms import Form, OnceForm

MAX_PHOTOS = 20
# Phone photos are large; the app's 2 MiB limit is meant for forms.
MAX_UPLOAD = 8 * 1024 * 1024

STATUS_LABELS = {
    "genuine": _l("Chính hãng"),
    "suspect": _l("Nghi sao chép"),
    "recalled": _l("Lô đã bị thu hồi"),
    "revoked": _l("Tem đã bị vô hiệu"),
    "invalid": _l("Không hợp lệ"),
}
REASONS = {
    **texts.REASONS,
    NOT_A_STAMP: _l("Không phải tem OCOP."),
    DUPLICATE: _l(
        "Cùng một tem xuất hiện hai lần trong lần giao này. Nếu máy quét đọc trùng, xoá "
        "một dòng rồi kiểm tra lại; nếu là hai gói hàng khác nhau thì một gói mang tem sao chép."
    ),
}
KINDS = {
    CodeKind.BARCODE: _l("Mã vạch sản phẩm (EAN/GTIN), không phải tem OCOP"),
    CodeKind.LINK: _l("Đường dẫn tới trang khác, không phải tem OCOP"),
}


class CheckForm(Form):
    codes = TextAreaField(
        _l("Mã tem: dán, gõ hoặc dùng máy quét, mỗi dòng một mã (đường dẫn hoặc mã)"),
        validators=[Optional()],
        render_kw={"rows": 8, "autocomplete": "off", "spellcheck": "false"},
    )
    photos = MultipleFileField(
        _l("Hoặc ảnh chụp tem (tối đa %(n)s ảnh)", n=MAX_PHOTOS),
        render_kw={"accept": "image/*"},
    )


class RecordForm(OnceForm):
    reference = StringField(
        _l("Số phiếu giao hàng (không bắt buộc)"),
        validators=[Optional(), Length(max=MAX_REFERENCE_LENGTH)],
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """A code to check and where it came from, for the page."""

    code: str
    origin: str


def _with_scanner(body: str, status: int = 200) -> Response:
    """The page plus what the camera scanner needs: its script, fetch and the camera."""
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = f"{CSP}; script-src 'self'; connect-src 'self'"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return response


def _form_context() -> dict[str, object]:
    return {"labels": STATUS_LABELS, "max_codes": MAX_BULK, "max_mb": MAX_UPLOAD // 2**20}


def _index(form: CheckForm, status: int = 200, notices: list[str] | None = None) -> Response:
    page = render_template(
        "console/receiving_index.html", form=form, notices=notices or [], **_form_context()
    )
    return _with_scanner(page, status)


@bp.get("/receiving")
@requires("receiving.use")
def receiving() -> Response:
    return _index(CheckForm(formdata=None))


@bp.post("/receiving/check")
@requires("receiving.use")
def receiving_check() -> Response:
    # The limit must be raised before anything reads the body, so this view is
    # exempt from the app-wide CSRF hook and runs the same check itself below.
    request.max_content_length = MAX_UPLOAD
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        form = CheckForm(formdata=None)
        form.form_errors.append(
            _(
                "Dữ liệu gửi lên quá lớn: ảnh tổng cộng tối đa %(n)s MB, mã tối đa %(k)s dòng.",
                n=MAX_UPLOAD // 2**20,
                k=MAX_BULK,
            )
        )
        return _index(form, 413)
    form = CheckForm()
    if not form.validate():
        return _index(form, 400)
    entries, notices, error = _entries(form)
    if error is None and not entries:
        error = _("Chưa có mã nào để kiểm tra: dán mã vào ô, hoặc gửi ảnh chụp tem.")
    if error is not None:
        form.form_errors.append(error)
        return _index(form, 400, notices)
    delivery = check_delivery(verifier(), [e.code for e in entries], now=utcnow())
    return _check_page(entries, delivery, RecordForm(formdata=None), notices)


def _seal_key() -> bytes:
    return current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else b""


def _entries(form: CheckForm) -> tuple[list[Entry], list[str], str | None]:
    """The codes typed and those read from photos, notices about the photos, and an
    error that refuses the whole submission."""
    entries = [
        Entry(line.strip(), _("dòng %(n)s", n=number))
        for number, line in enumerate((form.codes.data or "").splitlines(), 1)
        if line.strip()
    ]
    photos = [p for p in request.files.getlist(form.photos.name) if p.filename]
    if len(photos) > MAX_PHOTOS:
        return [], [], _("Tối đa %(n)s ảnh mỗi lần, không phải %(k)s.", n=MAX_PHOTOS, k=len(photos))
    notices = []
    uploads = [(_photo_name(photo), photo.read()) for photo in photos]
    try:  # every header first: nothing is decoded unless the whole lot fits the budget
        check_pixel_budget([photo_size(data, name) for name, data in uploads])
    except PhotoTooLarge:
        return [], [], _(
            "Ảnh quá lớn: mỗi ảnh tối đa %(one)s megapixel và tất cả ảnh cộng lại tối đa "
            "%(all)s megapixel. Chụp gần tem hơn hoặc gửi ít ảnh hơn.",
            one=MAX_PHOTO_PIXELS // 1_000_000,
            all=MAX_REQUEST_PIXELS // 1_000_000,
        )
    except UnreadableImage as refused:
        return [], [], _("Không đọc được ảnh: %(e)s", e=say(refused))
    for name, data in uploads:
        try:
            codes = codes_in_photo(data, name)
        except UnreadableImage as refused:
            return [], [], _("Không đọc được ảnh: %(e)s", e=say(refused))
        if not codes:
            notices.append(_("Không tìm thấy mã nào trong ảnh %(name)s.", name=name))
        # One line a code, as if typed: the record form carries them back that way.
        entries += [Entry(" ".join(code.split()), _("ảnh %(name)s", name=name)) for code in codes]
    return entries, notices, _limits([e.code for e in entries])


def _photo_name(photo: FileStorage) -> str:
    name = (photo.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:80] or "?"


def _limits(codes: list[str]) -> str | None:
    if len(codes) > MAX_BULK:
        return _(
            "Tối đa %(n)s mã mỗi lần kiểm tra, không phải %(k)s; chia lô hàng thành nhiều lần.",
            n=MAX_BULK,
            k=len(codes),
        )
    for position, code in enumerate(codes, 1):
        if len(code) > MAX_CODE_LENGTH:
            return _(
                "Mã thứ %(n)s dài hơn %(k)s ký tự, không phải mã tem.",
                n=position,
                k=MAX_CODE_LENGTH,
            )
    return None


def _check_page(
    entries: list[Entry],
    delivery: DeliveryCheck,
    record: RecordForm,
    notices: list[str] | None = None,
    status: int = 200,
) -> Response:
    page = render_template(
        "console/receiving_check.html",
        rows=list(zip(entries, delivery.codes, strict=True)),
        delivery=delivery,
        record=record,
        seal=seal_codes(
            [c.code for c in delivery.codes],
            organisation_id=actor().organisation_id,
            key=_seal_key(),
        ),
        notices=notices or [],
        form=CheckForm(formdata=None, codes="\n".join(e.code for e in entries)),
        reasons=REASONS,
        kinds=KINDS,
        **_form_context(),
    )
    return _with_scanner(page, status)


@bp.post("/receiving/record")
@requires("receiving.use")
def receiving_record() -> Response:
    codes = [code.strip() for code in request.form.getlist("code") if code.strip()]
    problem = _limits(codes) if codes else _("Không có mã nào: hãy kiểm tra lô hàng trước.")
    if problem is not None:
        form = CheckForm(formdata=None)
        form.form_errors.append(problem)
        return _index(form, 400)
    try:
        # Only the codes the check verified, all of them: dropping a lot's failing
        # codes between the two steps would let that lot pass.
        check_seal(
            codes,
            request.form.get("seal"),
            organisation_id=actor().organisation_id,
            key=_seal_key(),
        )
    except ReceivingRefused:
        form = CheckForm(formdata=None, codes="\n".join(codes))
        form.form_errors.append(
            _("Danh sách mã đã thay đổi sau lần kiểm tra. Xin kiểm tra lại lô hàng rồi ghi nhận.")
        )
        return _index(form, 400)
    entries = [Entry(code, _("mã %(n)s", n=n)) for n, code in enumerate(codes, 1)]
    # Verified again here: a verdict may have changed since (a recall, a void).
    delivery = check_delivery(verifier(), codes, now=utcnow())
    form = RecordForm()
    chosen = set(request.form.getlist("lot"))
    if form.validate() and not chosen:
        form.form_errors.append(_("Chọn ít nhất một lô hàng để ghi nhận."))
    if form.errors or form.form_errors:
        return _check_page(entries, delivery, form, status=400)
    return _record(entries, delivery, form, chosen)


def _record(
    entries: list[Entry], delivery: DeliveryCheck, form: RecordForm, chosen: set[str]
) -> Response:
    who = actor()
    status, failure = 400, None
    with write_transaction() as writer:
        organisation = writer.get_one(Organisation, who.organisation_id)
        try:
            receipt = record_receipt(
                writer,
                delivery,
                organisation=organisation.tax_code,
                key=form.nonce.data,
                reference=form.reference.data,
                now=utcnow(),
                only=chosen,
            )
        except NothingToReceive:
            failure = _("Không lô nào được chọn đạt kiểm tra, nên không ghi nhận gì.")
        except ReceiptConflict:
            status = 409
            failure = _(
                "Biểu mẫu này đã được gửi với những lô khác. Xin kiểm tra lại lô hàng rồi ghi nhận."
            )
        except ReceivingRefused as refused:
            failure = say(refused)
        except TraceError as refused:  # another write met this one; trying again settles it
            status, failure = 409, say(refused)
        else:
            if not receipt.replayed:
                audit.record(
                    writer,
                    who,
                    "receiving.record",
                    receipt.event_id,
                    {
                        "lots": list(receipt.lots),
                        "codes": sum(
                            len(lot.codes) for lot in delivery.lots if lot.lot in receipt.lots
                        ),
                        "reference": form.reference.data or None,
                        "refused": [lot.lot for lot in delivery.refused_lots],
                    },
                )
    if failure is not None:
        form.form_errors.append(failure)
        return _check_page(entries, delivery, form, status=status)
    received = [lot for lot in delivery.lots if lot.lot in receipt.lots]
    page = render_template(
        "console/receiving_recorded.html",
        receipt=receipt,
        received=received,
        refused=delivery.refused_lots,
        skipped=[lot for lot in delivery.passed_lots if lot.lot not in receipt.lots],
        reference=form.reference.data,
        labels=STATUS_LABELS,
    )
    return make_response(page, 200)


csrf.exempt(receiving_check)
