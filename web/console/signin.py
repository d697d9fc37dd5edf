"""Sign in, sign out, change the password, and the home page after sign-in."""

from __future__ import annotations

import time

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ocop.trace.db import utcnow
from ocop.workflows import audit
from ocop.workflows.access import Actor
from ocop.workflows.accounts import (
    MAX_PASSWORD,
    authenticate,
    change_password,
    end_sessions,
)
from ocop.workflows.errors import SignInRefused, WorkflowError
from ocop.workflows.models import User

from ..database import request_session, write_transaction
from . import bp
from .access import actor, forget, requires
from .forms import Form, rule_error


class SignInForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=MAX_PASSWORD)])


class PasswordForm(Form):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new_password = PasswordField(_l("Mật khẩu mới (ít nhất 10 ký tự)"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(), EqualTo("new_password", _l("Hai mật khẩu mới không khớp"))],
    )


def _safe_next(target: str | None) -> str:
    # Only a path inside the console: never an open redirect to another site.
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return url_for("console.home")


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Response | tuple[str, int] | str:
    if g.get("actor") is not None and request.method == "GET":
        return redirect(url_for("console.home"))
    form = SignInForm()
    if form.validate_on_submit():
        failed = None
        with write_transaction() as writer:
            try:
                user = authenticate(writer, form.email.data, form.password.data, utcnow())
            except SignInRefused as error:
                failed = error
            else:
                who = Actor.of(user, ip=request.remote_addr)
                audit.record(writer, who, "account.signin")
                uid, epoch, must_change = user.id, user.session_epoch, user.must_change_password
        if failed is None:
            # A fresh session on sign-in: nothing from before survives (session fixation).
            session.clear()
            session.permanent = True
            session["uid"], session["epoch"] = uid, epoch
            session["since"] = int(time.time())
            if must_change:
                return redirect(url_for("console.password"))
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append(_("Sai email hoặc mật khẩu, hoặc tài khoản đang bị tạm khóa."))
        return render_template("console/signin.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("console/signin.html", form=form), status


@bp.post("/signout")
@requires("console.view")
def signout() -> Response:
    who = actor()
    with write_transaction() as writer:
        # Ended on the server: the cookie's epoch no longer matches, so a copy of
        # it taken before signing out opens nothing (nor do the account's other
        # browsers: sessions are not stored one by one).
        end_sessions(writer, who.user_id)
        audit.record(writer, who, "account.signout")
    forget()
    flash(_("Bạn đã đăng xuất."))
    return redirect(url_for("console.signin"))


@bp.route("/password", methods=["GET", "POST"])
@requires("console.view")
def password() -> Response | tuple[str, int] | str:
    form = PasswordForm()
    if form.validate_on_submit():
        who = actor()
        try:
            with write_transaction() as writer:
                user = writer.get(User, who.user_id)
                assert user is not None
                change_password(writer, user, form.current_password.data, form.new_password.data)
                audit.record(writer, who, "account.password_changed")
                epoch = user.session_epoch
        except WorkflowError as error:
            rule_error(form, error)
        else:
            # This browser stays signed in; every other one is signed out.
            session["epoch"] = epoch
            flash(_("Đã đổi mật khẩu."))
            return redirect(url_for("console.home"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "console/password.html", form=form, forced=g.get("must_change_password")
    ), status


@bp.get("/")
@requires("console.view")
def home() -> str:
    from ocop.trace.db import utcnow, vietnam_today
    from ocop.trace.expiry import certificates_ending
    from ocop.workflows.home import RECENT_DAYS, recent_decisions, summary

    who, reader = actor(), request_session()
    ending = certificates_ending(
        reader, None if who.is_authority else who.organisation_id, vietnam_today()
    )
    decisions = (
        recent_decisions(reader, who.organisation_id, utcnow())
        if who.may("stamp_requests.submit")
        else []
    )
    return render_template(
        "console/home.html",
        s=summary(reader, who),
        ending=ending,
        decisions=decisions,
        recent_days=RECENT_DAYS,
    )
