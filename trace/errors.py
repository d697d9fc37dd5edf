"""The errors of the system of record. Each message is meant for the user."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]


def _same(template: str) -> str:
    return template


class DomainError(Exception):
    """Base of every error a person can cause, in any package of ours.

    Each package roots its own tree here (``TraceError``, ``KeysError``,
    ``StampError``, ``WorkflowError``), so an edge catches this one class.
    ``template`` is one English sentence with ``%(name)s`` placeholders and
    ``params`` fills them. ``str()`` is the English line, for logs and the
    command line; the web edge passes its catalogue to :meth:`render`, so no
    English sentence from a domain package reaches a Vietnamese page.
    """

    code = "error"

    def __init__(self, template: str, /, **params: object) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def render(self, translate: Translate = _same) -> str:
        """The message in the language ``translate`` speaks (English by default)."""
        text = translate(self.template)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.render()


class TraceError(DomainError):
    """Base of every error a user can cause in trace/; ``str()`` is one clear line."""


class NotFound(TraceError):
    """A record named by the user does not exist."""


class InvalidRecord(TraceError):
    """A record breaks a rule; ``path`` says where (a JSON path on import)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path else message)


class InvalidGtin(InvalidRecord):
    pass


class GenealogyCycle(InvalidRecord):
    """A transformation would make a lot its own ancestor."""


class ImportFileError(TraceError):
    """The import file cannot be read as our JSON format at all."""


class ConflictingRecord(InvalidRecord):
    """A record already stored under the same natural key says something else."""


class DatabaseNotReady(TraceError):
    """The database cannot be reached or has no schema yet (``ocop init`` not run)."""


class CatalogueQueryRefused(TraceError):
    """A catalogue search or filter that cannot be answered; the message says which."""

    def __init__(self, template: str, /, field: str, **params: object) -> None:
        super().__init__(template, field=field, **params)
        self.field = field


class InvalidDigitalLink(TraceError):
    """A GS1 Digital Link path that is not well formed (the resolver answers 400)."""
