"""A GS1-conformant resolver for the products' GTINs (GS1 Digital Link 1.4, chapter 7).

``/01/{gtin}``, ``/01/{gtin}/10/{lot}`` and ``/01/{gtin}/10/{lot}/21/{serial}``
answer 307 to the default link (the product's public page), or to the link of
the ``linkType`` asked for; ``linkType=all`` (or ``Accept:
application/linkset+json``) answers the links as an RFC 9264 linkset.
``/.well-known/gs1resolver`` describes the resolver.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, request, url_for

from ocop.stamps.resolving import ResolvedItem, resolve_item
from ocop.trace.db import vietnam_today
from ocop.trace.digital_link import DigitalLink
from ocop.trace.errors import InvalidDigitalLink, NotFound
from ocop.trace.queries import certificates_of

from .config import Settings
from .database import request_session
from .messages import say

bp = Blueprint("resolver", __name__)

GS1_VOC = "https://gs1.org/voc/"
LINKSET = "application/linkset+json"
DEFAULT_LINK = "defaultLink"
# Our link types, in the order a linkset lists them.
LINK_TYPES = ("pip", "certificationInfo", "epcis")


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _base() -> str:
    return _settings().base_url.lower()


def _raw_path() -> str:
    # The path as sent, still percent-encoded: a lot number may hold "%2F".
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path)
    return raw.split("?", 1)[0].split("#", 1)[0]


@bp.get("/01/<path:_rest>")
@bp.get("/01/")
def resolve(_rest: str = "") -> Response:
    try:
        link = DigitalLink.from_path(_raw_path())
        item = resolve_item(request_session(), link)
    except InvalidDigitalLink as error:
        abort(400, say(error))
    except NotFound as error:
        abort(404, say(error))
    links = _links(link, item)
    asked = _link_type(request.args.get("linkType"))
    linkset_url = link.uri(_base()) + "?linkType=all"
    if asked == "all" or (asked is None and _prefers_linkset()):
        response = Response(_linkset(link, item, links), mimetype=LINKSET)
        response.headers["Cache-Control"] = "public, max-age=300"
    else:
        target = links.get(asked or DEFAULT_LINK) or links[DEFAULT_LINK]
        response = Response(status=307, headers={"Location": target[0]["href"]})
        response.headers["Cache-Control"] = "no-cache"
    response.headers["Link"] = f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"'
    response.headers["Vary"] = "Accept"
    return response


def _link_type(value: str | None) -> str | None:
    """``gs1:pip``, the full URI or ``all``; anything unknown falls back to the default."""
    if value is None or value == "all":
        return value
    for prefix in ("gs1:", GS1_VOC):
        if value.startswith(prefix) and value[len(prefix) :] in (DEFAULT_LINK, *LINK_TYPES):
            return value[len(prefix) :]
    return None


def _prefers_linkset() -> bool:
    best = request.accept_mimetypes.best_match([LINKSET, "text/html"])
    return best == LINKSET and request.accept_mimetypes[LINKSET] > request.accept_mimetypes[
        "text/html"
    ]


def _links(link: DigitalLink, item: ResolvedItem) -> dict[str, list[dict[str, Any]]]:
    """The targets by link type, the default first; the product page is the default."""
    product = item.product
    page = {
        "href": url_for("public.product_page", code=product.code, _external=True),
        "title": product.name,
        "type": "text/html",
        "hreflang": ["vi", "en"],
    }
    links: dict[str, list[dict[str, Any]]] = {DEFAULT_LINK: [page], "pip": [page]}
    today = vietnam_today()
    certificates = [
        {
            "href": url_for("public.certificate_page", cert_id=cert.id, _external=True),
            "title": f"{cert.scheme.value.upper()} {cert.number}",
            "type": "text/html",
        }
        for cert in certificates_of(request_session(), product)
        if cert.is_valid_on(today)
    ]
    if certificates:
        links["certificationInfo"] = certificates
    if item.lot is not None:
        links["epcis"] = [
            {
                "href": url_for("epcis.events", lot=item.lot.code, _external=True),
                "title": f"EPCIS 2.0 events of lot {item.lot.code} (console account or API token)",
                "type": "application/ld+json",
            }
        ]
    return links


def _linkset(
    link: DigitalLink, item: ResolvedItem, links: dict[str, list[dict[str, Any]]]
) -> str:
    context: dict[str, Any] = {"anchor": link.uri(_base()), "itemDescription": item.product.name}
    for name, targets in links.items():
        context[GS1_VOC + name] = targets
    return json.dumps({"linkset": [context]}, ensure_ascii=False)


@bp.get("/.well-known/gs1resolver")
def description() -> Response:
    body = {
        "name": "ocop-trace GS1 Digital Link resolver",
        "resolverRoot": _base(),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedKeyQualifiers": {"01": ["10", "21"]},
        "compressedLinks": False,
    }
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
