from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ocop.keys.errors import InvalidJWK, KeysError
from ocop.keys.jwk import (
    b64url_decode,
    b64url_encode,
    kid_prefix,
    public_jwk,
    public_key_from_jwk,
    thumbprint,
)

# STAMP-FORMAT.md, "Test vector".
SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
X = "eKD49ghWUC27R8gLP5YY1Mnh1punvbR9ROIXTJLD2OI"
THUMBPRINT_INPUT = '{"crv":"Ed25519","kty":"OKP","x":"eKD49ghWUC27R8gLP5YY1Mnh1punvbR9ROIXTJLD2OI"}'
KID = "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"
PREFIX_HEX = "93675267ae153d84"


@pytest.fixture
def public_key():
    return Ed25519PrivateKey.from_private_bytes(SEED).public_key()


def test_seed_is_the_hash_of_its_label():
    assert hashlib.sha256(b"ocop-trace stamp v1 test vector").digest() == SEED


def test_test_vector_public_jwk(public_key):
    assert public_jwk(public_key) == {"crv": "Ed25519", "kty": "OKP", "x": X}


def test_test_vector_thumbprint(public_key):
    expected = b64url_encode(hashlib.sha256(THUMBPRINT_INPUT.encode()).digest())
    assert expected == KID
    assert thumbprint(public_key) == KID


def test_test_vector_kid_prefix():
    assert kid_prefix(KID).hex() == PREFIX_HEX


@given(st.binary(max_size=100))
def test_b64url_round_trip(data):
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        X + "=",  # padding
        X[:-1] + "J",  # same bytes, trailing bits set
        "ab+c",  # base64, not base64url
        "ab/c",
        "ab c",
        "abcde",  # a length no encoding has
        "ẞbcd",
    ],
)
def test_b64url_decode_refuses_non_canonical_text(text):
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_kid_prefix_refuses_what_is_not_a_thumbprint():
    with pytest.raises(ValueError):
        kid_prefix(b64url_encode(b"\x00" * 31))


def test_public_key_round_trips_through_jwk(public_key):
    assert public_key_from_jwk(public_jwk(public_key)) == public_key


def test_public_key_from_jwk_ignores_extra_members(public_key):
    jwk = {**public_jwk(public_key), "kid": "anything", "use": "sig", "alg": "EdDSA", "x5u": 1}
    assert public_key_from_jwk(jwk) == public_key


@pytest.mark.parametrize(
    ("change", "member"),
    [
        ({"kty": "RSA"}, "kty"),
        ({"kty": None}, "kty"),
        ({"crv": "X25519"}, "crv"),
        ({"x": None}, "x"),
        ({"x": 42}, "x"),
        ({"x": b64url_encode(b"\x01" * 31)}, "x"),
        ({"x": b64url_encode(b"\x01" * 33)}, "x"),
        ({"x": X + "="}, "x"),
        ({"x": X[:-1] + "J"}, "x"),
        ({"d": b64url_encode(SEED)}, "d"),
        ({"use": "enc"}, "use"),
        ({"alg": "ES256"}, "alg"),
        ({"alg": ["EdDSA"]}, "alg"),
    ],
)
def test_public_key_from_jwk_refuses(public_key, change, member):
    jwk = {k: v for k, v in {**public_jwk(public_key), **change}.items() if v is not None}
    with pytest.raises(InvalidJWK) as caught:
        public_key_from_jwk(jwk)
    assert caught.value.member == member
    assert isinstance(caught.value, KeysError)
    assert str(caught.value).startswith(f"invalid JWK: {member}: ")


def test_public_key_from_jwk_refuses_a_non_object():
    with pytest.raises(InvalidJWK):
        public_key_from_jwk(["OKP"])  # type: ignore[arg-type]
