"""Errors at the HTTP edge: RFC 9457 problem+json for the API, a page for people."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/.well-known/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


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


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
