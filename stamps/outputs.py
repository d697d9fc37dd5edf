"""The files a batch is printed from, chosen by the output's extension."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from ocop.trace.models import Lot
from ocop.trace.queries import latest_ocop_certificate

from .errors import UnsupportedOutput
from .issuance import IssuedStamp
from .pin import format_pin
from .qr import EncodeOptions, QrEncoder, QrMatrix, encode_many
from .render.files import atomic_output, write_csv, write_zip
from .render.labels import Label, LabelLayout
from .render.pdf import write_label_pdf
from .render.png import png_bytes, svg_text


class OutputKind(StrEnum):
    CSV = ".csv"
    PDF = ".pdf"
    ZIP = ".zip"

    @classmethod
    def for_path(cls, path: str | os.PathLike[str]) -> OutputKind:
        suffix = Path(path).suffix.lower()
        try:
            return cls(suffix)
        except ValueError:
            raise UnsupportedOutput(
                "cannot tell what to write to %(name)r: "
                "name the file .pdf (label sheets), .csv (print house) or .zip (images)",
                name=Path(path).name,
            ) from None


@dataclass(frozen=True, slots=True)
class LabelText:
    """What every label of a batch says besides its own code."""

    title: str
    stars: int
    lot: str = ""


def label_text(session: Session, lot: Lot, today: dt.date) -> LabelText:
    """What the labels of ``lot``'s stamps say: the CLI, the demo and the queue's print jobs."""
    product = lot.product
    if product is None:
        raise UnsupportedOutput("lot %(lot)s is a raw-material lot: it has no labels", lot=lot.code)
    cert = latest_ocop_certificate(session, product, today)
    stars = (cert.stars or 0) if cert else 0
    return LabelText(title=product.label_name, stars=stars, lot=lot.code)


Progress = Callable[[], None]


def write_output(
    path: str | os.PathLike[str],
    stamps: Iterable[IssuedStamp],
    *,
    text: LabelText,
    layout: LabelLayout | None = None,
    svg: bool = False,
    on_stamp: Progress | None = None,
    workers: int = 1,
) -> int:
    """Write ``stamps`` to ``path`` whole or not at all; returns how many were written.

    ``workers`` > 1 encodes QR codes in that many processes: worth it for big
    batches only, since starting them costs about a second.
    """
    kind = OutputKind.for_path(path)
    stamps = _counted(stamps, on_stamp)
    if kind is OutputKind.CSV:
        with atomic_output(path, text=True) as fp:
            return _write_csv(fp, stamps)
    if kind is OutputKind.ZIP:
        with atomic_output(path) as fp:
            return write_zip(fp, _images(stamps, svg, workers))
    with atomic_output(path) as fp:
        layout = layout or LabelLayout()
        return write_label_pdf(fp, _labels(stamps, text, workers, layout), layout)


def _counted(stamps: Iterable[IssuedStamp], on_stamp: Progress | None) -> Iterator[IssuedStamp]:
    for stamp in stamps:
        yield stamp
        if on_stamp is not None:
            on_stamp()


def _write_csv(fp, stamps: Iterator[IssuedStamp]) -> int:
    first = next(stamps, None)
    if first is None:
        return write_csv(fp, (), ("serial", "url", "token"))
    with_pin = first.pin is not None
    header = ("serial", "url", "token", "pin") if with_pin else ("serial", "url", "token")

    # Every field is digits, upper-case letters and URL punctuation, never a comma
    # or a quote, so rows are written as they are: the csv module's quoting
    # checks cost a sixth of a stamp's time.
    count = write_csv(fp, (), header)
    for stamp in itertools.chain([first], stamps):
        pin = f",{stamp.pin}" if with_pin else ""
        fp.write(f"{stamp.serial},{stamp.url},{stamp.text}{pin}\r\n")
        count += 1
    return count


def _images(
    stamps: Iterator[IssuedStamp], svg: bool, workers: int | QrEncoder
) -> Iterator[tuple[str, bytes]]:
    for stamp, matrix in _with_matrices(stamps, workers):
        if svg:
            yield f"{stamp.serial}.svg", svg_text(matrix).encode()
        else:
            yield f"{stamp.serial}.png", png_bytes(matrix)


def _labels(
    stamps: Iterator[IssuedStamp],
    text: LabelText,
    workers: int | QrEncoder,
    layout: LabelLayout,
) -> Iterator[Label]:
    # The layout says how much error correction its labels have room for.
    symbol = EncodeOptions(ec_level=layout.ec_level, max_version=layout.max_version)
    for stamp, matrix in _with_matrices(stamps, workers, symbol):
        yield Label(
            matrix=matrix,
            serial=str(stamp.serial),
            title=text.title,
            stars=text.stars,
            pin=format_pin(stamp.pin) if stamp.pin else None,
            lot=text.lot,
        )


def _with_matrices(
    stamps: Iterator[IssuedStamp],
    workers: int | QrEncoder,
    symbol: EncodeOptions | None = None,
) -> Iterator[tuple[IssuedStamp, QrMatrix]]:
    # tee buffers only what the encoder runs ahead: a few chunks, whatever the count.
    for_urls, for_labels = itertools.tee(stamps)
    urls = (stamp.url for stamp in for_urls)
    options = symbol or EncodeOptions()
    if isinstance(workers, QrEncoder):
        matrices = workers.encode_many(urls, **options)
    else:
        matrices = encode_many(urls, workers=workers, **options)
    yield from zip(for_labels, matrices, strict=True)
