"""The verifier as a request uses it: read without locks, count the scan in a short write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from ocop.stamps import Verdict, Verifier

from .database import request_session, write_transaction
from .scanning import scan_context


def verifier(writer: Session | None = None) -> Verifier:
    return Verifier(
        request_session(),
        device_threshold=current_app.config["OCOP"].device_threshold,
        writer=writer,
        cache=current_app.extensions["ocop.cache"],
    )


def verify_and_count(token: str, now: dt.datetime) -> Verdict:
    """The verdict, with this request's scan counted when a person made it."""
    with write_transaction() as writer:
        return verifier(writer).verify(token, now=now, scan=scan_context())


def details_cache() -> Any:
    # A lot's record changes rarely; a few seconds' reuse spares every scan the
    # journey's queries. What must show at once (recall, certificate) is read fresh.
    return current_app.extensions["ocop.cache"].get
