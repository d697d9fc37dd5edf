"""The errors of the system of record, and the base every package's errors share.

A message is an English template with ``%(name)s`` placeholders plus its
parameters, never a finished sentence: ``str()`` gives the English line (logs,
the command line's default), and an edge passes its catalogue to
:meth:`DomainError.render` so that a Vietnamese page shows a Vietnamese
sentence. The templates are the msgids of the ``errors`` catalogue
(``scripts/extract_errors.py`` finds them where they are raised).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol

Translate = Callable[[str], str]


def _same(template: str) -> str:
    return template


class Renderable(Protocol):
    """A message that can be said in the language ``translate`` speaks."""

    def render(self, translate: Translate = ...) -> str: ...


# The template of a message that is another message, passed on as it is (an
# error's reason inside a wider error, an error wrapped by a workflow).
PASSED_ON = "%(message)s"


def _fill(text: str, params: Mapping[str, object], translate: Translate) -> str:
    if not params:
        return text
    # A parameter that is itself a message (a reason, an error passed on) is said
    # in the same language as the sentence around it.
    values = {
        name: value.render(translate) if isinstance(value, Phrase | Joined | DomainError) else value
        for name, value in params.items()
    }
    return text % values


def _say(template: str, params: Mapping[str, object], translate: Translate) -> str:
    text = translate(template)
    try:
        return _fill(text, params, translate)
    except (KeyError, ValueError, TypeError):
        # A translation that lost a placeholder must not turn an answer into a
        # server error: the reader gets the English sentence instead.
        if text == template:
            raise
        return _fill(template, params, translate)


class Phrase(str):
    """Part of a message (the reason inside "invalid JWK: x: <reason>"), translated
    with the message around it: an English template and its parameters.

    It is the English text as a ``str`` too, so an error's ``reason`` reads and
    compares as it always did, and code that passes it on as text (``type(error)
    (error.reason, path)``) passes the translation on with it.
    """

    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, /, **params: object) -> Phrase:
        phrase = super().__new__(cls, _fill(template, params, _same))
        phrase.template = str(template)
        phrase.params = params
        return phrase

    def render(self, translate: Translate = _same) -> str:
        return _say(self.template, self.params, translate)

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.params!r})"


class Joined:
    """Several messages said one after the other, e.g. the reasons lots were refused."""

    __slots__ = ("parts", "separator")

    def __init__(self, parts: Sequence[Renderable], separator: str = "; ") -> None:
        self.parts = tuple(parts)
        self.separator = separator

    def render(self, translate: Translate = _same) -> str:
        return self.separator.join(part.render(translate) for part in self.parts)

    def __str__(self) -> str:
        return self.render()


def either(choices: Sequence[object]) -> str:
    """``a, b or c`` in the reader's language: the choices are names, the "or" is words."""
    names = [str(choice) for choice in choices]
    if len(names) < 2:
        return "".join(names)
    return Phrase("%(some)s or %(last)s", some=", ".join(names[:-1]), last=names[-1])


def as_phrase(text: str | Renderable, params: Mapping[str, object]) -> Phrase:
    """``text`` as a phrase: a template with ``params``, or a message passed on as it is."""
    if isinstance(text, str) and not isinstance(text, Phrase):
        return Phrase(text, **params)
    if params:
        raise TypeError("parameters go with a template, not with a message passed on")
    if isinstance(text, Phrase):
        return text
    return Phrase(PASSED_ON, message=text)


class DomainError(Exception):
    """Base of every error a person can cause, in any package of ours.

    Each package roots its own tree here (``TraceError``, ``KeysError``,
    ``StampError``, ``WorkflowError``), so an edge catches this one class.
    ``template`` is one English sentence with ``%(name)s`` placeholders and
    ``params`` fills them; the message may also be another message passed on
    as it is (a reason, another error). ``str()`` is the English line, for logs
    and the command line; the web edge passes its catalogue to :meth:`render`,
    so no English sentence from a domain package reaches a Vietnamese page.

    ``code`` is the stable machine name of the error (the API's problem+json
    carries it); every class names its own. ``template_arg`` says which
    positional argument of the constructor is the template, and ``forwarded``
    which attributes are parameters too, for the extractor.
    """

    code: ClassVar[str] = "error"
    template_arg: ClassVar[int] = 0
    # Keywords of the constructor that are attributes and parameters both: the
    # template may name them (``CatalogueQueryRefused``'s ``field``), or not.
    forwarded: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, template: str | Renderable, /, **params: object) -> None:
        if isinstance(template, Phrase) or not isinstance(template, str):
            if params:
                raise TypeError("parameters go with a template, not with a message passed on")
            template, params = PASSED_ON, {"message": template}
        super().__init__(_fill(template, params, _same))
        self.template: str = template
        self.params = params

    def render(self, translate: Translate = _same) -> str:
        """The message in the language ``translate`` speaks (English by default)."""
        return _say(self.template, self.params, translate)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (QR encoding in a process pool); the
        # subclasses' constructors differ, so rebuild from the state instead.
        return (_restore, (type(self), self.__dict__.copy()))


def _restore(cls: type[DomainError], state: dict[str, object]) -> DomainError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error


class TraceError(DomainError):
    """Base of every error a user can cause in trace/; ``str()`` is one clear line."""

    code = "trace_error"


class NotFound(TraceError):
    """A record named by the user does not exist."""

    code = "not_found"


class InvalidRecord(TraceError):
    """A record breaks a rule; ``path`` says where (a JSON path on import).

    ``reason`` is the rule's message without the path, for a form that shows it
    beside the field the path names. A JSON path is the same in every language;
    a path in words ("row 3, column time") is a :class:`Phrase`, said in the
    reader's language with the reason.
    """

    code = "invalid_record"

    def __init__(
        self, reason: str | Renderable, /, path: str | None = None, **params: object
    ) -> None:
        self.path = path
        self.reason = as_phrase(reason, params)
        super().__init__(self.reason.template, **self.reason.params)

    def render(self, translate: Translate = _same) -> str:
        reason = self.reason.render(translate)
        path = self.path.render(translate) if isinstance(self.path, Phrase) else self.path
        return "%s: %s" % (path, reason) if path else reason  # noqa: UP031


class InvalidGtin(InvalidRecord):
    code = "invalid_gtin"


class GenealogyCycle(InvalidRecord):
    """A transformation would make a lot its own ancestor."""

    code = "genealogy_cycle"


class ImportFileError(TraceError):
    """The import file cannot be read as our JSON format at all."""

    code = "import_file_unreadable"


class ConflictingRecord(InvalidRecord):
    """A record already stored under the same natural key says something else."""

    code = "conflicting_record"


class DatabaseNotReady(TraceError):
    """The database cannot be reached or has no schema yet (``ocop init`` not run)."""

    code = "database_not_ready"


class CatalogueQueryRefused(TraceError):
    """A catalogue search or filter that cannot be answered; the message says which."""

    code = "catalogue_query_refused"
    forwarded = frozenset({"field"})

    def __init__(self, template: str, /, field: str, **params: object) -> None:
        super().__init__(template, field=field, **params)
        self.field = field


class InvalidDigitalLink(TraceError):
    """A GS1 Digital Link path that is not well formed (the resolver answers 400)."""

    code = "invalid_digital_link"


class UnreadableNumber(TraceError):
    """A number written as text that cannot be read surely (:mod:`ocop.trace.numbers`)."""

    code = "unreadable_number"
