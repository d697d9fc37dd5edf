"""Errors at the HTTP edge: RFC 9457 problem+json for the API, a page for people;
and the web package's own error, a configuration that cannot work."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ocop.trace.errors import DomainError

from .messages import say

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ConfigError(DomainError):
    """The configuration cannot work; the message says which variable to fix."""

    code = "config_error"


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/.well-known/", "/log/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """An RFC 9457 problem of type ``about:blank``.

    With that type the title must be the status phrase (RFC 9457 section
    4.2.1), so ``title``, the caller's short summary, leads the detail instead.
    """
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": status}
    if title != phrase:
        detail = f"{title}: {detail}" if detail else title
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def domain_problem(status: int, error: DomainError, **extra: Any) -> Response:
    """A problem+json for a domain error: its message in the request's language as the
    ``detail`` (no English summary before it), and its machine ``code``, the same in
    every language."""
    return problem(status, HTTPStatus(status).phrase, say(error), code=error.code, **extra)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if wants_json():
        response = problem(status, error.name, error.description)
    else:
        page = render_template("error.html", status=status, title=_title(status))
        response = Response(page, status=status, mimetype="text/html")
    # Keep Retry-After and the like that the exception carries (429, 405 Allow).
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    if status == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(_retry_after())
    return response


def _retry_after() -> int:
    """Seconds until the budget that refused this request fills again.

    The limiter writes no rate-limit headers on every answer (they cost a
    storage read per request on the scan path); a refusal says when to retry.
    """
    limiter = current_app.extensions.get("ocop.limiter")
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 60
    return max(1, current.reset_at - int(time.time()))


def _title(status: int) -> str:
    titles = {
        400: _("Yêu cầu không hợp lệ"),
        404: _("Không tìm thấy trang"),
        405: _("Phương thức không được hỗ trợ"),
        413: _("Dữ liệu gửi lên quá lớn"),
        429: _("Quá nhiều yêu cầu, xin thử lại sau ít phút"),
    }
    return titles.get(status, _("Đã có lỗi, xin thử lại sau"))


def _unexpected(error: Exception) -> Response:
    # The detail goes to the log, never to the client: it may name internals.
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _http_error(InternalServerError())


def _misconfigured(error: Exception) -> Response:
    # A secret the deployment lacks (``/readyz`` says so too): the operator's to
    # fix, so 503 and the reason in the log, not a 500 that looks like a bug.
    log.error("configuration problem on %s %s: %s", request.method, request.path, error)
    return _http_error(ServiceUnavailable())


def init_app(app: Flask) -> None:
    from .config import ConfigError

    app.register_error_handler(ConfigError, _misconfigured)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
