"""Product photos on the console's product page: the producer uploads and deletes them.

The checks and the cleaning are :mod:`ocop.workflows.photos`; this is the edge:
the upload's size limit (raised for this view only, before the body is read),
CSRF, who may act (the product's producer, or a council that governs it), the
audit entry, and the answer in the reader's language.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ocop.trace.errors import DomainError
from ocop.trace.models import Product
from ocop.workflows import audit
from ocop.workflows.photos import MAX_PHOTO_BYTES, add_photo, discard_files, remove_photo

from ..database import write_transaction
from ..messages import say
from . import bp, csrf
from .access import actor, ensure_governs, requires
from .forms import Form
from .products import ProductForm, _detail, _product

# The body may be a little larger than the photo (the form's other fields, the
# multipart framing); a body larger than this is refused before it is read.
UPLOAD_LIMIT = MAX_PHOTO_BYTES + 64 * 1024


class PhotoForm(Form):
    photo = FileField(
        _l("Ảnh sản phẩm (JPEG, PNG hoặc WebP, tối đa 8 MB)"),
        validators=[FileRequired(_l("Chọn một ảnh để tải lên."))],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )


def _photos_folder() -> Path:
    folder: Path = current_app.config["OCOP"].photos
    return folder


def _may_change(code: str) -> Product:
    """The product, if the actor may change its photos: 404 for another producer's."""
    found = _product(code)
    if actor().is_authority:
        ensure_governs(found.producer)
    return found


@bp.post("/products/<path:code>/photos")
@requires("products.edit")
def photo_add(code: str) -> Response | tuple[str, int]:
    # Raised before anything reads the body, so this view is exempt from the
    # app-wide CSRF hook and runs the same check itself (as receiving does).
    request.max_content_length = UPLOAD_LIMIT
    found = _may_change(code)
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        form = PhotoForm(formdata=None)
        form.photo.errors = [_("Ảnh quá lớn: tối đa %(n)s MB.", n=MAX_PHOTO_BYTES // 2**20)]
        # formdata=None: the body that was refused must not be read again.
        return _detail(found, ProductForm(formdata=None, obj=found), photo_form=form), 413
    form = PhotoForm()
    if not form.validate():
        return _detail(found, ProductForm(obj=found), photo_form=form), 400
    data = form.photo.data.read()
    try:
        with write_transaction() as writer:
            product = writer.get_one(Product, found.id)
            photo, created = add_photo(writer, product, data, _photos_folder())
            if created:
                audit.record(
                    writer, actor(), "product.photo_added", f"product {found.code}",
                    {"photo": photo.digest},
                )  # fmt: skip
    except DomainError as error:
        form.photo.errors = [say(error)]
        return _detail(found, ProductForm(obj=found), photo_form=form), 400
    flash(_("Đã thêm ảnh.") if created else _("Ảnh này đã có; không có gì thay đổi."))
    return redirect(url_for("console.product", code=found.code) + "#photos")


csrf.exempt(photo_add)


@bp.post("/products/<path:code>/photos/<int:photo_id>/delete")
@requires("products.edit")
def photo_delete(code: str, photo_id: int) -> Response | tuple[str, int]:
    found = _may_change(code)
    folder = _photos_folder()
    try:
        with write_transaction() as writer:
            product = writer.get_one(Product, found.id)
            digest = remove_photo(writer, product, photo_id)
            audit.record(
                writer, actor(), "product.photo_deleted", f"product {found.code}",
                {"photo": digest},
            )  # fmt: skip
    except DomainError as error:
        form = PhotoForm(formdata=None)
        form.form_errors.append(say(error))
        return _detail(found, ProductForm(obj=found), photo_form=form), 404
    # After the commit, in a transaction of its own: a failed removal must not
    # leave a row without its files.
    with write_transaction() as writer:
        discard_files(writer, folder, digest)
    flash(_("Đã xoá ảnh."))
    return redirect(url_for("console.product", code=found.code) + "#photos")
