"""``POST /api/v1/receiving``: a distributor's system checks a delivery and records its receipt."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.db import utcnow
from ocop.trace.queries import find_organisation
from ocop.workflows.api_tokens import create_token, revoke_token
from ocop.workflows.models import ApiToken, AuditEntry

from .console import conftest as console
from .console.conftest import World
from .console.test_receiving import EAN13, FORGED_LOT, GOOD, OTHER_SITE, events, forge, issue

# The console's world (sample records, the authority's key, the distributor) serves here too.
world = console.world

URL = "/api/v1/receiving"


@pytest.fixture
def token(app: Flask, world: World) -> str:
    with app.extensions["ocop.db"].transaction() as session:
        _, text = create_token(
            session, find_organisation(session, "0109456783"), "Kho", created_by="test"
        )
    return text


@pytest.fixture
def codes(app: Flask, world: World, tmp_path: Path) -> dict[str, list[str]]:
    good = issue(app, tmp_path, GOOD, 3)
    other = issue(app, tmp_path, FORGED_LOT, 2)
    return {
        "good": [row["url"] for row in good],
        "forged_lot": [other[0]["token"], forge(other[1]["token"])],
    }


def call(client: FlaskClient, token: str | None, body: object, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(URL, json=body, headers=headers, **kwargs)


def test_receives_the_lots_that_passed(
    client: FlaskClient, app: Flask, token: str, codes: dict[str, list[str]]
) -> None:
    body = {
        "codes": [*codes["good"], *codes["forged_lot"], EAN13, OTHER_SITE],
        "reference": "PXK-2025-1028-01",
        "id": "delivery-0001",
    }
    response = call(client, token, body)
    data = response.get_json()
    assert response.status_code == 201, data
    [received] = data["received"]
    assert received["lot"] == GOOD and received["codes"] == 3
    assert received["event_id"] == data["event_id"] and data["replayed"] is False
    [refused] = data["refused"]
    assert refused["lot"] == FORGED_LOT and "bad_signature" in refused["reason"]
    statuses = [r["status"] for r in data["results"]]
    assert statuses == ["genuine"] * 4 + ["invalid"] * 3
    forged = data["results"][4]
    assert forged["lot"] is None and forged["claims_lot"] == FORGED_LOT
    assert forged["serial"] is None  # a fake's number is never vouched for
    assert data["results"][5]["kind"] == "barcode"
    assert data["results"][6]["reasons"] == ["not_an_ocop_stamp"]
    assert data["summary"]["by_status"] == {"genuine": 4, "invalid": 3}
    assert data["summary"]["not_ocop_stamps"] == 2
    assert events(app) == [(data["event_id"], "receiving", [GOOD])]
    with app.extensions["ocop.db"].transaction() as session:
        assert session.scalars(select(ApiToken)).one().last_used_at is not None
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "receiving.record")
        ).one()
        assert entry.target == data["event_id"]
        assert entry.organisation_id == find_organisation(session, "0109456783").id
        assert entry.detail["lots"] == [GOOD] and token not in entry.actor


def test_the_same_body_and_id_twice_records_one_event(
    client: FlaskClient, app: Flask, token: str, codes: dict[str, list[str]]
) -> None:
    body = {"codes": codes["good"], "id": "retry-me"}
    first = call(client, token, body)
    second = call(client, token, body)
    assert first.status_code == 201 and second.status_code == 200
    assert second.get_json()["replayed"] is True
    assert first.get_json()["event_id"] == second.get_json()["event_id"]
    assert len(events(app)) == 1
    with app.extensions["ocop.db"].transaction() as session:
        audited = select(func.count()).where(AuditEntry.action == "receiving.record")
        assert session.scalar(audited) == 1
    # Without an id every call is a delivery of its own.
    assert call(client, token, {"codes": codes["good"]}).status_code == 201
    assert len(events(app)) == 2


def test_an_id_used_for_other_lots_is_a_conflict(
    client: FlaskClient, app: Flask, token: str, codes: dict[str, list[str]]
) -> None:
    assert call(client, token, {"codes": codes["good"], "id": "k1"}).status_code == 201
    clash = call(client, token, {"codes": [*codes["good"], codes["forged_lot"][0]], "id": "k1"})
    assert clash.status_code == 409
    assert clash.mimetype == "application/problem+json"
    assert len(events(app)) == 1


def test_nothing_passed_is_422_and_records_nothing(
    client: FlaskClient, app: Flask, token: str, codes: dict[str, list[str]]
) -> None:
    response = call(client, token, {"codes": [*codes["forged_lot"], EAN13]})
    data = response.get_json()
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert data["title"] == "Unprocessable Entity" and data["received"] == []
    assert data["detail"].startswith("Nothing received: ")
    assert data["refused"][0]["lot"] == FORGED_LOT
    assert len(data["results"]) == 3
    assert events(app) == []


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer ocop_" + "A" * 40],
)
def test_missing_or_unknown_tokens_are_401(
    client: FlaskClient, app: Flask, world: World, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post(URL, json={"codes": ["x"]}, headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert events(app) == []


def test_a_token_revoked_mid_way_is_refused_on_the_next_call(
    client: FlaskClient, app: Flask, token: str, codes: dict[str, list[str]]
) -> None:
    assert call(client, token, {"codes": codes["good"][:1]}).status_code == 201
    with app.extensions["ocop.db"].transaction() as session:
        revoke_token(session, session.scalars(select(ApiToken)).one(), by="test", now=utcnow())
    refused = call(client, token, {"codes": codes["good"][1:]})
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert len(events(app)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"codes": "not a list"}, 400),
        ({"codes": []}, 400),
        ({"codes": [1]}, 400),
        ({"codes": ["x"], "refrence": "typo"}, 400),
        ({"codes": ["x"], "id": 7}, 400),
        ({"codes": ["x"], "id": ""}, 400),
        ({"codes": ["x"], "id": "x" * 201}, 400),
        ({"codes": ["x"], "reference": "x" * 101}, 400),
        ({"codes": ["x"], "reference": ["PXK"]}, 400),
        ({"codes": ["x"] * 1001}, 422),
        (["x"], 400),
    ],
)
def test_bad_bodies_are_refused_clearly(
    client: FlaskClient, app: Flask, token: str, body: object, status: int
) -> None:
    response = call(client, token, body)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert events(app) == []


def test_malformed_json_is_400(client: FlaskClient, app: Flask, token: str) -> None:
    response = client.post(
        URL,
        data=b'{"codes": [',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["title"] == "Bad Request"
    assert response.get_json()["detail"].startswith("Invalid JSON")


def test_the_api_needs_no_csrf_token_and_no_session(
    client: FlaskClient, token: str, codes: dict[str, list[str]]
) -> None:
    response = call(client, token, {"codes": codes["good"][:1]})
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
