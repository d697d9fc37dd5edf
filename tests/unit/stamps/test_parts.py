"""Print files in chunks: whatever the cut, the joined file holds exactly the stamps
that one pass writes, and a part written again comes out byte for byte the same."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ocop.keys.signer import Ed25519Signer
from ocop.stamps.issuance import generate_stamps
from ocop.stamps.outputs import LabelText, OutputKind, write_output
from ocop.stamps.parts import ChunkPlan, FileDigest, digest_of, is_intact
from ocop.stamps.pin import PinSecret
from ocop.stamps.render.labels import LabelLayout

BASE = "HTTPS://TEM.OCOP.VN"
TEXT = LabelText("Bánh cáy làng Nguyễn", 4)
SIGNER = Ed25519Signer(Ed25519PrivateKey.generate())
PIN = PinSecret(b"a pin secret of the tests")


def _stamps(count: int, start: int = 0, pin: bool = True):
    return generate_stamps(
        SIGNER, 42, count, base_url=BASE, pin_secret=PIN if pin else None, start=start
    )


def _chunked(plan: ChunkPlan, folder: Path) -> Path:
    parts = []
    for chunk in range(plan.chunks):
        start, end = plan.bounds(chunk)
        path = folder / f"{chunk}.part"
        assert plan.write_part(chunk, path, _stamps(end, start, plan.pin)) == digest_of(path)
        parts.append(path)
    out = folder / f"joined{plan.kind.value}"
    assert plan.assemble(out, parts) == digest_of(out)
    return out


def test_csv_joined_from_chunks_is_the_one_pass_file(tmp_path: Path) -> None:
    plan = ChunkPlan.make(OutputKind.CSV, 103, 25, text=TEXT, pin=True)
    assert (plan.chunks, plan.bounds(4)) == (5, (100, 103))
    joined = _chunked(plan, tmp_path)
    direct = tmp_path / "direct.csv"
    write_output(direct, _stamps(103), text=TEXT)
    assert joined.read_bytes() == direct.read_bytes()
    rows = list(csv.DictReader(io.StringIO(joined.read_text())))
    assert len(rows) == 103 and len({r["token"] for r in rows}) == 103


def test_zip_joined_from_chunks_holds_every_image_once(tmp_path: Path) -> None:
    plan = ChunkPlan.make(OutputKind.ZIP, 61, 20, text=TEXT, pin=False)
    joined = _chunked(plan, tmp_path)
    direct = tmp_path / "direct.zip"
    write_output(direct, _stamps(61, pin=False), text=TEXT)
    with zipfile.ZipFile(joined) as a, zipfile.ZipFile(direct) as b:
        assert a.testzip() is None
        assert a.namelist() == b.namelist() and len(a.namelist()) == 61
        assert all(a.read(name) == b.read(name) for name in a.namelist())


def test_pdf_joined_from_chunks_has_every_page_and_code(tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    layout = LabelLayout(label_width_mm=64, label_height_mm=39, columns=3)  # 21 a page
    plan = ChunkPlan.make(OutputKind.PDF, 50, 30, text=TEXT, pin=True, layout=layout)
    assert plan.chunk_size == 21  # whole pages a chunk
    joined = _chunked(plan, tmp_path)
    document = pdfium.PdfDocument(str(joined))
    assert len(document) == 3
    urls = [s.url for s in _stamps(50)]
    last = document[2]
    codes = [r.text for r in zxingcpp.read_barcodes(last.render(scale=300 / 72).to_pil())]
    assert sorted(codes) == sorted(urls[42:])
    text = last.get_textpage().get_text_range()
    assert "Bánh cáy làng Nguyễn" in text and "★★★★" in text and "PIN" in text


@pytest.mark.parametrize("kind", list(OutputKind))
def test_a_part_written_again_is_the_same_bytes(tmp_path: Path, kind: OutputKind) -> None:
    plan = ChunkPlan.make(kind, 80, 40, text=TEXT, pin=True)
    first = plan.write_part(1, tmp_path / "a", _stamps(80, 40))
    again = plan.write_part(1, tmp_path / "b", _stamps(80, 40))
    assert first == again


def test_a_part_with_the_wrong_stamps_is_refused_and_not_left_behind(tmp_path: Path) -> None:
    plan = ChunkPlan.make(OutputKind.CSV, 80, 40, text=TEXT, pin=True)
    with pytest.raises(ValueError, match="got 39 stamps"):
        plan.write_part(1, tmp_path / "p", _stamps(79, 40))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="parts for"):
        plan.assemble(tmp_path / "out.csv", [])


def test_a_damaged_or_missing_file_is_not_intact(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"serial,url,token\r\n1,2,3\r\n")
    digest = digest_of(path)
    assert digest is not None and is_intact(path, digest)
    path.write_bytes(b"serial,url,token\r\n1,2,4\r\n")  # same size, one byte changed
    assert not is_intact(path, digest)
    path.unlink()
    assert not is_intact(path, digest) and digest_of(path) is None
    assert not is_intact(path, None)
    assert FileDigest.from_json(digest.to_json()) == digest
    assert FileDigest.from_json(["x", 1]) is None and FileDigest.from_json(None) is None
