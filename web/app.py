"""The application factory: the one place where the packages meet."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Config, Flask

from ocop.stamps.facts import FactsCache
from ocop.stamps.scans import ScanCounter
from ocop.trace.db import Database
from ocop.workflows.jobs import JobContext
from ocop.workflows.queue import TaskQueue

from .config import Settings
from .database import close_request_session
from .proxies import TrustedProxyFix

log = logging.getLogger(__name__)


class _Deferred:
    """A setting made when it is first read."""

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


class _Config(Config):
    """Flask's config, with settings made when first read (:class:`_Deferred`)."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if isinstance(value, _Deferred):
            value = value.make()
            self[key] = value
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 - get would not make it


class _Flask(Flask):
    config_class = _Config


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; ``test_config`` overrides settings."""
    settings = Settings.from_env()
    if test_config:
        settings = settings.with_overrides(test_config)
    app = _Flask(__name__, instance_path=str(settings.instance), instance_relative_config=True)
    app.config.update(
        # A laptop's generated secret is written when a session first needs it, not
        # here: `ocop --help` builds the app, and must leave the instance folder alone.
        # Production has no generated secret, and a missing one stops the start at once.
        SECRET_KEY=settings.resolved_secret_key()
        if settings.production or settings.secret_key
        else _Deferred(settings.resolved_secret_key),
        OCOP=settings,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.lower().startswith("https"),
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k.isupper()})
    database = Database.from_url(settings.database_url)
    app.extensions["ocop.db"] = database
    counter = ScanCounter(settings.database_url, synchronous_commit=settings.scan_sync_commit)
    database.on_dispose(counter.close)
    app.extensions["ocop.counter"] = counter
    app.extensions["ocop.facts"] = FactsCache()
    app.extensions["ocop.rule"] = settings.copy_rule
    app.extensions["ocop.queue"] = _task_queue(app, settings)
    if settings.proxy_hops:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, settings.proxy_hops, settings.trusted_proxies
        )
    app.teardown_appcontext(close_request_session)
    _register_web(app)
    return app


def _task_queue(app: Flask, settings: Settings) -> TaskQueue:
    database: Database = app.extensions["ocop.db"]

    def context() -> JobContext:
        from ocop.stamps.pin import PinSecret
        from ocop.stamps.printing import encoder_workers

        # Read when a job runs, not when the app is built: the settings in force then.
        settings: Settings = app.config["OCOP"]
        return JobContext(
            database=database,
            keystore=settings.keystore,
            pin_secret=lambda: PinSecret(settings.resolved_pin_secret()),
            outputs=settings.instance / "outputs",
            base_url=settings.base_url,
            chunk_size=settings.job_chunk,
            lease=dt.timedelta(seconds=settings.job_lease),
            encoder_workers=encoder_workers(settings.max_batch),
        )

    # Sweep at least once a lease: a dead worker's job is resumed within two leases.
    sweep = min(15.0, float(settings.job_lease))
    return TaskQueue(
        settings.queue_url, context, namespace=settings.queue_namespace, sweep_seconds=sweep
    )


def _register_web(app: Flask) -> None:
    from . import site

    site.init_app(app)
