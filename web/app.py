"""The application factory: the one place where the packages meet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from ocop.trace.db import Database

from .config import Settings

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``test_config`` overrides settings."""
    settings = Settings.from_env()
    if test_config:
        settings = settings.with_overrides(test_config)
    app = Flask(__name__, instance_path=str(settings.instance), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        OCOP=settings,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.lower().startswith("https"),
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    app.extensions["ocop.db"] = Database.from_url(settings.database_url)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )
    app.teardown_appcontext(_close_session)
    _register_web(app)
    return app


def _register_web(app: Flask) -> None:
    from . import site

    site.init_app(app)


def request_session() -> Session:
    """The request's reading session, opened on first use and closed at teardown.

    Writes go through :func:`write_transaction`, short and committed before
    the response is built, so a failed commit is an error the client sees.
    """
    if "db_session" not in g:
        g.db_session = database().read_sessionmaker()
    return g.db_session


def write_transaction() -> AbstractContextManager[Session]:
    """A transaction for the request's writes: committed on leaving, rolled back on error."""
    return database().transaction()


def database() -> Database:
    return current_app.extensions["ocop.db"]


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
