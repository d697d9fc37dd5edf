"""Issuing stamps to files, through the real output path (no database needed).

Prints:
- 100,000 stamps to CSV against 100,000 bare Ed25519 signatures in the same
  process (the issue asks for at most 2x, aiming for 1.2x);
- the CSV's memory: tracemalloc peak for 10,000 and for 100,000 stamps (flat
  means the ratio stays near 1);
- PDF label sheets per second with 1 and 2 encoder processes, then decodes
  every code of a sample of pages back and checks each one verifies.

Every output is checked: each file holds every stamp, once; the CSV's first and
last rows and every code decoded from the sample pages verify as genuine. A
mismatch stops the run with exit status 1.

    python bench/stamp_outputs.py [--count 100000] [--pdf-count 20000]
    python bench/stamp_outputs.py --count 2000 --pdf-count 100   # a quick smoke run
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
import tracemalloc
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from checks import expect
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.keys.signer import Ed25519Signer
from ocop.keys.trustlist import KeyStatus, TrustedKey, TrustList
from ocop.stamps import PinSecret, generate_stamps, verify_offline
from ocop.stamps.outputs import LabelText, write_output
from ocop.stamps.render.labels import LabelLayout

BASE = "HTTP://127.0.0.1:5000"
TEXT = LabelText(title="Bánh cáy làng Nguyễn", stars=4)


def bare_signing(signer: Ed25519Signer, count: int) -> float:
    start = time.perf_counter()
    for index in range(count):
        signer.sign(b"OCOP-STAMP-V1" + index.to_bytes(17, "big"))
    return time.perf_counter() - start


def csv_run(signer: Ed25519Signer, count: int, out: Path, *, pin: bool) -> float:
    secret = PinSecret(b"p" * 32) if pin else None
    start = time.perf_counter()
    written = write_output(
        out, generate_stamps(signer, 7, count, base_url=BASE, pin_secret=secret), text=TEXT
    )
    seconds = time.perf_counter() - start
    expect(written == count, f"{out.name}: {written:,} stamps written, not {count:,}")
    return seconds


def check_csv(out: Path, count: int, trust: TrustList, *, pin: bool) -> None:
    """Every stamp once, a PIN where asked for, and the first and last rows verify."""
    with out.open(encoding="utf-8", newline="") as fp:
        rows = list(csv.DictReader(fp))
    expect(len(rows) == count, f"{out.name}: {len(rows):,} rows, not {count:,}")
    expect(len({row["token"] for row in rows}) == count, f"{out.name}: repeated tokens")
    expect(all(bool(row.get("pin")) == pin for row in rows), f"{out.name}: PINs (pin={pin})")
    for row in (rows[0], rows[-1]):
        verdict = verify_offline(row["url"], trust)
        expect(verdict.status == "genuine", f"{out.name}: {row['serial']} is {verdict.status}")


def csv_peak(signer: Ed25519Signer, count: int, out: Path) -> int:
    tracemalloc.start()
    written = write_output(
        out, generate_stamps(signer, 7, count, base_url=BASE, pin_secret=None), text=TEXT
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    expect(written == count, f"{out.name}: {written:,} stamps written, not {count:,}")
    return peak


def pdf_run(signer: Ed25519Signer, count: int, out: Path, workers: int) -> float:
    start = time.perf_counter()
    stamps = generate_stamps(signer, 7, count, base_url=BASE, pin_secret=None)
    written = write_output(out, stamps, text=TEXT, workers=workers)
    seconds = time.perf_counter() - start
    expect(written == count, f"{out.name}: {written:,} labels written, not {count:,}")
    return seconds


def decode_sample(pdf: Path, trust: TrustList, count: int, pages: int = 3) -> tuple[int, int]:
    """Decode the first pages; every label on them must read back once and verify."""
    document = pdfium.PdfDocument(str(pdf))
    texts: list[str] = []
    verified = 0
    for number in range(min(pages, len(document))):
        image = document[number].render(scale=300 / 72).to_pil()
        for result in zxingcpp.read_barcodes(image):
            texts.append(result.text)
            verified += verify_offline(result.text, trust).status == "genuine"
    expected = min(count, pages * LabelLayout().per_page)
    expect(len(texts) == expected, f"{pdf.name}: {len(texts)} codes read, not {expected}")
    expect(len(set(texts)) == len(texts), f"{pdf.name}: a code read twice")
    expect(verified == len(texts), f"{pdf.name}: {len(texts) - verified} codes do not verify")
    return len(texts), verified


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--pdf-count", type=int, default=20_000)
    args = parser.parse_args()
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    trust = TrustList([TrustedKey(signer.kid, signer.public_key, "1", "bench", KeyStatus.ACTIVE)])
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        bare = bare_signing(signer, args.count)
        plain = csv_run(signer, args.count, out / "a.csv", pin=False)
        pinned = csv_run(signer, args.count, out / "b.csv", pin=True)
        check_csv(out / "a.csv", args.count, trust, pin=False)
        check_csv(out / "b.csv", args.count, trust, pin=True)
        print(
            f"bare Ed25519, {args.count:,} signatures: {bare:6.2f} s ({args.count / bare:,.0f}/s)"
        )
        print(f"CSV, {args.count:,} stamps:             {plain:6.2f} s  ratio {plain / bare:.2f}x")
        print(f"CSV with PINs:                    {pinned:6.2f} s  ratio {pinned / bare:.2f}x")
        small = csv_peak(signer, args.count // 10, out / "c.csv")
        large = csv_peak(signer, args.count, out / "d.csv")
        print(
            f"CSV memory peak: {small / 1e6:.2f} MB for {args.count // 10:,}, "
            f"{large / 1e6:.2f} MB for {args.count:,} (ratio {large / small:.2f})"
        )
        for workers in (1, 2):
            pdf = out / f"labels-{workers}.pdf"
            seconds = pdf_run(signer, args.pdf_count, pdf, workers)
            read, verified = decode_sample(pdf, trust, args.pdf_count)
            print(
                f"PDF, {args.pdf_count:,} labels, {workers} encoder process(es): "
                f"{args.pdf_count / seconds:,.0f} stamps/s; sample pages: {read} codes read, "
                f"{verified} verified"
            )


if __name__ == "__main__":
    main()
