"""Wires the web side into the app: languages, limits, headers, errors, blueprints."""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ocop.trace.db import VIETNAM

from . import api, catalogue, console, cors, epcis_api, errors, guards, openapi, public, resolver
from .cache import TtlCache
from .config import Settings
from .extensions import babel

LANGUAGES = ("vi", "en")
# How every page writes a day and a moment: Vietnamese order, 24-hour clock.
DATE = "%d/%m/%Y"
DATE_TIME = "%d/%m/%Y %H:%M"

# No script anywhere on the public side, so none is allowed; images may be
# data: URIs (the QR on a product page) or ours.
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def select_locale() -> str:
    asked = request.args.get("lang") or request.cookies.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="vi") or "vi"


def init_app(app: Flask) -> None:
    settings: Settings = app.config["OCOP"]
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    guards.init_app(app)
    app.extensions["ocop.cache"] = TtlCache(seconds=10)
    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(catalogue.bp)
    app.register_blueprint(resolver.bp)
    app.register_blueprint(epcis_api.bp)
    app.register_blueprint(openapi.bp)
    console.init_app(app)
    cors.init_app(app)
    # Registered before the limiter's: after-request functions run last-registered first.
    app.after_request(_retry_after_only_when_refused)
    _limit(app, settings)
    errors.init_app(app)
    app.after_request(_security_headers)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["when"] = when


def when(value: dt.datetime | dt.date | None, precision: str = "minute") -> str:
    """The ``when`` filter: a date, or a moment in Vietnam time, as every page writes it.

    ``precision`` is "minute" (the default), "day" for the date of a moment, or
    "second" where the order within a minute matters (the audit log, a stamp's
    scans). A moment without a time zone is a wall-clock time already (an event's
    own local time) and is written as it is. None writes nothing.
    """
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return value.strftime(DATE)
    if value.tzinfo is not None:
        value = value.astimezone(VIETNAM)
    if precision == "day":
        return value.strftime(DATE)
    if precision == "second":
        return value.strftime(DATE_TIME + ":%S")
    if precision != "minute":
        raise ValueError(f"precision is day, minute or second, not {precision!r}")
    return value.strftime(DATE_TIME)


# Tighter than the default: these forms write, a PIN must not be guessable, and
# sign-in must not be a password oracle (accounts also lock, see console.accounts).
ROUTE_LIMITS = {
    "public.claim": ("20/hour", None),
    "public.report": ("5/hour", None),
    "console.signin": ("10/minute", ["POST"]),
}
UNLIMITED = ("api.healthz", "api.readyz", "static")


def _limit(app: Flask, settings: Settings) -> None:
    """A limiter of this app's own: Flask-Limiter keeps its state on the instance."""
    limiter = Limiter(
        key_func=get_remote_address,  # the client as ProxyFix leaves it
        # One budget per client across every route (a page and its API share it).
        application_limits=[settings.rate_limit] if settings.rate_limit else [],
        storage_uri=settings.rate_limit_storage,
        enabled=settings.rate_limit is not None,
        headers_enabled=True,
    )
    limiter.init_app(app)
    # Flask-Limiter holds only weak references to its limiters: keep this one alive.
    app.extensions["ocop.limiter"] = limiter
    for endpoint, (limit, methods) in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit, methods=methods)(view)
    for endpoint in UNLIMITED:
        app.view_functions[endpoint] = limiter.exempt(app.view_functions[endpoint])


def _retry_after_only_when_refused(response: Response) -> Response:
    # Flask-Limiter sends Retry-After with every answer; it means "come back
    # later" (RFC 9110 section 10.2.3), so only a 429 or 503 carries it.
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
