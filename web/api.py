"""The JSON API: single and bulk verification, the trust list, health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ocop.keys import trust_list, trust_list_changed_at
from ocop.trace.db import utcnow, vietnam_today

from .config import Settings
from .database import request_session
from .errors import problem
from .presenters import stamp_details, verdict_json
from .readiness import secrets_ready
from .scanning import set_device_cookie
from .verifying import details_cache, verifier, verify_and_count

bp = Blueprint("api", __name__)

MAX_BULK = 1000
MAX_CODE_LENGTH = 2048


def _settings() -> Settings:
    return current_app.config["OCOP"]


@bp.get("/api/v1/verify/<path:token>")
def verify_one(token: str) -> Response:
    now = utcnow()
    verdict = verify_and_count(token, now)
    details = stamp_details(request_session(), verdict, vietnam_today(now), details_cache())
    response = jsonify({**verdict_json(verdict), **details})
    response.headers["Cache-Control"] = "no-store"
    return set_device_cookie(response)


@bp.post("/api/v1/verify")
def verify_bulk() -> Response:
    """Up to 1,000 codes (URLs or tokens), one result each, in the same order.

    A stock check is not a consumer's scan: nothing is counted, and each
    result carries the scans seen so far.
    """
    codes = bulk_codes()
    if isinstance(codes, Response):
        return codes
    now = utcnow()
    checker = verifier()
    results = []
    for code in codes:
        verdict = checker.verify(code, now=now)
        result: dict[str, Any] = {"code": code if len(code) <= 200 else code[:200] + "…"}
        result.update(verdict_json(verdict))
        if verdict.known and verdict.batch is not None:
            result["lot"] = verdict.batch.lot_code
            result["product"] = verdict.batch.product_name
        results.append(result)
    summary: dict[str, int] = {}
    for result in results:
        summary[result["status"]] = summary.get(result["status"], 0) + 1
    return jsonify({"results": results, "summary": summary})


def bulk_codes() -> list[str] | Response:
    try:
        body = request.get_json(silent=True, force=True)
    except RecursionError:  # nested deeper than the parser goes: not a list of codes
        body = None
    if body is None:
        return problem(400, "Invalid JSON", 'send a JSON object: {"codes": ["...", ...]}')
    if not isinstance(body, dict) or not isinstance(body.get("codes"), list):
        return problem(400, "Invalid request", 'the body must be {"codes": [...]}, a list')
    codes = body["codes"]
    if not codes:
        return problem(400, "Invalid request", "codes is empty")
    if len(codes) > MAX_BULK:
        # 422, not 413: the body may be small; it is the count that is refused.
        return problem(
            422, "Too many codes", f"at most {MAX_BULK} codes per request, not {len(codes)}"
        )
    for position, code in enumerate(codes):
        if not isinstance(code, str):
            return problem(
                400,
                "Invalid request",
                f"codes[{position}] must be a string",
                invalid_params=[{"name": f"codes[{position}]", "reason": "not a string"}],
            )
        if len(code) > MAX_CODE_LENGTH:
            return problem(
                400,
                "Invalid request",
                f"codes[{position}] is longer than {MAX_CODE_LENGTH} characters",
            )
    return codes


@bp.get("/.well-known/ocop-trust.json")
def trust() -> Response:
    session = request_session()
    response = Response(trust_list(session).to_json(), mimetype="application/jwk-set+json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.last_modified = trust_list_changed_at(session)
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    checks: dict[str, str] = {}
    try:
        current_app.extensions["ocop.db"].ping()
        checks["database"] = "ok"
        keys = trust_list(request_session())
        checks["keys"] = "ok" if any(k.status == "active" for k in keys.keys) else "no active key"
        active = [k.kid for k in keys.keys if k.status == "active"]
        checks["secrets"] = secrets_ready(_settings(), active)
    except SQLAlchemyError:
        checks.setdefault("database", "unavailable")
        checks.setdefault("keys", "unknown")
    ready = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
