"""The OpenAPI description (web/openapi.json) stays true: it is valid OpenAPI 3.1, it
is served at its stable path, it names every public and token route and no other,
and real answers of each route, happy and unhappy, match what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from ocop.trace.queries import find_organisation
from ocop.web.openapi import PATH, document
from ocop.workflows.api_tokens import create_token

from .console import conftest as console
from .console.conftest import World
from .console.test_receiving import EAN13, FORGED_LOT, GOOD, forge, issue

world = console.world

ROOT = Path(__file__).resolve().parents[2]
# Every route the document must describe: the public JSON API and the token API.
API_ENDPOINTS = {
    "api.verify_one", "api.verify_bulk", "api.trust", "api.signed_trust", "api.healthz",
    "api.readyz",
    "receiving_api.receive", "openapi.openapi",
    "transparency.sth", "transparency.consistency", "transparency.inclusion",
    "transparency.leaf_range", "transparency.key",
}  # fmt: skip


def conforms(response: Any, path: str, method: str = "get") -> None:
    """Fail unless ``response`` is one the document allows for ``method path``."""
    operation = document()["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: {status} is not documented"
    described = operation["responses"][status]
    media = response.mimetype
    assert media in described["content"], f"{method} {path} {status}: {media} not documented"
    schema = {**described["content"][media]["schema"], "components": document()["components"]}
    errors = sorted(
        Draft202012Validator(schema).iter_errors(json.loads(response.data)), key=lambda e: e.path
    )
    assert not errors, f"{method} {path} {status}: {errors[0].message} at {list(errors[0].path)}"


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(document())
    assert document()["openapi"].startswith("3.1")


def test_it_is_served_at_its_stable_path_and_named_in_the_readme(client: FlaskClient) -> None:
    response = client.get(PATH)
    assert PATH == "/api/v1/openapi.json"
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == document()
    assert PATH in (ROOT / "README.md").read_text()


def test_it_describes_every_api_route_and_no_other(app: Flask) -> None:
    documented = {re.sub(r"\{[^}]+\}", "<>", path) for path in document()["paths"]}
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in API_ENDPOINTS:
            path = re.sub(r"<[^>]+>", "<>", rule.rule)
            served.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert set(served) == documented
    for path, methods in served.items():
        template = next(p for p in document()["paths"] if re.sub(r"\{[^}]+\}", "<>", p) == path)
        assert {m.upper() for m in document()["paths"][template]} == methods, path


@pytest.fixture
def stamps(app: Flask, world: World, tmp_path: Path) -> dict[str, list[str]]:
    good = issue(app, tmp_path, GOOD, 2)
    other = issue(app, tmp_path, FORGED_LOT, 2)
    return {
        "good": [row["token"] for row in good],
        "forged_lot": [other[0]["token"], forge(other[1]["token"])],
    }


def test_verify_answers_match_the_document(client: FlaskClient, stamps) -> None:
    path = "/api/v1/verify/{token}"
    for token in [stamps["good"][0], stamps["forged_lot"][1], "junk", "x" * 3000, "%00"]:
        conforms(client.get(f"/api/v1/verify/{token}"), path)
    conforms(client.get("/api/v1/verify/"), path)  # no token: 404, problem+json


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"codes": []},
        {"codes": "x"},
        {"codes": [1]},
        {"codes": ["x" * 2049]},
        {"codes": ["x"] * 1001},
        [],
        {"codes": [EAN13, "https://example.com/", "junk"]},
    ],
)
def test_bulk_verify_answers_match_the_document(client: FlaskClient, stamps, body) -> None:
    response = client.post("/api/v1/verify", json=body)
    conforms(response, "/api/v1/verify", "post")
    assert response.status_code < 500


def test_bulk_verify_of_real_stamps_matches(client: FlaskClient, stamps) -> None:
    codes = [*stamps["good"], *stamps["forged_lot"]]
    response = client.post("/api/v1/verify", json={"codes": codes})
    assert response.status_code == 200
    conforms(response, "/api/v1/verify", "post")
    raw = client.post("/api/v1/verify", data=b"\xff{not json", content_type="application/json")
    assert raw.status_code == 400
    conforms(raw, "/api/v1/verify", "post")


def test_receiving_answers_match_the_document(
    client: FlaskClient, app: Flask, world: World, stamps
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        _, token = create_token(
            session, find_organisation(session, "0109456783"), "Kho", created_by="test"
        )
    path, auth = "/api/v1/receiving", {"Authorization": f"Bearer {token}"}

    def call(body: object, headers: dict[str, str] = auth):
        response = client.post(path, json=body, headers=headers)
        conforms(response, path, "post")
        return response.status_code

    assert call({"codes": stamps["good"]}, {}) == 401
    assert call({"codes": stamps["good"]}, {"Authorization": "Bearer ocop_nope"}) == 401
    assert call({"codes": stamps["good"], "colour": "red"}) == 400
    assert call({"codes": stamps["good"], "id": "\x00"}) == 400
    assert call({"codes": stamps["forged_lot"]}) == 422
    body = {"codes": stamps["good"], "id": "delivery-1", "reference": "PXK-1"}
    assert call(body) == 201
    assert call(body) == 200
    assert call({**body, "codes": [*stamps["good"], stamps["forged_lot"][0]]}) == 409


def test_trust_list_and_health_match_the_document(
    client: FlaskClient, app: Flask, world: World
) -> None:
    conforms(client.get("/.well-known/ocop-trust.json"), "/.well-known/ocop-trust.json")
    # This world has no root: the signed list is a 404 problem, as documented.
    conforms(client.get("/.well-known/ocop-trust.jws"), "/.well-known/ocop-trust.jws")
    conforms(client.get("/healthz"), "/healthz")
    conforms(client.get("/readyz"), "/readyz")
    conforms(client.get(PATH), PATH)
    for path, query in (
        ("/log/v1/sth", ""),
        ("/log/v1/key", ""),
        ("/log/v1/consistency", "?first=1&second=1"),
        ("/log/v1/consistency", "?first=9&second=1"),
        ("/log/v1/inclusion", "?index=0"),
        ("/log/v1/inclusion", "?index=x"),
        ("/log/v1/leaves", "?start=0&end=9"),
    ):
        conforms(client.get(path + query), path)


def test_not_ready_matches_the_document(client: FlaskClient) -> None:
    response = client.get("/readyz")  # no schema, no key yet
    assert response.status_code == 503
    conforms(response, "/readyz")


@pytest.mark.parametrize("path", ["/api/v1/verify", "/api/v1/receiving"])
def test_json_nested_past_the_parser_is_a_400_not_a_500(
    client: FlaskClient, app: Flask, world: World, path: str
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        _, token = create_token(
            session, find_organisation(session, "0109456783"), "Kho", created_by="test"
        )
    body = '{"codes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    conforms(response, path, "post")
