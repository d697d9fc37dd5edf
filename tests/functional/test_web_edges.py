"""Limits, proxies and failures at the HTTP edge."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ocop.stamps import StampBatch
from ocop.web import create_app
from ocop.web.cli import main


@pytest.fixture
def limited_app(clean_database, database_url, instance, monkeypatch):
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "correct horse battery staple")
    app = create_app(
        {
            "database_url": database_url,
            "instance": instance,
            "secret_key": "test-secret",
            "rate_limit": "3/minute",
            "TESTING": True,
        }
    )
    yield app
    app.extensions["ocop.db"].dispose()


def test_rate_limit_answers_429_with_a_reason(limited_app):
    client = limited_app.test_client()
    statuses = [client.get("/api/v1/verify/junk").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/verify/junk")
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert "Retry-After" in response.headers
    page = client.get("/v/junk", headers={"Accept": "text/html"})
    assert page.status_code == 429 and "Quá nhiều yêu cầu" in page.get_data(as_text=True)


def test_rate_limit_off_means_off(app):
    client = app.test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(50))


def test_unexpected_error_is_a_plain_500_without_details(app, monkeypatch):
    from ocop.web import api

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api, "verify_and_count", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    client = app.test_client()
    response = client.get("/api/v1/verify/" + "A" * 130)
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)


def test_demo_twice_changes_nothing(app, runner):
    first = runner.invoke(main, ["demo", "--no-serve"])
    second = runner.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "created" in first.output
    with app.extensions["ocop.db"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(StampBatch)) == 1


def test_oversized_body_is_413(client):
    response = client.post(
        "/api/v1/verify", data=b"x" * (3 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413


def test_health_checks_are_never_limited(limited_app):
    client = limited_app.test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))


def test_reports_have_their_own_tighter_limit(limited_app):
    # The app-wide budget is 3/minute here; reports allow 5/hour, so the app's wins.
    client = limited_app.test_client()
    codes = [client.post("/v/junk/report", data={"message": "giả"}).status_code for _ in range(4)]
    assert codes[-1] == 429


def test_limits_of_one_app_do_not_leak_into_another(limited_app, app):
    limited = limited_app.test_client()
    for _ in range(4):
        limited.get("/api/v1/verify/junk")
    assert limited.get("/api/v1/verify/junk").status_code == 429
    assert app.test_client().get("/api/v1/verify/junk").status_code == 200


def test_no_input_makes_a_500(app):
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    client = app.test_client()

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.text(max_size=300), st.sampled_from(["/V/", "/v/", "/api/v1/verify/", "/p/products/"])
    )
    def check(text, prefix):
        path = prefix + quote(text, safe="")
        for response in (
            client.get(path, headers={"User-Agent": "Mozilla/5.0", "Accept": "application/json"}),
            client.post(path + "/report", data={"message": text or "x"}),
            client.post("/api/v1/verify", json={"codes": [text]}),
        ):
            assert response.status_code < 500, (path, response.status_code)

    check()
