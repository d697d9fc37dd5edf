"""Signing in and out, the lockout, password changes, sessions and CSRF."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.web.cli import main
from ocop.workflows.accounts import MAX_FAILURES
from ocop.workflows.models import AuditEntry, User

from .conftest import PASSWORD, World, csrf, post, sign_in


def _signin(client: FlaskClient, email: str, password: str):
    return client.post(
        "/console/signin",
        data={"email": email, "password": password, "csrf_token": csrf(client, "/console/signin")},
    )


def test_console_asks_for_sign_in(client: FlaskClient, world: World) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert "/console/signin" in response.headers["Location"]


def test_sign_in_then_home_then_sign_out(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "producer")
    page = client.get("/console/")
    assert page.status_code == 200
    assert "producer@test.vn" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    response = post(client, "/console/signout")
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


def test_session_cookie_is_http_only_and_same_site(client: FlaskClient, world: World) -> None:
    response = _signin(client, world.emails["producer"], PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: FlaskClient, world: World
) -> None:
    wrong = _signin(client, world.emails["producer"], "not the password")
    unknown = _signin(client, "nobody@test.vn", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Sai email hoặc mật khẩu" in wrong.get_data(as_text=True)
    assert "not the password" not in wrong.get_data(as_text=True)


def test_account_locks_after_repeated_failures(
    client: FlaskClient, world: World, app: Flask
) -> None:
    for _ in range(MAX_FAILURES):
        assert _signin(client, world.emails["producer"], "wrong wrong wrong").status_code == 401
    # Now even the right password is refused until the lock ends.
    assert _signin(client, world.emails["producer"], PASSWORD).status_code == 401
    with app.extensions["ocop.db"].transaction() as session:
        user = session.scalars(select(User).where(User.email == world.emails["producer"])).one()
        assert user.locked_until is not None


def test_missing_or_wrong_csrf_token_is_refused(client: FlaskClient, world: World) -> None:
    no_token = client.post(
        "/console/signin", data={"email": world.emails["producer"], "password": PASSWORD}
    )
    assert no_token.status_code == 400
    sign_in(client, world, "producer")
    forged = client.post("/console/signout", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/console/").status_code == 200  # still signed in: nothing changed


def test_password_change_signs_other_browsers_out(app: Flask, world: World) -> None:
    first, second = app.test_client(), app.test_client()
    sign_in(first, world, "producer")
    sign_in(second, world, "producer")
    new = "một mật khẩu mới khác hẳn"
    response = post(
        first,
        "/console/password",
        {"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert first.get("/console/").status_code == 200
    assert second.get("/console/").status_code == 302
    email = world.emails["producer"]
    assert _signin(app.test_client(), email, PASSWORD).status_code == 401
    assert _signin(app.test_client(), email, new).status_code == 302


def test_password_change_refuses_a_short_one(as_producer: FlaskClient) -> None:
    response = post(
        as_producer,
        "/console/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm": "short"},
    )
    assert response.status_code == 400
    assert "10" in response.get_data(as_text=True)


def test_one_time_password_must_be_changed_first(app: Flask, world: World, runner) -> None:
    result = runner.invoke(
        main, ["users", "add", "new@test.vn", "--org", str(world.producer_id), "--role", "producer"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.rsplit(": ", 1)[1].strip()
    client = app.test_client()
    response = _signin(client, "new@test.vn", secret)
    assert response.headers["Location"].endswith("/console/password")
    assert client.get("/console/").headers["Location"].endswith("/console/password")


def test_users_add_refuses_a_role_that_does_not_fit_the_organisation(runner, world: World) -> None:
    result = runner.invoke(
        main, ["users", "add", "x@test.vn", "--org", str(world.producer_id), "--role", "authority"]
    )
    assert result.exit_code != 0
    assert "authority" in result.output
    assert "Traceback" not in result.output


def test_open_redirect_after_sign_in_is_refused(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/console/signin?next=//evil.example/console",
        data={
            "email": world.emails["producer"],
            "password": PASSWORD,
            "csrf_token": csrf(client, "/console/signin"),
        },
    )
    assert response.headers["Location"] == "/console/"


def test_sign_in_is_audited_without_the_password(
    client: FlaskClient, world: World, app: Flask
) -> None:
    sign_in(client, world, "producer")
    with app.extensions["ocop.db"].transaction() as session:
        entries = session.scalars(select(AuditEntry)).all()
    assert [e.action for e in entries] == ["user.create", "account.signin"] or any(
        e.action == "account.signin" for e in entries
    )
    assert all(PASSWORD not in str(e.detail) for e in entries)


def test_passwords_and_session_cookies_never_reach_the_log(
    client: FlaskClient, world: World, caplog
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    _signin(client, world.emails["producer"], "a wrong password 123")
    response = _signin(client, world.emails["producer"], PASSWORD)
    cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    client.get("/console/")
    for secret in (PASSWORD, "a wrong password 123", cookie):
        assert secret not in caplog.text


# --- sessions: their life and their end (issue 14) ---


def test_a_session_lasts_eight_hours_not_flasks_thirty_one_days(
    client: FlaskClient, world: World, app: Flask
) -> None:
    import datetime as dt
    from email.utils import parsedate_to_datetime

    assert app.permanent_session_lifetime == dt.timedelta(hours=8)
    response = _signin(client, world.emails["producer"], PASSWORD)
    cookie = response.headers["Set-Cookie"]
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    left = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=7, minutes=55) < left <= dt.timedelta(hours=8)


def test_a_session_ends_eight_hours_after_sign_in_even_when_used(
    client: FlaskClient, world: World, monkeypatch
) -> None:
    import time

    sign_in(client, world, "producer")
    started = time.time()
    # Used every hour, the cookie is renewed each time; the sign-in still ends.
    for hours in (1, 3, 5, 7):
        monkeypatch.setattr(time, "time", lambda h=hours: started + h * 3600)
        assert client.get("/console/").status_code == 200, hours
    monkeypatch.setattr(time, "time", lambda: started + 8 * 3600 + 60)
    assert client.get("/console/").status_code == 302


def test_signing_out_ends_the_session_on_the_server(app: Flask, world: World) -> None:
    browser = app.test_client()
    sign_in(browser, world, "producer")
    stolen = browser.get_cookie("session")
    assert stolen is not None
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/console/").status_code == 200  # the copy works while signed in
    assert post(browser, "/console/signout").status_code == 302
    assert thief.get("/console/").status_code == 302  # and not after signing out
    assert browser.get("/console/").status_code == 302
    # Signing in again makes a new session that works.
    sign_in(browser, world, "producer")
    assert browser.get("/console/").status_code == 200


def test_a_session_without_its_sign_in_time_is_refused(app: Flask, world: World) -> None:
    browser = app.test_client()
    sign_in(browser, world, "producer")
    with browser.session_transaction("/console/") as saved:
        saved.pop("since")
    assert browser.get("/console/").status_code == 302
    with browser.session_transaction("/console/") as saved:
        assert "uid" not in saved
