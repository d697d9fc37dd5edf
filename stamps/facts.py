"""What the verifier needs to know about a batch, read in one query, cached by version.

A scan is the hot path of the whole service, so the facts come from one Core
SELECT into a plain value instead of a graph of ORM objects, together with the
facts version (:class:`~ocop.stamps.models.FactsVersion`) they were read at. A
:class:`FactsCache` keeps them per process; whoever uses one compares the
version it holds with the version the database gives now (the scan statement
returns it), so a recall, a void or a revocation shows on the very next scan.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ocop.keys.models import IssuerKey, LogLeaf
from ocop.keys.trustlist import KeyStatus
from ocop.trace.models import Lot, Organisation, Product, Recall

from .activation import ranges_of
from .models import BatchStatus, FactsVersion, StampBatch


@dataclass(frozen=True, slots=True)
class BatchFacts:
    id: int
    count: int
    status: BatchStatus
    pin: bool
    issued_at: dt.datetime | None
    void_reason: str | None
    kid: str
    key_status: KeyStatus
    lot_id: int
    lot_code: str
    best_before: dt.date | None
    product_id: int | None
    product_name: str | None
    producer_name: str
    recall_notice: str | None
    recalled_at: dt.datetime | None
    version: int = 0
    # The batch's leaf in the transparency log; None: not logged, so not genuine.
    log_index: int | None = None
    # The activated ranges (first, last index): a stamp outside them is inert.
    active: tuple[tuple[int, int], ...] = ()


_b, _k, _l = StampBatch.__table__, IssuerKey.__table__, Lot.__table__
_p, _o, _r = Product.__table__, Organisation.__table__, Recall.__table__
_log = LogLeaf.__table__
_r2 = _r.alias("newer")
_latest_recall = (
    select(_r2.c.id)
    .where(_r2.c.lot_id == _l.c.id)
    .order_by(_r2.c.id.desc())
    .limit(1)
    .correlate(_l)
    .scalar_subquery()
)

_v = FactsVersion.__table__
_VERSION = select(_v.c.version).where(_v.c.id == 1)

_FACTS = (
    select(
        _b.c.id,
        _b.c["count"],
        _b.c.status,
        _b.c.pin,
        _b.c.issued_at,
        _b.c.void_reason,
        _k.c.kid,
        _k.c.status,
        _l.c.id,
        _l.c.code,
        _l.c.best_before,
        _p.c.id,
        _p.c.name,
        _o.c.name,
        _r.c.notice,
        _r.c.recalled_at,
        _VERSION.scalar_subquery(),
        _log.c.index,
    )
    .join(_k, _k.c.id == _b.c.key_id)
    .join(_l, _l.c.id == _b.c.lot_id)
    .join(_o, _o.c.id == _l.c.owner_id)
    .outerjoin(_p, _p.c.id == _l.c.product_id)
    .outerjoin(_r, _r.c.id == _latest_recall)
    .outerjoin(_log, _log.c.batch_id == _b.c.id)
    .where(_b.c.id == bindparam("batch_id"))
)


def batch_facts(session: Session, batch_id: int) -> BatchFacts | None:
    row = session.connection().execute(_FACTS, {"batch_id": batch_id}).first()
    if row is None:
        return None
    (
        id_,
        count,
        status,
        pin,
        issued_at,
        void_reason,
        kid,
        key_status,
        lot_id,
        lot_code,
        best_before,
        product_id,
        product_name,
        producer_name,
        notice,
        recalled_at,
        version,
        log_index,
    ) = row
    return BatchFacts(
        id=id_,
        count=count,
        status=BatchStatus(status),
        pin=bool(pin),
        issued_at=issued_at,
        void_reason=void_reason,
        kid=kid,
        key_status=KeyStatus(key_status),
        lot_id=lot_id,
        lot_code=lot_code,
        best_before=best_before,
        product_id=product_id,
        product_name=product_name,
        producer_name=producer_name,
        recall_notice=notice,
        recalled_at=recalled_at,
        version=version or 0,
        log_index=log_index,
        active=tuple(ranges_of(session, id_)),
    )


def facts_version(session: Session) -> int:
    """The facts version now (0 before anything was ever recorded)."""
    return session.connection().execute(_VERSION).scalar() or 0


class FactsCache:
    """Batch facts per process, each under the version it was read at; safe across threads.

    Holds at most ``size`` batches, the least recently used going first. It
    never decides whether facts are fresh: the caller compares versions.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[int, BatchFacts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, batch_id: int) -> BatchFacts | None:
        with self._lock:
            facts = self._items.get(batch_id)
            if facts is not None:
                self._items.move_to_end(batch_id)
            return facts

    def put(self, facts: BatchFacts) -> None:
        with self._lock:
            held = self._items.get(facts.id)
            if held is None or held.version <= facts.version:
                self._items[facts.id] = facts
                self._items.move_to_end(facts.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
