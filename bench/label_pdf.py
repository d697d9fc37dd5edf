"""How fast do PDF label sheets come out, and in how much memory?

Writes N labels (default 20,000) of real-shape stamp URLs to a PDF, twice:
the writer alone (codes encoded beforehand, reused), then the whole path from URL
to page (signing excluded unless --sign). Prints stamps a second, peak memory, and
decodes a sample of pages to check every code on them reads back. A label count
or a page's codes that differ from what was written stop the run with exit
status 1.

    python bench/label_pdf.py [--count 20000] [--workers 2] [--mask 2] [--sign]
    python bench/label_pdf.py --count 200   # a quick smoke run
"""

from __future__ import annotations

import argparse
import base64
import itertools
import random
import resource
import struct
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from checks import expect
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.stamps.qr import QrMatrix, encode, encode_many
from ocop.stamps.render.labels import Label, LabelLayout
from ocop.stamps.render.pdf import write_label_pdf

BASE = "HTTP://127.0.0.1:5000"
TITLE = "Bánh cáy làng Nguyễn"


def stamp_urls(count: int, seed: int, sign: bool) -> Iterator[str]:
    """URLs of the real shape; with `sign`, tokens really signed as STAMP-FORMAT.md says."""
    rng = random.Random(seed)
    key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    head = b"\x01" + rng.randbytes(8) + struct.pack(">I", 1234)
    for index in range(count):
        signed = head + struct.pack(">I", index)
        signature = key.sign(b"OCOP-STAMP-V1" + signed) if sign else rng.randbytes(64)
        yield f"{BASE}/V/{base64.b32encode(signed + signature).decode().rstrip('=')}"


def labels_for(matrices: Iterable[QrMatrix]) -> Iterator[Label]:
    for index, matrix in enumerate(matrices):
        yield Label(matrix, f"1234-{index:06d}-7", TITLE, 4, f"{index % 10000:04d} 5678")


def timed_write(path: Path, labels: Iterable[Label], trace: bool) -> tuple[int, float, int]:
    """Labels written, seconds, and the tracemalloc peak (0 unless `trace`)."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with path.open("wb") as fp:
        count = write_label_pdf(fp, labels, LabelLayout())
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return count, elapsed, peak


def writer_alone(path: Path, count: int, seed: int, trace: bool) -> None:
    pool = [encode(url) for url in stamp_urls(50, seed, sign=False)]
    matrices = itertools.islice(itertools.cycle(pool), count)
    written, elapsed, peak = timed_write(path, labels_for(matrices), trace)
    expect(written == count, f"writer alone: {written:,} labels written, not {count:,}")
    print(f"writer alone:   {written:,} labels in {elapsed:.2f} s = {written / elapsed:,.0f}/s")
    if trace:
        print(f"                tracemalloc peak {peak / 2**20:.1f} MiB")


def end_to_end(path: Path, args: argparse.Namespace) -> None:
    urls = stamp_urls(args.count, args.seed, args.sign)
    matrices = encode_many(urls, workers=args.workers, mask=args.mask)
    written, elapsed, peak = timed_write(path, labels_for(matrices), args.tracemalloc)
    expect(written == args.count, f"URL to page: {written:,} labels written, not {args.count:,}")
    rate = f"{written:,} labels in {elapsed:.2f} s = {written / elapsed:,.0f}/s"
    print(f"URL to page:    {rate} (workers={args.workers}, mask={args.mask}, sign={args.sign})")
    if args.tracemalloc:
        print(f"                tracemalloc peak {peak / 2**20:.1f} MiB")
    size = path.stat().st_size
    print(f"file:           {size / 2**20:.1f} MiB, {size / written:.0f} bytes a label")


def check_pages(path: Path, args: argparse.Namespace, pages: int) -> None:
    """Decode the first, middle and last pages at 300 dpi against the URLs printed there."""
    per_page = LabelLayout().per_page
    document = pdfium.PdfDocument(str(path))
    try:
        chosen = sorted({0, len(document) // 2, len(document) - 1})[:pages]
        urls = list(stamp_urls(args.count, args.seed, args.sign))
        for number in chosen:
            image = document[number].render(scale=300 / 72).to_pil().convert("L")
            found = Counter(code.text for code in zxingcpp.read_barcodes(image))
            expected = Counter(urls[number * per_page : (number + 1) * per_page])
            missing, extra = expected - found, found - expected
            expect(
                not missing and not extra,
                f"page {number + 1}: {sum(missing.values())} codes missing, "
                f"{sum(extra.values())} read that were not printed there",
            )
            read = sum(found.values())
            print(f"page {number + 1:>5}:     {read} codes decoded, all read once each")
    finally:
        document.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="labels (20000)")
    parser.add_argument("--workers", type=int, default=1, help="encoding processes (1)")
    parser.add_argument("--mask", type=int, default=None, help="fixed QR mask 0-7 (auto)")
    parser.add_argument("--sign", action="store_true", help="sign each token with Ed25519")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="trace Python allocations (slows it 5x)"
    )
    parser.add_argument("--pages", type=int, default=3, help="pages decoded to check (3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the PDF here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.out or Path(folder) / "labels.pdf"
        writer_alone(path, args.count, args.seed, args.tracemalloc)
        end_to_end(path, args)
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak RSS:       {peak_kib / 1024:.0f} MiB (whole process, interpreter included)")
        check_pages(path, args, args.pages)


if __name__ == "__main__":
    main()
