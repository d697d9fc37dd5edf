"""Registered trademarks and standards of a product, kept in the console."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.models import AppliedStandard, Trademark

from .conftest import post

MINE = "BANH-CAY-LANG-NGUYEN"
THEIRS = "BANH-DA-SOI-VU-HOI"
MARK = {
    "mark": "Làng Nguyễn",
    "number": "4-0400001-000",
    "owner": "HTX Bánh cáy làng Nguyễn",
    "filed_on": "2023-01-05",
    "granted_on": "2024-02-01",
    "classes": "30",
}


def _count(app: Flask, model) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_producer_records_a_trademark_and_sees_it(as_producer: FlaskClient, app: Flask) -> None:
    before = _count(app, Trademark)
    response = post(as_producer, f"/console/products/{MINE}/trademarks", MARK)
    assert response.status_code == 302
    assert _count(app, Trademark) == before + 1
    page = as_producer.get(f"/console/products/{MINE}").get_data(as_text=True)
    assert "4-0400001-000" in page and "Cục Sở hữu trí tuệ" in page
    again = post(as_producer, f"/console/products/{MINE}/trademarks", MARK)
    assert again.status_code == 302 and _count(app, Trademark) == before + 1


@pytest.mark.parametrize(
    "change",
    [
        {"granted_on": "2022-01-01"},  # granted before it was filed
        {"number": ""},
        {"owner": ""},
        {"filed_on": "yesterday"},
        {"number": "9" * 41},
    ],
)
def test_a_bad_trademark_is_refused_and_changes_nothing(
    as_producer: FlaskClient, app: Flask, change: dict
) -> None:
    before = _count(app, Trademark)
    response = post(as_producer, f"/console/products/{MINE}/trademarks", {**MARK, **change})
    assert response.status_code == 400
    assert _count(app, Trademark) == before


def test_producer_records_a_standard(as_producer: FlaskClient, app: Flask) -> None:
    before = _count(app, AppliedStandard)
    data = {"kind": "tcvn", "code": "TCVN 12345:2020", "title": "Bánh"}
    assert post(as_producer, f"/console/products/{MINE}/standards", data).status_code == 302
    assert _count(app, AppliedStandard) == before + 1
    bad = post(as_producer, f"/console/products/{MINE}/standards", {**data, "kind": "nope"})
    assert bad.status_code == 400 and _count(app, AppliedStandard) == before + 1


def test_not_for_someone_elses_product_nor_a_distributor(
    as_producer: FlaskClient, app: Flask
) -> None:
    before = _count(app, Trademark)
    theirs = post(as_producer, f"/console/products/{THEIRS}/trademarks", MARK)
    assert theirs.status_code == 404
    assert _count(app, Trademark) == before


def test_distributor_may_not(as_distributor: FlaskClient) -> None:
    response = post(as_distributor, f"/console/products/{MINE}/trademarks", MARK)
    assert response.status_code in (403, 404)
