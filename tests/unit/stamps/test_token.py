from __future__ import annotations

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ocop.keys.signer import Ed25519Signer
from ocop.stamps.errors import MalformedToken, StampError
from ocop.stamps.token import DOMAIN, TOKEN_LENGTH, VERSION, StampToken, qr_text

# STAMP-FORMAT.md, "Test vector".
SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
PREFIX_HEX = "93675267ae153d84"
HEADER_HEX = "0193675267ae153d84000004d200000029"
SIGNATURE_HEX = (
    "165bf3f52d540c4e81fdb01a45b12b0248050cae9efdbe18cd096b2d7644050217a6a4dea90b58596239f15286"
    "200a23d8c9012d3b32ae69a059cea02c1b4302"
)
TOKEN = (
    "AGJWOUTHVYKT3BAAAACNEAAAAAURMW7T6UWVIDCOQH63AGSFWEVQESAFBSXJ57N6DDGQS2ZNOZCAKAQXU2SN5KILLBMW"
    "EOPRKKDCACRD3DEQCLJ3GKXGTICZZ2QCYG2DAI"
)
SIGNER = Ed25519Signer(Ed25519PrivateKey.from_private_bytes(SEED))
OTHER_KEY = Ed25519PrivateKey.generate().public_key()

u32 = st.integers(0, 2**32 - 1)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).rstrip(b"=").decode()


# --- the test vector, byte for byte ----------------------------------------------


def test_constants():
    assert (DOMAIN, VERSION, TOKEN_LENGTH) == (b"OCOP-STAMP-V1", 1, 130)


def test_issue_reproduces_the_test_vector():
    token = StampToken.issue(SIGNER, 1234, 41)
    assert token.kid_prefix.hex() == PREFIX_HEX
    assert token.signed_bytes.hex() == HEADER_HEX
    assert token.signing_input == b"OCOP-STAMP-V1" + bytes.fromhex(HEADER_HEX)
    assert token.signature.hex() == SIGNATURE_HEX
    assert token.to_bytes() == bytes.fromhex(HEADER_HEX + SIGNATURE_HEX)
    assert token.encode() == str(token) == TOKEN
    assert len(TOKEN) == TOKEN_LENGTH


def test_parse_reads_the_test_vector():
    token = StampToken.parse(TOKEN)
    assert (token.kid_prefix.hex(), token.batch, token.index) == (PREFIX_HEX, 1234, 41)
    assert token.signature.hex() == SIGNATURE_HEX
    assert token.version == 1
    assert token.verify(SIGNER.public_key)
    assert not token.verify(OTHER_KEY)


def test_qr_text():
    token = StampToken.parse(TOKEN)
    expected = f"HTTPS://TEM.EXAMPLE.VN/V/{TOKEN}"
    assert token.qr_text("https://tem.example.vn/") == expected
    assert token.qr_text("https://tem.example.vn") == expected
    assert qr_text("HTTPS://TEM.EXAMPLE.VN", token) == expected


# --- issue and the constructor ----------------------------------------------------------


@given(u32, u32)
def test_issued_tokens_round_trip_and_verify(batch, index):
    token = StampToken.issue(SIGNER, batch, index)
    assert StampToken.parse(token.encode()) == token
    assert len(token.encode()) == TOKEN_LENGTH
    assert token.verify(SIGNER.public_key)


def test_any_signer_will_do():
    class Remote:
        kid = SIGNER.kid

        def sign(self, message: bytes) -> bytes:
            return SIGNER.sign(message)

    assert StampToken.issue(Remote(), 1234, 41).encode() == TOKEN


@pytest.mark.parametrize(("batch", "index"), [(-1, 0), (2**32, 0), (0, -1), (0, 2**32), (True, 0)])
def test_issue_refuses_numbers_outside_32_bits(batch, index):
    with pytest.raises(ValueError):
        StampToken.issue(SIGNER, batch, index)


@pytest.mark.parametrize(
    "fields",
    [
        {"kid_prefix": b"\x00" * 7},
        {"kid_prefix": "93675267ae153d84"},
        {"signature": b"\x00" * 63},
        {"index": 1.0},
    ],
)
def test_constructor_refuses_impossible_fields(fields):
    good = {"kid_prefix": b"\x00" * 8, "batch": 1, "index": 2, "signature": b"\x00" * 64}
    with pytest.raises(ValueError):
        StampToken(**{**good, **fields})


# --- parse: what it accepts -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        TOKEN.lower(),
        f"  {TOKEN}\r\n",
        f"HTTPS://TEM.EXAMPLE.VN/V/{TOKEN}",
        f"https://tem.example.vn/v/{TOKEN.lower()}",
        f"https://tem.example.vn/V/{TOKEN}?utm_source=zalo",
        f"https://tem.example.vn/V/{TOKEN}#top",
        f"https://tem.example.vn/V/{TOKEN} \n",
        f"https://tem.example.vn/V/junk/v/{TOKEN}",  # the last /V/ wins
        f"https://elsewhere.example/V/{TOKEN}",  # the signature decides, not the host
        f"/V/{TOKEN}",
    ],
)
def test_parse_accepts(text):
    assert StampToken.parse(text) == StampToken.parse(TOKEN)


@given(st.lists(st.booleans(), min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH))
def test_parse_ignores_case(upper):
    mixed = "".join(c.upper() if u else c.lower() for c, u in zip(TOKEN, upper, strict=True))
    assert StampToken.parse(mixed) == StampToken.parse(TOKEN)


# --- parse: what it refuses ---------------------------------------------------------------


def _version(version: int) -> str:
    return _b32(bytes([version]) + bytes.fromhex(HEADER_HEX + SIGNATURE_HEX)[1:])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \t", "empty"),
        ("https://tem.example.vn/V/", "empty"),
        (TOKEN[:-1], "129 characters"),
        (TOKEN + "A", "131 characters"),
        (TOKEN + "======", "136 characters"),
        (TOKEN[:-1] + "=", "outside base32"),
        (TOKEN[:-1] + "0", "outside base32"),  # b32decode's map01 would read 0 as O
        (TOKEN[:-1] + "1", "outside base32"),
        (TOKEN.replace("I", "ı", 1), "outside base32"),  # dotless i upper-cases to I
        (TOKEN.replace("K", "\u212a", 1), "outside base32"),  # Kelvin sign
        (TOKEN.replace("A", "Ａ", 1), "outside base32"),  # full-width A
        (TOKEN[:60] + " " + TOKEN[61:], "outside base32"),
        (TOKEN[:60] + "\x00" + TOKEN[61:], "outside base32"),
        (TOKEN[:-1] + "J", "canonical"),  # same bytes, spare bits set
        (_version(2), "unsupported version 2"),
        (_version(0), "unsupported version 0"),
        ("https://tem.example.vn/p/product/7", "not to /V/<code>"),
        (f"https://tem.example.vn/V/{TOKEN}/", "131 characters"),
        (f"https://tem.example.vn/V/%41{TOKEN[1:]}", "132 characters"),
        (f"HTTPS://TEM.EXAMPLE.VN/V/{TOKEN[:-2]}", "128 characters"),
        ("x" * 5000, "5000 characters"),
    ],
)
def test_parse_refuses(text, reason):
    with pytest.raises(MalformedToken) as caught:
        StampToken.parse(text)
    assert reason in caught.value.reason
    assert isinstance(caught.value, StampError)
    # Short, and never an echo of what was scanned.
    assert len(str(caught.value)) < 80


def test_parse_refuses_what_is_not_text():
    with pytest.raises(MalformedToken):
        StampToken.parse(TOKEN.encode())  # type: ignore[arg-type]


def _parse_or_malformed(text: str) -> None:
    with contextlib.suppress(MalformedToken):
        StampToken.parse(text)


@given(st.text())
def test_parse_answers_any_text_with_a_token_or_malformed(text):
    _parse_or_malformed(text)


@given(st.binary().map(lambda raw: raw.decode("latin-1")))
def test_parse_answers_any_bytes_with_a_token_or_malformed(text):
    _parse_or_malformed(text)


@given(st.text(), st.sampled_from(["/V/", "/v/", "/", "?", "#", ""]), st.text())
def test_parse_answers_text_around_a_token_with_a_token_or_malformed(before, marker, after):
    _parse_or_malformed(before + marker + TOKEN + after)


@given(st.data())
def test_flipping_any_bit_fails_parsing_or_verification(data):
    raw = bytearray(StampToken.issue(SIGNER, data.draw(u32), data.draw(u32)).to_bytes())
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    try:
        token = StampToken.parse(_b32(bytes(raw)))
    except MalformedToken:
        return
    assert not token.verify(SIGNER.public_key)


@given(st.binary(max_size=200))
def test_fast_base32_is_rfc4648(data):
    import base64 as _b64

    from ocop.stamps.token import base32

    assert base32(data) == _b64.b32encode(data).decode().rstrip("=")
