"""A small world for the console: the sample records, the first authority with its
key, and one account of each role (plus a second producer, for scoping tests).

``sign_in(client, "producer")`` signs a test client in; ``csrf(client)`` gives a
token for a form post, read from a console page as a browser would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ocop.trace import load_sample
from ocop.trace.models import Organisation, OrgKind
from ocop.trace.queries import find_organisation
from ocop.web.commands import prepare_instance
from ocop.workflows.accounts import create_user
from ocop.workflows.models import Role

from ..snapshots import restored

PASSWORD = "mật khẩu đủ dài 2026"

# How many requests the console fuzz (test_fuzz.py) sent, shown at the end of the run.
FUZZ_CASES = {"n": 0}

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class World:
    authority_id: int
    producer_id: int  # the sample's cooperative: its products, lots and areas
    other_producer_id: int  # the sample's household business: someone else's records
    distributor_id: int
    emails: dict[str, str]  # role name -> email


ROLE_NAMES = ("authority", "producer", "other_producer", "distributor")


@pytest.fixture
def world(app: Flask, instance: Path) -> World:
    """Built once per run, then restored for each test: building it (the sample
    import, a new issuer key) costs far more than copying its rows back."""
    return restored(app, instance, "console", lambda: _build_world(app))


def _build_world(app: Flask) -> World:
    database = app.extensions["ocop.db"]
    with app.app_context():
        database.upgrade()
        with database.transaction() as session:
            load_sample(session)
        prepare_instance()
        with database.transaction() as session:
            authority = session.query(Organisation).filter_by(kind=OrgKind.AUTHORITY).one()
            producer = find_organisation(session, "1001187342")
            other = find_organisation(session, "1002234561")
            distributor = find_organisation(session, "0109456783")
            emails = {}
            for name, org, role in (
                ("authority", authority, Role.AUTHORITY),
                ("producer", producer, Role.PRODUCER),
                ("other_producer", other, Role.PRODUCER),
                ("distributor", distributor, Role.DISTRIBUTOR),
            ):
                user, _ = create_user(session, f"{name}@test.vn", org, role, password=PASSWORD)
                emails[name] = user.email
            return World(authority.id, producer.id, other.id, distributor.id, emails)


def csrf(client: FlaskClient, page: str = "/console/") -> str:
    """A CSRF token for this client's session, read from a page as a browser would."""
    html = client.get(page).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def sign_in(client: FlaskClient, world: World, who: str) -> FlaskClient:
    token = csrf(client, "/console/signin")
    response = client.post(
        "/console/signin",
        data={"email": world.emails[who], "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def post(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """POST a console form with a valid CSRF token, as the browser would."""
    body = dict(data or {})
    body.setdefault("csrf_token", csrf(client))
    return client.post(url, data=body, **kwargs)


@pytest.fixture
def as_authority(client: FlaskClient, world: World) -> FlaskClient:
    return sign_in(client, world, "authority")


@pytest.fixture
def as_producer(client: FlaskClient, world: World) -> FlaskClient:
    return sign_in(client, world, "producer")


@pytest.fixture
def as_distributor(client: FlaskClient, world: World) -> FlaskClient:
    return sign_in(client, world, "distributor")


_CONFIRM = re.compile(r'name="confirm"[^>]*value="([^"]*)"')


def confirmed(client: FlaskClient, url: str, data: dict | None = None, **kwargs):
    """POST an irreversible action as a person does: open its confirmation page (the
    same URL), then send its form, with the page's CSRF token and confirmation."""
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    token, confirm = _CSRF.search(html), _CONFIRM.search(html)
    assert token and confirm, f"no confirmation form on {url}"
    body = {"csrf_token": token.group(1), "confirm": confirm.group(1), **(data or {})}
    return client.post(url, data=body, **kwargs)
