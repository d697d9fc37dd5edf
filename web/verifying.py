"""The verifier as a request uses it: cached facts, scans counted on the counter's connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from ocop.stamps import Verdict, Verifier

from .database import request_session
from .scanning import scan_context


def verifier() -> Verifier:
    """A verifier sharing the app's caches; it opens the request's Session only if it must."""
    extensions = current_app.extensions
    return Verifier(
        request_session,
        rule=extensions["ocop.rule"],
        cache=extensions["ocop.cache"],
        facts=extensions["ocop.facts"],
        counter=extensions["ocop.counter"],
    )


def verify_and_count(token: str, now: dt.datetime) -> Verdict:
    """The verdict, with this request's scan counted when a person made it.

    The count is committed before this returns, on the counter's own
    connection: an answer that shows a scan was counted is never undone.
    """
    return verifier().verify(token, now=now, scan=scan_context())


def details_cache() -> Any:
    # A lot's record changes rarely; a few seconds' reuse spares every scan the
    # journey's queries. What must show at once (recall, certificate) is read fresh.
    return current_app.extensions["ocop.cache"].get
