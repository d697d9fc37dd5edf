"""The console's guards around the rules of :mod:`ocop.workflows.access`.

Every view declares one permission with :func:`requires`; :func:`ensure_own`
answers 404 for another organisation's records, so their ids reveal nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for

from ocop.trace.models import Organisation
from ocop.workflows.access import PERMISSIONS, Actor

F = TypeVar("F", bound=Callable[..., Any])

def current_actor() -> Actor | None:
    """The signed-in actor of this request, loaded by the console's before_request."""
    return g.get("actor")


def actor() -> Actor:
    """The signed-in actor; only for views behind :func:`requires`."""
    who = g.get("actor")
    if who is None:
        abort(401)
    return who


def requires(permission: str) -> Callable[[F], F]:
    """Guard a view: sign-in first, then ``permission``, else 403."""
    PERMISSIONS[permission]  # fail at import on an unknown permission

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            who = g.get("actor")
            if who is None:
                return redirect(url_for("console.signin", next=request.full_path.rstrip("?")))
            if g.get("must_change_password") and request.endpoint != "console.password":
                return redirect(url_for("console.password"))
            if not who.may(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def ensure_own(organisation_id: int | None) -> None:
    """404 unless the actor may reach this organisation's records."""
    if not actor().owns(organisation_id):
        abort(404)


def ensure_governs(organisation: Organisation | None) -> None:
    """403 unless the actor's council governs ``organisation`` (:meth:`Actor.governs`).

    Not 404: an officer may read another province's records, just not act on them.
    """
    if organisation is None or not actor().governs(organisation):
        abort(403)


def forget() -> None:
    session.clear()
    g.pop("actor", None)
