"""Activating stamps at packing, from a phone: pick a batch, give the first and last stamp.

No JavaScript: the producer types the printed serials or stamp numbers, or
pastes what a scanner app read from the QR codes. The rule is
:mod:`ocop.workflows.activation`.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ocop.stamps.errors import StampError
from ocop.trace.db import utcnow
from ocop.workflows.activation import activate_for_producer, batches_to_activate

from ..database import request_session, write_transaction
from ..messages import say
from . import bp
from .access import actor, requires
from .forms import Form


class ActivationForm(Form):
    batch = SelectField(_l("Lô tem"), validators=[DataRequired()], validate_choice=False)
    first = StringField(
        _l("Tem đầu tiên"),
        validators=[DataRequired(_l("Nhập tem đầu tiên.")), Length(max=300)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )
    last = StringField(
        _l("Tem cuối cùng"),
        validators=[DataRequired(_l("Nhập tem cuối cùng.")), Length(max=300)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )


@bp.route("/stamps/activate", methods=["GET", "POST"])
@requires("stamps.activate")
def stamps_activate() -> Response | tuple[str, int]:
    who = actor()
    batches = batches_to_activate(request_session(), who.organisation_id)
    form = ActivationForm()
    form.batch.choices = [
        (str(b.id), f"{b.id} · {b.lot_code} · {b.active_count:,}/{b.count:,}") for b in batches
    ]
    if request.method == "GET" and request.args.get("batch"):
        form.batch.data = request.args["batch"]
    status = 200
    if form.validate_on_submit():
        raw = form.batch.data or ""
        batch_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
        try:
            with write_transaction() as writer:
                row = activate_for_producer(
                    writer, who, batch_id, form.first.data, form.last.data, utcnow()
                )
                count = row.last_index - row.first_index + 1
        except StampError as error:
            form.form_errors.append(say(error))
            status = 409
        else:
            flash(_("Đã kích hoạt %(n)s tem của lô %(b)s.", n=f"{count:,}", b=batch_id))
            return redirect(url_for("console.stamps_activate", batch=batch_id))
    elif request.method == "POST":
        status = 400
    page = render_template("console/stamps_activate.html", form=form, batches=batches)
    return page, status
