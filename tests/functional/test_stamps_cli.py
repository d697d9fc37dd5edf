"""``ocop stamps issue`` and ``ocop stamps verify``, end to end with real files."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from ocop.stamps import StampBatch
from ocop.web.cli import main


@pytest.fixture
def sample(runner, demo):
    lots = json.loads(runner.invoke(main, ["trace", "lots", "--json"]).output)
    stampable = [lot["code"] for lot in lots if lot["stampable"]]
    not_stampable = [lot["code"] for lot in lots if not lot["stampable"] and lot.get("product")]
    return stampable[0], not_stampable


def _batches(app) -> list[tuple[int, str]]:
    with app.extensions["ocop.db"].transaction() as session:
        return [(b.id, b.status.value) for b in session.scalars(select(StampBatch))]


def _issue(runner, *args):
    return runner.invoke(main, ["stamps", "issue", *args])


def test_csv_issue_and_every_row_verifies(runner, sample, tmp_path, app):
    lot, _ = sample
    out = tmp_path / "print.csv"
    result = _issue(runner, "--lot", lot, "--count", "25", "--out", str(out), "--pin", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["count"] == 25 and info["out"] == str(out) and info["kid"]
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["serial", "url", "token", "pin"]
    assert len(rows) == 25 and len({r["token"] for r in rows}) == 25
    assert all(r["url"].endswith("/V/" + r["token"]) and r["url"].isupper() for r in rows)
    for row in (rows[0], rows[-1]):
        check = runner.invoke(main, ["stamps", "verify", row["url"], "--json"])
        assert check.exit_code == 0, check.output
        assert json.loads(check.output)["serial"] == row["serial"]
    assert (info["batch"], "issued") in _batches(app)


def test_pdf_labels_decode_back_to_verifying_codes(runner, sample, tmp_path):
    lot, _ = sample
    out = tmp_path / "labels.pdf"
    assert _issue(runner, "--lot", lot, "--count", "45", "--out", str(out)).exit_code == 0
    document = pdfium.PdfDocument(str(out))
    texts = []
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        texts += [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(texts) == 45 and len(set(texts)) == 45
    for text in texts[:3]:
        assert runner.invoke(main, ["stamps", "verify", text]).exit_code == 0


def test_zip_of_png_verifies_from_the_image(runner, sample, tmp_path):
    lot, _ = sample
    out = tmp_path / "codes.zip"
    assert _issue(runner, "--lot", lot, "--count", "3", "--out", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert len(names) == 3 and all(n.endswith(".png") for n in names)
        png = tmp_path / names[0]
        png.write_bytes(archive.read(names[0]))
    result = runner.invoke(main, ["stamps", "verify", str(png), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "genuine"


def test_offline_verify_against_the_trust_list(runner, sample, tmp_path):
    lot, _ = sample
    out = tmp_path / "a.csv"
    _issue(runner, "--lot", lot, "--count", "1", "--out", str(out))
    url = next(csv.DictReader(out.open()))["url"]
    trust = tmp_path / "trust.json"
    assert runner.invoke(main, ["keys", "trust-list", "--out", str(trust)]).exit_code == 0
    result = runner.invoke(main, ["stamps", "verify", url, "--offline", "--trust", str(trust)])
    assert result.exit_code == 0
    assert "cannot tell a copy" in result.output
    forged = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    bad = runner.invoke(main, ["stamps", "verify", forged, "--offline", "--trust", str(trust)])
    assert bad.exit_code == 1 and "INVALID" in bad.output


@pytest.mark.parametrize("count", ["0", "-5", "abc", "1.5", "", "1000001", "9" * 40])
def test_bad_counts_write_nothing(runner, sample, tmp_path, app, count):
    lot, _ = sample
    out = tmp_path / "x.csv"
    before = _batches(app)
    result = _issue(runner, "--lot", lot, "--count", count, "--out", str(out))
    assert result.exit_code != 0
    assert "count" in result.output and "Traceback" not in result.output
    assert not out.exists() and _batches(app) == before


def test_refusals_are_clear_and_write_nothing(runner, sample, tmp_path, app):
    lot, not_stampable = sample
    before = _batches(app)
    cases = [
        (["--lot", "NO-SUCH-LOT", "--count", "5", "--out", str(tmp_path / "a.csv")], "NO-SUCH-LOT"),
        (["--lot", not_stampable[0], "--count", "5", "--out", str(tmp_path / "b.csv")],
         "certificate"),
        (["--lot", lot, "--count", "5", "--out", str(tmp_path / "nope" / "c.csv")],
         "does not exist"),
        (["--lot", lot, "--count", "5", "--out", str(tmp_path / "d.txt")], ".pdf"),
    ]
    for args, words in cases:
        result = _issue(runner, *args)
        assert result.exit_code != 0, args
        assert words in result.output, result.output
        assert "Traceback" not in result.output
    assert _batches(app) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance"]


def test_failure_mid_write_leaves_no_file_and_no_issued_batch(runner, sample, tmp_path, app,
                                                             monkeypatch):
    from ocop.stamps import printing

    lot, _ = sample
    real = printing.generate_stamps

    def disk_full_after_ten(*args, **kwargs):
        for n, stamp in enumerate(real(*args, **kwargs)):
            if n == 10:
                raise OSError(28, "No space left on device")
            yield stamp

    monkeypatch.setattr(printing, "generate_stamps", disk_full_after_ten)
    before = _batches(app)
    out = tmp_path / "half.csv"
    result = _issue(runner, "--lot", lot, "--count", "50", "--out", str(out))
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["instance"]
    after = _batches(app)
    new = [status for batch in after if batch not in before for status in [batch[1]]]
    assert new == ["failed"]


def test_wrong_passphrase_refuses_before_any_batch(runner, sample, tmp_path, app, monkeypatch):
    lot, _ = sample
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "this is not the passphrase")
    result = _issue(runner, "--lot", lot, "--count", "5", "--out", str(tmp_path / "a.csv"))
    assert result.exit_code != 0 and "passphrase" in result.output.lower()
    with app.extensions["ocop.db"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(StampBatch)) == 1  # the demo's


@pytest.mark.parametrize(
    "code", ["", "x" * 5000, "HTTPS://EXAMPLE.COM/V/" + "A" * 130, "<script>", "/tmp"]
)
def test_verify_junk_is_invalid_not_a_traceback(runner, sample, code):
    result = runner.invoke(main, ["stamps", "verify", code])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output


def test_verify_image_without_code_is_a_usage_error(runner, sample, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    result = runner.invoke(main, ["stamps", "verify", str(blank)])
    assert result.exit_code == 2 and "no QR code" in result.output
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    assert runner.invoke(main, ["stamps", "verify", str(junk)]).exit_code == 2


def test_offline_without_trust_file_is_a_usage_error(runner, sample):
    result = runner.invoke(main, ["stamps", "verify", "x", "--offline"])
    assert result.exit_code == 2 and "--trust" in result.output




@pytest.mark.parametrize("size", ["40x30", "50x30"])
def test_roll_labels_one_a_page_read_back_at_203_dpi(runner, sample, tmp_path, size):
    lot, _ = sample
    out = tmp_path / "roll.pdf"
    args = ["--lot", lot, "--count", "3", "--out", str(out), "--paper", "roll", "--label", size]
    result = _issue(runner, *args, "--dpi", "203", "--module", "0.5", "--json")
    assert result.exit_code == 0, result.output
    labels = json.loads(result.output)["labels"]
    assert labels["paper"] == "roll" and labels["module_dots"] == 4
    assert labels["error_correction"] == "M" and labels["dpi"] == 203
    document = pdfium.PdfDocument(str(out))
    width, height = (float(n) for n in size.split("x"))
    texts = []
    for page in document:
        assert page.get_width() * 25.4 / 72 == pytest.approx(width, abs=0.01)
        assert page.get_height() * 25.4 / 72 == pytest.approx(height, abs=0.01)
        texts += [r.text for r in zxingcpp.read_barcodes(page.render(scale=203 / 72).to_pil())]
        assert lot in page.get_textpage().get_text_range()
    assert len(document) == 3 and len(set(texts)) == 3
    assert runner.invoke(main, ["stamps", "verify", texts[0]]).exit_code == 0


def test_a_roomy_roll_label_says_error_correction_q(runner, sample, tmp_path):
    lot, _ = sample
    out = tmp_path / "roll.pdf"
    args = ["--lot", lot, "--count", "1", "--out", str(out), "--paper", "roll"]
    result = _issue(runner, *args, "--label", "60x40")
    assert result.exit_code == 0, result.output
    assert "error correction Q" in result.output and "4 dots at 203 dpi" in result.output
    page = pdfium.PdfDocument(str(out))[0]
    found = zxingcpp.read_barcodes(page.render(scale=203 / 72).to_pil())
    assert [r.ec_level for r in found] == ["Q"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--module", "0.5", "--dpi", "600"], "11.81 dots"),
        (["--module", "0.45", "--dpi", "203"], "0.375 mm (3 dots) or 0.500 mm (4 dots)"),
        (["--paper", "roll", "--label", "20x15"], "cannot hold"),
        (["--dpi", "150"], "150"),
    ],
)
def test_print_options_that_cannot_print_well_are_refused(
    runner, sample, tmp_path, app, options, words
):
    lot, _ = sample
    before = _batches(app)
    out = tmp_path / "x.pdf"
    result = _issue(runner, "--lot", lot, "--count", "2", "--out", str(out), *options)
    assert result.exit_code != 0 and words in result.output, result.output
    assert "Traceback" not in result.output
    assert not out.exists() and _batches(app) == before


def test_millimetres_take_a_decimal_comma(runner, sample, tmp_path):
    lot, _ = sample
    out = tmp_path / "roll.pdf"
    args = ["--lot", lot, "--count", "1", "--out", str(out), "--paper", "roll"]
    result = _issue(runner, *args, "--label-width", "40", "--label-height", "30", "--module", "0,5")
    assert result.exit_code == 0, result.output
    assert "0.500 mm modules (4 dots at 203 dpi)" in result.output
    bad = _issue(runner, *args, "--module", "half")
    assert bad.exit_code == 2 and "not a number" in bad.output


def test_layout_options_need_a_pdf(runner, sample, tmp_path):
    lot, _ = sample
    result = _issue(runner, "--lot", lot, "--count", "2", "--out", str(tmp_path / "a.csv"),
                    "--paper", "roll")
    assert result.exit_code != 0 and ".pdf output only" in result.output


def _sheet_of_21(runner, lot, tmp_path):
    """A real page of 21 labels (A4, 3 x 7 of 64 x 39 mm), rendered at 300 dpi, and its codes."""
    out = tmp_path / "sheet.pdf"
    args = ["--lot", lot, "--count", "21", "--out", str(out), "--label", "64x39", "--columns", "3"]
    assert _issue(runner, *args).exit_code == 0
    page = pdfium.PdfDocument(str(out))[0]
    image = page.render(scale=300 / 72).to_pil().convert("L")
    codes = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(set(codes)) == 21
    return image, codes


def test_verify_a_picture_of_a_sheet_checks_every_code(runner, sample, tmp_path):
    lot, _ = sample
    image, _codes = _sheet_of_21(runner, lot, tmp_path)
    picture = tmp_path / "sheet.png"
    image.save(picture)
    result = runner.invoke(main, ["stamps", "verify", str(picture)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len([line for line in lines if "GENUINE" in line]) == 21
    assert lines[-1] == f"21 codes in {picture}: 21 genuine"
    as_json = json.loads(runner.invoke(main, ["stamps", "verify", str(picture), "--json"]).output)
    assert as_json["codes"] == 21 and as_json["summary"] == {"genuine": 21}
    assert len({r["serial"] for r in as_json["results"]}) == 21


def test_one_bad_code_on_a_sheet_is_told_and_fails_the_whole(runner, sample, tmp_path):
    from ocop.stamps.qr import encode
    from ocop.stamps.render.png import png_bytes

    lot, _ = sample
    image, codes = _sheet_of_21(runner, lot, tmp_path)
    forged = codes[0][:-2] + ("AA" if not codes[0].endswith("AA") else "BB")
    stray = Image.open(io.BytesIO(png_bytes(encode(forged), scale=6))).convert("L")
    picture = Image.new("L", (image.width + stray.width + 60, image.height), 255)
    picture.paste(image, (0, 0))
    picture.paste(stray, (image.width + 30, 30))
    path = tmp_path / "sheet-and-a-fake.png"
    picture.save(path)
    result = runner.invoke(main, ["stamps", "verify", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"22 codes in {path}: 21 genuine, 1 invalid"
    [bad] = [line for line in lines if "INVALID" in line]
    assert "bad_signature" in bad
