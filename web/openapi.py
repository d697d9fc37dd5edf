"""The OpenAPI 3.1 description of the public and token APIs, served as written.

``web/openapi.json`` describes verify (one code and bulk), receiving, the trust
list and health. Tests validate it and check real answers against it, and
``scripts/fuzz-api`` has Schemathesis generate requests from it against a live
server: no answer may be a 5xx or differ from what the document says.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response

bp = Blueprint("openapi", __name__)

PATH = "/api/v1/openapi.json"


@cache
def document() -> dict[str, Any]:
    """The description, parsed once per process."""
    text = (resources.files("ocop.web") / "openapi.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _body() -> bytes:
    return json.dumps(document(), ensure_ascii=False, indent=1).encode()


@bp.get(PATH)
def openapi() -> Response:
    response = Response(_body(), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
