"""Errors of the workflows. The edges catch the domain base class and show the message."""

from __future__ import annotations

from ocop.trace.errors import DomainError


class WorkflowError(DomainError):
    """Base of every error a workflow raises on purpose; ``str()`` is for the user."""


class InvalidInput(WorkflowError):
    """A form or request field is wrong; ``field`` names it when one can be named."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SignInRefused(WorkflowError):
    """Wrong email or password, a locked or disabled account: one message for all."""


class WeakPassword(InvalidInput):
    """A new password that does not meet the policy."""


class AccountExists(WorkflowError):
    """An account with this email is already there."""


class AccountState(WorkflowError):
    """The account is not in a state that allows this (already disabled, your own)."""


class TokenRefused(WorkflowError):
    """An API token that is missing, unknown or revoked."""


# --- stamp requests ---


class RequestRefused(WorkflowError):
    """A stamp request that cannot be made or decided as asked; ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RequestConflict(RequestRefused):
    """The request is no longer in the state the action needs (decided already, say)."""


class IssuanceFailed(WorkflowError):
    """An approved request whose batch could not be issued; the request says why."""


# --- receiving ---


class ReceivingRefused(WorkflowError):
    """A receipt that cannot be recorded as asked."""


class NothingToReceive(ReceivingRefused):
    """No lot of the delivery passed the check (or none of those chosen did)."""


class ReceiptConflict(ReceivingRefused):
    """The receipt's id was already used for a different receipt."""


# --- fake-stamp reports ---


class ReportRefused(WorkflowError):
    """A report cannot be handled as asked (already handled, a note too long)."""


class ReportAlreadyHandled(ReportRefused):
    """Someone handled this report before."""


class NotAStamp(ReportRefused):
    """A report about text that does not even parse as a stamp code: there is nothing to report."""


class UnknownStamp(WorkflowError):
    """No batch with this number, or no stamp with this index in it."""
