"""Wires the web side into the app: languages, limits, headers, errors, blueprints."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Flask, Request, Response, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ocop.trace.db import VIETNAM

from . import (
    api,
    catalogue,
    console,
    cors,
    epcis_api,
    errors,
    guards,
    offline,
    openapi,
    public,
    resolver,
    transparency,
)
from .api import api_token_key, bulk_cost, has_api_token
from .cache import TtlCache
from .config import Settings
from .extensions import babel
from .languages import select_locale
from .quantities import number, quantity
from .ratelimit import storage_uri

# How every page writes a day and a moment: Vietnamese order, 24-hour clock.
DATE = "%d/%m/%Y"
DATE_TIME = "%d/%m/%Y %H:%M"

# No script anywhere on the public side, so none is allowed; images may be
# data: URIs (the QR on a product page) or ours.
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened for the console only.

    Public pages keep nothing in a session (in-app browsers drop cookies
    anyway); not opening one spares every scan a serializer and a cookie parse.
    """

    # The console, and the EPCIS query its signed-in users may call.
    PATHS = ("/console", "/api/v1/epcis")

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        signed_in = self.get_cookie_name(app) in request.cookies
        if not signed_in and not request.path.startswith(self.PATHS):
            return None  # Flask then uses a NullSession, which refuses writes
        return super().open_session(app, request)


class BoundedJSON(DefaultJSONProvider):
    """JSON bodies nested past the interpreter's recursion limit are invalid, not a crash.

    ``request.get_json(silent=True)`` turns a ``ValueError`` into None, so a
    1,000-deep array answers 400 like any other malformed body.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def init_app(app: Flask) -> None:
    settings: Settings = app.config["OCOP"]
    app.json = BoundedJSON(app)
    app.session_interface = ConsoleSessions()
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
    app.register_blueprint(offline.bp)
    app.register_blueprint(transparency.bp)
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
    app.jinja_env.filters["quantity"] = quantity
    app.jinja_env.filters["number"] = number


def when(value: dt.datetime | dt.date | str | None, precision: str = "minute") -> str:
    """The ``when`` filter: a date, or a moment in Vietnam time, as every page writes it.

    ``precision`` is "minute" (the default), "day" for the date of a moment, or
    "second" where the order within a minute matters (the audit log, a stamp's
    scans). A moment without a time zone is a wall-clock time already (an event's
    own local time) and is written as it is. ISO 8601 text (what the verify
    page's kept details hold) is read first; a moment written with its offset is
    the wall clock of the place it was recorded in, and is written as it is.
    None or "" writes nothing.
    """
    if not value:
        return ""
    if isinstance(value, str):
        value = _from_iso(value)
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


def _from_iso(text: str) -> dt.datetime | dt.date:
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    return dt.datetime.fromisoformat(text).replace(tzinfo=None)


# Tighter than the default: these forms write, a PIN must not be guessable, and
# sign-in must not be a password oracle (accounts also lock, see console.accounts).
ROUTE_LIMITS = {
    "public.claim": ("20/hour", None),
    "public.report": ("5/hour", None),
    "console.signin": ("10/minute", ["POST"]),
}
UNLIMITED = ("api.healthz", "api.readyz", "static")


def _limit(app: Flask, settings: Settings) -> None:
    """A limiter of this app's own: Flask-Limiter keeps its state on the instance.

    ``memory://`` (the default) counts per process: right for one process, but
    N workers give each client N budgets. ``OCOP_RATE_LIMIT_STORAGE=redis://...``
    shares every budget across workers and machines; should Redis stop
    answering, each process falls back to counting in memory.
    """
    shared = not settings.rate_limit_storage.startswith("memory://")
    limiter = Limiter(
        key_func=get_remote_address,  # the client as TrustedProxyFix leaves it
        # One budget per client across every route (a page and its API share it).
        application_limits=[settings.rate_limit] if settings.rate_limit else [],
        storage_uri=storage_uri(settings.rate_limit_storage),
        storage_options={"socket_timeout": 1, "socket_connect_timeout": 1} if shared else {},
        in_memory_fallback_enabled=shared,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", "ocop"),
        enabled=settings.rate_limit is not None,
        # X-RateLimit-* on every answer cost a storage read per request; a 429
        # still says Retry-After (web/errors.py).
        headers_enabled=False,
    )
    limiter.init_app(app)
    # Flask-Limiter holds only weak references to its limiters: keep this one alive.
    app.extensions["ocop.limiter"] = limiter
    for endpoint, (limit, methods) in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit, methods=methods)(view)
    _limit_codes(app, limiter, settings)
    for endpoint in UNLIMITED:
        app.view_functions[endpoint] = limiter.exempt(app.view_functions[endpoint])


def _retry_after_only_when_refused(response: Response) -> Response:
    # Flask-Limiter sends Retry-After with every answer; it means "come back
    # later" (RFC 9110 section 10.2.3), so only a 429 or 503 carries it.
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _limit_codes(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """Checking many codes is charged per code: by client, or by API token, larger.

    A 1,000-code check costs a worker what 1,000 scans do; counted as one
    request, a few anonymous clients looping on it starved everyone's scans.
    A distributor's API token has its own budget, shared by the bulk check and
    the receiving API, so one distributor's systems cannot spend another's.
    """
    bulk = "api.verify_bulk"
    view = app.view_functions[bulk]
    if settings.bulk_limit:
        view = limiter.limit(
            settings.bulk_limit, cost=bulk_cost, exempt_when=has_api_token, scope="codes"
        )(view)
    if settings.bulk_token_limit:
        by_token = limiter.shared_limit(
            settings.bulk_token_limit,
            scope="token-codes",
            key_func=api_token_key,
            cost=bulk_cost,
            exempt_when=lambda: not has_api_token(),
        )
        view = by_token(view)
        receiving = "receiving_api.receive"
        app.view_functions[receiving] = by_token(app.view_functions[receiving])
    app.view_functions[bulk] = view


_SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over what is there: Headers.setdefault raises and catches a
    # KeyError for every header it adds, on every response.
    present = {name.lower() for name, _value in headers.items()}
    for name, value in _SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", "max-age=31536000")
    return response
