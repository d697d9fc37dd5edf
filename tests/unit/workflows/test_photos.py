"""Product photos: only real pictures within the limits are kept, cleaned of what they carry."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from ocop.trace import load_sample
from ocop.trace.models import Product, ProductPhoto
from ocop.trace.queries import find_product
from ocop.workflows.errors import (
    PhotoDamaged,
    PhotoEmpty,
    PhotoNotAnImage,
    PhotoNotFound,
    PhotoRefused,
    PhotoTooBig,
    PhotoTooManyPixels,
    TooManyPhotos,
)
from ocop.workflows.photos import (
    MAX_PHOTO_BYTES,
    MAX_PHOTOS,
    add_photo,
    discard_files,
    photo_file,
    prepare_photo,
    remove_photo,
    sniff,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def picture(fmt: str = "JPEG", size=(1200, 800), colour=(200, 60, 40), **save) -> bytes:
    image = Image.new("RGB", size, colour)
    # The left half another colour, so that a rotation can be seen.
    image.paste((20, 90, 200), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def gps_jpeg(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0131] = "Secret Camera App 1.0"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 51.0, 2.0)})
    return picture("JPEG", exif=exif.tobytes(), comment=b"taken at home")


def png_bomb(side: int = 20_000) -> bytes:
    """A PNG header claiming side x side pixels, with a tiny compressed body: a bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\0" * (side // 8 + 1) * 64, 9)  # a few rows: enough to start
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _variant(prepared, which) -> Image.Image:
    return Image.open(io.BytesIO(getattr(prepared, which).data))


# --- what is refused, and why --------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", PhotoEmpty),
        (b"GIF89a" + b"\0" * 100, PhotoNotAnImage),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
         PhotoNotAnImage),
        (b"%PDF-1.7\n" + b"\0" * 100, PhotoNotAnImage),
        (b"MZ\x90\0" + b"\0" * 100, PhotoNotAnImage),  # a Windows program named photo.jpg
        (b"RIFF\0\0\0\0WAVEfmt ", PhotoNotAnImage),  # RIFF, but a sound
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, PhotoDamaged),  # starts like a JPEG, no more
        (b"\x89PNG\r\n\x1a\n" + b"junk" * 10, PhotoDamaged),
    ],
    ids=["empty", "gif", "svg", "pdf", "exe", "wav", "jpeg-header-only", "png-junk"],
)
def test_what_is_not_a_whole_picture_is_refused(data, error) -> None:
    with pytest.raises(error):
        prepare_photo(data)


def test_a_truncated_picture_is_refused() -> None:
    for fmt in ("JPEG", "PNG", "WEBP"):
        whole = picture(fmt, size=(900, 600))
        with pytest.raises(PhotoDamaged):
            prepare_photo(whole[: len(whole) // 2])


def test_a_png_bomb_is_refused_from_its_header() -> None:
    bomb = png_bomb()
    assert len(bomb) < 10_000  # small on the wire, 400 megapixels declared
    with pytest.raises(PhotoTooManyPixels, match="megapixels"):
        prepare_photo(bomb)


def test_a_strip_of_pixels_is_refused() -> None:
    with pytest.raises(PhotoTooManyPixels):
        prepare_photo(_png_of_size(13_000, 2))  # few pixels, but 13,000 wide


def _png_of_size(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


def test_more_bytes_than_allowed_are_refused_before_reading_them() -> None:
    data = picture() + b"\0" * MAX_PHOTO_BYTES
    with pytest.raises(PhotoTooBig, match="at most 8 MB"):
        prepare_photo(data)


def test_the_extension_and_content_type_are_never_asked() -> None:
    assert sniff(picture("PNG")) == "PNG" and sniff(picture("WEBP")) == "WEBP"
    assert sniff(picture("JPEG")) == "JPEG" and sniff(b"<svg") is None
    assert sniff(picture("GIF")) is None and sniff(picture("BMP")) is None


def test_a_polyglot_keeps_only_its_pixels() -> None:
    # A real JPEG with an HTML page (or a ZIP) appended: a picture to Pillow, a
    # page to a careless browser. The variants are re-encoded pixels only.
    payload = b"<html><script>alert(document.cookie)</script></html>PK\x03\x04"
    prepared = prepare_photo(picture() + payload)
    for which in ("small", "large"):
        data = getattr(prepared, which).data
        assert b"<script" not in data and b"PK\x03\x04" not in data
        assert data.startswith(b"RIFF") and data[8:12] == b"WEBP"


# --- what is kept ----------------------------------------------------------------


def test_exif_and_gps_are_stripped_from_every_variant() -> None:
    original = Image.open(io.BytesIO(gps_jpeg()))
    assert original.getexif().get_ifd(GPS_IFD)  # the upload carries a position
    prepared = prepare_photo(gps_jpeg())
    for which in ("small", "large"):
        data = getattr(prepared, which).data
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
        assert "exif" not in image.info and "xmp" not in image.info
        assert "icc_profile" not in image.info or image.info["icc_profile"] == b""
        for leak in (b"Exif", b"PhoneMaker", b"Secret Camera", b"taken at home", b"XMP"):
            assert leak not in data


def test_exif_orientation_is_applied_before_it_is_dropped() -> None:
    # Orientation 6: the camera was turned; the stored pixels are landscape, the
    # photo is portrait. A shopper must see it upright.
    prepared = prepare_photo(gps_jpeg(orientation=6))
    large = _variant(prepared, "large")
    assert large.height > large.width
    assert (prepared.large.width, prepared.large.height) == large.size
    # Rotated 90° clockwise: the left (blue) half is now on top.
    top = large.convert("RGB").getpixel((large.width // 2, large.height // 8))
    bottom = large.convert("RGB").getpixel((large.width // 2, large.height * 7 // 8))
    assert top[2] > top[0] and bottom[0] > bottom[2]


def test_variants_are_resized_never_enlarged_and_keep_transparency() -> None:
    prepared = prepare_photo(picture("PNG", size=(3000, 2000)))
    assert (prepared.small.width, prepared.large.width) == (320, 960)
    assert prepared.large.height == 640
    small = prepare_photo(picture("JPEG", size=(200, 100)))
    assert (small.small.width, small.large.width) == (200, 200)
    clear = io.BytesIO()
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(clear, "PNG")
    assert _variant(prepare_photo(clear.getvalue()), "small").mode == "RGBA"


# --- stored: rows and files --------------------------------------------------------


@pytest.fixture
def product(session) -> Product:
    load_sample(session)
    return find_product(session, "BANH-CAY-LANG-NGUYEN")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def test_a_photo_is_stored_by_its_hash_once(session, product, tmp_path) -> None:
    folder = tmp_path / "photos"
    data = gps_jpeg()
    photo, created = add_photo(session, product, data, folder)
    assert created
    assert _files(folder) == sorted([photo_file(photo.digest, "small"),
                                     photo_file(photo.digest, "large")])
    again, created = add_photo(session, product, data, folder)
    assert not created and again.id == photo.id and len(_files(folder)) == 2


def test_a_refused_upload_stores_nothing(session, product, tmp_path) -> None:
    folder = tmp_path / "photos"
    for data in (b"", b"<svg/>", png_bomb(), picture()[:300], picture() + b"\0" * MAX_PHOTO_BYTES):
        with pytest.raises(PhotoRefused):
            add_photo(session, product, data, folder)
    assert _files(folder) == []
    assert session.scalar(select(func.count()).select_from(ProductPhoto)) == 0


def test_a_product_shows_a_bounded_number_of_photos(session, product, tmp_path) -> None:
    for n in range(MAX_PHOTOS):
        add_photo(session, product, picture(colour=(n * 30, 10, 10)), tmp_path)
    with pytest.raises(TooManyPhotos):
        add_photo(session, product, picture(colour=(250, 250, 10)), tmp_path)


def test_removing_keeps_files_another_product_still_shows(session, product, tmp_path) -> None:
    other = find_product(session, "BANH-DA-SOI-VU-HOI")
    data = picture()
    mine, _ = add_photo(session, product, data, tmp_path)
    add_photo(session, other, data, tmp_path)
    with pytest.raises(PhotoNotFound):
        remove_photo(session, other, mine.id)  # not that product's photo
    digest = remove_photo(session, product, mine.id)
    discard_files(session, tmp_path, digest)
    assert len(_files(tmp_path)) == 2  # the other product still shows it
    (theirs,) = session.scalars(select(ProductPhoto)).all()
    remove_photo(session, other, theirs.id)
    discard_files(session, tmp_path, digest)
    assert _files(tmp_path) == []
