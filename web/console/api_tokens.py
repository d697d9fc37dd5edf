"""API tokens in the console: list, create (shown once), revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ocop.trace.db import utcnow
from ocop.trace.models import Organisation
from ocop.workflows import audit
from ocop.workflows.api_tokens import MAX_NAME, create_token, revoke_token, tokens_of
from ocop.workflows.errors import InvalidInput
from ocop.workflows.models import ApiToken

from ..database import request_session, write_transaction
from . import bp
from .access import actor, ensure_own, requires
from .forms import Form, rule_error


class TokenForm(Form):
    name = StringField(
        _l("Tên (hệ thống sẽ dùng khóa này)"),
        validators=[DataRequired(), Length(max=MAX_NAME)],
    )


def _page(form: TokenForm, status: int = 200) -> tuple[str, int]:
    tokens = tokens_of(request_session(), actor().organisation_id)
    return render_template("console/api_tokens_index.html", form=form, tokens=tokens), status


@bp.get("/api-tokens")
@requires("api_tokens.manage")
def api_tokens() -> tuple[str, int]:
    return _page(TokenForm())


@bp.post("/api-tokens")
@requires("api_tokens.manage")
def api_tokens_create() -> tuple[str, int]:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    who = actor()
    error = None
    with write_transaction() as writer:
        organisation = writer.get_one(Organisation, who.organisation_id)
        try:
            token, text = create_token(writer, organisation, form.name.data, created_by=who.email)
        except InvalidInput as caught:
            error = caught
        else:
            audit.record(
                writer,
                who,
                "api_token.create",
                f"{token.name} ({token.prefix}…)",
                {"id": token.id, "name": token.name, "prefix": token.prefix},
            )
            name, prefix = token.name, token.prefix
    if error is not None:
        rule_error(form, error)
        return _page(form, 400)
    page = render_template("console/api_tokens_created.html", name=name, prefix=prefix, text=text)
    return page, 200


@bp.post("/api-tokens/<int:token_id>/revoke")
@requires("api_tokens.manage")
def api_tokens_revoke(token_id: int) -> Response:
    who = actor()
    with write_transaction() as writer:
        token = writer.get(ApiToken, token_id)
        if token is None:
            abort(404)
        ensure_own(token.organisation_id)
        if revoke_token(writer, token, by=who.email, now=utcnow()):
            audit.record(
                writer,
                who,
                "api_token.revoke",
                f"{token.name} ({token.prefix}…)",
                {"id": token.id, "name": token.name, "prefix": token.prefix},
            )
            message = _("Đã thu hồi khóa API %(name)s.", name=token.name)
        else:
            message = _("Khóa API %(name)s đã bị thu hồi từ trước.", name=token.name)
    flash(message)
    return redirect(url_for("console.api_tokens"))
