"""Wires the web side into the app: languages, limits, headers, errors, blueprints."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import api, console, errors, guards, openapi, public
from .cache import TtlCache
from .config import Settings
from .extensions import babel

LANGUAGES = ("vi", "en")

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
    app.register_blueprint(openapi.bp)
    console.init_app(app)
    _limit(app, settings)
    errors.init_app(app)
    app.after_request(_security_headers)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


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
