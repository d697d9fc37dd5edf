"""EPCIS 2.0 query for other traceability systems: a lot's events, by lot or EPC class and time.

``GET /api/v1/epcis/events?lot=CODE`` or ``?MATCH_anyEPCClass=URI``, with
optional ``GE_eventTime`` and ``LT_eventTime`` (RFC 3339), answers an
EPCISQueryDocument (the EPCIS 2.0 REST binding's names). Access is the
console's: a signed-in account that may view the lot's records, or an API token
of the organisation that owns the lot (``Authorization: Bearer ...``).
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import unquote

from flask import Blueprint, Response, current_app, request, session
from sqlalchemy import select

from ocop.trace.db import utcnow
from ocop.trace.epcis import Namespace, query_document
from ocop.trace.genealogy import events_touching
from ocop.trace.models import Lot, Product
from ocop.workflows.access import Actor
from ocop.workflows.api_tokens import authenticate
from ocop.workflows.errors import TokenRefused
from ocop.workflows.event_access import may_read_events
from ocop.workflows.models import User

from .database import request_session, write_transaction
from .errors import problem

bp = Blueprint("epcis", __name__, url_prefix="/api/v1/epcis")

EPCIS_JSON = "application/ld+json"
_TIME_PARAMS = ("GE_eventTime", "LT_eventTime")


@bp.get("/events")
def events() -> Response:
    reader = _reader()
    if isinstance(reader, Response):
        return reader
    actor, token_org = reader
    lot = _lot()
    if isinstance(lot, Response):
        return lot
    # Same answer for "no such lot" and "not yours": a code is not an oracle.
    if lot is None or not may_read_events(lot, actor=actor, token_organisation_id=token_org):
        return problem(404, "Not Found", "no lot of yours matches the query")
    window = _window()
    if isinstance(window, Response):
        return window
    since, until = window
    chosen = [
        e
        for e in events_touching(request_session(), [lot.id], corrected_too=True)
        if (since is None or e.event_time >= since) and (until is None or e.event_time < until)
    ]
    document = query_document(chosen, base_url=current_app.config["OCOP"].base_url)
    response = Response(json.dumps(document, ensure_ascii=False), mimetype=EPCIS_JSON)
    response.headers["Cache-Control"] = "no-store"
    response.headers["GS1-EPCIS-Version"] = "2.0.0"
    return response


def _reader() -> tuple[Actor | None, int | None] | Response:
    """The signed-in account or the token's organisation; 401 with neither."""
    uid = session.get("uid")
    if isinstance(uid, int):
        user = request_session().get(User, uid)
        if user is not None and user.active and user.session_epoch == session.get("epoch"):
            return Actor.of(user, ip=request.remote_addr), None
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        try:
            with write_transaction() as writer:
                return None, authenticate(writer, credentials.strip(), utcnow()).organisation_id
        except TokenRefused:
            pass
    response = problem(401, "Unauthorized", "sign in to the console or send an API token")
    response.headers["WWW-Authenticate"] = 'Bearer realm="ocop-trace"'
    return response


def _lot() -> Lot | Response | None:
    code = request.args.get("lot")
    uri = request.args.get("MATCH_anyEPCClass") or request.args.get("MATCH_epcClass")
    if (code is None) == (uri is None):
        return problem(400, "Bad Request", "give exactly one of lot or MATCH_anyEPCClass")
    db = request_session()
    if code is not None:
        if not code or len(code) > 40:
            return problem(400, "Bad Request", "lot must be a lot code of 1 to 40 characters")
        return db.scalars(select(Lot).where(Lot.code == code)).one_or_none()
    assert uri is not None
    return _lot_by_uri(uri[:300])


def _lot_by_uri(uri: str) -> Lot | None:
    """The lot an EPC class URI names: ``.../01/{gtin}/10/{lot}`` or our ``/id/lot/{code}``."""
    db = request_session()
    ours = Namespace(current_app.config["OCOP"].base_url).id("lot", "")
    if uri.lower().startswith(ours):
        code = unquote(uri[len(ours) :])
        return db.scalars(select(Lot).where(Lot.code == code)).one_or_none()
    head, sep, code = uri.partition("/10/")
    if not sep or "/01/" not in head:
        return None
    gtin = head.rsplit("/01/", 1)[1]
    return db.scalars(
        select(Lot).join(Product).where(Lot.code == unquote(code), Product.gtin == gtin)
    ).one_or_none()


def _window() -> tuple[dt.datetime | None, dt.datetime | None] | Response:
    times: list[dt.datetime | None] = []
    for name in _TIME_PARAMS:
        raw = request.args.get(name)
        if raw is None:
            times.append(None)
            continue
        try:
            value = dt.datetime.fromisoformat(raw.replace("z", "Z"))
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            return problem(400, "Bad Request", f"{name} must be an RFC 3339 time with an offset")
        times.append(value)
    return times[0], times[1]
