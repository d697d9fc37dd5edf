"""Output files: written whole or not at all, and streamed row by row.

A print job that fails halfway must not leave a half-written PDF under the final
name, where someone could send it to the printer: everything is written to a
temporary file beside the target and renamed onto it only once complete.
"""

from __future__ import annotations

import csv
import os
import secrets
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from ..errors import OutputNotWritable

# PNG is already deflated inside; compressing it again only costs time.
_STORED_SUFFIXES = (".png",)


@overload
def atomic_output(
    path: str | os.PathLike[str], *, text: Literal[False] = False
) -> AbstractContextManager[BinaryIO]: ...
@overload
def atomic_output(
    path: str | os.PathLike[str], *, text: Literal[True]
) -> AbstractContextManager[TextIO]: ...
@contextmanager  # yields Any: the overloads above tell callers BinaryIO or TextIO
def atomic_output(path: str | os.PathLike[str], *, text: bool = False) -> Iterator[Any]:
    """Open a temporary file beside `path`; rename it onto `path` only on success.

    Binary by default; `text=True` gives UTF-8 text with newlines left alone (as the
    csv module wants). On any exception the temporary file is removed and `path`
    is left as it was.
    """
    final = Path(path)
    temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
    fp = _open_temp(final, temp, text)
    try:
        with fp:
            yield fp
            fp.flush()
            os.fsync(fp.fileno())
        _replace(temp, final)
    except BaseException:
        with suppress(FileNotFoundError):
            temp.unlink()
        raise


def _open_temp(final: Path, temp: Path, text: bool) -> IO:
    folder = final.parent
    if not folder.is_dir():
        raise OutputNotWritable(
            "cannot write %(path)s: folder %(folder)s does not exist", path=final, folder=folder
        )
    if final.is_dir():
        raise OutputNotWritable("cannot write %(path)s: it is a folder", path=final)
    try:
        # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputNotWritable(
            "cannot write %(path)s: %(problem)s", path=final, problem=exc.strerror
        ) from exc
    if text:
        return os.fdopen(fd, "w", encoding="utf-8", newline="")
    return os.fdopen(fd, "wb")


def _replace(temp: Path, final: Path) -> None:
    try:
        temp.replace(final)
    except OSError as exc:
        raise OutputNotWritable(
            "cannot write %(path)s: %(problem)s", path=final, problem=exc.strerror
        ) from exc


def write_csv(fp: TextIO, rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> int:
    """Write `header` then each row, as they come; return the number of rows."""
    writer = csv.writer(fp, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_zip(
    fp: BinaryIO,
    items: Iterable[tuple[str, bytes]],
    *,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> int:
    """Write each `(name, data)` as a ZIP entry as it comes; return the number of entries.

    PNG entries are stored, everything else deflated. The ZIP central directory
    keeps one small record an entry until the end: the format needs it. Entries
    are dated now unless `date_time` is given.
    """
    stamp = date_time or time.localtime()[:6]
    count = 0
    with zipfile.ZipFile(fp, "w", allowZip64=True) as archive:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = _compression(name)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            count += 1
    return count


def _compression(name: str) -> int:
    if name.lower().endswith(_STORED_SUFFIXES):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED
