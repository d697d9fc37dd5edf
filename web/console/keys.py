"""The authority's issuer keys: list them, rotate their own, revoke one of their own.

The rules are :mod:`ocop.keys.registry`'s; this page only calls them. Private
keys and their passphrase stay in the keystore and never reach a page.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ocop.keys import (
    KeyNotFound,
    KeyStatus,
    NoKeyToRotate,
    create_key,
    find_key,
    list_keys,
    revoke_key,
    rotate_key,
)
from ocop.trace.errors import DomainError
from ocop.trace.models import Organisation
from ocop.workflows import audit
from ocop.workflows.confirmations import revoke_consequences

from ..database import request_session, write_transaction
from ..messages import say
from . import bp
from .access import actor, requires
from .confirm import ConfirmedForm, confirm_page, until_confirmed

MAX_REASON = 500  # the registry's own limit


class RevokeForm(ConfirmedForm):
    reason = TextAreaField(
        _l("Lý do thu hồi (trang kiểm tra tem sẽ ghi nhận)"),
        validators=[DataRequired(_l("Cần ghi lý do thu hồi.")), Length(max=MAX_REASON)],
    )


@bp.get("/keys")
@requires("keys.manage")
def keys() -> str:
    return _page()


@bp.post("/keys/rotate")
@requires("keys.manage")
def keys_rotate() -> Response | tuple[str, int]:
    who = actor()
    try:
        keystore = current_app.config["OCOP"].keystore()
        with write_transaction() as writer:
            org = writer.get_one(Organisation, who.organisation_id)
            retiring = [
                k.kid
                for k in list_keys(writer)
                if k.organisation_id == org.id and k.status is KeyStatus.ACTIVE
            ]
            try:
                key = rotate_key(writer, keystore, org, actor=who.email)
                action = "key.rotate"
            except NoKeyToRotate:
                # Every key of this authority is retired or revoked: start a fresh one.
                key = create_key(writer, keystore, org, actor=who.email)
                action = "key.create"
            retired = retiring[0] if retiring else None
            audit.record(writer, who, action, key.kid, {"retired": retired})
            kid = key.kid
    except DomainError as error:
        return _page(error=say(error)), 409
    flash(_("Đã tạo khóa ký mới %(kid)s. Các lô tem mới sẽ được ký bằng khóa này.", kid=kid))
    return redirect(url_for("console.keys"))


@bp.route("/keys/<kid>/revoke", methods=["GET", "POST"])
@requires("keys.manage")
def keys_revoke(kid: str) -> Response | tuple[str, int]:
    who = actor()
    session = request_session()
    try:
        key = find_key(session, kid)
    except KeyNotFound:
        abort(404)
    # Another authority's key is not this officer's to revoke, nor to learn about here.
    if key.organisation_id != who.organisation_id:
        abort(404)
    form = RevokeForm()
    consequences = revoke_consequences(session, key)

    def page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return confirm_page(
            consequences, form, error=error, status=status,
            action=url_for("console.keys_revoke", kid=key.kid),
            cancel=url_for("console.keys"),
            subject=_("Khóa ký của %(org)s", org=who.organisation_name),
        )  # fmt: skip

    answer = until_confirmed(consequences, form, page)
    if answer is not None:
        return answer
    try:
        with write_transaction() as writer:
            revoke_key(writer, key.kid, reason=form.reason.data, actor=who.email)
            audit.record(
                writer, who, "key.revoke", key.kid,
                {"reason": form.reason.data, "stamps": consequences.stamps},
            )  # fmt: skip
    except DomainError as error:
        return page(say(error), 409)
    flash(_("Đã thu hồi khóa %(kid)s. Mọi tem ký bằng khóa này nay bị báo là đã thu hồi.", kid=kid))
    return redirect(url_for("console.keys"))


def _page(error: str | None = None) -> str:
    who = actor()
    session = request_session()
    # A rejected form may have followed writes in other sessions: read afresh.
    session.rollback()
    rows = list_keys(session)
    own = [k for k in rows if k.organisation_id == who.organisation_id]
    others = [k for k in rows if k.organisation_id != who.organisation_id]
    return render_template(
        "console/keys_list.html", own=own, others=others, error=error
    )
