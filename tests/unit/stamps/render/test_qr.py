from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from ocop.stamps.errors import QrTooLarge, StampError
from ocop.stamps.qr import QrMatrix, encode, encode_many
from tests.unit.stamps.render.helpers import decode, matrix_image, stamp_url

# The issuer's real base URL goes in front of "/V/" and the 130-character token.
# At error correction M a version 6 symbol holds 154 alphanumeric characters:
# a base URL of at most 21 characters.
LONGEST_V6_BASE = "HTTPS://TEM.OCOP.VN/X"


def test_round_trip_of_real_stamp_urls(make_url: Callable[..., str]) -> None:
    for _ in range(120):
        url = make_url()
        matrix = encode(url)
        assert matrix.version == 6
        assert decode(matrix_image(matrix)) == [url]


def test_a_fixed_mask_decodes_too(make_url: Callable[..., str]) -> None:
    for mask in range(8):
        url = make_url()
        assert decode(matrix_image(encode(url, mask=mask))) == [url]


def test_dark_modules_are_ones() -> None:
    matrix = encode("HELLO")
    # Finder pattern, top left: a dark 7x7 ring, a light ring, a dark 3x3 core.
    assert matrix.is_dark(0, 0) and matrix.is_dark(6, 6) and matrix.is_dark(3, 3)
    assert not matrix.is_dark(1, 1) and not matrix.is_dark(7, 7)
    assert set(matrix.modules) == {0, 1}


@pytest.mark.parametrize("base_length", [len("HTTP://127.0.0.1:5000"), len(LONGEST_V6_BASE)])
def test_the_stamp_url_stays_within_version_6(rng: random.Random, base_length: int) -> None:
    base = LONGEST_V6_BASE[:base_length]
    for _ in range(20):
        assert encode(stamp_url(rng, base)).version <= 6


def test_a_40_character_base_url_needs_version_7_at_level_m(rng: random.Random) -> None:
    base = "HTTPS://TRUYXUAT.OCOP.EXAMPLE.GOV.VN/ABC"
    assert len(base) == 40
    url = stamp_url(rng, base)
    with pytest.raises(QrTooLarge, match="version 7"):
        encode(url)
    assert encode(url, max_version=7).version == 7
    assert encode(url, ec_level="L").version == 6
    assert decode(matrix_image(encode(url, max_version=7))) == [url]


def test_lower_case_falls_out_of_alphanumeric_mode(rng: random.Random) -> None:
    url = stamp_url(rng)
    with pytest.raises(QrTooLarge):
        encode(url.lower())


def test_text_beyond_any_qr_symbol_is_too_large() -> None:
    with pytest.raises(QrTooLarge) as caught:
        encode("A" * 5000, max_version=40)
    assert isinstance(caught.value, StampError)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"ec_level": "X"}, "error correction"), ({"mask": 8}, "mask"), ({"mask": -1}, "mask")],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode("HELLO", **options)


def test_empty_text_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode("")


@pytest.mark.parametrize(
    ("size", "modules"),
    [(20, bytes(400)), (21, bytes(440)), (21, b"\x02" * 441)],
)
def test_matrix_invariants(size: int, modules: bytes) -> None:
    with pytest.raises(ValueError):
        QrMatrix(size, modules)


def test_is_dark_outside_the_symbol() -> None:
    with pytest.raises(IndexError):
        encode("HELLO").is_dark(21, 0)


@pytest.mark.parametrize("quiet", [0, 1, 4])
def test_packed_rows(make_url: Callable[..., str], quiet: int) -> None:
    matrix = encode(make_url())
    width = matrix.size + 2 * quiet
    stride = (width + 7) // 8
    packed = matrix.packed_rows(quiet)
    assert len(packed) == stride * width

    def bit(x: int, y: int) -> int:
        return packed[y * stride + x // 8] >> (7 - x % 8) & 1

    for y in range(width):
        for x in range(stride * 8):
            inside = quiet <= x < quiet + matrix.size and quiet <= y < quiet + matrix.size
            expected = inside and matrix.is_dark(x - quiet, y - quiet)
            assert bit(x, y) == expected


def test_encode_many_in_order_in_one_process(make_url: Callable[..., str]) -> None:
    urls = [make_url() for _ in range(30)]
    assert list(encode_many(urls, chunk_size=7)) == [encode(url) for url in urls]


def test_encode_many_in_order_across_processes(make_url: Callable[..., str]) -> None:
    urls = [make_url() for _ in range(300)]
    matrices = list(encode_many(urls, workers=2, chunk_size=16))
    assert matrices == [encode(url) for url in urls]


def test_encode_many_raises_what_encode_raises(make_url: Callable[..., str]) -> None:
    urls = [make_url(), make_url("HTTPS://A-BASE-URL-FAR-TOO-LONG-FOR-V6.EXAMPLE")]
    with pytest.raises(QrTooLarge):
        list(encode_many(urls, workers=2, chunk_size=1))
