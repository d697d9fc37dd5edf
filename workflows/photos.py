"""Product photos: an upload checked to the byte, cleaned, resized, and stored by its hash.

A producer's upload is untrusted bytes. Before any pixel is decoded it must be
small enough (:data:`MAX_PHOTO_BYTES`), start like a JPEG, PNG or WebP (the
bytes decide, never the file name or the browser's content type), and declare
no more than :data:`MAX_PHOTO_PIXELS` in its header, so a decompression bomb
(a small PNG that inflates to gigabytes) is refused from its header. What
decodes to the end is turned upright by its EXIF orientation, converted to
sRGB, and re-encoded from pixels alone as WebP variants (:data:`VARIANTS`):
the EXIF block (a phone's GPS position, its serial number), XMP, comments and
anything appended to the file (a polyglot) never reach a shopper. The files
are named by the SHA-256 of the upload, so they never change and may be
cached for good; a database row says which product shows them.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocop.trace.models import Product, ProductPhoto

from .errors import (
    PhotoDamaged,
    PhotoEmpty,
    PhotoNotAnImage,
    PhotoNotFound,
    PhotoTooBig,
    PhotoTooManyPixels,
    TooManyPhotos,
)

MAX_PHOTO_BYTES = 8 * 1024 * 1024  # a phone's full-size JPEG
# 24 megapixels (6000 x 4000): any phone's default photo. Decoded, the worst
# case (a PNG with alpha) takes about 100 MB for a moment.
MAX_PHOTO_PIXELS = 24_000_000
MAX_SIDE = 12_000  # a panorama, not a 1 x 24,000,000 strip
MAX_PHOTOS = 8  # per product: the page shows them all
# (name, width): the phone's list picks "small", a wide screen "large".
VARIANTS = (("small", 320), ("large", 960))
QUALITY = 80

_FORMATS = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"WEBP", 8, "WEBP"),  # after "RIFF" and the length
)
# What a damaged picture raises somewhere inside Pillow's decoders.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError)


@dataclass(frozen=True, slots=True)
class Variant:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    digest: str
    small: Variant
    large: Variant


def photo_file(digest: str, variant: str) -> str:
    """The file name of a photo's variant ("small" or "large")."""
    width = dict(VARIANTS)[variant]
    return f"{digest}-{width}.webp"


def sniff(data: bytes) -> str | None:
    """The picture format the bytes themselves declare: JPEG, PNG, WEBP, or None."""
    for magic, offset, name in _FORMATS:
        if data[offset : offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    return None


def prepare_photo(data: bytes) -> PreparedPhoto:
    """Check ``data`` and make its variants; raises a :class:`PhotoRefused` with the reason."""
    if not data:
        raise PhotoEmpty("the file is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooBig(
            "the file has %(size)s bytes; a photo may have at most %(max)s MB",
            size=len(data), max=MAX_PHOTO_BYTES // 2**20,
        )  # fmt: skip
    kind = sniff(data)
    if kind is None:
        raise PhotoNotAnImage("not a JPEG, PNG or WebP picture")
    image = _open(data, kind)
    try:
        image = _upright_srgb(image)
    except _DECODE_ERRORS:
        raise PhotoDamaged("the picture is damaged or incomplete and cannot be read") from None
    small, large = (_variant(image, width) for _name, width in VARIANTS)
    return PreparedPhoto(hashlib.sha256(data).hexdigest(), small, large)


def _open(data: bytes, kind: str) -> Image.Image:
    """The picture, decoded only once its header's size is within the limits."""
    Image.init()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoTooManyPixels(
            "the picture declares more than %(mp)s megapixels", mp=MAX_PHOTO_PIXELS // 10**6
        ) from None
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        raise PhotoDamaged("the picture is damaged or incomplete and cannot be read") from None
    if width * height > MAX_PHOTO_PIXELS or max(width, height) > MAX_SIDE or not width * height:
        raise PhotoTooManyPixels(
            "the picture is %(w)s x %(h)s pixels; a photo may have at most %(mp)s megapixels",
            w=width, h=height, mp=MAX_PHOTO_PIXELS // 10**6,
        )  # fmt: skip
    if kind == "JPEG":
        # Decode at a fraction of the size for free when the variants need no more.
        image.draft("RGB", (VARIANTS[-1][1], VARIANTS[-1][1]))
    try:
        image.load()
    except _DECODE_ERRORS:
        raise PhotoDamaged("the picture is damaged or incomplete and cannot be read") from None
    return image


def _upright_srgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    pixels = upright.convert("RGBA" if alpha else "RGB")
    if icc:
        # A phone's Display P3 photo looks washed out when its profile is dropped.
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                pixels, source, ImageCms.createProfile("sRGB"), outputMode=pixels.mode
            )
            if converted is not None:
                pixels = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the pixels as they are
    # Only pixels go on: no EXIF, XMP, ICC or comment of the upload is written again.
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    return clean


def _variant(image: Image.Image, width: int) -> Variant:
    # Never enlarged; a tall picture is bounded by twice the width, too.
    scale = min(1.0, width / image.width, 2 * width / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    resized.save(out, "WEBP", quality=QUALITY, method=4)
    return Variant(size[0], size[1], out.getvalue())


def _write(folder: Path, name: str, data: bytes) -> None:
    target = folder / name
    if target.exists():
        return  # the same upload made it before: same name, same bytes
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_photo(
    session: Session, product: Product, data: bytes, folder: Path
) -> tuple[ProductPhoto, bool]:
    """Keep ``data`` as a photo of ``product``: (the row, whether it is new).

    Every check runs before anything is written; a photo the product shows
    already is not added twice.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = _photo_of(session, product, digest)
    if existing is not None:
        return existing, False
    count = session.scalar(
        select(func.count()).select_from(ProductPhoto).where(ProductPhoto.product_id == product.id)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise TooManyPhotos(
            "a product may show at most %(max)s photos; delete one first", max=MAX_PHOTOS
        )
    prepared = prepare_photo(data)
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    for name, variant in (("small", prepared.small), ("large", prepared.large)):
        _write(folder, photo_file(digest, name), variant.data)
    photo = ProductPhoto(
        product_id=product.id,
        digest=digest,
        small_width=prepared.small.width,
        small_height=prepared.small.height,
        large_width=prepared.large.width,
        large_height=prepared.large.height,
    )
    try:
        with session.begin_nested():
            session.add(photo)
    except IntegrityError:
        # The same photo sent twice at once (a double click): the first one is kept.
        existing = _photo_of(session, product, digest)
        if existing is None:
            raise
        return existing, False
    return photo, True


def _photo_of(session: Session, product: Product, digest: str) -> ProductPhoto | None:
    return session.scalars(
        select(ProductPhoto).where(
            ProductPhoto.product_id == product.id, ProductPhoto.digest == digest
        )
    ).one_or_none()


def remove_photo(session: Session, product: Product, photo_id: int) -> str:
    """Stop showing a photo of ``product``; returns its digest for :func:`discard_files`."""
    photo = session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product.id:
        raise PhotoNotFound("this product has no photo %(id)s", id=photo_id)
    digest = photo.digest
    session.delete(photo)
    session.flush()
    return digest


def discard_files(session: Session, folder: Path, digest: str) -> None:
    """Delete a photo's files once no product shows it (after the removal is committed)."""
    used = session.scalar(select(func.count()).where(ProductPhoto.digest == digest))
    if used:
        return
    for name, _width in VARIANTS:
        (folder / photo_file(digest, name)).unlink(missing_ok=True)


__all__ = [
    "MAX_PHOTOS",
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "VARIANTS",
    "PreparedPhoto",
    "add_photo",
    "discard_files",
    "photo_file",
    "prepare_photo",
    "remove_photo",
    "sniff",
]
