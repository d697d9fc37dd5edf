"""HTTP at the public edge: CORS for other sites' apps, caching of the trust list,
problem+json as RFC 9457 has it, Retry-After only when refusing."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from ocop.web import create_app
from ocop.web.cli import main

SHOP = "https://shop.example"


@pytest.fixture
def keyed(runner):
    result = runner.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/verify", "POST"),
        ("/api/v1/verify/ABC", "GET"),
        ("/.well-known/ocop-trust.json", "GET"),
    ],
)
def test_preflight_allows_the_public_read_apis(client, path, method):
    response = client.options(
        path,
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.data == b"" and "Content-Type" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cross_origin_calls_get_cors_headers(client, keyed):
    bulk = client.post("/api/v1/verify", json={"codes": ["x"]}, headers={"Origin": SHOP})
    one = client.get("/api/v1/verify/x", headers={"Origin": SHOP})
    trust = client.get("/.well-known/ocop-trust.json", headers={"Origin": SHOP})
    for response in (bulk, one, trust):
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in trust.headers["Access-Control-Expose-Headers"]


def test_the_console_and_its_token_api_stay_same_origin(client):
    for path in ("/console/", "/api/v1/receiving"):
        response = client.options(
            path, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"}
        )
        assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_for_a_method_not_offered_is_not_allowed(client):
    response = client.options(
        "/.well-known/ocop-trust.json",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "DELETE"},
    )
    assert "DELETE" not in response.headers.get("Access-Control-Allow-Methods", "")


def test_trust_list_has_etag_last_modified_and_answers_304(client, keyed):
    first = client.get("/.well-known/ocop-trust.json")
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/.well-known/ocop-trust.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = client.get("/.well-known/ocop-trust.json", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = client.get("/.well-known/ocop-trust.json", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.data == first.data


def test_trust_list_etag_changes_when_a_key_does(client, runner, keyed):
    etag = client.get("/.well-known/ocop-trust.json").headers["ETag"]
    kid = json.loads(client.get("/.well-known/ocop-trust.json").data)["keys"][0]["kid"]
    result = runner.invoke(main, ["keys", "revoke", "--reason", "lost laptop", "--", kid])
    assert result.exit_code == 0, result.output
    response = client.get("/.well-known/ocop-trust.json", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert json.loads(response.data)["keys"][0]["status"] == "revoked"


def test_an_empty_trust_list_is_still_a_200(client):
    response = client.get("/.well-known/ocop-trust.json")
    assert response.status_code == 200 and "ETag" in response.headers


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"data": "not json", "content_type": "application/json"}, 400),
        ({"json": {"codes": ["x"] * 1001}}, 422),
        ({"json": {"codes": [1]}}, 400),
    ],
)
def test_problem_titles_are_the_status_phrase(client, request_args, status):
    response = client.post("/api/v1/verify", **request_args)
    body = response.get_json()
    assert response.status_code == status
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["detail"]


def test_a_count_over_the_limit_is_422_and_a_huge_body_is_413(client):
    many = client.post("/api/v1/verify", json={"codes": ["x"] * 1001})
    assert many.status_code == 422 and "1000" in many.get_json()["detail"]
    huge = client.post(
        "/api/v1/verify", data=b"[" * (3 * 1024 * 1024), content_type="application/json"
    )
    assert huge.status_code == 413


def test_404_problem_title_is_the_phrase(client):
    assert client.get("/api/v1/nothing").get_json()["title"] == "Not Found"


def test_retry_after_only_on_refusals(clean_database, database_url, instance, monkeypatch):
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "correct horse battery staple")
    app = create_app(
        {
            "database_url": database_url,
            "instance": instance,
            "secret_key": "test-secret",
            "rate_limit": "2/minute",
            "TESTING": True,
        }
    )
    client = app.test_client()
    try:
        answers = [client.get("/api/v1/verify/x") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert all("Retry-After" not in a.headers for a in answers[:2])
        assert "Retry-After" in answers[2].headers
    finally:
        app.extensions["ocop.db"].dispose()
