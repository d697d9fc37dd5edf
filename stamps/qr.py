"""QR symbols for stamps: text in, a matrix of modules out.

zxing-cpp does the encoding (zint inside): it is C++, picks the shortest
segmentation (the upper-case stamp URL goes in alphanumeric mode) and, unless told
otherwise, the mask with the lowest ISO/IEC 18004 penalty. Renderers take the
`QrMatrix` and never see zxing's types.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TypedDict, Unpack

import zxingcpp

from .errors import QrTooLarge

# A 20 mm code of 41x41 modules keeps each module near 0.5 mm, which phones read
# easily. At error correction M, version 6 holds 154 alphanumeric characters: after
# "/V/" and the 130-character token, 21 are left for the base URL.
MAX_STAMP_VERSION = 6
EC_LEVELS = frozenset("LMQH")
# ISO/IEC 18004: the alphanumeric mode's 45 characters, and the data bits of a
# version 6 symbol at error correction M (108 codewords).
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_V6_M_DATA_BITS = 108 * 8

_ASCII_BITS = bytes.maketrans(b"\x00\x01", b"01")
# zxing's images are greyscale pixels: dark modules are 0 (black), light ones 255.
_FROM_ZXING = bytes.maketrans(b"\x00\xff", b"\x01\x00")


class EncodeOptions(TypedDict, total=False):
    """`encode`'s keyword arguments, as `encode_many` hands them to each worker."""

    max_version: int
    ec_level: str
    mask: int | None


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR symbol without its quiet zone: `size` x `size` modules, row by row,
    one byte a module, 1 for dark and 0 for light."""

    size: int
    modules: bytes

    def __post_init__(self) -> None:
        if self.size < 21 or (self.size - 17) % 4:
            raise ValueError(f"{self.size} is not the side of a QR symbol (21, 25, ... 177)")
        if len(self.modules) != self.size * self.size:
            raise ValueError(f"a {self.size}x{self.size} symbol needs {self.size**2} modules")
        if self.modules.translate(None, b"\x00\x01"):
            raise ValueError("modules must be 0 (light) or 1 (dark)")

    @property
    def version(self) -> int:
        return (self.size - 17) // 4

    def is_dark(self, x: int, y: int) -> bool:
        if not (0 <= x < self.size and 0 <= y < self.size):
            raise IndexError(f"module ({x}, {y}) is outside a {self.size}x{self.size} symbol")
        return self.modules[y * self.size + x] == 1

    def packed_rows(self, quiet: int = 0) -> bytes:
        """The symbol with `quiet` light modules around it, one bit a module (1 = dark),
        most significant bit first, each row padded with light bits to a whole byte."""
        width = self.size + 2 * quiet
        row_bits = width + (-width % 8)
        margin, blank = b"0" * quiet, b"0" * (row_bits * quiet)
        right = b"0" * (row_bits - width + quiet)
        bits = self.modules.translate(_ASCII_BITS)
        step = self.size
        rows = [margin + bits[i : i + step] + right for i in range(0, step * step, step)]
        text = blank + b"".join(rows) + blank
        return int(text, 2).to_bytes(len(text) // 8, "big")


def fits_stamp_symbol(text: str) -> bool:
    """Whether ``text`` encodes in alphanumeric mode within version 6 at error correction M.

    The stamp URL is sized for that symbol (STAMP-FORMAT.md); a base URL that
    breaks it is a configuration error to catch at start-up, not at print time.
    """
    if not set(text) <= ALPHANUMERIC:
        return False
    # Mode indicator (4 bits), character count (9 bits up to version 9), 11 bits per pair.
    bits = 4 + 9 + 11 * (len(text) // 2) + 6 * (len(text) % 2)
    return bits <= _V6_M_DATA_BITS


def encode(
    text: str,
    *,
    max_version: int = MAX_STAMP_VERSION,
    ec_level: str = "M",
    mask: int | None = None,
) -> QrMatrix:
    """Encode `text` in the smallest QR symbol at `ec_level`.

    `mask=None` lets the encoder choose the mask by the standard's penalty score;
    a fixed mask (0-7) still decodes everywhere and encodes about 4x faster, but
    skips that choice. Raises `QrTooLarge` past `max_version`.
    """
    options = _options(ec_level, mask)
    try:
        barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, **options)
    except ValueError as exc:
        if not text:
            raise ValueError("cannot encode empty text") from exc
        raise QrTooLarge(
            "%(length)s characters do not fit any QR symbol: %(problem)s",
            length=len(text),
            problem=str(exc),
        ) from exc
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    size = image.shape[0]
    if (size - 17) // 4 > max_version:
        raise _too_large(text, (size - 17) // 4, max_version, ec_level)
    # zxingcpp.Image exports the buffer protocol, but its stub declares no __buffer__.
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]
    return QrMatrix(size, pixels.translate(_FROM_ZXING))


def encode_many(
    texts: Iterable[str],
    *,
    workers: int = 1,
    chunk_size: int = 256,
    max_version: int = MAX_STAMP_VERSION,
    ec_level: str = "M",
    mask: int | None = None,
) -> Iterator[QrMatrix]:
    """`encode` each text, in order, lazily.

    With `workers` > 1 the encoding runs in that many processes (zxing-cpp holds the
    GIL, so threads would not help), with at most two chunks a worker in flight:
    memory stays flat whatever the count. Starting the processes costs about a
    second, so it pays only for thousands of codes.
    """
    options: EncodeOptions = {"max_version": max_version, "ec_level": ec_level, "mask": mask}
    _options(ec_level, mask)
    if workers <= 1:
        for text in texts:
            yield encode(text, **options)
        return
    with QrEncoder(workers) as encoder:
        yield from encoder.encode_many(texts, chunk_size=chunk_size, **options)


class QrEncoder:
    """Encoder processes kept for many calls: a print job's chunks start them once.

    Starting them costs about a second; a job of fifty chunks would pay it fifty times.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> QrEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def encode_many(
        self, texts: Iterable[str], *, chunk_size: int = 256, **options: Unpack[EncodeOptions]
    ) -> Iterator[QrMatrix]:
        """`encode` each text, in order, lazily, with at most two chunks a process in flight."""
        if self.workers <= 1:
            for text in texts:
                yield encode(text, **options)
            return
        if self._pool is None:
            spawn = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded caller
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=spawn)
        pending: deque[Future[list[QrMatrix]]] = deque()
        try:
            for chunk in _chunks(texts, chunk_size):
                pending.append(self._pool.submit(_encode_chunk, chunk, options))
                if len(pending) >= 2 * self.workers:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(texts)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _encode_chunk(texts: list[str], options: EncodeOptions) -> list[QrMatrix]:
    return [encode(text, **options) for text in texts]


def _options(ec_level: str, mask: int | None) -> dict[str, str | int]:
    if ec_level not in EC_LEVELS:
        raise ValueError(f"error correction level must be one of L, M, Q, H, not {ec_level!r}")
    if mask is None:
        return {"ec_level": ec_level}
    if not 0 <= mask <= 7:
        raise ValueError(f"QR mask must be 0 to 7, not {mask}")
    return {"ec_level": ec_level, "data_mask": mask}


def _too_large(text: str, version: int, max_version: int, ec_level: str) -> QrTooLarge:
    return QrTooLarge(
        "the QR text (%(length)s characters) needs QR version %(version)s at error "
        "correction %(level)s, more than the %(most)s allowed; shorten the base URL "
        "(and keep it upper case so it stays in the QR alphanumeric alphabet)",
        length=len(text),
        version=version,
        level=ec_level,
        most=max_version,
    )
