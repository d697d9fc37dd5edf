"""Property-based fuzz of the whole console (issue 14): every route, as every role and
signed out, with generated path values, query parameters and form fields: no answer
is a 5xx, whatever is sent.

Routes come from the app's URL map, so a new view is fuzzed the day it is added.
Query parameter names are read from the console's source; form field names from
every console form class. Posts carry a valid CSRF token, so the forms are really
processed, not only refused. ``OCOP_FUZZ_EXAMPLES`` sets the examples per route and
role (4 by default, as in CI); the number of cases run is printed at the end.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import Form as PlainForm
from wtforms.fields.core import UnboundField

from ocop.web.console import forms as console_forms

from .conftest import FUZZ_CASES as _CASES
from .conftest import World, csrf, sign_in

EXAMPLES = int(os.environ.get("OCOP_FUZZ_EXAMPLES", "4"))
ROLES = ("authority", "producer", "other_producer", "distributor", None)
# Ending the session or changing the password would leave the rest of a run signed
# out; both are tested on their own (test_signin.py).
SKIPPED = {"console.signout", "console.password", "console.static"}
WEB = Path(__file__).resolve().parents[3] / "web"



def _app_routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every console route, from a throwaway app."""
    from ocop.web import create_app

    app = create_app({"database_url": "sqlite://", "secret_key": "x", "rate_limit": None})
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint in SKIPPED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, rule.rule, method))
    app.extensions["ocop.db"].dispose()
    return sorted(routes)


def _query_names() -> list[str]:
    pattern = re.compile(r'(?:request\.args\.get(?:list)?|query_id)\(\s*"([a-z_]+)"')
    names = set()
    for path in [*(WEB / "console").glob("*.py"), WEB / "guards.py"]:
        names.update(pattern.findall(path.read_text()))
    return sorted(names | {"start", "end", "producer", "product", "lot", "batch", "lang"})


def _form_fields() -> list[str]:
    """The field names of every console form (WTForms keeps them as UnboundField)."""
    import ocop.web.console.views  # noqa: F401  (imports every view module and its forms)

    names: set[str] = {"nonce", "code", "seal"}
    stack: list[type] = [console_forms.Form, PlainForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for klass in cls.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    return sorted(names)


ROUTES = _app_routes()
QUERY = _query_names()
FIELDS = _form_fields()

# Values a person or an attacker might send: real codes of the world, edges of
# every type the forms parse, and anything at all.
KNOWN = [
    "BC-2026-1115", "BD-2026-1105", "BANH-CAY-LANG-NGUYEN", "NX-XUONG", "1001187342",
    "0109456783", "authority@test.vn", "producer_member", "authority_officer", "ocop",
    "a4-5x8", "y", "on", "1", "2", "12",
]  # fmt: skip
EDGES = [
    "", " ", "0", "-1", "1e999", "NaN", "99999999999999999999999", str(2**63),
    "9999-12-31", "0001-01-01", "2026-02-30", "2026-11-29", "2026-11-29T25:61", "\x00", "\r\n",
    "=HYPERLINK(\"http://x\")", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd",
    "%00", "ü\u0301", "\ud7ff", "x" * 5000, "🙂" * 300,
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(EDGES),
    st.text(max_size=40),
    st.integers().map(str),
)
INTS = st.one_of(
    st.sampled_from([1, 2, 3, 4, 5, 8, 13, 4294967295, 2**53, 2**63 - 1]),
    st.integers(min_value=1, max_value=2**70),
)
PATHS = st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=60))
DAYS = st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2026-11-29"])
NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "1e999", "NaN", "1.5", "99999999999999999999999", str(2**63)]),
    INTS.map(str),
)
_DAY_WORDS = ("date", "_on", "from", "until", "start", "end", "before", "time")
_NUMBER_WORDS = ("count", "quantity", "page", "stars", "score", "area", "latitude", "longitude",
                 "batch", "org", "owner", "producer", "organisation", "index")  # fmt: skip


def _value(name: str) -> st.SearchStrategy[str]:
    """Edges of the type a field's name says, half the time; anything, the other half."""
    if any(word in name for word in _DAY_WORDS):
        return st.one_of(DAYS, VALUES)
    if any(word in name for word in _NUMBER_WORDS):
        return st.one_of(NUMBERS, VALUES)
    return VALUES


def _some_of(names: list[str], most: int) -> st.SearchStrategy[dict[str, str]]:
    """A few of ``names``, each with a fitting value: few, so that one refused value
    does not hide what the others would reach."""
    chosen = st.lists(st.sampled_from(names), unique=True, max_size=most)
    return chosen.flatmap(lambda keys: st.fixed_dictionaries({k: _value(k) for k in keys}))


def _url(rule: str, data: st.DataObject) -> str:
    def fill(match: re.Match[str]) -> str:
        converter = match.group(1) or ""
        if converter.startswith("int"):
            return str(data.draw(INTS))
        text = data.draw(PATHS).replace("/", "-") if not converter.startswith("path") else ""
        text = text or data.draw(PATHS)
        return "".join(ch if ch.isalnum() or ch in "-_." else f"%{ord(ch) & 0xFF:02X}"
                       for ch in text) or "x"  # fmt: skip

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?[a-z_]+>", fill, rule)


def _client(app: Flask, world: World, role: str | None) -> FlaskClient:
    client = app.test_client()
    return sign_in(client, world, role) if role else client


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "signed_out")
@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTES, ids=lambda v: str(v))
def test_no_console_input_makes_a_server_error(
    app: Flask, world: World, role: str | None, endpoint: str, rule: str, method: str
) -> None:
    client = _client(app, world, role)
    token = csrf(client, "/console/signin") if role is None else csrf(client)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        _CASES["n"] += 1
        url = _url(rule, data)
        query = data.draw(_some_of(QUERY, 3))
        form: dict[str, Any] = {}
        if method == "POST":
            form = data.draw(_some_of(FIELDS, 8))
            if data.draw(st.integers(0, 9)) > 0:  # mostly with a valid token: really processed
                form["csrf_token"] = token
        response = client.open(url, method=method, query_string=query, data=form)
        assert response.status_code < 500, (
            f"{method} {url} {query} {form} as {role}: {response.status_code}\n"
            + response.get_data(as_text=True)[:500]
        )

    fuzz()


# --- the edges, swept: every query parameter a page reads, with each edge of its type ---

EDGE_VALUES = {
    "day": ["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "20261129"],
    "number": ["0", "-1", "99999999999999999999999", str(2**63), "1e3", "١٢"],
    "text": ["", "\x00", "x" * 3000, "=1+1", "../.."],
}


def _kind(name: str) -> str:
    if any(word in name for word in _DAY_WORDS):
        return "day"
    return "number" if any(word in name for word in _NUMBER_WORDS) else "text"


def _pages() -> list[tuple[str, str, list[str]]]:
    """(endpoint, rule, query names its module reads) of every console page without
    path values."""
    import importlib

    from ocop.web import create_app

    app = create_app({"database_url": "sqlite://", "secret_key": "x", "rate_limit": None})
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and "GET" in rule.methods and not rule.arguments:
            module = importlib.import_module(app.view_functions[rule.endpoint].__module__)
            source = Path(module.__file__ or "").read_text()
            names = [n for n in QUERY if re.search(rf"\b{n}\b", source)] + ["page", "lang"]
            pages.append((rule.endpoint, rule.rule, sorted(set(names))))
    app.extensions["ocop.db"].dispose()
    return sorted(pages)


PAGES = _pages()


@pytest.mark.parametrize("role", ["authority", "producer"])
@pytest.mark.parametrize(("endpoint", "rule", "names"), PAGES, ids=lambda v: str(v))
def test_every_query_parameter_at_its_edges(
    app: Flask, world: World, role: str, endpoint: str, rule: str, names: list[str]
) -> None:
    client = _client(app, world, role)
    for name in names:
        for value in EDGE_VALUES[_kind(name)]:
            _CASES["n"] += 1
            response = client.get(rule, query_string={name: value})
            assert response.status_code < 500, (endpoint, role, name, value)
