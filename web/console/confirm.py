"""The confirmation step of the irreversible actions (recall, void, revoke, reject).

Each action has a GET page that says exactly what will happen and holds the POST
form; the form carries the fingerprint of the facts shown, and the POST is done
only when :func:`ocop.workflows.confirmations.check_confirmed` accepts it. No
JavaScript: a plain page and a plain form, so it works in any phone browser.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template, request
from wtforms import HiddenField

from ocop.trace.errors import DomainError
from ocop.workflows.confirmations import Consequences, check_confirmed
from ocop.workflows.errors import ConfirmationMissing

from ..messages import say
from .forms import Form


class ConfirmedForm(Form):
    """A form of an action that needs its confirmation page first."""

    confirm = HiddenField()


def until_confirmed(
    consequences: Consequences, form: ConfirmedForm, page: Callable[..., tuple[str, int]]
) -> tuple[str, int] | None:
    """What to answer instead of acting, or ``None`` once the POST may go ahead.

    A GET gets the confirmation ``page``; a POST without the fingerprint of the facts
    shown (400), with facts changed since (409) or with an invalid form (400) gets it
    again, saying why. ``page(error, status)`` renders it.
    """
    if request.method == "GET":
        return page()
    try:
        check_confirmed(consequences, form.confirm.data)
    except DomainError as error:
        return page(say(error), 400 if isinstance(error, ConfirmationMissing) else 409)
    if not form.validate_on_submit():
        return page(status=400)
    return None


def confirm_page(
    consequences: Consequences,
    form: ConfirmedForm,
    *,
    action: str,
    cancel: str,
    subject: str,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The page that says what ``action`` will change; its form confirms these facts."""
    form.confirm.data = consequences.fingerprint
    page = render_template(
        "console/confirm.html",
        c=consequences,
        form=form,
        action=action,
        cancel=cancel,
        subject=subject,
        error=error,
    )
    return page, status
