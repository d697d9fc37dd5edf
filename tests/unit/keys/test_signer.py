from __future__ import annotations

import copy
import pickle

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ocop.keys.jwk import b64url_encode, thumbprint
from ocop.keys.signer import Ed25519Signer, Signer

SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
KID = "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"


@pytest.fixture
def signer():
    return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(SEED))


def test_kid_is_the_thumbprint_of_the_public_key(signer):
    assert signer.kid == KID == thumbprint(signer.public_key)


def test_signatures_verify_with_the_public_key(signer):
    signature = signer.sign(b"message")
    assert len(signature) == 64
    signer.public_key.verify(signature, b"message")


def test_satisfies_the_signer_protocol(signer):
    def kid_of(any_signer: Signer) -> str:
        return any_signer.kid

    assert kid_of(signer) == KID


def test_repr_and_str_show_the_kid_and_no_key_material(signer):
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    for shown in (repr(signer), str(signer), f"{signer}"):
        assert KID in shown
        for secret in (SEED.hex(), b64url_encode(SEED), pem.splitlines()[1]):
            assert secret not in shown
    assert repr(signer) == f"Ed25519Signer(kid='{KID}')"


@pytest.mark.parametrize("leak", [pickle.dumps, copy.copy, copy.deepcopy])
def test_refuses_to_be_pickled_or_copied(signer, leak):
    with pytest.raises(TypeError, match="private key"):
        leak(signer)


def test_has_slots_and_no_instance_dict(signer):
    assert not hasattr(signer, "__dict__")
    with pytest.raises(AttributeError):
        signer.extra = 1


def test_refuses_anything_but_an_ed25519_private_key(signer):
    with pytest.raises(TypeError):
        Ed25519Signer(signer.public_key)  # type: ignore[arg-type]
