from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus, TrustedKey, TrustList
from ocop.stamps.offline import (
    OFFLINE_CHECKS,
    Finding,
    Reason,
    SignedStamp,
    VerdictStatus,
    first_finding,
    verify_offline,
)
from ocop.stamps.token import StampToken

SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
SIGNER = Ed25519Signer(Ed25519PrivateKey.from_private_bytes(SEED))
OTHER = Ed25519Signer(Ed25519PrivateKey.generate())
TOKEN = StampToken.issue(SIGNER, 1234, 41)


def _trusted(signer: Ed25519Signer, status: KeyStatus = KeyStatus.ACTIVE, **fields) -> TrustedKey:
    return TrustedKey(signer.kid, signer.public_key, "1", "Cục Kinh tế hợp tác", status, **fields)


def _trust(status: KeyStatus = KeyStatus.ACTIVE, **fields) -> TrustList:
    return TrustList([_trusted(OTHER), _trusted(SIGNER, status, **fields)])


def test_genuine_says_uniqueness_was_not_checked():
    trust = _trust()
    result = verify_offline(TOKEN.encode(), trust)
    assert result.status is VerdictStatus.GENUINE
    assert result.reasons == (Reason.OFFLINE_UNIQUENESS_UNCHECKED,)
    assert result.token == TOKEN
    assert result.key == trust.keys[1]


def test_genuine_from_a_scanned_url():
    result = verify_offline(TOKEN.qr_text("https://tem.example.vn"), _trust())
    assert result.status is VerdictStatus.GENUINE


def test_a_retired_keys_stamps_stay_genuine():
    result = verify_offline(TOKEN.encode(), _trust(KeyStatus.RETIRED))
    assert (result.status, result.reasons) == (
        VerdictStatus.GENUINE,
        (Reason.OFFLINE_UNIQUENESS_UNCHECKED,),
    )


def test_key_validity_times_do_not_decide_offline():
    # A stamp carries no signing time: a key's window bounds issuance, not verification.
    trust = _trust(
        KeyStatus.RETIRED,
        not_before=datetime(2099, 1, 1, tzinfo=UTC),
        not_after=datetime(2100, 1, 1, tzinfo=UTC),
    )
    assert verify_offline(TOKEN.encode(), trust).status is VerdictStatus.GENUINE


def test_a_revoked_key_makes_the_stamp_revoked():
    trust = _trust(KeyStatus.REVOKED, revoked_at=datetime(2025, 1, 1, tzinfo=UTC))
    result = verify_offline(TOKEN.encode(), trust)
    assert (result.status, result.reasons) == (VerdictStatus.REVOKED, (Reason.KEY_REVOKED,))
    assert result.key == trust.keys[1]


def test_unknown_key():
    result = verify_offline(TOKEN.encode(), TrustList([_trusted(OTHER)]))
    assert (result.status, result.reasons) == (VerdictStatus.INVALID, (Reason.UNKNOWN_KEY,))
    assert result.token == TOKEN
    assert result.key is None


def test_an_empty_trust_list_knows_no_key():
    result = verify_offline(TOKEN.encode(), TrustList())
    assert result.reasons == (Reason.UNKNOWN_KEY,)


def test_bad_signature():
    forged = dataclasses.replace(TOKEN, signature=OTHER.sign(TOKEN.signing_input))
    result = verify_offline(forged.encode(), _trust())
    assert (result.status, result.reasons) == (VerdictStatus.INVALID, (Reason.BAD_SIGNATURE,))
    assert result.token == forged
    assert result.key is None


def test_a_signature_for_another_stamp_does_not_carry_over():
    other_stamp = StampToken.issue(SIGNER, 1234, 42)
    moved = dataclasses.replace(TOKEN, signature=other_stamp.signature)
    assert verify_offline(moved.encode(), _trust()).reasons == (Reason.BAD_SIGNATURE,)


@pytest.mark.parametrize("text", ["", "hello", "https://tem.example.vn/V/", TOKEN.encode()[:-1]])
def test_malformed(text):
    result = verify_offline(text, _trust())
    assert (result.status, result.reasons) == (VerdictStatus.INVALID, (Reason.MALFORMED,))
    assert result.token is None
    assert result.key is None


class _SharedPrefix:
    """A key source where several keys claim the stamp's 8-byte prefix.

    Real thumbprints sharing 8 bytes take about 2**32 keys to find.
    """

    def __init__(self, *keys: TrustedKey) -> None:
        self.keys = keys

    def candidates(self, prefix: bytes) -> tuple[TrustedKey, ...]:
        return self.keys


def test_every_key_sharing_the_prefix_is_tried():
    signing = _trusted(SIGNER)
    source = _SharedPrefix(_trusted(OTHER), signing)
    result = verify_offline(TOKEN.encode(), source)
    assert (result.status, result.key) == (VerdictStatus.GENUINE, signing)


def test_no_key_sharing_the_prefix_verifies():
    source = _SharedPrefix(_trusted(OTHER), _trusted(Ed25519Signer(Ed25519PrivateKey.generate())))
    assert verify_offline(TOKEN.encode(), source).reasons == (Reason.BAD_SIGNATURE,)


def test_flipping_any_bit_of_the_test_vector_is_never_genuine():
    trust = _trust()
    raw = TOKEN.to_bytes()
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        text = base64.b32encode(bytes(flipped)).decode().rstrip("=")
        result = verify_offline(text, trust)
        assert result.status is VerdictStatus.INVALID, bit


@given(st.text())
def test_any_text_gets_a_result(text):
    assert verify_offline(text, _trust()).status is VerdictStatus.INVALID


# --- composing checks ---------------------------------------------------------------


def _suspect(stamp: SignedStamp) -> Finding | None:
    return Finding(VerdictStatus.SUSPECT, Reason.SCAN_LIMIT_EXCEEDED)


def test_checks_run_in_order_and_the_first_finding_decides():
    revoked = _trust(KeyStatus.REVOKED)
    result = verify_offline(TOKEN.encode(), revoked, checks=(*OFFLINE_CHECKS, _suspect))
    assert result.reasons == (Reason.KEY_REVOKED,)
    result = verify_offline(TOKEN.encode(), _trust(), checks=(*OFFLINE_CHECKS, _suspect))
    assert (result.status, result.reasons) == (
        VerdictStatus.SUSPECT,
        (Reason.SCAN_LIMIT_EXCEEDED,),
    )


def test_no_checks_never_passes():
    stamp = SignedStamp(TOKEN, _trusted(SIGNER))
    with pytest.raises(ValueError, match="no checks"):
        first_finding(stamp, ())
    with pytest.raises(ValueError, match="no checks"):
        verify_offline(TOKEN.encode(), _trust(), checks=())


def test_statuses_and_reasons_are_their_own_values():
    assert {s.value for s in VerdictStatus} == {
        "genuine",
        "suspect",
        "recalled",
        "revoked",
        "invalid",
    }
    assert all(reason.value == reason.name.lower() for reason in Reason)
