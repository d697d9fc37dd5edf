"""Errors of ``ocop.stamps``.

The CLI and the HTTP layer catch the domain base class only and show the
message as one line, in the reader's language, so every message is written for
the person who made the mistake.
"""

from __future__ import annotations

from ocop.trace.errors import DomainError, Renderable, as_phrase


class StampError(DomainError):
    """Base of every error this package raises on purpose; ``str()`` is the user message."""

    code = "stamp_error"


class MalformedToken(StampError):
    """Text that is not a version 1 stamp token (STAMP-FORMAT.md, step 1)."""

    code = "malformed_token"

    def __init__(self, reason: str | Renderable, /, **params: object) -> None:
        self.reason = as_phrase(reason, params)
        super().__init__("not a stamp code: %(reason)s", reason=self.reason)


class InvalidSerial(StampError):
    """A printed serial that was mistyped, misread, or is not a serial at all."""

    code = "invalid_serial"

    def __init__(self, reason: str | Renderable, /, **params: object) -> None:
        self.reason = as_phrase(reason, params)
        super().__init__("not a valid serial: %(reason)s", reason=self.reason)


class IssuanceRefused(StampError):
    """A batch cannot be issued: unknown lot, no valid certificate, bad count, key not active."""

    code = "issuance_refused"


class UsageProblem(StampError):
    """The command was asked for something it cannot do as given."""

    code = "usage_problem"


class UnsupportedOutput(UsageProblem):
    """The output file's extension names no format we write."""

    code = "unsupported_output"


class UnreadableImage(StampError):
    """A picture that cannot be opened, or holds no QR code."""

    code = "unreadable_image"


class QrTooLarge(StampError):
    """The text needs a larger QR symbol than the output allows."""

    code = "qr_too_large"


class OutputNotWritable(StampError):
    """An output file cannot be created where it was asked for."""

    code = "output_not_writable"


class ActivationRefused(StampError):
    """A range of stamps that cannot be activated: reversed, outside, overlapping, not yours."""

    code = "activation_refused"
