"""How fast can we turn a stamp URL into a QR matrix?

Times python-qrcode (automatic mask, then a fixed mask), segno (same two), and
zxing-cpp through ocop.stamps.qr.encode (same two, then spread over processes),
on URLs of the real shape; prints codes a second and the QR version each reached,
and checks that a sample of each encoder's codes decodes to the URL, and that the
processes of encode_many give the very matrices encode gives. A code that does
not decode, or differs, stops the run with exit status 1.

    python bench/qr_encoders.py [--count 2000] [--base HTTP://127.0.0.1:5000]
    python bench/qr_encoders.py --count 40 --sample 10 --parallel-count 200   # a smoke run
"""

from __future__ import annotations

import argparse
import base64
import random
import time
from collections.abc import Callable

import qrcode
import segno
import zxingcpp
from checks import expect
from PIL import Image

from ocop.stamps.qr import encode, encode_many

Matrix = tuple[int, bytes]  # side, one byte a module, 1 = dark
FIXED_MASK = 2


def stamp_urls(count: int, base: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{base}/V/{base64.b32encode(rng.randbytes(81)).decode().rstrip('=')}" for _ in range(count)
    ]


def with_qrcode(mask: int | None) -> Callable[[str], Matrix]:
    def run(text: str) -> Matrix:
        code = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask
        )
        code.add_data(text)
        code.make(fit=True)
        rows = code.get_matrix()
        return len(rows), bytes(int(bit) for row in rows for bit in row)

    return run


def with_segno(mask: int | None) -> Callable[[str], Matrix]:
    def run(text: str) -> Matrix:
        code = segno.make_qr(text, error="m", boost_error=False, mask=mask)
        return len(code.matrix), b"".join(bytes(row) for row in code.matrix)

    return run


def with_zxing(mask: int | None) -> Callable[[str], Matrix]:
    def run(text: str) -> Matrix:
        matrix = encode(text, mask=mask)
        return matrix.size, matrix.modules

    return run


def decodes(matrix: Matrix, text: str) -> bool:
    side, modules = matrix
    pixels = modules.translate(bytes.maketrans(b"\0\1", b"\xff\0"))
    image = Image.new("L", (side + 8, side + 8), 255)
    image.paste(Image.frombytes("L", (side, side), pixels), (4, 4))
    image = image.resize(((side + 8) * 4,) * 2, Image.Resampling.NEAREST)
    return [found.text for found in zxingcpp.read_barcodes(image)] == [text]


def measure(name: str, encoder: Callable[[str], Matrix], urls: list[str], sample: int) -> None:
    started = time.perf_counter()
    matrices = [encoder(url) for url in urls]
    elapsed = time.perf_counter() - started
    report(name, len(urls) / elapsed, matrices, urls, sample)


def report(name: str, rate: float, matrices: list[Matrix], urls: list[str], sample: int) -> None:
    versions = sorted({(side - 17) // 4 for side, _ in matrices})
    checked = min(sample, len(matrices))
    good = sum(decodes(m, url) for m, url in zip(matrices[:checked], urls, strict=False))
    print(f"{name:<34} {rate:>9,.0f} codes/s  version {versions}  decoded {good}/{checked}")
    expect(len(matrices) == len(urls), f"{name}: {len(matrices)} codes for {len(urls)} URLs")
    expect(good == checked, f"{name}: {checked - good} of {checked} codes do not decode")


def measure_parallel(urls: list[str], workers: int, sample: int) -> None:
    started = time.perf_counter()
    matrices = [(m.size, m.modules) for m in encode_many(urls, workers=workers)]
    elapsed = time.perf_counter() - started
    name = f"zxing-cpp, auto mask, {workers} processes"
    report(name, len(urls) / elapsed, matrices, urls, sample)
    step = max(1, len(urls) // sample)
    same = all(matrices[i] == with_zxing(None)(urls[i]) for i in range(0, len(urls), step))
    expect(same, f"{name}: a matrix differs from what encode gives in one process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="codes an encoder (2000)")
    parser.add_argument("--base", default="HTTP://127.0.0.1:5000", help="base URL, upper case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=50, help="codes decoded to check (50)")
    parser.add_argument("--workers", type=int, default=2, help="processes for encode_many (2)")
    parser.add_argument(
        "--parallel-count",
        type=int,
        default=20_000,
        help="codes for encode_many, which takes a second to start its processes (20000)",
    )
    args = parser.parse_args()
    urls = stamp_urls(args.count, args.base, args.seed)
    print(f"{args.count} URLs of {len(urls[0])} characters, error correction M")
    slow = urls[: max(1, args.count // 4)]  # the pure-Python encoders are slow
    measure("python-qrcode, auto mask", with_qrcode(None), slow, args.sample)
    measure(f"python-qrcode, mask {FIXED_MASK}", with_qrcode(FIXED_MASK), slow, args.sample)
    measure("segno, auto mask", with_segno(None), slow, args.sample)
    measure(f"segno, mask {FIXED_MASK}", with_segno(FIXED_MASK), slow, args.sample)
    measure("zxing-cpp, auto mask", with_zxing(None), urls, args.sample)
    measure(f"zxing-cpp, mask {FIXED_MASK}", with_zxing(FIXED_MASK), urls, args.sample)
    if args.workers > 1:
        many = stamp_urls(args.parallel_count, args.base, args.seed)
        measure_parallel(many, args.workers, args.sample)


if __name__ == "__main__":
    main()
