"""The signed-in side: authorities, producers and distributors at work.

One blueprint, ``console``, under ``/console``; each module adds the views of
one job. Access is decided in :mod:`.access`, writes are audited in
:mod:`.audit`, and every form carries a CSRF token (Flask-WTF).
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, Flask, Response, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from ocop.workflows.access import Actor
from ocop.workflows.models import User

from .access import current_actor, forget

bp = Blueprint("console", __name__, url_prefix="/console")
csrf = CSRFProtect()

SESSION_HOURS = 8
# The whole life of a sign-in: the cookie's own expiry and, since Flask renews a
# permanent cookie on every request, the sign-in time the session carries.
SESSION_LIFETIME = dt.timedelta(hours=SESSION_HOURS)


@bp.before_request
def _load_actor() -> None:
    """Find the signed-in user; a disabled account or an old epoch signs out."""
    from ..database import request_session

    uid, epoch, since = session.get("uid"), session.get("epoch"), session.get("since")
    if uid is None:
        return
    user = request_session().get(User, uid) if isinstance(uid, int) else None
    if (
        user is None
        or not user.active
        or user.session_epoch != epoch
        or not _fresh(since, time.time())
    ):
        forget()
        return
    g.actor = Actor.of(user, ip=request.remote_addr)
    g.must_change_password = user.must_change_password


def _fresh(since: object, now: float) -> bool:
    """Signed in less than :data:`SESSION_LIFETIME` ago (a session without the time is old)."""
    return (
        isinstance(since, int | float)
        and not isinstance(since, bool)
        and 0 <= now - since < SESSION_LIFETIME.total_seconds()
    )


@bp.after_request
def _no_store(response: Response) -> Response:
    # Signed-in pages hold other people's records: never in a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def _console_globals() -> dict[str, object]:
    return {"actor": current_actor(), "nav": _nav}


def _nav() -> list[tuple[str, str, bool]]:
    """(endpoint, label, active) for the menu: only views this actor may open."""
    from flask import current_app

    from .menu import MENU

    who = current_actor()
    if who is None:
        return []
    items = []
    for endpoint, label in MENU:
        view = current_app.view_functions.get(endpoint)
        permission = getattr(view, "permission", None)
        if view is not None and (permission is None or who.may(permission)):
            items.append((endpoint, str(label), request.endpoint == endpoint))
    return items


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    from flask_babel import gettext as _

    page = render_template(
        "error.html",
        status=400,
        title=_("Biểu mẫu đã hết hạn hoặc không hợp lệ"),
        detail=_("Xin tải lại trang rồi gửi lại. Không có gì được thay đổi."),
    )
    return page, 400


def init_app(app: Flask) -> None:
    from .. import api, public
    from . import views  # noqa: F401  (registers every view on bp)
    from .receiving_api import api_bp

    # Set, not setdefault: Flask's own default (31 days) is always there already.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["WTF_CSRF_TIME_LIMIT"] = SESSION_HOURS * 3600
    csrf.init_app(app)
    # The public forms need no session and the API authenticates each call.
    csrf.exempt(public.bp)
    csrf.exempt(api.bp)
    csrf.exempt(api_bp)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.register_error_handler(CSRFError, _csrf_failed)
