"""Errors of ``ocop.stamps``.

The CLI and the HTTP layer catch :class:`StampError` only and show ``str(error)``
as one line, so every message is written for the person who made the mistake.
"""

from __future__ import annotations

from ocop.trace.errors import DomainError


class StampError(DomainError):
    """Base of every error this package raises on purpose; ``str()`` is the user message."""


class MalformedToken(StampError):
    """Text that is not a version 1 stamp token (STAMP-FORMAT.md, step 1)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not a stamp code: {reason}")
        self.reason = reason


class InvalidSerial(StampError):
    """A printed serial that was mistyped, misread, or is not a serial at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not a valid serial: {reason}")
        self.reason = reason


class IssuanceRefused(StampError):
    """A batch cannot be issued: unknown lot, no valid certificate, bad count, key not active."""


class UsageProblem(StampError):
    """The command was asked for something it cannot do as given."""


class UnsupportedOutput(UsageProblem):
    """The output file's extension names no format we write."""


class UnreadableImage(StampError):
    """A picture that cannot be opened, or holds no QR code."""
