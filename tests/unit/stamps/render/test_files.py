from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocop.stamps.errors import OutputNotWritable, StampError
from ocop.stamps.render.files import atomic_output, write_csv, write_zip


class Boom(Exception):
    pass


def test_atomic_output_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "stamps.pdf"
    with atomic_output(target) as fp:
        fp.write(b"%PDF-1.7\n")
    assert target.read_bytes() == b"%PDF-1.7\n"
    assert os.listdir(tmp_path) == ["stamps.pdf"]


def test_atomic_output_respects_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "stamps.pdf"
    with atomic_output(target) as fp:
        fp.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_nothing_is_left_behind_after_a_failure_mid_write(tmp_path: Path) -> None:
    target = tmp_path / "stamps.pdf"
    with pytest.raises(Boom), atomic_output(target) as fp:
        fp.write(b"half a document")
        assert len(os.listdir(tmp_path)) == 1  # the temporary file, under another name
        raise Boom
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_untouched_after_a_failure(tmp_path: Path) -> None:
    target = tmp_path / "stamps.csv"
    target.write_text("the previous batch\n")
    with pytest.raises(Boom), atomic_output(target, text=True) as fp:
        fp.write("serial,url,token\r\n")
        raise Boom
    assert target.read_text() == "the previous batch\n"
    assert os.listdir(tmp_path) == ["stamps.csv"]


def test_an_existing_file_is_replaced_on_success(tmp_path: Path) -> None:
    target = tmp_path / "stamps.csv"
    target.write_text("old")
    with atomic_output(target, text=True) as fp:
        fp.write("Bánh cáy\r\n")
    assert target.read_bytes() == "Bánh cáy\r\n".encode()


def test_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "stamps.pdf"
    with pytest.raises(OutputNotWritable, match="does not exist") as caught, atomic_output(target):
        pytest.fail("should not open")
    assert isinstance(caught.value, StampError)


def test_a_folder_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "stamps.pdf").mkdir()
    with (
        pytest.raises(OutputNotWritable, match="is a folder"),
        atomic_output(tmp_path / "stamps.pdf"),
    ):
        pytest.fail("should not open")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with (
            pytest.raises(OutputNotWritable, match="cannot write"),
            atomic_output(tmp_path / "stamps.pdf"),
        ):
            pytest.fail("should not open")
    finally:
        tmp_path.chmod(0o700)


def test_write_csv_streams_rows() -> None:
    def rows() -> Iterator[tuple[str, ...]]:
        for index in range(3):
            yield (f"1234-{index:06d}-7", f"HTTP://X/V/{index}", "TOKEN")

    out = io.StringIO(newline="")
    assert write_csv(out, rows(), ("serial", "url", "token")) == 3
    text = out.getvalue()
    assert text.startswith("serial,url,token\r\n1234-000000-7,HTTP://X/V/0,TOKEN\r\n")
    assert list(csv.reader(io.StringIO(text)))[3] == ["1234-000002-7", "HTTP://X/V/2", "TOKEN"]


def test_write_csv_quotes_what_needs_quoting() -> None:
    out = io.StringIO(newline="")
    write_csv(out, [("a,b", 'say "hi"')], ("x", "y"))
    assert out.getvalue() == 'x,y\r\n"a,b","say ""hi"""\r\n'


def test_write_zip_stores_png_and_deflates_svg() -> None:
    out = io.BytesIO()
    items = [("1234-000000-7.png", b"\x89PNG" + bytes(100)), ("1234-000000-7.svg", b"<svg/>" * 50)]
    assert write_zip(out, iter(items)) == 2
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert infos["1234-000000-7.png"].compress_type == zipfile.ZIP_STORED
        assert infos["1234-000000-7.svg"].compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("1234-000000-7.svg") == b"<svg/>" * 50
        assert archive.testzip() is None


def test_write_zip_into_an_atomic_output(tmp_path: Path) -> None:
    target = tmp_path / "stamps.zip"
    with atomic_output(target) as fp:
        write_zip(fp, ((f"{i}.png", b"x") for i in range(10)))
    with zipfile.ZipFile(target) as archive:
        assert len(archive.namelist()) == 10


def test_a_folder_we_may_not_write_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "stamps.pdf"
    with pytest.raises(OutputNotWritable, match="Permission denied"), atomic_output(target):
        pytest.fail("should not open")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
