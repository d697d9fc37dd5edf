"""Migration 0013 logs the keys and batches that exist, so old stamps still verify."""

from __future__ import annotations

import datetime as dt
import json

from ocop.keys import merkle
from ocop.keys.models import LogLeaf
from ocop.keys.trustlist import KeyStatus
from ocop.stamps import StampToken, VerdictStatus, Verifier
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.trace.db import Database, utcnow
from tests import factories as f

from .test_migration_0006 import _migrate, fresh  # noqa: F401 (the fixture)


def test_existing_keys_and_batches_are_logged_in_order(fresh: Database) -> None:  # noqa: F811
    _migrate(fresh, "upgrade", "0006")
    long_ago = utcnow() - dt.timedelta(days=30)
    with fresh.transaction() as session:
        key = f.authority_key(session)
        key.row.created_at = long_ago
        old = f.authority_key(session, KeyStatus.REVOKED)
        old.row.created_at = long_ago + dt.timedelta(seconds=1)
        lot = f.certified_lot(session)
        batch = StampBatch(lot=lot, key=key.row, count=7, status=BatchStatus.ISSUED,
                           issued_at=utcnow(), created_by="before the log")
        session.add(batch)
        session.flush()
        number, kid, old_kid = batch.id, key.row.kid, old.row.kid
    fresh.upgrade()
    with fresh.transaction() as session:
        rows = session.query(LogLeaf).order_by(LogLeaf.index).all()
        fields = [json.loads(row.leaf) for row in rows]
        assert [(x["type"], x.get("event"), x["kid"]) for x in fields] == [
            ("key", "registered", kid),
            ("key", "registered", old_kid),
            ("key", "revoked", old_kid),
            ("batch", None, kid),
        ]
        assert fields[-1]["batch"] == number and fields[-1]["count"] == 7
        assert fields[-1]["last"].startswith(f"{number}-000007-")
        tree = merkle.MemoryTree()
        for row in rows:
            tree.append(bytes(row.leaf))
        assert bytes(rows[-1].root) == tree.root()
        token = StampToken.issue(key.signer, number, 6)
        verdict = Verifier(session).verify(token.encode(), now=utcnow())
        assert verdict.status is VerdictStatus.GENUINE
        assert verdict.batch is not None and verdict.batch.log_index == 3
