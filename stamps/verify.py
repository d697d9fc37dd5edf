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

from .copies import CopyRule
from .errors import MalformedToken
from .facts import BatchFacts, FactsCache, batch_facts, facts_version
from .models import BatchStatus
from .offline import Finding, Reason, SignedStamp, VerdictStatus, authenticate, key_not_revoked
from .scans import (
    ScanCounter,
    ScanParams,
    ScanSummary,
    record_scan,
    scan_summaries,
    scan_summary,
)
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
    def inert(self) -> bool:
        """A stamp of ours its owner never activated: no product may be shown under it,
        or a blank stolen from a roll would be as good as a genuine stamp."""
        return Reason.NOT_ACTIVATED in self.reasons

    @property
    def known(self) -> bool:
        """A genuine signature on a batch we issued: the details may be shown."""
        return self.batch is not None and self.status is not VerdictStatus.INVALID


@dataclass(frozen=True, slots=True)
class ScanContext:
    """Who is scanning, when the scan should be counted (a person, not a bot).

    ``device`` and ``network`` are keyed hashes the web makes (web/scanning.py);
    the copy rule (stamps/copies.py) counts a new device on a new network.
    """

    device: str | None
    network: str | None = None
    place: str | None = None


@dataclass(slots=True)
class _Context:
    stamp: SignedStamp
    today: dt.date
    rule: CopyRule
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
    if batch.log_index is None:
        # Signed by a trusted key, yet never shown in the public log: a rogue or
        # stolen key signing in secret. Nothing about it may be shown as ours.
        ctx.batch = None
        return [Finding(VerdictStatus.INVALID, Reason.NOT_IN_LOG)]
    if batch.status is BatchStatus.VOIDED:
        return [Finding(VerdictStatus.REVOKED, Reason.BATCH_VOIDED)]
    return []


def _stamp_activated(ctx: _Context) -> Sequence[Finding]:
    # A stamp its owner never put into use was taken before packing: not genuine,
    # and its scans are a theft signal for the producer (stamps/analytics.py).
    assert ctx.batch is not None
    index = ctx.stamp.token.index
    if any(first <= index <= last for first, last in ctx.batch.active):
        return []
    return [Finding(VerdictStatus.SUSPECT, Reason.NOT_ACTIVATED)]


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


def _scan_pattern_plausible(ctx: _Context) -> Sequence[Finding]:
    scans = ctx.scans
    if scans is None:
        return []
    reasons = ctx.rule.reasons(scans.sightings, scans.far_apart, scans.pin_claims)
    return [Finding(VerdictStatus.SUSPECT, reason) for reason in reasons]


BATCH_CHECKS: tuple[Check, ...] = (
    _stamp_activated,
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

    On its own it reads a batch's facts fresh for each verdict, in one query.
    A web process shares between requests:

    - ``facts``, batch facts under the facts version they were read at; a
      counted scan returns the version now, any other verdict reads it once
      per Verifier, and facts of another version are read again;
    - ``counter``, which counts scans on its own connection (no Session);
    - ``cache``, keys and certificates: keys never change but for their
      status, which the batch's facts carry fresh; certificates are kept under
      the facts version too when it is known, for a few seconds otherwise.

    ``session`` may be a callable that opens one: a scan whose facts, keys and
    certificate are all cached then opens no Session at all.
    """

    def __init__(
        self,
        session: Session | Callable[[], Session],
        *,
        rule: CopyRule | None = None,
        writer: Session | None = None,
        cache: Cache | None = None,
        facts: FactsCache | None = None,
        counter: ScanCounter | None = None,
    ) -> None:
        self._session_source = session
        self._session: Session | None = session if isinstance(session, Session) else None
        # Where scans are counted without a counter: by default the reading
        # session; a caller may pass a short write transaction.
        self._writer = writer
        self.rule = rule or CopyRule()
        self._cache = cache or _RequestCache()
        self._keys = _CachedKeys(lambda: DatabaseKeySource(self.session), self._cache)
        self._batches: dict[int, BatchFacts | None] = {}
        self._facts = facts
        self._counter = counter
        self._version: int | None = None
        self._summaries: dict[tuple[int, int], ScanSummary] | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            assert callable(self._session_source)
            self._session = self._session_source()
        return self._session

    def _certificate(self, product_id: int, today: dt.date) -> Certification | None:
        def load() -> Certification | None:
            product = self.session.get(Product, product_id)
            return latest_ocop_certificate(self.session, product, today) if product else None

        return self._cache.get(("certificate", product_id, today, self._version), load)

    def _batch(self, number: int) -> BatchFacts | None:
        """Facts as of now: from the shared cache when its version is the current one."""
        if self._facts is None:
            if number not in self._batches:
                self._batches[number] = batch_facts(self.session, number)
            return self._batches[number]
        if self._version is None:
            self._version = facts_version(self.session)
        held = self._facts.get(number)
        if held is not None and held.version == self._version:
            return held
        return self._fresh(number)

    def _fresh(self, number: int) -> BatchFacts | None:
        facts = batch_facts(self.session, number)
        if facts is not None and self._facts is not None:
            self._facts.put(facts)
        return facts

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
            rule=self.rule,
            certificate_of=lambda product_id: self._certificate(product_id, today),
            batch=self._scanned_batch(token.batch) if scan else self._batch(token.batch),
        )
        ctx.findings.append(Finding(VerdictStatus.GENUINE, Reason.SIGNATURE_VALID))
        for check in (_key_not_revoked, _batch_known):
            ctx.findings.extend(check(ctx))
        if ctx.batch is not None and _decide(ctx.findings) is not VerdictStatus.INVALID:
            # Counted first: the count brings the facts version the checks read at.
            ctx.scans = self._scans(ctx, now, scan)
            if ctx.batch is not None:
                for batch_check in BATCH_CHECKS:
                    ctx.findings.extend(batch_check(ctx))
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

    def verify_many(self, texts: Sequence[str], *, now: dt.datetime) -> list[Verdict]:
        """Verdicts for many codes, counting no scan; what was seen of them read in few queries."""
        stamps = []
        for text in texts:
            try:
                token = StampToken.parse(text)
            except MalformedToken:
                continue
            stamps.append((token.batch, token.index))
        self._summaries = scan_summaries(self.session, stamps)
        try:
            return [self.verify(text, now=now) for text in texts]
        finally:
            self._summaries = None

    def _scanned_batch(self, number: int) -> BatchFacts | None:
        """Facts for a scan about to be counted: any cached version will do for now.

        Whether a batch is known never changes once it is issued (a void keeps
        it known, as ``revoked``), so cached facts may decide that the scan is
        counted; the count then returns the version, and :meth:`_scans` reads
        the facts again when it moved.
        """
        if self._facts is None:
            return self._batch(number)
        return self._facts.get(number) or self._fresh(number)

    def _scans(
        self, ctx: _Context, now: dt.datetime, scan: ScanContext | None
    ) -> ScanSummary | None:
        token = ctx.stamp.token
        if scan is None:
            if self._summaries is not None:
                return self._summaries.get((token.batch, token.index))
            return scan_summary(self.session, token.batch, token.index)
        if self._counter is None:
            return record_scan(
                self._writer or self.session,
                token.batch,
                token.index,
                device=scan.device,
                network=scan.network,
                now=now,
                place=scan.place,
            )
        device = scan.device or "unknown"
        params = ScanParams(device, scan.network or device, now, scan.place)
        counted = self._counter.count(token.batch, token.index, params)
        self._version = counted.facts_version
        assert ctx.batch is not None
        if ctx.batch.version != counted.facts_version:
            fresh = self._fresh(token.batch)
            # Known stays known, so fresh facts exist; they may now say voided or recalled.
            ctx.batch = fresh or ctx.batch
            ctx.findings[1:] = []
            for check in (_key_not_revoked, _batch_known):
                ctx.findings.extend(check(ctx))
        return counted.summary


class _RequestCache:
    """The default cache: a plain dict for the Verifier's own lifetime."""

    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._items:
            self._items[key] = compute()
        return self._items[key]


class _CachedKeys:
    def __init__(self, source: Callable[[], DatabaseKeySource], cache: Cache) -> None:
        self._open = source
        self._source: DatabaseKeySource | None = None
        self._cache = cache

    def candidates(self, prefix: bytes) -> Sequence[TrustedKey]:
        return self._cache.get(("keys", bytes(prefix)), lambda: self._load(prefix))

    def _load(self, prefix: bytes) -> Sequence[TrustedKey]:
        if self._source is None:
            self._source = self._open()
        return self._source.candidates(prefix)
