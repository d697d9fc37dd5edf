"""Batch facts and the version that tells a per-process cache they moved."""

from __future__ import annotations

import dataclasses

from sqlalchemy import update

from ocop.keys.models import IssuerKey
from ocop.keys.trustlist import KeyStatus
from ocop.stamps.facts import FactsCache, batch_facts, facts_version
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.scans import record_scan
from ocop.trace.db import utcnow
from ocop.trace.models import Certification, CertStatus, Organisation, Recall
from tests import factories as f


def test_every_change_a_verdict_reads_moves_the_version(session) -> None:
    key = f.authority_key(session)
    lot = f.certified_lot(session)
    batch = f.issued_batch(session, lot, key)
    changes = [
        lambda: session.add(Recall(lot=lot, notice="Nhiễm ẩm", recalled_at=utcnow())),
        lambda: session.execute(
            update(StampBatch).where(StampBatch.id == batch.id).values(status=BatchStatus.VOIDED)
        ),
        lambda: session.execute(
            update(IssuerKey).where(IssuerKey.id == key.row.id).values(status=KeyStatus.REVOKED)
        ),
        lambda: session.execute(
            update(Certification)
            .where(Certification.product_id == lot.product_id)
            .values(status=CertStatus.REVOKED)
        ),
        lambda: session.execute(
            update(Organisation).where(Organisation.id == lot.owner_id).values(name="HTX mới")
        ),
    ]
    for change in changes:
        before = facts_version(session)
        change()
        session.flush()
        after = facts_version(session)
        assert after > before
        facts = batch_facts(session, batch.id)
        assert facts is not None and facts.version == after


def test_a_scan_moves_nothing(session) -> None:
    key = f.authority_key(session)
    batch = f.issued_batch(session, f.certified_lot(session), key)
    before = facts_version(session)
    record_scan(session, batch.id, 0, device="a", network="x", now=utcnow())
    assert facts_version(session) == before


def test_the_cache_keeps_the_newest_version_and_forgets_the_oldest_batch(session) -> None:
    key = f.authority_key(session)
    facts = batch_facts(session, f.issued_batch(session, f.certified_lot(session), key).id)
    cache = FactsCache(size=2)
    newer = dataclasses.replace(facts, version=facts.version + 1)
    cache.put(newer)
    cache.put(facts)  # older: ignored
    assert cache.get(facts.id) is newer
    for other in (facts.id + 1, facts.id + 2):
        cache.put(dataclasses.replace(facts, id=other))
    assert cache.get(facts.id) is None and cache.get(facts.id + 2) is not None
