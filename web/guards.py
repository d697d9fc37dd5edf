"""Request values that can name nothing, refused before any view looks them up.

A record's code never holds a control character, and PostgreSQL refuses a NUL
in a query parameter outright; an id beyond a 64-bit integer overflows the
database's integer. Either is an answer for the client (404 or 400), never an
error from the database.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# The verify routes take any text and answer "invalid" for what is not a stamp.
FREE_TEXT_ENDPOINTS = frozenset(
    {"public.verify", "public.claim", "public.report", "api.verify_one"}
)
LARGEST_ID = 2**62


def has_control_characters(text: str, allowed: str = "") -> bool:
    return any(ch not in allowed and unicodedata.category(ch) == "Cc" for ch in text)


class BoundedInt(IntegerConverter):
    """``<int:...>`` that matches only ids a database integer can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def _refuse_control_characters_in_path(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if endpoint in FREE_TEXT_ENDPOINTS or not values:
        return
    if any(isinstance(v, str) and has_control_characters(v) for v in values.values()):
        abort(404)


def _refuse_control_characters_in_query() -> None:
    if request.endpoint in FREE_TEXT_ENDPOINTS:
        return
    if any(has_control_characters(k + v) for k, v in request.args.items(multi=True)):
        abort(400, "a query parameter holds control characters")


def init_app(app: Flask) -> None:
    """Must run before blueprints are registered: rules bind their converters then."""
    app.url_map.converters["int"] = BoundedInt
    app.url_value_preprocessor(_refuse_control_characters_in_path)
    app.before_request(_refuse_control_characters_in_query)


def query_id(name: str) -> int | None:
    """An optional id from the query string: None when absent, 400 when not an id."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= LARGEST_ID:
        abort(400, f"{name} must be a whole number from 1 to {LARGEST_ID}")
    return int(raw)
