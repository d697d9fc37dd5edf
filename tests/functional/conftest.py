"""Fixtures that drive the whole app: Flask's test client and CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from ocop.trace.db import Database
from ocop.web import create_app

TEST_PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(
    clean_database: Database, database_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE_FILE", raising=False)
    app = create_app(
        {
            "database_url": database_url,
            "instance": instance,
            "secret_key": "test-secret",
            "rate_limit": None,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["ocop.queue"].close()
    app.extensions["ocop.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner | CliRunner:
    return app.test_cli_runner()


def drain(app: Flask, timeout: float = 120) -> None:
    """Wait until every job the app has sent has run (the embedded queue)."""
    app.extensions["ocop.queue"].drain(timeout)
