"""The public catalogue: pages a shopper and a search engine read, and its JSON API.

Every page works without script and without cookies (the language rides in
``?lang=en``), names its canonical URL, and carries schema.org JSON-LD. Past
the last page of a search is a 404, in the pages and in the API alike.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask import url_for as flask_url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ocop.trace.catalogue import (
    PAGE_SIZE,
    CatalogueQuery,
    Facets,
    catalogue_facets,
    catalogue_product,
    producer_listing,
    search_catalogue,
    sitemap_entries,
)
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.errors import CatalogueQueryRefused, NotFound

from .catalogue_render import (
    page_json,
    place_map,
    producer_ld,
    producer_listing_json,
    product_ld,
    product_listing_json,
)
from .config import Settings
from .console.facilities import KIND_LABELS
from .database import request_session
from .errors import problem
from .messages import say

bp = Blueprint("catalogue", __name__)

# The parameters a catalogue URL keeps, in the order canonical URLs list them.
QUERY_KEYS = ("q", "province", "stars", "sector", "kind", "lapsed", "per_page")
# Short: a revoked certificate must not look valid for long.
PAGE_MAX_AGE = 60


def _settings() -> Settings:
    return current_app.config["OCOP"]


def _english() -> bool:
    return str(get_locale() or "vi") == "en"


def absolute(endpoint: str, **values: Any) -> str:
    """The absolute URL of a page under the public base URL (what QR codes use too)."""
    return _settings().base_url.rstrip("/") + flask_url_for(endpoint, **values)


def _query_args(query: CatalogueQuery) -> dict[str, Any]:
    """The query as URL parameters, empty ones left out (page added by the caller)."""
    values = {
        "q": query.text or None,
        "province": query.province,
        "stars": query.stars,
        "sector": query.sector,
        "kind": query.kind.value if query.kind else None,
        "lapsed": 1 if query.include_lapsed else None,
        "per_page": query.per_page if query.per_page != PAGE_SIZE else None,
    }
    return {k: values[k] for k in QUERY_KEYS if values[k] is not None}


def _facets() -> Facets:
    today = vietnam_today()
    cache = current_app.extensions["ocop.cache"]
    return cache.get(
        ("catalogue-facets", today), lambda: catalogue_facets(request_session(), today)
    )


def _public(response: Response, max_age: int = PAGE_MAX_AGE) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.vary.add("Accept-Language")
    return response


# ---- pages


@bp.get("/san-pham")
def index() -> Response:
    try:
        query = CatalogueQuery.parse(request.args)
    except CatalogueQueryRefused as error:
        page = render_template(
            "catalogue.html",
            page=None,
            facets=_facets(),
            error=_refusal(error),
            args={},
            lang_args=_lang(),
        )
        return Response(page, status=400)
    try:
        page = search_catalogue(request_session(), query, vietnam_today())
    except NotFound:
        abort(404)
    args = _query_args(query)
    canonical = absolute("catalogue.index", **args, **_page_arg(query.page), **_lang())
    html = render_template(
        "catalogue.html",
        page=page,
        facets=_facets(),
        error=None,
        args=args,
        canonical=canonical,
        lang_args=_lang(),
        page_url=lambda n: flask_url_for("catalogue.index", **args, **_page_arg(n), **_lang()),
    )
    return _public(Response(html))


def _page_arg(number: int) -> dict[str, int]:
    return {"page": number} if number > 1 else {}


def _lang() -> dict[str, str]:
    return {"lang": "en"} if _english() else {}


def _refusal(error: CatalogueQueryRefused) -> str:
    """The refusal in the page's language: one sentence per field."""
    messages = {
        "q": _("Từ khoá tìm kiếm dài tối đa 100 ký tự, 8 từ, và không chứa ký tự điều khiển."),
        "page": _("Số trang không hợp lệ."),
        "per_page": _("Số sản phẩm mỗi trang phải từ 1 đến 100."),
        "stars": _("Số sao phải là 3, 4 hoặc 5."),
        "kind": _("Loại nhà sản xuất không hợp lệ."),
    }
    return messages.get(error.field, _("Bộ lọc không hợp lệ."))


@bp.get("/san-pham/<code>")
def product(code: str) -> Response:
    today = vietnam_today()
    try:
        listing = catalogue_product(request_session(), code, utcnow(), today)
    except NotFound:
        abort(404)
    html = render_template(
        "catalogue_product.html",
        listing=listing,
        d=product_listing_json(listing, absolute, today),
        ld=product_ld(listing, absolute),
        canonical=absolute("catalogue.product", code=listing.entry.code, **_lang()),
        lang_args=_lang(),
    )
    return _public(Response(html))


@bp.get("/nha-san-xuat/<int:org_id>")
def producer(org_id: int) -> Response:
    try:
        listing = producer_listing(request_session(), org_id, vietnam_today())
    except NotFound:
        abort(404)
    # Located places first, so that the map's numbers are the list's.
    places = sorted(listing.places, key=lambda p: not p.located)
    html = render_template(
        "catalogue_producer.html",
        listing=listing,
        places=places,
        place_kinds=KIND_LABELS,
        d=producer_listing_json(listing, absolute),
        ld=producer_ld(listing, absolute),
        map=place_map(places),
        canonical=absolute("catalogue.producer", org_id=org_id, **_lang()),
        lang_args=_lang(),
    )
    return _public(Response(html))


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    products, producers = sitemap_entries(request_session(), vietnam_today())
    base = _settings().base_url.rstrip("/")
    urls = [base + flask_url_for("catalogue.index")]
    urls += [base + flask_url_for("catalogue.product", code=c) for c in products]
    urls += [base + flask_url_for("catalogue.producer", org_id=i) for i in producers]
    body = "".join(f"<url><loc>{escape(u)}</loc></url>\n" for u in urls)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{body}</urlset>\n"
    )
    return _public(Response(xml, mimetype="application/xml"), max_age=3600)


@bp.get("/robots.txt")
def robots() -> Response:
    base = _settings().base_url.rstrip("/")
    text = f"User-agent: *\nDisallow: /console/\nDisallow: /api/\nSitemap: {base}/sitemap.xml\n"
    return _public(Response(text, mimetype="text/plain"), max_age=86400)


# ---- the JSON API (docs/openapi-catalogue.yaml)


def _api(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _public(response)


def _refused(error: CatalogueQueryRefused) -> Response:
    return problem(
        400,
        "Invalid request",
        say(error),
        invalid_params=[{"name": error.field, "reason": say(error)}],
    )


@bp.get("/api/v1/catalogue/products")
def api_products() -> Response:
    try:
        query = CatalogueQuery.parse(request.args)
        page = search_catalogue(request_session(), query, vietnam_today())
    except CatalogueQueryRefused as error:
        return _refused(error)
    except NotFound as error:
        return problem(404, "Not Found", say(error))
    return _api(jsonify(page_json(page, absolute, _query_args(query))))


@bp.get("/api/v1/catalogue/products/<code>")
def api_product(code: str) -> Response:
    today = vietnam_today()
    try:
        listing = catalogue_product(request_session(), code, utcnow(), today)
    except NotFound as error:
        return problem(404, "Not Found", say(error))
    return _api(jsonify(product_listing_json(listing, absolute, today)))


@bp.get("/api/v1/catalogue/producers/<int:org_id>")
def api_producer(org_id: int) -> Response:
    try:
        listing = producer_listing(request_session(), org_id, vietnam_today())
    except NotFound as error:
        return problem(404, "Not Found", say(error))
    return _api(jsonify(producer_listing_json(listing, absolute)))
