"""The JSON API: single and bulk verification, the trust list, health."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ocop.keys import trust_list, trust_list_changed_at
from ocop.keys.errors import KeyNotFound, KeysError, NoRoot
from ocop.keys.keystore import Keystore
from ocop.keys.publishing import signed_trust_list
from ocop.trace.db import utcnow, vietnam_today
from ocop.workflows.api_tokens import authenticate
from ocop.workflows.errors import TokenRefused

from .config import Settings
from .database import request_session, write_transaction
from .errors import domain_problem, problem
from .pages import details_loader, verdict_body
from .presenters import verdict_json
from .readiness import secrets_ready
from .scanning import set_device_cookie
from .verifying import verifier, verify_and_count

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)

MAX_BULK = 1000
MAX_CODE_LENGTH = 2048


def _settings() -> Settings:
    return current_app.config["OCOP"]


@bp.get("/api/v1/verify/<path:token>")
def verify_one(token: str) -> Response:
    now = utcnow()
    today = vietnam_today(now)
    verdict = verify_and_count(token, now)
    body = verdict_body(verdict, today, details_loader(verdict, today))
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return set_device_cookie(response)


@bp.post("/api/v1/verify")
def verify_bulk() -> Response:
    """Up to 1,000 codes (URLs or tokens), one result each, in the same order.

    A stock check is not a consumer's scan: nothing is counted, and each
    result carries the scans seen so far. Charged per code (web/site.py): by
    client, or with ``Authorization: Bearer ocop_...`` by the distributor's token.
    """
    if request.headers.get("Authorization") and api_caller() is None:
        return unauthorised()
    codes = bulk_codes()
    if isinstance(codes, Response):
        return codes
    now = utcnow()
    results = []
    for code, verdict in zip(codes, verifier().verify_many(codes, now=now), strict=True):
        result: dict[str, Any] = {"code": code if len(code) <= 200 else code[:200] + "…"}
        result.update(verdict_json(verdict))
        if verdict.known and not verdict.inert and verdict.batch is not None:
            result["lot"] = verdict.batch.lot_code
            result["product"] = verdict.batch.product_name
        results.append(result)
    summary: dict[str, int] = {}
    for result in results:
        summary[result["status"]] = summary.get(result["status"], 0) + 1
    return jsonify({"results": results, "summary": summary})


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """The organisation a live API token speaks for, read before its transaction ends."""

    token_id: int
    organisation_id: int
    tax_code: str
    label: str


def api_caller() -> ApiCaller | None:
    """Who the request's bearer token speaks for; None without one, or for a refused one.

    Read once per request: the limiter asks before the view does.
    """
    if "api_caller" not in g:
        g.api_caller = _authenticate()
    return g.api_caller


def _authenticate() -> ApiCaller | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    try:
        with write_transaction() as writer:
            token = authenticate(writer, credentials.strip(), utcnow())
            return ApiCaller(
                token_id=token.id,
                organisation_id=token.organisation_id,
                tax_code=token.organisation.tax_code,
                label=f"API token {token.name} ({token.prefix}…)",
            )
    except TokenRefused:
        return None


def has_api_token() -> bool:
    return api_caller() is not None


def api_token_key() -> str:
    caller = api_caller()
    return f"token:{caller.token_id}" if caller else f"client:{request.remote_addr}"


def bulk_cost() -> int:
    """What a request to check codes costs: one per code (at least one)."""
    body = request.get_json(silent=True, force=True)
    codes = body.get("codes") if isinstance(body, dict) else None
    return max(1, min(len(codes), MAX_BULK)) if isinstance(codes, list) else 1


def unauthorised() -> Response:
    given = bool(request.headers.get("Authorization"))
    response = problem(
        401,
        "Unauthorized",
        "send a live API token: Authorization: Bearer ocop_... "
        "(an organisation's distributors make one in the console, under API tokens)",
    )
    challenge = 'Bearer realm="ocop-trace"'
    response.headers["WWW-Authenticate"] = (
        f'{challenge}, error="invalid_token"' if given else challenge
    )
    return response


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


_RENEWING = threading.Lock()


def _list_keystore() -> Keystore:
    """The keystore the list signer is loaded from, kept per instance folder so that
    its key is decrypted once per process, not once per renewal."""
    settings = _settings()
    kept: dict[str, Keystore] = current_app.extensions.setdefault("ocop.list_keystores", {})
    folder = str(settings.instance)
    if folder not in kept:
        kept[folder] = settings.keystore()
    return kept[folder]


@bp.get("/.well-known/ocop-trust.jws")
def signed_trust() -> Response:
    """The trust list signed under the root (docs/trust-list.md): mirror it anywhere."""
    try:
        # One renewal at a time in this process: unlocking the list signer runs scrypt
        # (128 MiB, about 0.4 s), and every thread asking at once would run its own.
        with _RENEWING, write_transaction() as session:
            row = signed_trust_list(session, _list_keystore())
            document, issued_at = row.document, row.issued_at
    except (NoRoot, KeyNotFound) as error:
        return domain_problem(404, error)
    except KeysError as error:
        # The list signer's key file or passphrase: the operator's to fix, and the
        # detail may name the instance's files, so it goes to the log only.
        log.error("cannot sign the trust list: %s", error)
        return problem(503, "Service unavailable", "The signed trust list cannot be issued now.")
    response = Response(document, mimetype="application/jose")
    # A mirror or a phone may keep it a while: it is signed and says when it is due.
    response.headers["Cache-Control"] = "public, max-age=300"
    response.last_modified = issued_at
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
