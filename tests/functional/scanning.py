"""Shoppers and counterfeiters for the scan tests: phones, networks, the demo's stamps."""

from __future__ import annotations

import os

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.keys import keystore_for
from ocop.stamps import IssuedStamp, StampBatch, generate_stamps
from ocop.stamps.pin import PinSecret
from ocop.web.cli import main

ZALO = "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 Mobile Safari/537.36 Zalo"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile"


def demo_stamps(app: Flask, runner) -> list[IssuedStamp]:
    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    settings = app.config["OCOP"]
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalars(select(StampBatch)).one()
        keystore = keystore_for(settings.instance, os.environ, production=False)
        return list(
            generate_stamps(
                keystore.load(batch.key.kid),
                batch.id,
                batch.count,
                base_url=settings.base_url,
                pin_secret=PinSecret(settings.resolved_pin_secret()),
            )
        )


class Phone:
    """One shopper's phone: a browser that keeps cookies or not, on a network it may change."""

    def __init__(
        self, app: Flask, address: str, *, cookies: bool = True, agent: str = PHONE
    ) -> None:
        self.client: FlaskClient = app.test_client(use_cookies=cookies)
        self.address = address
        self.agent = agent

    def scan(self, stamp: IssuedStamp, *, page: bool = False, **headers: str):
        path = f"/V/{stamp.token.encode()}" if page else f"/api/v1/verify/{stamp.token.encode()}"
        return self.client.get(
            path,
            headers={"User-Agent": self.agent, **headers},
            environ_base={"REMOTE_ADDR": self.address},
        )

    def post(self, path: str, data: dict[str, str]):
        return self.client.post(
            path,
            data=data,
            headers={"User-Agent": self.agent},
            environ_base={"REMOTE_ADDR": self.address},
        )
