"""The errors of the system of record. Each message is meant for the user."""

from __future__ import annotations


class TraceError(Exception):
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
