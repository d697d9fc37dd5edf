"""Offline verification: STAMP-FORMAT.md "Verifying, in order", steps 1 to 5.

Composed of small steps so the online verifier reuses them: :func:`authenticate`
(find the key, check the signature) takes any :class:`KeySource`, and the
rules about a signed stamp are :data:`Check` functions run in order, the first
finding deciding. Offline, nothing can tell a copy from the original, so the
best answer is "genuine, uniqueness not checked".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ocop.keys.trustlist import KeyStatus, TrustedKey

from .errors import MalformedToken
from .token import StampToken


class VerdictStatus(StrEnum):
    GENUINE = "genuine"
    SUSPECT = "suspect"
    RECALLED = "recalled"
    REVOKED = "revoked"
    INVALID = "invalid"


class Reason(StrEnum):
    """Machine codes saying why a verdict is what it is."""

    # Offline (and online).
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    KEY_REVOKED = "key_revoked"
    OFFLINE_UNIQUENESS_UNCHECKED = "offline_uniqueness_unchecked"
    # Online only: what the records and the scan history say.
    SIGNATURE_VALID = "signature_valid"
    UNKNOWN_BATCH = "unknown_batch"
    NOT_IN_LOG = "not_in_log"
    BATCH_VOIDED = "batch_voided"
    NOT_ACTIVATED = "not_activated"
    LOT_RECALLED = "lot_recalled"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_REVOKED = "certificate_revoked"
    NO_VALID_CERTIFICATE = "no_valid_certificate"
    PAST_BEST_BEFORE = "past_best_before"
    SCAN_LIMIT_EXCEEDED = "scan_limit_exceeded"
    SEEN_FAR_APART = "seen_far_apart"
    PIN_CLAIMED_TWICE = "pin_claimed_twice"


class KeySource(Protocol):
    """Where trusted keys come from: a trust list file offline, the key registry online."""

    def candidates(self, prefix: bytes) -> Sequence[TrustedKey]: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check decided, and why."""

    status: VerdictStatus
    reason: Reason


@dataclass(frozen=True, slots=True)
class SignedStamp:
    """A token whose signature ``key`` verified: what every later check starts from."""

    token: StampToken
    key: TrustedKey


# A rule about a signed stamp: a finding when it objects, None when it has nothing to say.
Check = Callable[[SignedStamp], Finding | None]


def key_not_revoked(stamp: SignedStamp) -> Finding | None:
    if stamp.key.status is KeyStatus.REVOKED:
        return Finding(VerdictStatus.REVOKED, Reason.KEY_REVOKED)
    return None


# Not-before and not-after are left out on purpose: a stamp carries no signing
# time, and a retired key's stamps stay good, so they constrain issuance only.
OFFLINE_CHECKS: tuple[Check, ...] = (key_not_revoked,)


@dataclass(frozen=True, slots=True)
class OfflineResult:
    status: VerdictStatus
    reasons: tuple[Reason, ...]
    token: StampToken | None = None
    key: TrustedKey | None = None


def authenticate(token: StampToken, keys: KeySource) -> SignedStamp | Finding:
    """Steps 2 and 3: the trusted key that signed ``token``, or why there is none."""
    candidates = keys.candidates(token.kid_prefix)
    if not candidates:
        return Finding(VerdictStatus.INVALID, Reason.UNKNOWN_KEY)
    # The prefix is 8 bytes, so several keys may claim it: any one may have signed.
    for key in candidates:
        if token.verify(key.public_key):
            return SignedStamp(token, key)
    return Finding(VerdictStatus.INVALID, Reason.BAD_SIGNATURE)


def first_finding(stamp: SignedStamp, checks: Sequence[Check]) -> Finding | None:
    """Run ``checks`` in order and return the first objection, or None when all pass.

    No checks is a mistake, not a pass: raises ``ValueError``.
    """
    if not checks:
        raise ValueError("no checks to run: an empty policy would pass every stamp")
    for check in checks:
        finding = check(stamp)
        if finding is not None:
            return finding
    return None


def verify_offline(
    text: str, trust: KeySource, checks: Sequence[Check] = OFFLINE_CHECKS
) -> OfflineResult:
    """Steps 1 to 5 for a scanned text, URL or typed code; any ``str`` gets a result."""
    try:
        token = StampToken.parse(text)
    except MalformedToken:
        return OfflineResult(VerdictStatus.INVALID, (Reason.MALFORMED,))
    outcome = authenticate(token, trust)
    if isinstance(outcome, Finding):
        return OfflineResult(outcome.status, (outcome.reason,), token)
    finding = first_finding(outcome, checks) or Finding(
        VerdictStatus.GENUINE, Reason.OFFLINE_UNIQUENESS_UNCHECKED
    )
    return OfflineResult(finding.status, (finding.reason,), token, outcome.key)
