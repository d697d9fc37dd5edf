"""Which language a request is answered in: Vietnamese first, English on request."""

from __future__ import annotations

from flask import g, request

LANGUAGES = ("vi", "en")


def select_locale() -> str:
    """``?lang=``, then the ``lang`` cookie, then Accept-Language; once per request.

    Flask-Babel asks this when a template needs a translation; a kept page
    (web/pages.py) asks only for its cache key, without Babel parsing a Locale.
    """
    if "ocop_locale" not in g:
        asked = request.args.get("lang") or request.cookies.get("lang")
        if asked in LANGUAGES:
            g.ocop_locale = asked
        else:
            best = request.accept_languages.best_match(LANGUAGES, default="vi")
            g.ocop_locale = best or "vi"
    return g.ocop_locale
