"""Issuance rules: who may sign stamps for which lot."""

from __future__ import annotations

import pytest

from ocop.keys.trustlist import KeyStatus
from ocop.stamps.errors import IssuanceRefused
from ocop.stamps.issuance import open_batch, parse_count
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import Lot, Recall
from tests import factories as f


@pytest.mark.parametrize("raw", ["0", "-1", "x", "", " ", "1e3", "1.0", "١٢", "1001"])
def test_bad_counts(raw):
    with pytest.raises(IssuanceRefused, match="count"):
        parse_count(raw, 1000)


def test_good_counts():
    assert parse_count(" 1_000 ", 1000) == 1000
    assert parse_count("1", 5) == 1


def _open(session, lot, key):
    return open_batch(session, lot, key.row, count=5, pin=False, actor="t", today=vietnam_today())


def test_certified_lot_and_active_key_open_a_batch(session):
    batch = _open(session, f.certified_lot(session), f.authority_key(session))
    assert batch.id >= 1 and batch.status.value == "issuing"


def test_refusals(session):
    key = f.authority_key(session)
    expired = f.certified_lot(session, valid=False)
    with pytest.raises(IssuanceRefused, match="no valid OCOP certificate"):
        _open(session, expired, key)
    recalled = f.certified_lot(session)
    session.add(Recall(lot=recalled, notice="x", recalled_at=utcnow()))
    session.flush()
    session.expire(recalled)
    with pytest.raises(IssuanceRefused, match="recalled"):
        _open(session, recalled, key)
    raw = Lot(code="RAW-1", item="Gạo nếp", owner=f.organisation(session))
    session.add(raw)
    session.flush()
    with pytest.raises(IssuanceRefused, match="raw-material"):
        _open(session, raw, key)
    for status in (KeyStatus.RETIRED, KeyStatus.REVOKED):
        with pytest.raises(IssuanceRefused, match="active key"):
            _open(session, f.certified_lot(session), f.authority_key(session, status))
