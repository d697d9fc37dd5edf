"""Every console route against every role and no sign-in: who may do what.

The routes are read from the app itself (each view's permission, set by
``@requires``), so a new view is covered the moment it exists, and a view
without a permission fails the first test. Who holds each permission is written
out below, not read from ``access.PERMISSIONS``: a change to who may do what
must change this table too, on purpose.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from .conftest import World, csrf, sign_in

# Views anyone may open: signing in must be possible before signing in.
PUBLIC = {"console.signin"}
ROLES = {"authority": "A", "producer": "P", "distributor": "D"}

# permission -> the roles that hold it (A authority, P producer, D distributor)
EXPECTED: dict[str, str] = {
    "console.view": "APD",
    "organisations.view": "A",
    "organisations.manage": "A",
    "users.manage": "A",
    "products.view": "AP",
    "products.edit": "AP",
    "products.approve": "A",
    "certifications.manage": "A",
    "records.view": "AP",
    "records.edit": "P",
    "stamp_requests.view": "AP",
    "stamp_requests.submit": "P",
    "stamp_requests.decide": "A",
    "stamp_requests.abandon": "AP",
    "jobs.view": "AP",
    "stamp_outputs.download": "AP",
    "lots.recall": "A",
    "batches.void": "A",
    "stamps.activate": "P",
    "keys.manage": "A",
    "audit.view": "A",
    "analytics.view": "AP",
    "reports.view": "AP",
    "reports.handle": "AP",
    "receiving.use": "D",
    "api_tokens.manage": "D",
}


def _console_rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("console.")),
        key=lambda r: r.rule,
    )


def _url(app: Flask, rule: Rule) -> str:
    """The rule's URL with ids that exist nowhere: a permitted role gets 404, not 403."""
    values = {
        name: 987654 if isinstance(converter, IntegerConverter) else "NO-SUCH-CODE"
        for name, converter in rule._converters.items()
    }
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=_methods(rule)[0])


def _methods(rule: Rule) -> list[str]:
    return sorted(m for m in (rule.methods or ()) if m not in {"HEAD", "OPTIONS"})


def test_every_console_view_names_a_permission(app: Flask) -> None:
    missing = [
        r.endpoint
        for r in _console_rules(app)
        if r.endpoint not in PUBLIC and not hasattr(app.view_functions[r.endpoint], "permission")
    ]
    assert not missing, f"console views without @requires: {missing}"


def _request(client: FlaskClient, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": csrf(client)})


def test_without_sign_in_every_view_sends_to_the_sign_in_page(app: Flask, world: World) -> None:
    client = app.test_client()
    token = csrf(client, "/console/signin")
    for rule in _console_rules(app):
        if rule.endpoint in PUBLIC:
            continue
        for method in _methods(rule):
            url = _url(app, rule)
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/console/signin" in response.headers["Location"], (method, url)


def test_every_permission_in_use_is_in_the_table(app: Flask) -> None:
    used = {getattr(view, "permission", None) for view in app.view_functions.values()}
    missing = sorted(used - {None} - set(EXPECTED))
    assert not missing, f"not in EXPECTED: {missing}"


@pytest.mark.parametrize("who", sorted(ROLES))
def test_each_role_reaches_exactly_what_its_permissions_allow(
    app: Flask, world: World, who: str
) -> None:
    client = sign_in(app.test_client(), world, who)
    wrong: list[str] = []
    for rule in _console_rules(app):
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "permission", None)
        if permission is None or rule.endpoint == "console.signout":
            continue
        for method in _methods(rule):
            url = _url(app, rule)
            status = _request(client, method, url).status_code
            allowed = ROLES[who] in EXPECTED[permission]
            if status >= 500 or (status == 403) == allowed:
                wrong.append(f"{method} {url} ({permission}) -> {status}")
    assert not wrong, f"{who}:\n" + "\n".join(wrong)
