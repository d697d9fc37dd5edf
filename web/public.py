"""The public side: the verify page a phone opens, and the pages it links to."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import select

from ocop.stamps import PinSecret, StampToken, Verdict
from ocop.stamps.copies import SharedPlace
from ocop.stamps.errors import StampError
from ocop.stamps.pin import PinOutcome, claim_with_pin
from ocop.stamps.scans import PLACE_WINDOW, record_place
from ocop.trace.db import VIETNAM, utcnow, vietnam_today
from ocop.trace.models import Certification, Organisation, Product
from ocop.trace.provinces import province
from ocop.trace.queries import certificates_of
from ocop.workflows.errors import NotAStamp, ReportRefused
from ocop.workflows.fake_reports import file_report

from .config import Settings
from .database import request_session, write_transaction
from .errors import wants_json
from .pages import check_place_ref, details_loader, verdict_body, verdict_page
from .presenters import certificate_json, organisation_json, product_json
from .scanning import client_hash, network_hash, set_device_cookie
from .verifying import verifier, verify_and_count

bp = Blueprint("public", __name__)


def _settings() -> Settings:
    return current_app.config["OCOP"]


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/check")
def check() -> Response:
    """The no-camera path: type or paste what is printed under the code."""
    code = request.args.get("code", "").strip()
    if not code:
        return redirect(url_for("public.index"))
    try:
        token = StampToken.parse(code)
    except StampError:
        return Response(render_template("index.html", code=code, not_a_code=True), status=400)
    return redirect(url_for("public.verify", token=token.encode()))


@bp.get("/v/<path:token>")
@bp.get("/V/<path:token>")
def verify(token: str) -> Response:
    now = utcnow()
    today = vietnam_today(now)
    verdict = verify_and_count(token, now)
    load = details_loader(verdict, today)
    if wants_json():
        response = Response(verdict_body(verdict, today, load), mimetype="application/json")
    else:
        response = Response(verdict_page(verdict, today, load))
    response.headers["Cache-Control"] = "no-store"
    return set_device_cookie(response)


def _canonical(verdict: Verdict) -> str | None:
    return verdict.token.encode() if verdict.token else None


def _stamp_or_404(token: str) -> StampToken:
    try:
        return StampToken.parse(token)
    except StampError:
        abort(404)


@bp.post("/v/<path:token>/pin")
@bp.post("/V/<path:token>/pin")
def claim(token: str) -> Response:
    now = utcnow()
    verdict = verifier().verify(token, now=now)
    batch = verdict.batch
    if batch is None or not batch.pin or verdict.token is None:
        abort(404)
    settings = _settings()
    with write_transaction() as writer:
        answer = claim_with_pin(
            writer,
            PinSecret(settings.resolved_pin_secret()),
            batch.id,
            verdict.token.index,
            request.form.get("pin", "")[:40],
            now=now,
            limit=settings.pin_attempts,
        )
    until = answer.locked_until
    page = render_template(
        "pin.html",
        outcome=answer.outcome.value,
        token=verdict.token.encode(),
        left=answer.attempts_left,
        limit=settings.pin_attempts,
        until=until.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if until else None,
    )
    response = Response(page, status=_PIN_STATUS[answer.outcome])
    if until is not None:
        response.headers["Retry-After"] = str(max(1, int((until - now).total_seconds())))
    return response


_PIN_STATUS = {
    PinOutcome.FIRST: 200,
    PinOutcome.AGAIN: 200,
    PinOutcome.WRONG: 400,
    PinOutcome.LOCKED: 429,
}


@bp.post("/v/<path:token>/place")
@bp.post("/V/<path:token>/place")
def share_place(token: str) -> Response:
    """The shopper's opt-in province for the scan the form came with (no cookie needed)."""
    now = utcnow()
    stamp = _stamp_or_404(token)
    verdict = verifier().verify(token, now=now)
    if not verdict.known:
        abort(404)
    log_id = check_place_ref(stamp, request.form.get("scan", "")[:64])
    chosen = province(request.form.get("place", "")[:100])
    outcome, status = "shared", 200
    if log_id is None:
        outcome, status = "bad_ref", 400
    elif chosen is None:
        outcome, status = "unknown_place", 400
    else:
        shared = SharedPlace(chosen.name, now, network_hash())
        with write_transaction() as writer:
            done = record_place(
                writer,
                log_id,
                stamp.batch,
                stamp.index,
                shared,
                _settings().copy_rule,
                since=now - PLACE_WINDOW,
            )
        if not done:
            outcome, status = "already", 409
    page = render_template(
        "place.html", outcome=outcome, place=chosen.name if chosen else None, token=stamp.encode()
    )
    return Response(page, status=status)


@bp.post("/v/<path:token>/report")
@bp.post("/V/<path:token>/report")
def report(token: str) -> Response:
    stamp = _stamp_or_404(token)
    verdict = verifier().verify(token, now=utcnow())
    try:
        with write_transaction() as writer:
            file_report(
                writer,
                token=token,
                batch_id=verdict.batch.id if verdict.batch else None,
                index=verdict.token.index if verdict.batch and verdict.token else None,
                message=request.form.get("message", ""),
                contact=request.form.get("contact", ""),
                where_bought=request.form.get("where", ""),
                client_hash=client_hash(),
            )
    except NotAStamp:
        abort(404)
    except ReportRefused:
        page = render_template("report.html", ok=False, token=stamp.encode())
        return Response(page, status=400)
    return Response(render_template("report.html", ok=True, token=stamp.encode()), status=201)


@bp.get("/p/products/<code>")
def product_page(code: str) -> Any:
    session = request_session()
    product = session.scalars(select(Product).where(Product.code == code[:40])).one_or_none()
    if product is None:
        abort(404)
    today = vietnam_today()
    certificates = [certificate_json(c, today) for c in certificates_of(session, product)]
    data = {
        "product": product_json(product),
        "producer": organisation_json(product.producer),
        "certificates": certificates,
    }
    if wants_json():
        return jsonify(data)
    return render_template("product.html", d=data)


@bp.get("/p/producers/<int:org_id>")
def producer_page(org_id: int) -> Any:
    session = request_session()
    org = session.get(Organisation, org_id)
    if org is None:
        abort(404)
    products = session.scalars(
        select(Product).where(Product.producer_id == org.id).order_by(Product.name)
    ).all()
    data = {"producer": organisation_json(org), "products": [product_json(p) for p in products]}
    if wants_json():
        return jsonify(data)
    return render_template("producer.html", d=data)


@bp.get("/p/certificates/<int:cert_id>")
def certificate_page(cert_id: int) -> Any:
    session = request_session()
    cert = session.get(Certification, cert_id)
    if cert is None:
        abort(404)
    data = {
        "certificate": certificate_json(cert, vietnam_today()),
        "product": product_json(cert.product) if cert.product else None,
        "facility": cert.facility.name if cert.facility else None,
    }
    if wants_json():
        return jsonify(data)
    return render_template("certificate.html", d=data)


@bp.get("/favicon.ico")
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", max_age=7 * 86400
    )


@bp.get("/media/<path:name>")
def media(name: str) -> Response:
    """Product images: uploaded ones in the instance folder, shipped samples in static/."""
    folder = _settings().instance / "media"
    if (folder / name).is_file():
        return send_from_directory(folder, name, max_age=86400)
    return send_from_directory(
        current_app.static_folder or "static", f"products/{name}", max_age=86400
    )


_PHOTO_NAME = re.compile(r"^[0-9a-f]{64}-[0-9]{2,4}\.webp$")
YEAR = 365 * 86400


@bp.get("/photos/<name>")
def photo(name: str) -> Response:
    """A product photo's variant: named by its content's hash, so cached for good."""
    if not _PHOTO_NAME.match(name):
        abort(404)
    response = send_from_directory(_settings().photos, name, max_age=YEAR)
    response.cache_control.immutable = True
    return response


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    from flask_babel import get_locale

    from . import texts
    from .journey_map import journey_map

    return {"lang": str(get_locale() or "vi"), "texts": texts, "journey_map": journey_map}
