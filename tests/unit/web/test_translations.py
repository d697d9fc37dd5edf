"""The English catalogue: complete, well-formed, compiled, and in step with the sources.

When a test here fails after you touched a template or a ``_()``/``_l()`` string,
run ``scripts/translations``, translate what it added to the .po, run it again and
commit both ``messages.po`` and ``messages.mo``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"
MESSAGES = WEB / "translations" / "en" / "LC_MESSAGES"
PO = MESSAGES / "messages.po"
MO = MESSAGES / "messages.mo"

# The same extraction as web/babel.cfg plus the -k flags in scripts/translations.
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS_MAP: dict[str, dict[str, str]] = {"**.py": {}, "**/templates/**.html": {}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}

PLACEHOLDER = re.compile(r"%\((\w+)\)[a-z]")


def _read_po() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return _read_po()


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, (tuple, list)):
        return tuple(message.string)
    return (message.string,)


def _label(message: Message) -> str:
    return _ids(message)[0]


def test_catalogue_is_english(catalog: Catalog) -> None:
    assert str(catalog.locale) == "en"
    assert catalog.num_plurals == 2
    assert _messages(catalog), "the catalogue holds no messages"


def test_every_message_is_translated_and_not_fuzzy(catalog: Catalog) -> None:
    untranslated = [
        _label(m) for m in _messages(catalog) if not all(s.strip() for s in _strings(m))
    ]
    fuzzy = [_label(m) for m in _messages(catalog) if m.fuzzy]
    assert not untranslated, "untranslated:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy (check and clear the flag):\n" + "\n".join(fuzzy)


def test_placeholders_survive_translation(catalog: Catalog) -> None:
    wrong = []
    for m in _messages(catalog):
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in _ids(m)))
        for s in _strings(m):
            got = set(PLACEHOLDER.findall(s))
            if got != wanted:
                wrong.append(f"{_label(m)!r}: {sorted(wanted)} -> {s!r}: {sorted(got)}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_msgids_are_nfc(catalog: Catalog) -> None:
    # Vietnamese typed on some keyboards arrives decomposed; a decomposed msgid
    # looks identical but never matches the NFC string in the template.
    bad = [
        i for m in _messages(catalog) for i in _ids(m) if not unicodedata.is_normalized("NFC", i)
    ]
    assert not bad, "msgids not in NFC:\n" + "\n".join(bad)


def test_committed_mo_matches_po(catalog: Catalog) -> None:
    assert MO.is_file(), "messages.mo is missing: run scripts/translations"
    with MO.open("rb") as f:
        compiled = read_mo(f)
    # Plural entries: read_po gives tuples, read_mo lists.
    in_mo = {_ids(m)[0]: tuple(_strings(m)) for m in compiled if m.id}
    in_po = {_ids(m)[0]: tuple(_strings(m)) for m in _messages(catalog) if not m.fuzzy}
    stale = sorted(str(k) for k in in_po.keys() | in_mo.keys() if in_po.get(k) != in_mo.get(k))
    assert not stale, (
        "messages.mo is out of date with messages.po (run `pybabel compile -d "
        "web/translations`):\n" + "\n".join(stale)
    )


def _extracted() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB, method_map=METHOD_MAP, options_map=OPTIONS_MAP, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"web/{filename}:{lineno}")
    return found


def test_extraction_finds_both_kinds_of_source() -> None:
    # Guards the test below: if the jinja2 extractor stopped resolving, the
    # completeness check would pass with nothing to check.
    places = [p for where in _extracted().values() for p in where]
    assert any(".py:" in p for p in places)
    assert any(".html:" in p for p in places)


def test_catalogue_covers_every_source_string(catalog: Catalog) -> None:
    known = {i for m in _messages(catalog) for i in _ids(m)}
    missing = {msgid: where for msgid, where in _extracted().items() if msgid not in known}
    assert not missing, (
        "strings in web/ missing from messages.po (run scripts/translations and translate "
        "them):\n"
        + "\n".join(f"{msgid!r} ({', '.join(where)})" for msgid, where in missing.items())
    )
