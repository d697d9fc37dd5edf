#!/usr/bin/env python3
"""Finds the English template of every domain error and writes the ``errors`` catalogue's .pot.

    python3 scripts/extract_errors.py OUT.pot

A domain error is raised with an English template and named parameters,
``raise KeyNotFound("no key with kid %(kid)s", kid=kid)``; the template is the
msgid that ``web/translations/vi/LC_MESSAGES/errors.po`` translates. This reads
the sources with :mod:`ast` (no code of theirs runs) and takes the error classes
from the packages' ``errors.py`` (which it imports), so it knows which
constructor argument is the template (``DomainError.template_arg``) and which
keywords are attributes (``field``, ``path``) rather than parameters.

It also reports what would reach a reader untranslated or broken: a template
built at run time (an f-string, ``+``, ``%``, ``str(...)``), and parameters that
do not match the template's placeholders. ``scripts/translations`` stops on
either; ``tests/unit/web/test_error_catalogue.py`` fails on either.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where errors are raised: the four domain packages and the web edge (config, views).
SOURCES = ("trace", "keys", "stamps", "workflows", "web")
ERROR_MODULES = (
    "ocop.trace.errors",
    "ocop.keys.errors",
    "ocop.stamps.errors",
    "ocop.workflows.errors",
    "ocop.web.errors",
)
# A phrase inside a message (an error's reason) is a template too.
PHRASES = frozenset({"Phrase"})
# Calls that build a finished sentence at run time instead of passing a template.
_BUILDERS = frozenset({"str", "repr", "format", "join", "_", "gettext", "lazy_gettext", "_l"})
PLACEHOLDER = re.compile(r"%\((\w+)\)[a-zA-Z]")


@dataclass
class Template:
    """One msgid, with every place it is raised."""

    text: str
    places: list[tuple[str, int]] = field(default_factory=list)

    @property
    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text))


@dataclass(frozen=True)
class Problem:
    place: str
    what: str

    def __str__(self) -> str:
        return f"{self.place}: {self.what}"


@dataclass(frozen=True)
class _Kind:
    """How a constructor takes its message: which positional argument is the
    template, and which keywords are the error's attributes, not parameters."""

    template_at: int
    attributes: frozenset[str]
    # Attributes that are parameters too: the template may name them or not.
    forwarded: frozenset[str] = frozenset()


def error_kinds() -> dict[str, _Kind]:
    """Every DomainError subclass by name, with how its constructor takes a template."""
    from ocop.trace.errors import DomainError

    for module in ERROR_MODULES:
        importlib.import_module(module)
    kinds: dict[str, _Kind] = {}
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        named = [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]
        kind = _Kind(cls.template_arg, frozenset(named) - {named[cls.template_arg]}, cls.forwarded)
        if kinds.get(cls.__name__, kind) != kind:
            raise SystemExit(f"two error classes named {cls.__name__} take messages differently")
        kinds[cls.__name__] = kind
    return kinds


def extract(root: Path = ROOT) -> tuple[dict[str, Template], list[Problem]]:
    """The templates (msgid -> where raised) and the problems found under ``root``."""
    from ocop.trace import errors

    kinds = error_kinds()
    # The frame of a message passed on as it is: said the same in every language.
    line = inspect.getsource(errors).splitlines().index(f'PASSED_ON = "{errors.PASSED_ON}"') + 1
    templates = {errors.PASSED_ON: Template(errors.PASSED_ON, [("trace/errors.py", line)])}
    problems: list[Problem] = []
    for path in _sources(root):
        name = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        for call, kind in _message_calls(tree, kinds):
            place = f"{name}:{call.lineno}"
            arg = _template_arg(call, kind)
            if arg is None:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                templates.setdefault(arg.value, Template(arg.value)).places.append(
                    (name, call.lineno)
                )
                problems += _check_params(place, arg.value, call, kind)
            elif _built(arg):
                problems.append(
                    Problem(
                        place,
                        "the message is built at run time; raise a constant "
                        "template with named parameters instead",
                    )
                )
    return templates, problems


def _sources(root: Path) -> Iterator[Path]:
    for folder in SOURCES:
        yield from sorted((root / folder).rglob("*.py"))


def _message_calls(tree: ast.AST, kinds: dict[str, _Kind]) -> Iterator[tuple[ast.Call, _Kind]]:
    """Calls that make a message: an error class, a Phrase, or ``super().__init__``
    inside an error class (the frame around a reason)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in kinds:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and _is_super_init(inner):
                    yield inner, _Kind(0, frozenset())
        if not isinstance(node, ast.Call):
            continue
        callee = _name(node.func)
        if callee in PHRASES:
            yield node, _Kind(0, frozenset())
        elif callee in kinds:
            yield node, kinds[callee]


def _is_super_init(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and _name(func.value.func) == "super"
    )


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _template_arg(call: ast.Call, kind: _Kind) -> ast.expr | None:
    if any(isinstance(arg, ast.Starred) for arg in call.args[: kind.template_at + 1]):
        return None
    return call.args[kind.template_at] if len(call.args) > kind.template_at else None


def _built(arg: ast.expr) -> bool:
    """A sentence put together at run time, which no catalogue can hold."""
    if isinstance(arg, ast.JoinedStr | ast.BinOp):
        return True
    if isinstance(arg, ast.IfExp):
        return _built(arg.body) or _built(arg.orelse)
    if isinstance(arg, ast.Call):
        return _name(arg.func) in _BUILDERS
    return False


def _check_params(place: str, text: str, call: ast.Call, kind: _Kind) -> list[Problem]:
    if any(keyword.arg is None for keyword in call.keywords):  # **params: not knowable here
        return []
    keywords = {k.arg for k in call.keywords if k.arg is not None}
    given = (keywords - kind.attributes) | (keywords & kind.forwarded)
    wanted = set(PLACEHOLDER.findall(text))
    if given - kind.forwarded == wanted - kind.forwarded and wanted & kind.forwarded <= given:
        return []
    return [
        Problem(
            place,
            f"{text[:60]!r} has placeholders {sorted(wanted)} but is given {sorted(given)}",
        )
    ]


def write_pot(templates: dict[str, Template], out: Path) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project="ocop-trace", domain="errors", charset="utf-8")
    for template in templates.values():
        catalog.add(template.text, locations=template.places)
    with out.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    templates, problems = extract()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    write_pot(templates, Path(argv[1]))
    print(f"{len(templates)} error templates", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
