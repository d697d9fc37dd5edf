"""Scratch-off PINs: a short code only the server can recompute.

A PIN is an HMAC of (batch, index) under a server secret, so nothing about it
is stored; whoever copies the visible QR does not see what is under the
scratch layer, and the first claim of a PIN tells the buyer they hold it first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from .scans import claim_pin, lock_pins, take_pin_attempt

PIN_DIGITS = 8
_DOMAIN = b"OCOP-PIN-V1"


@dataclass(frozen=True, slots=True)
class PinSecret:
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise ValueError("a PIN secret needs at least 16 bytes")

    def pin_for(self, batch: int, index: int) -> str:
        mac = hmac.new(self.key, _DOMAIN + struct.pack(">II", batch, index), hashlib.sha256)
        # 8 bytes reduced mod 10^8: the bias is below 10^-11, far under guessing odds.
        number = int.from_bytes(mac.digest()[:8], "big") % 10**PIN_DIGITS
        return f"{number:0{PIN_DIGITS}d}"

    def matches(self, batch: int, index: int, candidate: str) -> bool:
        cleaned = "".join(ch for ch in candidate if not ch.isspace() and ch != "-")
        return hmac.compare_digest(self.pin_for(batch, index), cleaned)


def format_pin(pin: str) -> str:
    """Grouped for reading off a label: ``1234 5678``."""
    return f"{pin[:4]} {pin[4:]}"


# --- claiming, with the stamp's own guess budget --------------------------

PIN_WINDOW = dt.timedelta(days=1)


class PinOutcome(StrEnum):
    FIRST = "first"  # the right PIN, entered for the first time
    AGAIN = "again"  # the right PIN, entered before: a copy, or the holder twice
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong PINs for this stamp: nothing was compared


@dataclass(frozen=True, slots=True)
class PinAnswer:
    outcome: PinOutcome
    attempts_left: int
    locked_until: dt.datetime | None = None


def claim_with_pin(
    session: Session,
    secret: PinSecret,
    batch: int,
    index: int,
    candidate: str,
    *,
    now: dt.datetime,
    limit: int = 10,
    window: dt.timedelta = PIN_WINDOW,
) -> PinAnswer:
    """Check ``candidate`` against stamp (batch, index) and claim it when right.

    Every attempt first takes a number from the stamp's budget in the database
    (:func:`~ocop.stamps.scans.take_pin_attempt`): the ``limit``-th wrong PIN
    locks the stamp's claim for ``window``, across every worker, machine and
    client, and while it is locked no PIN is even compared. The caller commits.
    """
    budget = take_pin_attempt(session, batch, index, now, limit=limit, window=window)
    if budget.locked:
        return PinAnswer(PinOutcome.LOCKED, 0, budget.locked_until)
    if not secret.matches(batch, index, candidate):
        if budget.last:
            lock_pins(session, batch, index, now)
            return PinAnswer(PinOutcome.LOCKED, 0, now + window)
        return PinAnswer(PinOutcome.WRONG, limit - budget.attempt)
    claims = claim_pin(session, batch, index, now)
    outcome = PinOutcome.FIRST if claims == 1 else PinOutcome.AGAIN
    return PinAnswer(outcome, limit)
