"""Who is scanning: a person with a device cookie, or a machine not to be counted."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import Response, current_app, g, request

from ocop.stamps import ScanContext

DEVICE_COOKIE = "ocop_device"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
# Link previewers and crawlers fetch the page without anyone holding the stamp.
_MACHINES = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|curl|wget|python-|httpx|"
    r"go-http|okhttp|java/|libwww|monitor|uptime|scan(?:ner)?bot",
    re.IGNORECASE,
)


def is_person() -> bool:
    if request.method != "GET":
        return False
    agent = request.headers.get("User-Agent", "")
    return bool(agent) and not _MACHINES.search(agent)


def device_id() -> str:
    """The device's random id from its cookie, or a new one set on the response."""
    if "device_id" not in g:
        cookie = request.cookies.get(DEVICE_COOKIE, "")
        g.device_new = not _DEVICE_ID.match(cookie)
        g.device_id = secrets.token_urlsafe(16) if g.device_new else cookie
    return g.device_id


def device_hash() -> str:
    # Keyed, so the stored hash cannot be matched against cookies by anyone
    # without the server secret; the raw id never reaches the database.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"device:" + device_id().encode(), hashlib.sha256).hexdigest()[:40]


def scan_context() -> ScanContext | None:
    """How to count this request's scan; None when it should not be counted."""
    if not is_person():
        return None
    return ScanContext(device=device_hash())


def set_device_cookie(response: Response) -> Response:
    if g.get("device_new"):
        response.set_cookie(
            DEVICE_COOKIE,
            g.device_id,
            max_age=2 * 365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def client_hash() -> str:
    """A keyed hash of the client address, for abuse limits without keeping addresses."""
    key = current_app.config["SECRET_KEY"].encode()
    address = (request.remote_addr or "").encode()
    return hmac.new(key, b"client:" + address, hashlib.sha256).hexdigest()[:40]
