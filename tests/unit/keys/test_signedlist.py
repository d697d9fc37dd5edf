"""The signed trust list: built, verified, and refused for each reason, with real signatures."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from jwcrypto import jwk as jose_jwk
from jwcrypto import jws as jose_jws

from ocop.keys.certificates import Purpose
from ocop.keys.errors import (
    BadListSignature,
    CertificateExpired,
    KeysError,
    MalformedStatement,
    SequenceRollback,
    SignerNotCertified,
    TrustListExpired,
    UnknownRoot,
)
from ocop.keys.jwk import public_jwk
from ocop.keys.signedlist import Freshness, verify_signed_trust_list
from ocop.keys.trustlist import KeyStatus, TrustList
from ocop.stamps.offline import Reason, VerdictStatus, verify_offline
from ocop.stamps.token import StampToken
from tests.trustworld import NOW, World, new_signer

VECTOR_SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
VECTOR_TOKEN = (
    "AGJWOUTHVYKT3BAAAACNEAAAAAURMW7T6UWVIDCOQH63AGSFWEVQESAFBSXJ57N6DDGQS2ZNOZCAKAQXU2SN5KI"
    "LLBMWEOPRKKDCACRD3DEQCLJ3GKXGTICZZ2QCYG2DAI"
)


def _verify(world: World, document: str, **kwargs):
    kwargs.setdefault("now", NOW)
    return verify_signed_trust_list(document, [world.root.kid], **kwargs)


def _payload(document: str) -> dict:
    part = document.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_genuine_list_verifies_and_the_test_vector_stamp_with_it():
    world = World.make(2, seeds=[VECTOR_SEED])
    verified = _verify(world, world.document(sequence=7))
    assert verified.freshness is Freshness.FRESH
    assert verified.sequence == 7
    assert verified.root_kid == world.root.kid
    assert verified.signer_kid == world.list_signer.kid
    assert {k.kid for k in verified.trust.keys} == {s.kid for s in world.issuers}
    assert verified.dropped == ()
    result = verify_offline(f"HTTPS://TEM.EXAMPLE.VN/V/{VECTOR_TOKEN}", verified)
    assert result.status is VerdictStatus.GENUINE
    assert result.key is not None
    assert result.key.kid == "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"


def test_the_payload_is_still_a_jwk_set_that_todays_readers_parse():
    world = World.make(3)
    trust = TrustList.from_json(json.dumps(_payload(world.document())))
    assert {k.kid for k in trust.keys} == {s.kid for s in world.issuers}


def test_a_generic_jose_library_verifies_the_list_and_its_certificates():
    world = World.make(2)
    document = world.document()
    signer = jose_jwk.JWK(**public_jwk(world.list_signer.public_key))
    token = jose_jws.JWS()
    token.deserialize(document)
    token.verify(signer, alg="EdDSA")
    body = json.loads(token.payload)
    root = jose_jwk.JWK(**public_jwk(world.root.public_key))
    assert root.thumbprint() == world.root.kid
    for compact in [body["signer_certificate"], *(k["cert"] for k in body["keys"])]:
        cert = jose_jws.JWS()
        cert.deserialize(compact)
        cert.verify(root, alg="EdDSA")


def test_a_bit_flipped_in_the_list_signature_is_refused():
    world = World.make(1)
    head, body, signature = world.document().split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[5] ^= 0x01
    forged = f"{head}.{body}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    with pytest.raises(BadListSignature, match="signature does not verify"):
        _verify(world, forged)


def test_a_changed_payload_is_refused():
    world = World.make(1)
    head, _, signature = world.document().split(".")
    payload = _payload(world.document())
    payload["sequence"] = 99
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(BadListSignature):
        _verify(world, f"{head}.{body}.{signature}")


def test_an_unknown_root_is_refused():
    world, other = World.make(1), World.make(1)
    with pytest.raises(UnknownRoot):
        verify_signed_trust_list(world.document(), [other.root.kid], NOW)
    # Pinned by its key rather than its thumbprint: the same refusal.
    with pytest.raises(UnknownRoot):
        verify_signed_trust_list(world.document(), [other.root.public_key], NOW)
    with pytest.raises(UnknownRoot):
        verify_signed_trust_list(world.document(), [], NOW)


def test_a_list_signed_by_a_key_the_root_never_certified_is_refused():
    world = World.make(1)
    with pytest.raises(SignerNotCertified):
        _verify(world, world.document(signer=new_signer()))


def test_an_issuer_certificate_cannot_sign_lists():
    world = World.make(1)
    world.signer_certificate = world.certify(world.list_signer, Purpose.STAMP_ISSUER)
    with pytest.raises(SignerNotCertified, match="not certified to sign lists"):
        _verify(world, world.document())


def test_a_signer_certificate_from_another_root_is_refused():
    world = World.make(1)
    world.signer_certificate = world.certify(
        world.list_signer, Purpose.LIST_SIGNER, by=new_signer()
    )
    with pytest.raises(UnknownRoot):
        _verify(world, world.document())


def test_an_expired_signer_certificate_refuses_the_list():
    world = World.make(1)
    world.signer_certificate = world.certify(
        world.list_signer, Purpose.LIST_SIGNER, not_after=NOW - dt.timedelta(hours=1)
    )
    with pytest.raises(CertificateExpired):
        _verify(world, world.document())


def test_issuer_keys_without_a_valid_certificate_are_dropped_not_trusted():
    world = World.make(1)
    uncertified, expired, wrong_purpose, stolen = (new_signer() for _ in range(4))
    world.add_issuer(uncertified, cert=False)
    world.add_issuer(expired)
    world.certificates[expired.kid] = world.certify(expired, not_after=NOW - dt.timedelta(days=1))
    world.add_issuer(wrong_purpose)
    world.certificates[wrong_purpose.kid] = world.certify(wrong_purpose, Purpose.LIST_SIGNER)
    world.add_issuer(stolen)
    world.certificates[stolen.kid] = world.certificates[world.issuers[0].kid]
    verified = _verify(world, world.document())
    assert [k.kid for k in verified.trust.keys] == [world.issuers[0].kid]
    dropped = {d.kid: d.reason for d in verified.dropped}
    assert set(dropped) == {uncertified.kid, expired.kid, wrong_purpose.kid, stolen.kid}
    assert "not now" in dropped[expired.kid]
    assert "another key" in dropped[stolen.kid]
    token = StampToken.parse(StampToken.issue(uncertified, 1, 0).encode())
    assert verify_offline(token.encode(), verified).reasons == (Reason.UNKNOWN_KEY,)


def test_a_root_signed_revocation_revokes_even_when_the_server_says_active():
    world = World.make(2)
    world.revoke(world.issuers[1])
    verified = _verify(world, world.document())
    status = {k.kid: k.status for k in verified.trust.keys}
    assert status[world.issuers[1].kid] is KeyStatus.REVOKED
    assert status[world.issuers[0].kid] is KeyStatus.ACTIVE
    stamp = StampToken.issue(world.issuers[1], 3, 4).encode()
    assert verify_offline(stamp, verified).status is VerdictStatus.REVOKED


def test_a_revocation_not_signed_by_the_root_refuses_the_list():
    world = World.make(1)
    impostor = World.make(0)
    impostor.root = new_signer()
    impostor.revoke(world.issuers[0])
    world.revocations = impostor.revocations
    with pytest.raises(UnknownRoot):
        _verify(world, world.document())


def test_a_sequence_lower_than_one_seen_is_a_rollback():
    world = World.make(1)
    assert _verify(world, world.document(sequence=5), last_sequence=5).sequence == 5
    with pytest.raises(SequenceRollback, match="older than 6"):
        _verify(world, world.document(sequence=5), last_sequence=6)


def test_stale_within_the_grace_period_then_refused():
    world = World.make(1)
    document = world.document(now=NOW, validity=dt.timedelta(hours=24))
    assert _verify(world, document, now=NOW + dt.timedelta(hours=23)).freshness is Freshness.FRESH
    stale = _verify(world, document, now=NOW + dt.timedelta(days=3))
    assert stale.freshness is Freshness.STALE
    assert stale.usable_until == NOW + dt.timedelta(days=8)
    with pytest.raises(TrustListExpired, match="grace period ended"):
        _verify(world, document, now=NOW + dt.timedelta(days=8, seconds=1))


def test_a_verifier_pinned_to_the_old_root_follows_a_rotation():
    world = World.make(2)
    old = world.root.kid
    world.rotate_root()
    document = world.document(sequence=2)
    verified = verify_signed_trust_list(document, [old], NOW)
    assert verified.root_kid == world.root.kid
    assert {k.kid for k in verified.trust.keys} == {s.kid for s in world.issuers}
    # A rotation statement signed by someone else leads nowhere.
    forged = World.make(2)
    forged.rotate_root()
    with pytest.raises(UnknownRoot):
        verify_signed_trust_list(forged.document(), [old], NOW)


@pytest.mark.parametrize(
    "document",
    [
        "",
        "not a jws",
        "a.b.c",
        "e30.e30." + "A" * 86,
        "." * 10,
        "A" * 9_000_000,
        b"\xff\xfe",
        "eyJhbGciOiJub25lIn0.e30.",
    ],
)
def test_garbage_is_refused_with_a_reason(document):
    world = World.make(1)
    with pytest.raises(KeysError) as caught:
        _verify(world, document)
    assert str(caught.value)


def test_a_deeply_nested_or_alg_none_payload_is_refused():
    world = World.make(1)
    head, _, signature = world.document().split(".")
    nested = base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).rstrip(b"=").decode()
    with pytest.raises(MalformedStatement):
        _verify(world, f"{head}.{nested}.{signature}")
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"ocop-trust-list+jws","kid":"x"}')
    with pytest.raises(MalformedStatement, match="EdDSA"):
        _verify(world, f"{none.rstrip(b'=').decode()}.{_}.{signature}")


@pytest.mark.parametrize("depth", [10, 900, 5000])
def test_a_signed_deeply_nested_payload_is_read_or_refused_never_a_crash(depth):
    # Signed by the certified list signer itself: only the parser stands in the way.
    world = World.make(1)
    header = {"alg": "EdDSA", "kid": world.list_signer.kid, "typ": "ocop-trust-list+jws"}
    body = {
        "keys": [], "iat": int(NOW.timestamp()), "next_update": int(NOW.timestamp()) + 3600,
        "sequence": 1, "roots": [public_jwk(world.root.public_key)],
        "signer_certificate": world.signer_certificate,
    }  # fmt: skip
    raw = ('{"deep":' + "[" * depth + "]" * depth + "," + json.dumps(body)[1:]).encode()

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(raw)}"
    document = f"{signing_input}.{part(world.list_signer.sign(signing_input.encode()))}"
    try:
        verified = _verify(world, document)
    except KeysError as error:
        assert depth > 1000
        assert "not JSON" in str(error)
    else:
        assert verified.trust.keys == ()
        assert verified.dropped == ()
