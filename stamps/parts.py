"""Print files written in chunks, then joined: how a queue worker prints a big batch.

Stamp *i* of batch *b* is a pure function of (key, b, i), so any chunk can be
written again at any time and comes out the same: a worker killed midway leaves
finished parts that the next worker keeps (their size and SHA-256 are recorded
by the caller) and at most one unfinished part, written under a temporary name
and never used. Each part is complete in itself:

- CSV: the rows of its stamps; the file is the header and the parts in order.
- PDF: whole pages, with object numbers fixed by their place in the document
  (:func:`~ocop.stamps.render.pdf.write_label_pdf_part`); joining them writes the
  page tree, the font and the cross-reference table.
- ZIP: a small archive of its images; joining copies their entries and writes one
  central directory.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from .issuance import IssuedStamp
from .outputs import LabelText, OutputKind, _images, _labels
from .qr import QrEncoder
from .render.files import atomic_output, write_zip
from .render.labels import LabelLayout
from .render.pdf import LabelSample, assemble_label_pdf, write_label_pdf_part

_BLOCK = 1 << 20
# ZIP entries carry a date; a part written again must come out byte for byte the same.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class FileDigest:
    """What a finished file must still be before anyone gets it."""

    size: int
    sha256: str

    def to_json(self) -> list[object]:
        return [self.size, self.sha256]

    @classmethod
    def from_json(cls, value: object) -> FileDigest | None:
        if isinstance(value, list) and len(value) == 2:
            size, sha = value
            if isinstance(size, int) and isinstance(sha, str):
                return cls(size, sha)
        return None


def digest_of(path: Path) -> FileDigest | None:
    """The size and SHA-256 of the file at ``path``; ``None`` when it cannot be read."""
    sha = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as fp:
            while block := fp.read(_BLOCK):
                sha.update(block)
                size += len(block)
    except OSError:
        return None
    return FileDigest(size, sha.hexdigest())


def is_intact(path: Path, expected: FileDigest | None) -> bool:
    """Whether ``path`` is the file that was recorded: same size first (cheap), then digest."""
    if expected is None:
        return False
    try:
        if path.stat().st_size != expected.size:
            return False
    except OSError:
        return False
    return digest_of(path) == expected


class _Hashing:
    """A binary file that hashes and counts what goes through it."""

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._fp.write(data)
        self._sha.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._fp.flush()

    @property
    def digest(self) -> FileDigest:
        return FileDigest(self.size, self._sha.hexdigest())


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How one print file of ``count`` stamps is cut into chunks of about ``chunk_size``."""

    kind: OutputKind
    count: int
    chunk_size: int
    text: LabelText
    pin: bool
    layout: LabelLayout | None = None

    @classmethod
    def make(
        cls,
        kind: OutputKind,
        count: int,
        chunk_size: int,
        *,
        text: LabelText,
        pin: bool,
        layout: LabelLayout | None = None,
    ) -> ChunkPlan:
        if kind is OutputKind.PDF:
            layout = layout or LabelLayout()
            # Whole pages a chunk, so that every part starts at the top of a sheet.
            per_page = layout.per_page
            chunk_size = max(per_page, chunk_size // per_page * per_page)
        else:
            layout = None
        return cls(kind, count, max(1, chunk_size), text, pin, layout)

    @property
    def chunks(self) -> int:
        return -(-self.count // self.chunk_size)

    def bounds(self, chunk: int) -> tuple[int, int]:
        """The stamps of ``chunk``: from its first index to the next chunk's."""
        if not 0 <= chunk < self.chunks:
            raise IndexError(f"chunk {chunk} of {self.chunks}")
        start = chunk * self.chunk_size
        return start, min(self.count, start + self.chunk_size)

    @property
    def _sample(self) -> LabelSample:
        return LabelSample(self.text.title, self.text.stars, self.pin, self.text.lot)

    def write_part(
        self,
        chunk: int,
        path: Path,
        stamps: Iterable[IssuedStamp],
        *,
        encoder: QrEncoder | None = None,
    ) -> FileDigest:
        """Write ``chunk``'s part to ``path``, whole or not at all; ``stamps`` are its own."""
        start, end = self.bounds(chunk)
        stamps = iter(stamps)
        workers: int | QrEncoder = encoder if encoder is not None else 1
        with atomic_output(path) as raw:
            fp = _Hashing(raw)
            if self.kind is OutputKind.CSV:
                written = _csv_rows(fp, stamps)
            elif self.kind is OutputKind.ZIP:
                # _Hashing writes through to the file and hashes what passes.
                zip_out = cast(BinaryIO, fp)
                written = write_zip(zip_out, _images(stamps, False, workers), date_time=_ZIP_DATE)
            else:
                assert self.layout is not None
                written = write_label_pdf_part(
                    fp,  # type: ignore[arg-type]
                    _labels(stamps, self.text, workers, self.layout),
                    self.layout,
                    first_page=start // self.layout.per_page,
                    sample=self._sample,
                )
            if written != end - start:
                raise ValueError(f"chunk {chunk} got {written} stamps, not {end - start}")
        return fp.digest

    def assemble(self, out: Path, parts: Sequence[Path]) -> FileDigest:
        """Join the parts, in order, into ``out``, whole or not at all."""
        if len(parts) != self.chunks:
            raise ValueError(f"{len(parts)} parts for {self.chunks} chunks")
        with atomic_output(out) as raw:
            fp = _Hashing(raw)
            if self.kind is OutputKind.CSV:
                header = "serial,url,token,pin" if self.pin else "serial,url,token"
                fp.write(f"{header}\r\n".encode("ascii"))
                for part in parts:
                    _copy(part, fp)
            elif self.kind is OutputKind.ZIP:
                _join_zips(raw, fp, parts)
            else:
                assert self.layout is not None
                pages = -(-self.count // self.layout.per_page)
                with _opened(parts) as files:
                    assemble_label_pdf(
                        fp,  # type: ignore[arg-type]
                        files,
                        self.layout,
                        pages=pages,
                        sample=self._sample,
                    )
        return fp.digest


def _csv_rows(fp: _Hashing, stamps: Iterator[IssuedStamp]) -> int:
    # Every field is digits, upper-case letters and URL punctuation (see outputs.py).
    count = 0
    rows: list[str] = []
    for stamp in stamps:
        pin = f",{stamp.pin}" if stamp.pin is not None else ""
        rows.append(f"{stamp.serial},{stamp.url},{stamp.text}{pin}\r\n")
        count += 1
        if len(rows) == 1000:
            fp.write("".join(rows).encode("ascii"))
            rows.clear()
    fp.write("".join(rows).encode("ascii"))
    return count


def _copy(path: Path, fp: _Hashing) -> None:
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            fp.write(block)


class _opened:
    """Open each part in turn, lazily, closing the last one on leaving."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = paths
        self._current: BinaryIO | None = None

    def __enter__(self) -> Iterator[BinaryIO]:
        return self._iterate()

    def _iterate(self) -> Iterator[BinaryIO]:
        for path in self._paths:
            with path.open("rb") as fp:
                self._current = fp
                yield fp
            self._current = None

    def __exit__(self, *exc: object) -> None:
        if self._current is not None:
            self._current.close()


def _join_zips(raw: BinaryIO, fp: _Hashing, parts: Sequence[Path]) -> None:
    """One archive from several: each part's entries copied as they are (local headers
    and data), then one central directory naming them at their new offsets."""
    entries: list[zipfile.ZipInfo] = []
    for path in parts:
        base = fp.size
        with zipfile.ZipFile(path) as part:
            infos = part.infolist()
            local_end = part.start_dir  # where the part's central directory begins
        with path.open("rb") as source:
            left = local_end
            while left:
                block = source.read(min(left, _BLOCK))
                if not block:
                    raise ValueError(f"ZIP part {path.name} is cut short")
                fp.write(block)
                left -= len(block)
        for info in infos:
            info.header_offset += base
            entries.append(info)
    # zipfile writes the central directory (ZIP64 records when needed) on close;
    # it is handed the entries already in the file, as if it had written them.
    tail = cast(BinaryIO, _Tail(fp, raw))  # file-like enough for zipfile's writer
    with zipfile.ZipFile(tail, "w", allowZip64=True) as archive:
        archive.filelist = entries
        archive.NameToInfo = {info.filename: info for info in entries}
        archive.start_dir = fp.size
        # zipfile writes the central directory on close only when it thinks it wrote
        # entries; the flag is private, and typeshed leaves it out.
        archive._didModify = True  # type: ignore[attr-defined]


class _Tail:
    """The hashing writer seen by zipfile: it writes at the end and asks where it is."""

    def __init__(self, fp: _Hashing, raw: BinaryIO) -> None:
        self._fp = fp
        self._raw = raw

    def write(self, data: bytes) -> int:
        return self._fp.write(data)

    def tell(self) -> int:
        return self._fp.size

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if (whence, offset) not in ((os.SEEK_SET, self._fp.size), (os.SEEK_END, 0)):
            raise OSError("the joined archive is written front to back")
        return self._fp.size

    def flush(self) -> None:
        self._fp.flush()

    def seekable(self) -> bool:
        return True


__all__ = ["ChunkPlan", "FileDigest", "digest_of", "is_intact"]
