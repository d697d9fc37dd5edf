"""Farms, raw-material areas and plants in the console: scoped, audited, the importer's rules."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.models import Facility
from ocop.workflows.models import AuditEntry

from .conftest import World, post, sign_in

NEW = {
    "code": "NX-VUON-DAU",
    "kind": "farm",
    "name": "Vườn dâu tằm làng Nguyễn",
    "planting_area_code": "TB-DH-NX-DAU-01",
    "crop": "Dâu tằm",
    "area_ha": "2,5",  # Vietnamese: a comma marks decimals (trace/numbers.py)
    "latitude": "20.5520",
    "longitude": "106.3450",
    "address": "xóm Đông",
}


def snapshot(app: Flask) -> dict[str, Any]:
    """What a refused request must leave as it was."""
    with app.extensions["ocop.db"].transaction() as session:
        facilities = {
            f.code: (f.name, f.crop, f.area_ha, f.gln, f.latitude)
            for f in session.scalars(select(Facility))
        }
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
    return {"facilities": facilities, "audits": audits}


def audit_entries(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def stored(app: Flask, code: str) -> Facility | None:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalars(select(Facility).where(Facility.code == code)).one_or_none()


# --------------------------------------------------------------------------- the list


def test_producer_sees_its_own_areas(as_producer: FlaskClient) -> None:
    page = as_producer.get("/console/facilities")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "NX-VUNG-NEP" in html
    assert "TB-DH-NX-NEP-01" in html  # the planting-area code
    assert "Lúa nếp cái hoa vàng" in html
    assert "12.5" in html
    assert "geo:20.5506,106.3469" in html
    assert "VH-XUONG" not in html  # the household business's plant


def test_authority_sees_all_and_filters_by_owner(as_authority: FlaskClient, world: World) -> None:
    html = as_authority.get("/console/facilities").get_data(as_text=True)
    assert "NX-VUNG-NEP" in html and "VH-XUONG" in html and "QN-KHO-HN" in html
    only = as_authority.get(f"/console/facilities?org={world.other_producer_id}")
    html = only.get_data(as_text=True)
    assert "VH-XUONG" in html and "NX-VUNG-NEP" not in html
    assert "Thêm cơ sở" not in html  # an authority does not create a producer's facilities


def test_distributor_and_strangers_cannot_read(client: FlaskClient, world: World) -> None:
    assert client.get("/console/facilities").status_code == 302
    sign_in(client, world, "distributor")
    assert client.get("/console/facilities").status_code == 403
    assert client.get("/console/facilities/QN-KHO-HN").status_code == 403


# --------------------------------------------------------------------------- create


def test_create_a_facility(as_producer: FlaskClient, app: Flask, world: World) -> None:
    response = post(as_producer, "/console/facilities/new", NEW)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/console/facilities/NX-VUON-DAU")
    facility = stored(app, "NX-VUON-DAU")
    assert facility is not None
    assert facility.organisation_id == world.producer_id
    assert str(facility.area_ha.normalize()) == "2.5"
    assert facility.latitude == pytest.approx(20.552)
    [entry] = audit_entries(app, "facility.create")
    assert entry.target == "NX-VUON-DAU"
    assert entry.organisation_id == world.producer_id
    page = as_producer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vườn dâu tằm làng Nguyễn" in page


@pytest.mark.parametrize("code", ["NX-VUNG-NEP", "VH-XUONG"])
def test_a_code_in_use_is_refused(as_producer: FlaskClient, app: Flask, code: str) -> None:
    before = snapshot(app)
    response = post(as_producer, "/console/facilities/new", NEW | {"code": code, "name": "Khác"})
    assert response.status_code == 409
    assert "đã được dùng" in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"longitude": ""}, "latitude and longitude go together"),
        ({"area_ha": "-3"}, "must be greater than 0"),
        ({"area_ha": "12.5"}, "write 12,5"),
        ({"area_ha": "1,200"}, "could be read two ways"),
        ({"gln": "8936045100012"}, "check digit"),
        ({"code": "có dấu cách"}, "must not contain spaces"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_values_get_the_importers_word(
    as_producer: FlaskClient, app: Flask, change: dict[str, str], says: str
) -> None:
    before = snapshot(app)
    # In English, the importer's own words (the Vietnamese are checked in test_error_language).
    response = post(as_producer, "/console/facilities/new?lang=en", NEW | change)
    assert response.status_code == 400
    assert says in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_missing_csrf_token_writes_nothing(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    response = as_producer.post("/console/facilities/new", data=NEW)
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("who", ["authority", "distributor"])
def test_only_producers_create(client: FlaskClient, world: World, app: Flask, who: str) -> None:
    sign_in(client, world, who)
    before = snapshot(app)
    assert client.get("/console/facilities/new").status_code == 403
    assert post(client, "/console/facilities/new", NEW).status_code == 403
    assert post(client, "/console/facilities/NX-VUNG-NEP", {"name": "x"}).status_code == 403
    assert snapshot(app) == before


# --------------------------------------------------------------------------- detail and edit


def test_detail_shows_the_edit_form_to_its_owner(as_producer: FlaskClient) -> None:
    page = as_producer.get("/console/facilities/NX-VUNG-NEP")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="TB-DH-NX-NEP-01"' in html
    assert 'value="12,5"' in html  # as the rule for numbers reads it back
    assert "readonly" in html  # the GLN is set and cannot change


def test_another_organisations_facility_is_not_found(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    assert as_producer.get("/console/facilities/VH-XUONG").status_code == 404
    assert as_producer.get("/console/facilities/NO-SUCH").status_code == 404
    response = post(as_producer, "/console/facilities/VH-XUONG", {"name": "Của tôi"})
    assert response.status_code == 404
    assert snapshot(app) == before


def test_authority_reads_any_facility_without_a_form(as_authority: FlaskClient) -> None:
    page = as_authority.get("/console/facilities/VH-XUONG")
    assert page.status_code == 200
    assert "Sửa thông tin" not in page.get_data(as_text=True)


def _edit_values(client: FlaskClient, code: str) -> dict[str, str]:
    """The edit form's values, as the browser would send them back."""
    page = client.get(f"/console/facilities/{code}").get_data(as_text=True)
    form = page[page.index('<form method="post" class="card form"') :]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input [^>]*name="(\w+)"[^>]*value="([^"]*)"', form)
        if name != "csrf_token"
    }


def test_edit_changes_what_the_importer_lets_change(as_producer: FlaskClient, app: Flask) -> None:
    values = _edit_values(as_producer, "NX-VUNG-NEP") | {"crop": "Lúa nếp cái", "area_ha": "13"}
    response = post(as_producer, "/console/facilities/NX-VUNG-NEP", values)
    assert response.status_code == 302, response.get_data(as_text=True)
    facility = stored(app, "NX-VUNG-NEP")
    assert facility is not None
    assert facility.crop == "Lúa nếp cái"
    assert facility.area_ha == 13
    [entry] = audit_entries(app, "facility.update")
    assert entry.detail == {"changed": {"crop": "Lúa nếp cái", "area_ha": "13"}}
    # The same values again change nothing and log nothing.
    again = post(as_producer, "/console/facilities/NX-VUNG-NEP", values)
    assert again.status_code == 302
    assert "Không có gì thay đổi" in as_producer.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert len(audit_entries(app, "facility.update")) == 1


def test_edit_cannot_erase_or_change_a_gln(as_producer: FlaskClient, app: Flask) -> None:
    values = _edit_values(as_producer, "NX-VUNG-NEP")
    before = snapshot(app)
    erased = post(as_producer, "/console/facilities/NX-VUNG-NEP", values | {"crop": ""})
    assert erased.status_code == 400
    assert "Không xóa được" in erased.get_data(as_text=True)
    changed = post(
        as_producer, "/console/facilities/NX-VUNG-NEP", values | {"gln": "8936045100028"}
    )
    assert changed.status_code in (400, 409)
    assert snapshot(app) == before


def test_edit_without_csrf_token_writes_nothing(as_producer: FlaskClient, app: Flask) -> None:
    before = snapshot(app)
    values = _edit_values(as_producer, "NX-VUNG-NEP") | {"crop": "Khác"}
    assert as_producer.post("/console/facilities/NX-VUNG-NEP", data=values).status_code == 400
    assert snapshot(app) == before
