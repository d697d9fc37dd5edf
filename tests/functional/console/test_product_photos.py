"""Product photos from the console: the owner uploads and deletes, nobody else; every bad
upload is refused with its reason and stores nothing; the shopper's page shows the rest."""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from ocop.trace.models import ProductPhoto
from ocop.workflows.photos import MAX_PHOTO_BYTES

from ...unit.workflows.test_photos import GPS_IFD, gps_jpeg, picture, png_bomb
from .conftest import csrf, sign_in

MINE = "BANH-CAY-LANG-NGUYEN"
THEIRS = "BANH-DA-SOI-VU-HOI"


def _upload(client: FlaskClient, code: str, data: bytes, name: str = "photo.jpg",
            content_type: str = "image/jpeg", lang: str = "vi", token: str | None = None):
    body = {"photo": (io.BytesIO(data), name, content_type)}
    body["csrf_token"] = token if token is not None else csrf(client, f"/console/products/{MINE}")
    return client.post(
        f"/console/products/{code}/photos?lang={lang}", data=body,
        content_type="multipart/form-data",
    )


def _rows(app: Flask) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(ProductPhoto))


def _files(app: Flask) -> list[Path]:
    folder = app.config["OCOP"].photos
    return sorted(folder.glob("*")) if folder.exists() else []


def test_the_producer_uploads_a_photo_that_the_shopper_sees(
    app: Flask, as_producer: FlaskClient
) -> None:
    response = _upload(as_producer, MINE, gps_jpeg(), name="IMG_0001.JPG")
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert _rows(app) == 1
    files = _files(app)
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["320.webp", "960.webp"]
    for path in files:  # what is served has no position, no camera
        image = Image.open(path)
        assert not image.getexif().get_ifd(GPS_IFD) and b"Exif" not in path.read_bytes()
    console = as_producer.get(f"/console/products/{MINE}").get_data(as_text=True)
    assert files[0].name in console and "Xoá ảnh" in console
    # The shopper's product page shows it with both variants.
    public = app.test_client().get(f"/p/products/{MINE}").get_data(as_text=True)
    assert f"/photos/{files[0].name} 320w" in public and f"/photos/{files[1].name} 960w" in public
    assert 'loading="lazy"' in public and "sizes=" in public
    served = app.test_client().get(f"/photos/{files[1].name}")
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    assert served.cache_control.max_age == 365 * 86400
    assert served.data == files[1].read_bytes()


@pytest.mark.parametrize(
    ("data", "name", "vi", "en"),
    [
        (b"", "empty.jpg", "tệp trống", "the file is empty"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
         "photo.jpg", "không phải ảnh JPEG, PNG hay WebP", "not a JPEG, PNG or WebP picture"),
        (picture("GIF"), "photo.png", "không phải ảnh JPEG, PNG hay WebP",
         "not a JPEG, PNG or WebP picture"),
        (png_bomb(), "bomb.png", "nhiều hơn 24 megapixel", "more than 24 megapixels"),
        (picture("PNG")[:400], "cut.png", "bị hỏng hoặc không đầy đủ", "damaged or incomplete"),
        (picture() + b"\0" * MAX_PHOTO_BYTES, "huge.jpg", "tối đa 8 MB", "at most 8 MB"),
    ],
    ids=["zero-bytes", "svg", "gif", "png-bomb", "truncated", "too-big"],
)
def test_every_bad_upload_is_refused_with_its_reason_and_stores_nothing(
    app: Flask, as_producer: FlaskClient, data: bytes, name: str, vi: str, en: str
) -> None:
    for lang, words in (("vi", vi), ("en", en)):
        response = _upload(as_producer, MINE, data, name=name, lang=lang)
        assert response.status_code in (400, 413)
        page = response.get_data(as_text=True)
        field = re.search(r'<div class="field has-error">.*?</div>', page, re.S)
        assert field and words in field.group(0), page[-3000:]
    assert _rows(app) == 0 and _files(app) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    app: Flask, as_producer: FlaskClient
) -> None:
    response = _upload(as_producer, MINE, b"\xff\xd8\xff" + b"\0" * (3 * MAX_PHOTO_BYTES))
    assert response.status_code == 413
    assert "Ảnh quá lớn: tối đa 8 MB." in response.get_data(as_text=True)
    assert _rows(app) == 0 and _files(app) == []


def test_no_file_and_no_csrf_are_refused(app: Flask, as_producer: FlaskClient) -> None:
    token = csrf(as_producer, f"/console/products/{MINE}")
    empty = as_producer.post(f"/console/products/{MINE}/photos", data={"csrf_token": token})
    assert empty.status_code == 400 and "Chọn một ảnh để tải lên." in empty.get_data(as_text=True)
    forged = _upload(as_producer, MINE, picture(), token="forged")
    assert forged.status_code == 400
    assert _rows(app) == 0 and _files(app) == []


def test_only_the_owner_or_its_council_may_upload_or_delete(
    app: Flask, client: FlaskClient, world
) -> None:
    owner = sign_in(app.test_client(), world, "producer")
    assert _upload(owner, MINE, picture()).status_code == 302
    with app.extensions["ocop.db"].transaction() as session:
        photo_id = session.scalars(select(ProductPhoto.id)).one()
    other = sign_in(app.test_client(), world, "other_producer")
    token = csrf(other, f"/console/products/{THEIRS}")
    assert _upload(other, MINE, picture(colour=(9, 9, 9)), token=token).status_code == 404
    gone = other.post(f"/console/products/{MINE}/photos/{photo_id}/delete",
                      data={"csrf_token": token})
    assert gone.status_code == 404
    distributor = sign_in(app.test_client(), world, "distributor")
    token = csrf(distributor, "/console/")
    assert _upload(distributor, MINE, picture(), token=token).status_code == 403
    anonymous = client.post(f"/console/products/{MINE}/photos", data={})
    assert anonymous.status_code in (302, 400)
    assert _rows(app) == 1
    # Another product's photo id through this product's address: not found.
    token = csrf(owner, f"/console/products/{MINE}")
    assert owner.post(f"/console/products/{THEIRS}/photos/{photo_id}/delete",
                      data={"csrf_token": token}).status_code == 404
    # The council that governs the producer may delete it; the files go with the row.
    authority = sign_in(app.test_client(), world, "authority")
    token = csrf(authority, f"/console/products/{MINE}")
    deleted = authority.post(f"/console/products/{MINE}/photos/{photo_id}/delete",
                             data={"csrf_token": token})
    assert deleted.status_code == 302
    assert _rows(app) == 0 and _files(app) == []


def test_eight_uploads_of_one_photo_at_once_keep_one(app: Flask, world) -> None:
    clients = [sign_in(app.test_client(), world, "producer") for _ in range(8)]
    tokens = [csrf(c, f"/console/products/{MINE}") for c in clients]
    data = picture(colour=(10, 200, 10))
    barrier = threading.Barrier(len(clients))

    def send(n: int) -> int:
        barrier.wait()
        return _upload(clients[n], MINE, data, token=tokens[n]).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(send, range(len(clients))))
    assert statuses == [302] * len(clients)
    assert _rows(app) == 1 and len(_files(app)) == 2
