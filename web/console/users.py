"""Accounts, managed by authority officers: add one, reset its password, disable it.

A one-time password is shown once, on the page that answers the POST that made
it: never stored in clear, never in the session, never in the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from ocop.trace.db import utcnow
from ocop.trace.models import Organisation
from ocop.workflows import audit
from ocop.workflows.accounts import create_user, disable_user, enable_user, reset_password
from ocop.workflows.errors import AccountExists, AccountState, InvalidInput, WorkflowError
from ocop.workflows.models import Role, User

from .. import texts
from ..database import request_session, write_transaction
from ..messages import say
from . import bp
from .access import actor, requires
from .forms import Form, rule_error

ROLE_LABELS = {
    Role.AUTHORITY.value: _l("Cán bộ Hội đồng OCOP"),
    Role.PRODUCER.value: _l("Thành viên chủ thể sản xuất"),
    Role.DISTRIBUTOR.value: _l("Thành viên nhà phân phối, bán lẻ"),
}


class NewUserForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    organisation = SelectField(_l("Tổ chức"), coerce=int, validators=[InputRequired()])
    role = SelectField(
        _l("Vai trò"),
        choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()],
        validators=[InputRequired()],
    )

    def __init__(self, session: Session) -> None:
        super().__init__()
        who = actor()
        self.organisation.choices = [
            SelectChoice(str(org.id), f"{org.name} ({texts.ORG_KINDS[org.kind.value]})")
            for org in session.scalars(select(Organisation).order_by(Organisation.name))
            if who.manages_accounts_of(org)
        ]


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not actor().manages_accounts_of(user.organisation):
        abort(404)
    return user


def _list_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    who = actor()
    accounts = [
        user
        for user in request_session().scalars(select(User).order_by(User.email))
        if who.manages_accounts_of(user.organisation)
    ]
    page = render_template(
        "console/users_list.html", accounts=accounts, roles=ROLE_LABELS, now=utcnow(), error=error
    )
    return page, status


@bp.get("/users")
@requires("users.manage")
def users() -> tuple[str, int]:
    return _list_page()


@bp.route("/users/new", methods=["GET", "POST"])
@requires("users.manage")
def users_new() -> tuple[str, int]:
    form = NewUserForm(request_session())
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("console/users_new.html", form=form), status
    who = actor()
    try:
        with write_transaction() as writer:
            org = writer.get(Organisation, form.organisation.data)
            if org is None or not who.manages_accounts_of(org):
                raise InvalidInput("No such organisation.", field="organisation")
            user, secret = create_user(writer, form.email.data, org, Role(form.role.data))
            audit.record(
                writer,
                who,
                "user.create",
                user.email,
                {"role": user.role.value, "organisation": org.id},
            )
            email, org_name = user.email, org.name
    except WorkflowError as error:
        rule_error(form, error)
        status = 409 if isinstance(error, AccountExists) else 400
        return render_template("console/users_new.html", form=form), status
    except IntegrityError:  # the same email added by someone else at the same moment
        form.email.errors = [_("Đã có tài khoản với email này.")]
        return render_template("console/users_new.html", form=form), 409
    page = render_template(
        "console/users_secret.html", email=email, organisation=org_name, secret=secret, new=True
    )
    return page, 201


@bp.post("/users/<int:user_id>/reset")
@requires("users.manage")
def users_reset(user_id: int) -> tuple[str, int]:
    who = actor()
    try:
        with write_transaction() as writer:
            user = _user(writer, user_id)
            if user.id == who.user_id:
                raise AccountState("change your own password on the password page")
            secret = reset_password(writer, user)
            audit.record(writer, who, "user.reset_password", user.email)
            email, org_name = user.email, user.organisation.name
    except AccountState as error:
        return _list_page(say(error), 409)
    page = render_template(
        "console/users_secret.html", email=email, organisation=org_name, secret=secret, new=False
    )
    return page, 200


@bp.post("/users/<int:user_id>/disable")
@requires("users.manage")
def users_disable(user_id: int) -> Response | tuple[str, int]:
    who = actor()
    try:
        with write_transaction() as writer:
            user = _user(writer, user_id)
            disable_user(writer, user, by_user_id=who.user_id)
            audit.record(writer, who, "user.disable", user.email)
            email = user.email
    except AccountState as error:
        return _list_page(say(error), 409)
    flash(
        _(
            "Đã khoá tài khoản %(email)s; mọi phiên đăng nhập của tài khoản đã kết thúc.",
            email=email,
        )
    )
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/enable")
@requires("users.manage")
def users_enable(user_id: int) -> Response | tuple[str, int]:
    who = actor()
    try:
        with write_transaction() as writer:
            user = _user(writer, user_id)
            enable_user(writer, user)
            audit.record(writer, who, "user.enable", user.email)
            email = user.email
    except AccountState as error:
        return _list_page(say(error), 409)
    flash(_("Đã mở lại tài khoản %(email)s.", email=email))
    return redirect(url_for("console.users"))
