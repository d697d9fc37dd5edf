"""GS1 Digital Link URI paths for trade items: ``/01/{gtin}[/10/{lot}][/21/{serial}]``.

Parse, don't validate: a :class:`DigitalLink` that exists names a GTIN with a
correct check digit and key qualifiers in GS1's character set and order
(GS1 Digital Link standard 1.4, section 4; GS1 General Specifications 7.11,
character set 82). Only the uncompressed form is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from .errors import InvalidDigitalLink, InvalidGtin
from .gtin import Gtin

GTIN_AI = "01"
LOT_AI = "10"
SERIAL_AI = "21"
# GS1 AI encodable character set 82, at most 20 characters for AI 10 and AI 21.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
# Key qualifiers of a GTIN in the order the standard requires (22 and 235 unused here).
_QUALIFIER_ORDER = (LOT_AI, SERIAL_AI)


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A trade item at one of three levels: the product, a lot of it, one item of a lot."""

    gtin: Gtin
    lot: str | None = None
    serial: str | None = None

    @classmethod
    def from_path(cls, path: str) -> DigitalLink:
        """The path after the host as sent, percent-encoded; raises InvalidDigitalLink.

        Split before decoding: a lot number may hold a ``/``, sent as ``%2F``.
        """
        try:
            parts = [unquote(part, errors="strict") for part in path.strip("/").split("/")]
        except UnicodeDecodeError:
            raise InvalidDigitalLink("the path is not percent-encoded UTF-8") from None
        if len(parts) % 2 or len(parts) > 6 or parts[0] != GTIN_AI:
            raise InvalidDigitalLink(
                "expected /01/{gtin}, optionally followed by /10/{lot} and /21/{serial}"
            )
        try:
            gtin = Gtin.parse(parts[1])
        except InvalidGtin as error:
            raise InvalidDigitalLink("%(reason)s", reason=error.reason) from None
        qualifiers = dict(zip(parts[2::2], parts[3::2], strict=True))
        order = parts[2::2]
        if len(qualifiers) != len(order) or any(ai not in _QUALIFIER_ORDER for ai in order):
            raise InvalidDigitalLink("a GTIN takes only the qualifiers 10 (lot) and 21 (serial)")
        if order != sorted(order, key=_QUALIFIER_ORDER.index):
            raise InvalidDigitalLink("key qualifiers must come in the order 10, then 21")
        for ai, value in qualifiers.items():
            if not _CSET82.fullmatch(value):
                raise InvalidDigitalLink(
                    "AI %(ai)s must be 1 to 20 characters of GS1 character set 82", ai=ai
                )
        return cls(gtin, qualifiers.get(LOT_AI), qualifiers.get(SERIAL_AI))

    @property
    def path(self) -> str:
        """The canonical path: 14-digit GTIN, qualifiers percent-encoded."""
        out = f"/{GTIN_AI}/{self.gtin.digits}"
        if self.lot is not None:
            out += f"/{LOT_AI}/{quote(self.lot, safe='')}"
        if self.serial is not None:
            out += f"/{SERIAL_AI}/{quote(self.serial, safe='')}"
        return out

    def uri(self, base: str) -> str:
        return base.rstrip("/") + self.path


__all__ = ["DigitalLink"]
