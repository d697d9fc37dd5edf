"""Activation by range: every refusal changes nothing; the verdict of an inert stamp."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ocop.stamps import Reason, StampToken, VerdictStatus, Verifier
from ocop.stamps.activation import activate, ranges_of, stamp_index
from ocop.stamps.errors import ActivationRefused
from ocop.stamps.issuance import void_batch
from ocop.stamps.models import BatchStatus, StampActivation
from ocop.stamps.serial import Serial
from ocop.trace.db import utcnow
from tests import factories as f


@pytest.fixture
def inert(session):
    key = f.authority_key(session)
    lot = f.certified_lot(session)
    batch = f.issued_batch(session, lot, key, count=20, active=False)
    return key, lot, batch


def _activate(session, batch, first, last, owner=None):
    return activate(session, batch.id, first, last, owner_id=owner, actor="t", now=utcnow())


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(StampActivation))


def test_an_inert_stamp_is_not_genuine_until_its_range_is_activated(session, inert) -> None:
    key, lot, batch = inert
    token = StampToken.issue(key.signer, batch.id, 4).encode()
    verdict = Verifier(session).verify(token, now=utcnow())
    assert verdict.status is VerdictStatus.SUSPECT
    assert verdict.reasons == (Reason.NOT_ACTIVATED,)
    _activate(session, batch, 0, 9, owner=lot.owner_id)
    assert Verifier(session).verify(token, now=utcnow()).status is VerdictStatus.GENUINE
    outside = StampToken.issue(key.signer, batch.id, 10).encode()
    assert Verifier(session).verify(outside, now=utcnow()).reasons == (Reason.NOT_ACTIVATED,)


def test_a_recall_or_a_void_still_says_more_than_inert(session, inert) -> None:
    key, _lot, batch = inert
    void_batch(session, batch.id, reason="lost roll", now=utcnow())
    token = StampToken.issue(key.signer, batch.id, 1).encode()
    assert Verifier(session).verify(token, now=utcnow()).status is VerdictStatus.REVOKED


@pytest.mark.parametrize(
    ("first", "last", "match"),
    [
        (5, 4, "comes after the last"),
        (0, 20, "goes past them"),
        (-1, 3, "goes past them"),
    ],
)
def test_bad_ranges_are_refused_and_change_nothing(session, inert, first, last, match) -> None:
    _key, lot, batch = inert
    with pytest.raises(ActivationRefused, match=match):
        _activate(session, batch, first, last, owner=lot.owner_id)
    assert _count(session) == 0


def test_a_range_twice_or_overlapping_is_refused(session, inert) -> None:
    _key, lot, batch = inert
    _activate(session, batch, 5, 9, owner=lot.owner_id)
    for first, last in ((5, 9), (0, 5), (9, 12), (6, 7), (0, 19)):
        with pytest.raises(ActivationRefused, match="already active"):
            _activate(session, batch, first, last, owner=lot.owner_id)
    _activate(session, batch, 10, 19, owner=lot.owner_id)
    assert ranges_of(session, batch.id) == [(5, 9), (10, 19)]


def test_another_producers_stamps_and_void_or_unfinished_batches_are_refused(
    session, inert
) -> None:
    key, lot, batch = inert
    other = f.organisation(session)
    with pytest.raises(ActivationRefused, match="there is no batch"):
        _activate(session, batch, 0, 1, owner=other.id)
    with pytest.raises(ActivationRefused, match="there is no batch"):
        activate(session, 999_999, 0, 1, owner_id=None, actor="t", now=utcnow())
    issuing = f.issued_batch(session, lot, key, count=3, status=BatchStatus.ISSUING, active=False)
    with pytest.raises(ActivationRefused, match="not issued yet"):
        _activate(session, issuing, 0, 1)
    void_batch(session, batch.id, reason="lost", now=utcnow())
    with pytest.raises(ActivationRefused, match="is void"):
        _activate(session, batch, 0, 1, owner=lot.owner_id)
    assert _count(session) == 0


def test_stamps_are_named_by_serial_number_or_qr_code(session, inert) -> None:
    key, _lot, batch = inert
    assert stamp_index("1", batch.id) == 0
    assert stamp_index(str(Serial(batch.id, 7)), batch.id) == 7
    token = StampToken.issue(key.signer, batch.id, 12)
    assert stamp_index(token.qr_text("https://ocop.example"), batch.id) == 12
    assert stamp_index(token.encode(), batch.id) == 12
    for bad, match in (
        ("", "give the first"),
        ("0", "start at 1"),
        ("hello", "is not a stamp"),
        (str(Serial(batch.id + 1, 0)), "not of batch"),
        ("x" * 10_000, "is not a stamp"),
    ):
        with pytest.raises(ActivationRefused, match=match):
            stamp_index(bad, batch.id)


def test_two_activations_of_one_range_at_once_one_wins(clean_database) -> None:
    with clean_database.transaction() as session:
        key = f.authority_key(session)
        lot = f.certified_lot(session)
        batch = f.issued_batch(session, lot, key, count=50, active=False)
        batch_id, owner = batch.id, lot.owner_id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with clean_database.transaction() as session:
                activate(session, batch_id, 0, 49, owner_id=owner, actor="t", now=utcnow())
            outcomes.append("won")
        except ActivationRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["refused", "won"]
    with clean_database.transaction() as session:
        assert ranges_of(session, batch_id) == [(0, 49)]
