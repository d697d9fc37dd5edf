"""The record step of a stock check is bound to the codes the server checked.

The check page sends the delivery's codes back with the form that records the
receipt, and the server verifies them again; but verifying only what comes back
let a distributor drop a lot's failing codes between the two steps and record
that lot as if every code of it had passed. So the check seals the list of
codes it verified (an HMAC under the service's secret, bound to the
organisation), and the record step refuses any list but the sealed one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from .errors import ReceivingRefused

_CONTEXT = b"ocop-trace receiving seal v1\n"


def seal_codes(codes: Sequence[str], *, organisation_id: int, key: bytes) -> str:
    """The seal of exactly these codes (in any order, repeats counted) for this organisation."""
    message = _CONTEXT + str(organisation_id).encode() + b"\n"
    for code in sorted(code.strip() for code in codes):
        message += hashlib.sha256(code.encode("utf-8", "surrogatepass")).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_seal(codes: Sequence[str], seal: str | None, *, organisation_id: int, key: bytes) -> None:
    """Refuse codes that are not, all and only, those a check of this organisation sealed."""
    expected = seal_codes(codes, organisation_id=organisation_id, key=key)
    if not isinstance(seal, str) or not hmac.compare_digest(seal.encode(), expected.encode()):
        raise ReceivingRefused(
            "the codes sent differ from those the check verified; check the delivery again"
        )
