"""The ``errors`` catalogue: every domain error template raised anywhere has a Vietnamese
sentence, with the same placeholders, compiled.

When a test here fails after you raised a new error or changed a message, run
``scripts/translations``, translate what it added to
``web/translations/vi/LC_MESSAGES/errors.po``, run it again and commit the .po and .mo.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ocop.trace.errors import DomainError

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = ROOT / "web" / "translations" / "vi" / "LC_MESSAGES"
PO = MESSAGES / "errors.po"
MO = MESSAGES / "errors.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[a-zA-Z]")
# Vietnamese letters a translation of a sentence must contain at least one of.
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")


def _extractor() -> ModuleType:
    """scripts/extract_errors.py, which scripts/translations runs (it is no package)."""
    path = ROOT / "scripts" / "extract_errors.py"
    spec = importlib.util.spec_from_file_location("extract_errors", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


extractor = _extractor()


@pytest.fixture(scope="module")
def extracted() -> tuple[dict, list]:
    return extractor.extract(ROOT)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


def test_the_sources_raise_no_message_built_at_run_time(extracted) -> None:
    _templates, problems = extracted
    assert not problems, "\n".join(map(str, problems))


def test_extraction_finds_the_templates_of_every_package(extracted) -> None:
    templates, _problems = extracted
    folders = {name.split("/")[0] for t in templates.values() for name, _line in t.places}
    assert {"trace", "keys", "stamps", "workflows", "web"} <= folders
    assert "no lot with code %(code)r" in templates
    assert "invalid JWK: %(member)s: %(reason)s" in templates  # a frame around a reason
    assert 'must be "sig" when present' in templates  # a reason, not the first argument


def test_every_template_has_a_vietnamese_sentence(extracted, catalog) -> None:
    templates, _problems = extracted
    known = {m.id: m for m in catalog if m.id}
    missing = [t for t in templates if t not in known or not known[t].string.strip()]
    fuzzy = [t for t in templates if t in known and known[t].fuzzy]
    assert not missing, "not in errors.po (run scripts/translations):\n" + "\n".join(missing)
    assert not fuzzy, "fuzzy in errors.po (check and clear the flag):\n" + "\n".join(fuzzy)


def test_translations_keep_the_placeholders(catalog) -> None:
    wrong = [
        f"{m.id!r} -> {m.string!r}"
        for m in catalog
        if m.id and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, "\n".join(wrong)


def test_translations_are_vietnamese_in_nfc(catalog) -> None:
    # A sentence (not just placeholders or a code) must read as Vietnamese.
    words = re.compile(r"[a-z]{3,}")
    untranslated = [
        m.id
        for m in catalog
        if m.id and words.search(PLACEHOLDER.sub("", m.id)) and m.string == m.id
    ]
    assert not untranslated, "\n".join(untranslated)
    assert sum(bool(VIETNAMESE.search(m.string)) for m in catalog if m.id) > 150
    decomposed = [m.string for m in catalog if not unicodedata.is_normalized("NFC", m.string)]
    assert not decomposed, "\n".join(decomposed)


def test_every_translation_formats_with_the_parameters(catalog) -> None:
    for m in catalog:
        if m.id:
            params = {name: "x" for name in PLACEHOLDER.findall(m.id)}
            assert (m.string % params if params else m.string).strip()


def test_committed_mo_matches_po(catalog) -> None:
    assert MO.is_file(), "errors.mo is missing: run scripts/translations"
    with MO.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    in_po = {m.id: m.string for m in catalog if m.id and not m.fuzzy}
    stale = sorted(k for k in in_po.keys() | compiled.keys() if in_po.get(k) != compiled.get(k))
    assert not stale, "errors.mo is out of date (run scripts/translations):\n" + "\n".join(stale)


# ---- the extractor catches what a reviewer would miss


def _sources(tmp_path: Path, code: str) -> Path:
    (tmp_path / "workflows").mkdir()
    for folder in ("trace", "keys", "stamps", "web"):
        (tmp_path / folder).mkdir()
    (tmp_path / "workflows" / "rules.py").write_text(textwrap.dedent(code))
    return tmp_path


def test_a_message_built_with_an_f_string_is_reported(tmp_path: Path) -> None:
    root = _sources(
        tmp_path,
        """
        from ocop.workflows.errors import InvalidInput, RequestRefused
        def check(name):
            raise InvalidInput(f"{name} is wrong", field="name")
        def other(name):
            raise RequestRefused("bad " + name)
        def third(error):
            raise RequestRefused(str(error), "count")
        """,
    )
    _templates, problems = extractor.extract(root)
    assert [p.place for p in problems] == [
        "workflows/rules.py:4", "workflows/rules.py:6", "workflows/rules.py:8"
    ]


def test_parameters_that_miss_a_placeholder_are_reported(tmp_path: Path) -> None:
    root = _sources(
        tmp_path,
        """
        from ocop.workflows.errors import InvalidInput
        from ocop.trace.errors import Phrase
        def check(name):
            raise InvalidInput("%(name)s is wrong", field="name")
        def fine(name):
            raise InvalidInput("%(name)s is wrong", "name", name=name)
        def extra(name):
            return Phrase("is wrong", name=name)
        """,
    )
    templates, problems = extractor.extract(root)
    assert "%(name)s is wrong" in templates and "is wrong" in templates
    assert [p.place for p in problems] == ["workflows/rules.py:5", "workflows/rules.py:9"]


def test_every_error_class_is_known_to_the_extractor() -> None:
    kinds = extractor.error_kinds()
    assert kinds["InvalidJWK"].template_at == 1 and kinds["InvalidJWK"].attributes == {"member"}
    assert kinds["InvalidInput"].attributes == {"field"}
    assert kinds["InvalidRecord"].attributes == {"path"}
    assert "ConfigError" in kinds and "FacilityCodeTaken" in kinds


# ---- codes: what the API's problem+json carries


def _every_error_class() -> list[type[DomainError]]:
    extractor.error_kinds()  # imports every package's errors
    found, pending = [], [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _every_error_class(), ids=lambda cls: cls.__name__)
def test_every_error_class_names_its_own_stable_code(cls: type[DomainError]) -> None:
    assert "code" in vars(cls), f"{cls.__name__} has no code of its own"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code)


def test_codes_are_unique() -> None:
    codes = [cls.code for cls in _every_error_class()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
