"""Domain errors said in the reader's language, through the ``errors`` catalogue.

Every package below web raises its errors with an English template and
parameters (``ocop.trace.errors.DomainError``); the templates are the msgids of
a gettext domain of their own, ``errors``, translated in
``translations/vi/LC_MESSAGES/errors.po`` (``scripts/translations`` extracts
them with ``scripts/extract_errors.py``). English needs no catalogue: the
template is the English sentence.

The pages, the console and the API say an error with :func:`say`, in the
request's language; the command line with :func:`say_on_terminal`, in the
language of the terminal's locale.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask_babel import Domain

from ocop.trace.errors import Renderable

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "errors"
LANGUAGES = ("vi", "en")

# Flask-Babel's domain follows the request's locale (web.site.select_locale) and
# keeps each language's catalogue once loaded.
_errors = Domain(translation_directories=[str(TRANSLATIONS)], domain=DOMAIN)


def say(message: Renderable) -> str:
    """``message`` (a domain error, or a part of one such as its reason) in the
    request's language."""
    return message.render(_errors.gettext)


def say_in(message: Renderable, language: str) -> str:
    """``message`` in ``language`` ("vi" or "en"), outside any request."""
    return message.render(catalogue(language).gettext)


def say_on_terminal(message: Renderable, environ: Mapping[str, str] | None = None) -> str:
    """``message`` in the language of the terminal's locale: English unless it is Vietnamese."""
    return say_in(message, terminal_language(environ))


def terminal_language(environ: Mapping[str, str] | None = None) -> str:
    """"vi" when the locale for messages is Vietnamese (``vi_VN.UTF-8``), else "en".

    POSIX order: ``LC_ALL`` overrides ``LC_MESSAGES``, which overrides ``LANG``.
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:
            return "vi" if value.lower().startswith("vi") else "en"
    return "en"


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """The compiled ``errors`` catalogue of ``language``; English (none) for any other."""
    if language not in LANGUAGES:
        language = "en"
    return Translations.load(str(TRANSLATIONS), [language], domain=DOMAIN)
