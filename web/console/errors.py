"""Errors of the console. The views catch :class:`ConsoleError` and show ``str()``."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base of every error the console raises on purpose; ``str()`` is for the user."""


class InvalidInput(ConsoleError):
    """A form or request field is wrong; ``field`` names it when one can be named."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SignInRefused(ConsoleError):
    """Wrong email or password, a locked or disabled account: one message for all."""


class WeakPassword(InvalidInput):
    """A new password that does not meet the policy."""


class AccountExists(ConsoleError):
    """An account with this email is already there."""


class AccountState(ConsoleError):
    """The account is not in a state that allows this (already disabled, your own)."""


class TokenRefused(ConsoleError):
    """An API token that is missing, unknown or revoked."""
