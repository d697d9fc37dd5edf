"""API tokens in the console: made by distributors, shown once, stored as a digest, revocable."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.db import utcnow
from ocop.trace.importer import import_records
from ocop.trace.queries import find_organisation
from ocop.workflows.api_tokens import authenticate, create_token
from ocop.workflows.errors import InvalidInput, TokenRefused
from ocop.workflows.models import ApiToken, AuditEntry

from .conftest import World, post, sign_in

_SECRET = re.compile(r'<p class="secret">(ocop_[A-Za-z0-9_-]{40})</p>')


def make_token(as_distributor: FlaskClient, name: str = "Phần mềm kho Hà Nội") -> str:
    response = post(as_distributor, "/console/api-tokens", {"name": name})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    match = _SECRET.search(response.get_data(as_text=True))
    assert match, "the new token is shown on the page"
    return match.group(1)


def tokens(app: Flask) -> list[ApiToken]:
    with app.extensions["ocop.db"].transaction() as session:
        found = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
        session.expunge_all()
        return found


def test_a_token_is_shown_once_and_only_its_digest_is_stored(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    text = make_token(as_distributor)
    [token] = tokens(app)
    assert token.digest == hashlib.sha256(text.encode()).hexdigest()
    assert token.prefix == text[:12] and token.name == "Phần mềm kho Hà Nội"
    assert token.organisation_id == world.distributor_id
    assert token.created_by == "distributor@test.vn"
    # Never again: not on the list, not in any column, not in the audit log.
    listing = as_distributor.get("/console/api-tokens").get_data(as_text=True)
    assert text not in listing and f"{token.prefix}…" in listing
    with app.extensions["ocop.db"].transaction() as session:
        row = session.execute(select(ApiToken.__table__)).one()
        assert text not in json.dumps([str(v) for v in row])
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("api_token%")))
        [entry] = list(entries)
        assert entry.action == "api_token.create"
        assert text not in json.dumps(entry.detail) and text not in (entry.target or "")


def test_the_list_shows_name_prefix_dates_and_state(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    make_token(as_distributor, "Kho A")
    text = make_token(as_distributor, "Kho B")
    with app.extensions["ocop.db"].transaction() as session:
        authenticate(session, text, utcnow())
    html = as_distributor.get("/console/api-tokens").get_data(as_text=True)
    assert "Kho A" in html and "Kho B" in html
    assert html.count("chưa dùng") == 1  # Kho B has been used
    assert html.count("đang dùng") == 2


def test_revoke_then_the_token_is_refused(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    text = make_token(as_distributor)
    [token] = tokens(app)
    response = post(as_distributor, f"/console/api-tokens/{token.id}/revoke")
    assert response.status_code == 302
    [token] = tokens(app)
    assert token.revoked_at is not None and token.revoked_by == "distributor@test.vn"
    with app.extensions["ocop.db"].transaction() as session, pytest.raises(TokenRefused):
        authenticate(session, text, utcnow())
    again = post(as_distributor, f"/console/api-tokens/{token.id}/revoke", follow_redirects=True)
    assert "đã bị thu hồi từ trước" in again.get_data(as_text=True)
    with app.extensions["ocop.db"].transaction() as session:
        count = session.scalar(select(func.count()).where(AuditEntry.action == "api_token.revoke"))
        assert count == 1
    assert "đã thu hồi" in as_distributor.get("/console/api-tokens").get_data(as_text=True)


def test_another_organisations_token_cannot_be_revoked(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        import_records(
            session,
            {
                "organisations": [
                    {"tax_code": "0109999990", "kind": "retailer", "name": "Cửa hàng Đặc sản Khác"}
                ]
            },
        )
        theirs, _ = create_token(
            session, find_organisation(session, "0109999990"), "Của họ", created_by="x@y.vn"
        )
        their_id = theirs.id
    assert post(as_distributor, f"/console/api-tokens/{their_id}/revoke").status_code == 404
    assert post(as_distributor, "/console/api-tokens/999999/revoke").status_code == 404
    assert all(t.revoked_at is None for t in tokens(app))
    assert "Của họ" not in as_distributor.get("/console/api-tokens").get_data(as_text=True)


def test_bad_names_and_missing_csrf_change_nothing(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    empty = post(as_distributor, "/console/api-tokens", {"name": "   "})
    assert empty.status_code == 400
    long = post(as_distributor, "/console/api-tokens", {"name": "x" * 101})
    assert long.status_code == 400
    control = post(as_distributor, "/console/api-tokens", {"name": "kho\x07"})
    assert control.status_code == 400
    assert "ký tự điều khiển" in control.get_data(as_text=True)
    no_csrf = as_distributor.post("/console/api-tokens", data={"name": "Kho"})
    assert no_csrf.status_code == 400
    text = make_token(as_distributor)
    [token] = tokens(app)
    forged = as_distributor.post(
        f"/console/api-tokens/{token.id}/revoke", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert tokens(app)[0].revoked_at is None
    assert text.startswith("ocop_")


@pytest.mark.parametrize("who", ["producer", "authority"])
def test_only_distributors_manage_tokens(
    client: FlaskClient, app: Flask, world: World, who: str
) -> None:
    sign_in(client, world, who)
    assert client.get("/console/api-tokens").status_code == 403
    assert post(client, "/console/api-tokens", {"name": "Kho"}).status_code == 403
    assert tokens(app) == []


def test_signed_out_people_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    response = client.get("/console/api-tokens")
    assert response.status_code == 302 and "/console/signin" in response.headers["Location"]


def test_tokens_are_for_distributors_and_retailers_only(app: Flask, world: World) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        producer = find_organisation(session, "1001187342")
        with pytest.raises(InvalidInput):
            create_token(session, producer, "Kho", created_by="x@y.vn")


def test_an_organisation_holds_a_bounded_number_of_live_tokens(
    as_distributor: FlaskClient, app: Flask, world: World
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        distributor = find_organisation(session, "0109456783")
        for n in range(20):
            create_token(session, distributor, f"Kho {n}", created_by="x@y.vn")
    response = post(as_distributor, "/console/api-tokens", {"name": "Kho 21"})
    assert response.status_code == 400
    assert len(tokens(app)) == 20


@pytest.mark.parametrize(
    "text", [None, "", "ocop_", "ocop_short", "x" * 45, "ocop_" + "A" * 40, "ocop_" + "é" * 40]
)
def test_unknown_or_malformed_tokens_are_refused(app: Flask, world: World, text) -> None:
    with app.extensions["ocop.db"].transaction() as session, pytest.raises(TokenRefused):
        authenticate(session, text, utcnow())
