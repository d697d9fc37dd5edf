"""A production deployment refuses weak or missing secrets before it takes traffic."""

from __future__ import annotations

import pytest
from flask import Flask

from ocop.web import create_app
from ocop.web.config import MIN_SECRET_KEY, ConfigError

from .conftest import TEST_PASSPHRASE

STRONG = "s" * MIN_SECRET_KEY
PIN_SECRET = "a pin secret of some length"


def _production(app: Flask, **overrides) -> Flask:
    settings = app.config["OCOP"]
    return create_app(
        {
            "database_url": settings.database_url,
            "instance": settings.instance,
            "rate_limit": None,
            "production": True,
            "secret_key": STRONG,
            **overrides,
        }
    )


@pytest.mark.parametrize("key", ["x", "s" * (MIN_SECRET_KEY - 1)])
def test_production_refuses_a_short_secret_key(app: Flask, key: str) -> None:
    with pytest.raises(ConfigError, match="OCOP_SECRET_KEY must be at least"):
        _production(app, secret_key=key)


def test_production_takes_a_long_secret_key(app: Flask) -> None:
    production = _production(app, pin_secret=PIN_SECRET)
    try:
        assert production.secret_key == STRONG
    finally:
        production.extensions["ocop.db"].dispose()


def test_not_ready_without_a_pin_secret_and_a_claim_answers_503(app: Flask, demo) -> None:
    production = _production(app)
    try:
        client = production.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "OCOP_PIN_SECRET" in ready.json["checks"]["secrets"]
        stamp = demo[6]
        claim = client.post(f"/V/{stamp.token.encode()}/pin", data={"pin": stamp.pin})
        assert claim.status_code == 503
    finally:
        production.extensions["ocop.db"].dispose()


def test_not_ready_without_the_key_passphrase(
    app: Flask, demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE")
    production = _production(app, pin_secret=PIN_SECRET)
    try:
        ready = production.test_client().get("/readyz")
        assert ready.status_code == 503
        assert "OCOP_KEY_PASSPHRASE" in ready.json["checks"]["secrets"]
    finally:
        production.extensions["ocop.db"].dispose()


def test_not_ready_when_the_passphrase_does_not_open_the_keys(
    app: Flask, demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "a different passphrase entirely")
    production = _production(app, pin_secret=PIN_SECRET)
    try:
        ready = production.test_client().get("/readyz")
        assert ready.status_code == 503
        assert "passphrase is wrong" in ready.json["checks"]["secrets"]
    finally:
        production.extensions["ocop.db"].dispose()


def test_ready_with_every_secret(app: Flask, demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", TEST_PASSPHRASE)
    production = _production(app, pin_secret=PIN_SECRET)
    try:
        ready = production.test_client().get("/readyz")
        assert ready.status_code == 200, ready.json
        assert ready.json["checks"] == {"database": "ok", "keys": "ok", "secrets": "ok"}
    finally:
        production.extensions["ocop.db"].dispose()
