"""Every console route against every role and no sign-in: who may do what.

The matrix is read from the app itself (each view's permission, set by
``@requires``) and from ``access.PERMISSIONS``, so a new view is covered the
moment it exists, and a view without a permission fails the first test.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from ocop.workflows.access import permitted
from ocop.workflows.models import Role

from .conftest import World, csrf, sign_in

# Views anyone may open: signing in must be possible before signing in.
PUBLIC = {"console.signin"}
ROLES = {"authority": Role.AUTHORITY, "producer": Role.PRODUCER, "distributor": Role.DISTRIBUTOR}


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


@pytest.mark.parametrize("who", sorted(ROLES))
def test_each_role_reaches_exactly_what_its_permissions_allow(
    app: Flask, world: World, who: str
) -> None:
    client = sign_in(app.test_client(), world, who)
    role = ROLES[who]
    wrong: list[str] = []
    for rule in _console_rules(app):
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "permission", None)
        if permission is None or rule.endpoint == "console.signout":
            continue
        for method in _methods(rule):
            url = _url(app, rule)
            status = _request(client, method, url).status_code
            allowed = permitted(role, permission)
            if status >= 500 or (status == 403) == allowed:
                wrong.append(f"{method} {url} ({permission}) -> {status}")
    assert not wrong, f"{who}:\n" + "\n".join(wrong)
