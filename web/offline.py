"""The offline verifier: an installable page that checks stamps in the browser.

``/kiem-tra`` verifies a stamp entirely on the phone against the signed trust
list (docs/trust-list.md), with the root pinned in the page; ``/sw.js`` keeps
it (and answers stamp URLs with it when the network is down); the manifest
makes it installable. The scripts are in static/offline/.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import gettext as _

from ocop.keys.root import current_root

from .config import Settings
from .database import request_session

bp = Blueprint("offline", __name__)

# The page's scripts, its service worker and its manifest, all from this origin.
OFFLINE_SOURCES = "script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'"


def _settings() -> Settings:
    return current_app.config["OCOP"]


def pinned_roots() -> list[str]:
    """The roots the page trusts: OCOP_TRUST_ROOT when set, else the current root."""
    configured = list(_settings().trust_roots)
    if configured:
        return configured
    root = current_root(request_session())
    return [root.kid] if root is not None else []


@bp.get("/kiem-tra")
def page() -> Response:
    response = Response(render_template("offline.html", roots=",".join(pinned_roots())))
    # site.py imports this module to register it: its CSP is read at request time.
    from .site import CSP

    response.headers["Content-Security-Policy"] = f"{CSP}; {OFFLINE_SOURCES}"
    # Revalidated on each visit online; the service worker keeps a copy for offline.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/kiem-tra/manifest.webmanifest")
def manifest() -> Response:
    icon = url_for("static", filename="offline/icon.svg")
    body = {
        "name": _("Kiểm tra tem OCOP ngoại tuyến"),
        "short_name": _("Kiểm tra tem"),
        "start_url": url_for("offline.page"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f8fafc",
        "theme_color": "#14532d",
        "icons": [{"src": icon, "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    response = current_app.json.response(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    response = current_app.send_static_file("offline/sw.js")
    response.mimetype = "text/javascript"
    # Checked for updates on every visit; its scope is the whole site so that it can
    # answer stamp URLs offline, though it handles nothing else (static/offline/sw.js).
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    # A worker runs under its own script's policy: it must fetch (and keep) our files.
    response.headers["Content-Security-Policy"] = "default-src 'none'; connect-src 'self'"
    return response
