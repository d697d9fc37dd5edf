"""Accounts managed in the browser by authority officers."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.workflows.models import AuditEntry, Role, User

from .conftest import PASSWORD, World, csrf, post, sign_in

_SECRET = re.compile(r'<p class="secret">([^<]+)</p>')


def _signin(client: FlaskClient, email: str, password: str):
    return client.post(
        "/console/signin",
        data={"email": email, "password": password, "csrf_token": csrf(client, "/console/signin")},
    )


def _user(app: Flask, email: str) -> User | None:
    with app.extensions["ocop.db"].transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is not None:
            session.expunge(user)
        return user


def _counts(app: Flask) -> tuple[int, int]:
    with app.extensions["ocop.db"].transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def _audit_text(app: Flask) -> str:
    with app.extensions["ocop.db"].transaction() as session:
        rows = session.scalars(select(AuditEntry)).all()
        return " ".join(f"{e.action} {e.target} {e.detail}" for e in rows)


def _new(client: FlaskClient, email: str, org_id: int, role: Role):
    return post(
        client, "/console/users/new", {"email": email, "organisation": org_id, "role": role.value}
    )


def test_create_shows_the_one_time_password_once(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    form = as_authority.get("/console/users/new")
    assert form.status_code == 200
    assert "Hợp tác xã Bánh cáy làng Nguyễn" in form.get_data(as_text=True)
    response = _new(as_authority, "Moi@Test.vn", world.producer_id, Role.PRODUCER)
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = _SECRET.search(page).group(1)
    assert len(secret) >= 10 and "moi@test.vn" in page

    user = _user(app, "moi@test.vn")
    assert user is not None and user.role is Role.PRODUCER and user.must_change_password
    assert user.organisation_id == world.producer_id
    assert secret not in user.password_hash

    listing = as_authority.get("/console/users").get_data(as_text=True)
    assert "moi@test.vn" in listing
    assert secret not in listing and "$argon2" not in listing
    audit_page = as_authority.get("/console/audit").get_data(as_text=True)
    assert "user.create" in audit_page and secret not in audit_page
    assert secret not in _audit_text(app) and "user.create moi@test.vn" in _audit_text(app)

    # The password works once, and must be changed first.
    fresh = app.test_client()
    signed = _signin(fresh, "moi@test.vn", secret)
    assert signed.headers["Location"].endswith("/console/password")


@pytest.mark.parametrize(
    ("org", "role"),
    [
        ("producer_id", Role.AUTHORITY),
        ("distributor_id", Role.PRODUCER),
        ("authority_id", Role.DISTRIBUTOR),
    ],
)
def test_a_role_that_does_not_fit_the_organisation_is_refused(
    app: Flask, world: World, as_authority: FlaskClient, org: str, role: Role
) -> None:
    before = _counts(app)
    response = _new(as_authority, "sai@test.vn", getattr(world, org), role)
    assert response.status_code == 400
    assert "phải thuộc một tổ chức loại" in response.get_data(as_text=True)
    assert _counts(app) == before
    assert _user(app, "sai@test.vn") is None


def test_a_duplicate_email_is_refused(app: Flask, world: World, as_authority: FlaskClient) -> None:
    before = _counts(app)
    response = _new(as_authority, "PRODUCER@test.vn", world.producer_id, Role.PRODUCER)
    assert response.status_code == 409
    assert "đã có tài khoản cho" in response.get_data(as_text=True)
    assert _counts(app) == before


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an email", "organisation": "{producer}", "role": "producer_member"},
        {"email": "x@test.vn", "organisation": "999999", "role": "producer_member"},
        {"email": "x@test.vn", "organisation": "abc", "role": "producer_member"},
        {"email": "x@test.vn", "organisation": "{producer}", "role": "superuser"},
        {"email": "", "organisation": "{producer}", "role": "producer_member"},
    ],
)
def test_bad_values_are_refused(
    app: Flask, world: World, as_authority: FlaskClient, data: dict[str, str]
) -> None:
    before = _counts(app)
    filled = {k: v.format(producer=world.producer_id) for k, v in data.items()}
    assert post(as_authority, "/console/users/new", filled).status_code == 400
    assert _counts(app) == before


def test_missing_csrf_token_is_refused(app: Flask, world: World, as_authority: FlaskClient) -> None:
    before = _counts(app)
    response = as_authority.post(
        "/console/users/new",
        data={"email": "x@test.vn", "organisation": world.producer_id, "role": "producer_member"},
    )
    assert response.status_code == 400
    producer = _user(app, world.emails["producer"])
    assert as_authority.post(f"/console/users/{producer.id}/disable").status_code == 400
    assert as_authority.post(f"/console/users/{producer.id}/reset").status_code == 400
    assert _counts(app) == before
    after = _user(app, world.emails["producer"])
    assert after.active and after.password_hash == producer.password_hash


def test_reset_gives_a_new_one_time_password_and_ends_sessions(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    victim = sign_in(app.test_client(), world, "producer")
    producer = _user(app, world.emails["producer"])
    response = post(as_authority, f"/console/users/{producer.id}/reset")
    assert response.status_code == 200
    secret = _SECRET.search(response.get_data(as_text=True)).group(1)
    assert victim.get("/console/").status_code == 302  # signed out
    assert _signin(app.test_client(), world.emails["producer"], PASSWORD).status_code == 401
    fresh = app.test_client()
    assert (
        _signin(fresh, world.emails["producer"], secret)
        .headers["Location"]
        .endswith("/console/password")
    )
    assert secret not in _audit_text(app)
    assert "user.reset_password producer@test.vn" in _audit_text(app)
    assert secret not in as_authority.get("/console/users").get_data(as_text=True)


def test_disable_ends_the_session_and_enable_restores_sign_in(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    victim = sign_in(app.test_client(), world, "producer")
    assert victim.get("/console/").status_code == 200
    producer = _user(app, world.emails["producer"])
    response = post(as_authority, f"/console/users/{producer.id}/disable")
    assert response.status_code == 302
    assert not _user(app, world.emails["producer"]).active
    assert victim.get("/console/").status_code == 302
    assert _signin(app.test_client(), world.emails["producer"], PASSWORD).status_code == 401
    listing = as_authority.get("/console/users").get_data(as_text=True)
    assert "Đã khoá" in listing

    again = post(as_authority, f"/console/users/{producer.id}/disable")
    assert again.status_code == 409 and "đã bị khoá rồi" in again.get_data(as_text=True)

    assert post(as_authority, f"/console/users/{producer.id}/enable").status_code == 302
    assert _user(app, world.emails["producer"]).active
    assert _signin(app.test_client(), world.emails["producer"], PASSWORD).status_code == 302
    assert post(as_authority, f"/console/users/{producer.id}/enable").status_code == 409
    actions = _audit_text(app)
    assert "user.disable producer@test.vn" in actions and "user.enable producer@test.vn" in actions


def test_an_officer_cannot_disable_or_reset_themself(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    me = _user(app, world.emails["authority"])
    before = _counts(app)
    response = post(as_authority, f"/console/users/{me.id}/disable")
    assert response.status_code == 409
    assert "tự khoá tài khoản của mình" in response.get_data(as_text=True)
    assert post(as_authority, f"/console/users/{me.id}/reset").status_code == 409
    assert _user(app, world.emails["authority"]).active
    assert _user(app, world.emails["authority"]).password_hash == me.password_hash
    assert _counts(app) == before
    assert as_authority.get("/console/").status_code == 200


def test_unknown_accounts_are_404(as_authority: FlaskClient) -> None:
    for url in ("/console/users/999999/disable", f"/console/users/{2**70}/reset"):
        assert post(as_authority, url).status_code == 404


@pytest.mark.parametrize("who", ["producer", "distributor"])
def test_only_authorities_manage_accounts(app: Flask, world: World, who: str) -> None:
    client = sign_in(app.test_client(), world, who)
    before = _counts(app)
    authority = _user(app, world.emails["authority"])
    assert client.get("/console/users").status_code == 403
    assert client.get("/console/users/new").status_code == 403
    assert _new(client, "x@test.vn", world.producer_id, Role.PRODUCER).status_code == 403
    for verb in ("reset", "disable", "enable"):
        assert post(client, f"/console/users/{authority.id}/{verb}").status_code == 403
    assert _counts(app) == before
    assert app.test_client().get("/console/users").status_code == 302


def test_an_officer_cannot_take_over_another_councils_accounts(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    """Another council's officers hold that council's keys: out of reach, as if absent."""
    from ocop.trace.models import Organisation, OrgKind
    from ocop.workflows.accounts import create_user

    with app.extensions["ocop.db"].transaction() as session:
        council = Organisation(
            kind=OrgKind.AUTHORITY, name="Hội đồng OCOP tỉnh khác", tax_code="AUTH-OTHER"
        )
        session.add(council)
        session.flush()
        officer, _ = create_user(
            session, "officer@other.vn", council, Role.AUTHORITY, password=PASSWORD
        )
        officer_id, council_id = officer.id, council.id
    before = _counts(app)
    for action in ("reset", "disable"):
        assert post(as_authority, f"/console/users/{officer_id}/{action}").status_code == 404
    new = post(
        as_authority,
        "/console/users/new",
        {"email": "mole@other.vn", "organisation": council_id, "role": "authority_officer"},
    )
    assert new.status_code == 400
    assert "officer@other.vn" not in as_authority.get("/console/users").get_data(as_text=True)
    assert _counts(app) == before
    assert _user(app, "officer@other.vn").active
