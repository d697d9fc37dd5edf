"""Cross-origin reads of the public APIs: a shop's web app on another site may call them.

Only what anyone may read anyway is opened (verify, the trust list, the GS1
resolver); nothing is sent with credentials, so the answer is ``*``. The
console and its token API stay same-origin.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

# Anchored: flask-cors matches these with re.match against the path.
PUBLIC_READ_PATHS = {
    r"^/api/v1/verify(/.*)?$": {"methods": ["GET", "POST"]},
    r"^/\.well-known/ocop-trust\.(json|jws)$": {"methods": ["GET"]},
    r"^/\.well-known/gs1resolver$": {"methods": ["GET"]},
    r"^/01/.*$": {"methods": ["GET"]},
    r"^/log/v1/.*$": {"methods": ["GET"]},
}
# What a script on another site may read of our answers.
EXPOSED = ["ETag", "Last-Modified", "Link", "Location", "Retry-After"]
PREFLIGHT_MAX_AGE = 86400


def _preflight_without_body(response: Response) -> Response:
    # Flask's automatic OPTIONS answer is an empty text/html 200; a preflight is
    # better answered 204 with no type, which is what browsers expect.
    if (
        request.method == "OPTIONS"
        and "Access-Control-Allow-Origin" in response.headers
        and response.status_code == 200
        and not response.get_data()
    ):
        response.status_code = 204
        del response.headers["Content-Type"]
    return response


def init_app(app: Flask) -> None:
    # Before CORS(): after-request functions run last-registered first, and this
    # one must see the headers flask-cors adds.
    app.after_request(_preflight_without_body)
    CORS(
        app,
        resources=PUBLIC_READ_PATHS,
        origins="*",
        allow_headers=["Content-Type", "Accept", "Accept-Language", "If-None-Match"],
        expose_headers=EXPOSED,
        max_age=PREFLIGHT_MAX_AGE,
        supports_credentials=False,
        send_wildcard=True,
    )
