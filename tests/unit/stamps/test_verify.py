"""The online verdict: one test per check, each able to fail on its own."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.keys.trustlist import KeyStatus
from ocop.stamps import Reason, ScanContext, StampToken, VerdictStatus, Verifier
from ocop.stamps.copies import CopyRule
from ocop.stamps.models import BatchStatus
from ocop.trace.db import utcnow
from ocop.trace.models import CertStatus, Recall
from tests import factories as f


@pytest.fixture
def stamp(session):
    key = f.authority_key(session)
    lot = f.certified_lot(session)
    batch = f.issued_batch(session, lot, key, count=5)
    return key, lot, batch


def _verify(session, text, **kw):
    return Verifier(session, rule=CopyRule(sightings=kw.pop("threshold", 3))).verify(
        text, now=kw.pop("now", utcnow()), **kw
    )


def test_genuine_stamp_passes_with_its_batch(session, stamp):
    key, lot, batch = stamp
    token = StampToken.issue(key.signer, batch.id, 4)
    verdict = _verify(session, token.qr_text("HTTP://X"))
    assert verdict.status is VerdictStatus.GENUINE
    assert verdict.reasons == ()
    assert verdict.batch.lot_id == lot.id
    assert str(verdict.serial) .startswith(f"{batch.id}-000005-")


def test_index_beyond_the_batch_is_unknown(session, stamp):
    key, _lot, batch = stamp
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 5).encode())
    assert verdict.status is VerdictStatus.INVALID
    assert verdict.reasons == (Reason.UNKNOWN_BATCH,)
    assert verdict.batch is None


def test_batch_signed_by_another_trusted_key_is_unknown(session, stamp):
    _key, _lot, batch = stamp
    other = f.authority_key(session)
    verdict = _verify(session, StampToken.issue(other.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.INVALID
    assert Reason.UNKNOWN_BATCH in verdict.reasons


@pytest.mark.parametrize("status", [BatchStatus.ISSUING, BatchStatus.FAILED])
def test_batch_never_finished_is_unknown(session, status):
    key = f.authority_key(session)
    batch = f.issued_batch(session, f.certified_lot(session), key, status=status)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.INVALID


def test_forged_signature_is_invalid(session, stamp):
    key, _lot, batch = stamp
    raw = bytearray(StampToken.issue(key.signer, batch.id, 0).to_bytes())
    raw[40] ^= 0x10
    import base64

    verdict = _verify(session, base64.b32encode(bytes(raw)).decode().rstrip("="))
    assert verdict.status is VerdictStatus.INVALID
    assert verdict.reasons == (Reason.BAD_SIGNATURE,)
    assert verdict.batch is None


def test_unknown_key_and_junk_are_invalid(session):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ocop.keys.signer import Ed25519Signer

    stranger = Ed25519Signer(Ed25519PrivateKey.generate())
    assert _verify(session, StampToken.issue(stranger, 1, 0).encode()).reasons == (
        Reason.UNKNOWN_KEY,
    )
    for junk in ["", "x" * 5000, "<script>alert(1)</script>", "%00%ff", "/V/"]:
        assert _verify(session, junk).status is VerdictStatus.INVALID


def test_revoked_key_revokes_its_stamps(session):
    key = f.authority_key(session, KeyStatus.REVOKED)
    batch = f.issued_batch(session, f.certified_lot(session), key)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.REVOKED
    assert Reason.KEY_REVOKED in verdict.reasons


def test_retired_key_still_verifies(session):
    key = f.authority_key(session, KeyStatus.RETIRED)
    batch = f.issued_batch(session, f.certified_lot(session), key)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.GENUINE


def test_voided_batch_is_revoked(session, stamp):
    key, _lot, batch = stamp
    batch.status = BatchStatus.VOIDED
    batch.void_reason = "printed twice"
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.REVOKED
    assert verdict.reasons == (Reason.BATCH_VOIDED,)


def test_recalled_lot_is_recalled(session, stamp):
    key, lot, batch = stamp
    session.add(Recall(lot=lot, notice="Nhiễm ẩm", recalled_at=utcnow()))
    session.flush()
    session.expire(lot)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.RECALLED
    assert verdict.reasons == (Reason.LOT_RECALLED,)


def test_lapsed_certificate_keeps_stamp_genuine_but_says_so(session):
    key = f.authority_key(session)
    lot = f.certified_lot(session, valid=False)
    batch = f.issued_batch(session, lot, key)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.GENUINE
    assert Reason.CERTIFICATE_EXPIRED in verdict.reasons or (
        Reason.NO_VALID_CERTIFICATE in verdict.reasons
    )


def test_revoked_certificate_is_reported(session, stamp):
    key, lot, batch = stamp
    cert = lot.product.certifications[0]
    cert.status = CertStatus.REVOKED
    session.flush()
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert Reason.CERTIFICATE_REVOKED in verdict.reasons


def test_past_best_before_is_reported(session):
    key = f.authority_key(session)
    lot = f.certified_lot(session, best_before=dt.date(2020, 1, 1), produced_on=dt.date(2019, 1, 1))
    batch = f.issued_batch(session, lot, key)
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 0).encode())
    assert verdict.status is VerdictStatus.GENUINE
    assert Reason.PAST_BEST_BEFORE in verdict.reasons


def test_scans_are_counted_and_many_devices_make_it_suspect(session, stamp):
    key, _lot, batch = stamp
    text = StampToken.issue(key.signer, batch.id, 1).encode()
    first = _verify(session, text, scan=ScanContext(device="a"))
    assert first.scans.count == 1 and first.scans.devices == 1
    again = _verify(session, text, scan=ScanContext(device="a"))
    assert again.scans.count == 2 and again.scans.devices == 1
    assert again.scans.first_at == first.scans.first_at
    for device in "bc":
        assert _verify(session, text, scan=ScanContext(device=device)).status is (
            VerdictStatus.GENUINE
        )
    copied = _verify(session, text, scan=ScanContext(device="d"))
    assert copied.status is VerdictStatus.SUSPECT
    assert copied.reasons == (Reason.SCAN_LIMIT_EXCEEDED,)
    assert copied.scans.count == 5 and copied.scans.devices == 4
    # Looking without scanning counts nothing.
    assert _verify(session, text).scans.count == 5


def test_invalid_stamps_are_not_counted(session, stamp):
    key, _lot, batch = stamp
    verdict = _verify(session, StampToken.issue(key.signer, batch.id, 99).encode(),
                      scan=ScanContext(device="a"))
    assert verdict.scans is None


def test_pin_claimed_twice_is_suspect(session, stamp):
    from ocop.stamps import claim_pin

    key, _lot, batch = stamp
    assert claim_pin(session, batch.id, 2, utcnow()) == 1
    text = StampToken.issue(key.signer, batch.id, 2).encode()
    assert _verify(session, text).status is VerdictStatus.GENUINE
    assert claim_pin(session, batch.id, 2, utcnow()) == 2
    verdict = _verify(session, text)
    assert verdict.status is VerdictStatus.SUSPECT
    assert Reason.PIN_CLAIMED_TWICE in verdict.reasons
