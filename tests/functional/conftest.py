"""Fixtures that drive the whole app: Flask's test client and CLI runner, and the
world ``ocop demo`` makes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from ocop.keys import keystore_for
from ocop.stamps import PinSecret, StampBatch, generate_stamps
from ocop.stamps.issuance import IssuedStamp
from ocop.trace.db import Database
from ocop.web import create_app
from ocop.web.cli import main

from .snapshots import restored

TEST_PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture(scope="session")
def _app_for_the_run(
    database: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, dict[str, Any]]]:
    """One app per run and database: building one (its URL map, its templates, its
    compiled SQL) costs more than most tests; ``app`` resets what a test may change."""
    app = create_app(
        {
            "database_url": database_url,
            "instance": tmp_path_factory.mktemp("unused-instance"),
            "secret_key": "test-secret",
            "rate_limit": None,
            "TESTING": True,
        }
    )
    # The embedded queue sweeps when its worker starts, then not again during the run:
    # a sweep every few seconds would write to the shared database under other tests.
    app.extensions["ocop.queue"].sweep_seconds = 24 * 3600
    yield app, dict(app.config)
    app.extensions["ocop.queue"].close()
    app.extensions["ocop.db"].dispose()


@pytest.fixture
def app(
    _app_for_the_run: tuple[Flask, dict[str, Any]],
    clean_database: Database,
    instance: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    """The app on an empty database, with this test's own instance folder."""
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE_FILE", raising=False)
    app, config = _app_for_the_run
    app.config.clear()
    app.config.update(config)
    app.config["OCOP"] = config["OCOP"].with_overrides({"instance": instance})
    app.instance_path = str(instance)
    # What the test before cached: keys, certificates, batch facts, kept pages. Its
    # database rows are gone, and ids are used again.
    app.extensions["ocop.cache"].clear()
    app.extensions["ocop.facts"].clear()
    app.extensions.pop("ocop.pages", None)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner | CliRunner:
    return app.test_cli_runner()


@pytest.fixture
def demo(app: Flask, instance: Path) -> list[IssuedStamp]:
    """What ``ocop demo --no-serve`` leaves behind, and the demo batch's stamps.

    The demo runs once per run and database; each test gets its records and
    instance folder restored (``test_demo_twice_changes_nothing`` runs it for real).
    """
    return list(restored(app, instance, "demo", lambda: _run_demo(app)))


def _run_demo(app: Flask) -> tuple[IssuedStamp, ...]:
    result = app.test_cli_runner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    settings = app.config["OCOP"]
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalars(select(StampBatch)).one()
        keystore = keystore_for(settings.instance, os.environ, production=False)
        pin_secret = PinSecret(settings.resolved_pin_secret())
        signer = keystore.load(batch.key.kid)
        return tuple(
            generate_stamps(
                signer, batch.id, batch.count, base_url=settings.base_url, pin_secret=pin_secret
            )
        )


def drain(app: Flask, timeout: float = 120) -> None:
    """Wait until every job the app has sent has run (the embedded queue)."""
    app.extensions["ocop.queue"].drain(timeout)
