"""The online verdict: the offline signature check, then what only the server knows.

Each rule is one small check; :func:`verify` runs them in order and the most
severe finding decides. Only the signature checks can make a stamp pass, and a
verdict with no finding at all is never produced: the signature check either
fails or records that it passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ocop.keys.registry import DatabaseKeySource
from ocop.keys.trustlist import KeyStatus, TrustedKey
from ocop.trace.db import vietnam_today
from ocop.trace.models import Certification, Product
from ocop.trace.queries import latest_ocop_certificate

from .errors import MalformedToken
from .facts import BatchFacts, batch_facts
from .models import BatchStatus
from .offline import Finding, Reason, SignedStamp, VerdictStatus, authenticate, key_not_revoked
from .scans import ScanSummary, record_scan, scan_summary
from .serial import Serial
from .token import StampToken

# Most severe first: the verdict is the most severe status any check found.
_SEVERITY = (
    VerdictStatus.INVALID,
    VerdictStatus.REVOKED,
    VerdictStatus.RECALLED,
    VerdictStatus.SUSPECT,
    VerdictStatus.GENUINE,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: VerdictStatus
    reasons: tuple[Reason, ...]
    token: StampToken | None = None
    key: TrustedKey | None = None
    batch: BatchFacts | None = None
    certificate: Certification | None = None
    scans: ScanSummary | None = None

    @property
    def serial(self) -> Serial | None:
        """The stamp's serial, once a trusted key's signature vouches for it.

        A forged code names whatever batch and index its forger chose; showing
        them would lend it a genuine stamp's number.
        """
        if self.token is None or self.key is None:
            return None
        return Serial(self.token.batch, self.token.index)

    @property
    def known(self) -> bool:
        """A genuine signature on a batch we issued: the details may be shown."""
        return self.batch is not None and self.status is not VerdictStatus.INVALID


@dataclass(frozen=True, slots=True)
class ScanContext:
    """Who is scanning, when the scan should be counted (a person, not a bot)."""

    device: str | None
    place: str | None = None


@dataclass(slots=True)
class _Context:
    stamp: SignedStamp
    today: dt.date
    device_threshold: int
    certificate_of: Callable[[int], Certification | None]
    batch: BatchFacts | None = None
    certificate: Certification | None = None
    scans: ScanSummary | None = None
    findings: list[Finding] = field(default_factory=list)


Check = Callable[[_Context], Sequence[Finding]]


def _key_not_revoked(ctx: _Context) -> Sequence[Finding]:
    # The batch row carries the key's status as of now; the key source may
    # keep keys a few seconds, and a revocation must not wait for it.
    if ctx.batch is not None and ctx.batch.kid == ctx.stamp.key.kid:
        revoked = ctx.batch.key_status is KeyStatus.REVOKED
        return [Finding(VerdictStatus.REVOKED, Reason.KEY_REVOKED)] if revoked else []
    finding = key_not_revoked(ctx.stamp)
    return [finding] if finding else []


def _batch_known(ctx: _Context) -> Sequence[Finding]:
    token, key, batch = ctx.stamp.token, ctx.stamp.key, ctx.batch
    if (
        batch is None
        or batch.kid != key.kid
        or token.index >= batch.count
        or batch.status not in (BatchStatus.ISSUED, BatchStatus.VOIDED)
    ):
        ctx.batch = None
        return [Finding(VerdictStatus.INVALID, Reason.UNKNOWN_BATCH)]
    if batch.status is BatchStatus.VOIDED:
        return [Finding(VerdictStatus.REVOKED, Reason.BATCH_VOIDED)]
    return []


def _lot_not_recalled(ctx: _Context) -> Sequence[Finding]:
    assert ctx.batch is not None
    if ctx.batch.recall_notice is not None:
        return [Finding(VerdictStatus.RECALLED, Reason.LOT_RECALLED)]
    return []


def _certificate_valid(ctx: _Context) -> Sequence[Finding]:
    # The stamp stays genuine when a certificate lapses: the lot was certified
    # when it was stamped. The page stops showing the OCOP mark and says why.
    assert ctx.batch is not None
    product_id = ctx.batch.product_id
    cert = ctx.certificate_of(product_id) if product_id is not None else None
    ctx.certificate = cert
    if cert is None:
        return [Finding(VerdictStatus.GENUINE, Reason.NO_VALID_CERTIFICATE)]
    status = cert.status_on(ctx.today)
    if status.value == "valid":
        return []
    reason = Reason.CERTIFICATE_REVOKED if status.value == "revoked" else Reason.CERTIFICATE_EXPIRED
    return [Finding(VerdictStatus.GENUINE, reason)]


def _before_best_before(ctx: _Context) -> Sequence[Finding]:
    assert ctx.batch is not None
    best_before = ctx.batch.best_before
    if best_before is not None and best_before < ctx.today:
        return [Finding(VerdictStatus.GENUINE, Reason.PAST_BEST_BEFORE)]
    return []


def suspect_rules(
    devices: Any, pin_claims: Any, device_threshold: int
) -> tuple[tuple[Any, Reason], ...]:
    """When a stamp's scan history looks like a copy: (condition, reason) pairs.

    The one statement of the rule. Given numbers, each condition is a bool; given
    SQL columns, a SQL expression, so that analytics select the very stamps the
    verifier flags.
    """
    return (
        (devices > device_threshold, Reason.SCAN_LIMIT_EXCEEDED),
        (pin_claims > 1, Reason.PIN_CLAIMED_TWICE),
    )


def _scan_pattern_plausible(ctx: _Context) -> Sequence[Finding]:
    scans = ctx.scans
    if scans is None:
        return []
    rules = suspect_rules(scans.devices, scans.pin_claims, ctx.device_threshold)
    return [Finding(VerdictStatus.SUSPECT, reason) for hit, reason in rules if hit]


BATCH_CHECKS: tuple[Check, ...] = (
    _lot_not_recalled,
    _certificate_valid,
    _before_best_before,
)


def _decide(findings: Sequence[Finding]) -> VerdictStatus:
    if not findings:
        raise AssertionError("a verdict needs at least one finding")
    return min((f.status for f in findings), key=_SEVERITY.index)


def _reasons(findings: Sequence[Finding]) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(f.reason for f in findings))


class Cache(Protocol):
    """A shared, short-lived cache (the web keeps one per process)."""

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any: ...


class Verifier:
    """Verifies stamps against this server's records; one per request or command.

    A batch's facts are read fresh for every verdict, in one query. Keys and
    certificates may come from ``cache``, which a web process shares between
    requests: keys never change but for their status, which the batch's facts
    carry fresh; a certificate's change shows once the cache lets go of it.
    """

    def __init__(
        self,
        session: Session,
        *,
        device_threshold: int = 10,
        writer: Session | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.session = session
        # Where scans are counted: by default the reading session; a web request
        # passes a short write transaction so that reading takes no write lock.
        self.writer = writer or session
        self.device_threshold = device_threshold
        self._cache = cache or _RequestCache()
        self._keys = _CachedKeys(DatabaseKeySource(session), self._cache)
        self._batches: dict[int, BatchFacts | None] = {}

    def _certificate(self, product_id: int, today: dt.date) -> Certification | None:
        def load() -> Certification | None:
            product = self.session.get(Product, product_id)
            return latest_ocop_certificate(self.session, product, today) if product else None

        return self._cache.get(("certificate", product_id, today), load)

    def _batch(self, number: int) -> BatchFacts | None:
        if number not in self._batches:
            self._batches[number] = batch_facts(self.session, number)
        return self._batches[number]

    def verify(
        self,
        text: str,
        *,
        now: dt.datetime,
        scan: ScanContext | None = None,
    ) -> Verdict:
        """The verdict for ``text``; counts the scan when ``scan`` is given."""
        try:
            token = StampToken.parse(text)
        except MalformedToken:
            return Verdict(VerdictStatus.INVALID, (Reason.MALFORMED,))
        outcome = authenticate(token, self._keys)
        if isinstance(outcome, Finding):
            return Verdict(outcome.status, (outcome.reason,), token=token)
        today = vietnam_today(now)
        ctx = _Context(
            outcome,
            today=today,
            device_threshold=self.device_threshold,
            certificate_of=lambda product_id: self._certificate(product_id, today),
            batch=self._batch(token.batch),
        )
        ctx.findings.append(Finding(VerdictStatus.GENUINE, Reason.SIGNATURE_VALID))
        for check in (_key_not_revoked, _batch_known):
            ctx.findings.extend(check(ctx))
        if ctx.batch is not None and _decide(ctx.findings) is not VerdictStatus.INVALID:
            for batch_check in BATCH_CHECKS:
                ctx.findings.extend(batch_check(ctx))
            ctx.scans = self._scans(ctx, now, scan)
            ctx.findings.extend(_scan_pattern_plausible(ctx))
        return Verdict(
            status=_decide(ctx.findings),
            reasons=_reasons([f for f in ctx.findings if f.reason is not Reason.SIGNATURE_VALID]),
            token=token,
            key=outcome.key,
            batch=ctx.batch,
            certificate=ctx.certificate,
            scans=ctx.scans,
        )

    def _scans(
        self, ctx: _Context, now: dt.datetime, scan: ScanContext | None
    ) -> ScanSummary | None:
        token = ctx.stamp.token
        if scan is None:
            return scan_summary(self.session, token.batch, token.index)
        return record_scan(
            self.writer, token.batch, token.index, device=scan.device, now=now, place=scan.place
        )


class _RequestCache:
    """The default cache: a plain dict for the Verifier's own lifetime."""

    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._items:
            self._items[key] = compute()
        return self._items[key]


class _CachedKeys:
    def __init__(self, source: DatabaseKeySource, cache: Cache) -> None:
        self._source = source
        self._cache = cache

    def candidates(self, prefix: bytes) -> Sequence[TrustedKey]:
        return self._cache.get(("keys", bytes(prefix)), lambda: self._source.candidates(prefix))
