"""Scratch-off PINs: a short code only the server can recompute.

A PIN is an HMAC of (batch, index) under a server secret, so nothing about it
is stored; whoever copies the visible QR does not see what is under the
scratch layer, and the first claim of a PIN tells the buyer they hold it first.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field

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
