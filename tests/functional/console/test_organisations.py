"""Organisations: the authority registers them, edits contacts and appends addresses."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.models import Address, Organisation
from ocop.trace.queries import find_organisation
from ocop.workflows.models import AuditEntry

from .conftest import World, csrf, post, sign_in

NEW = {
    "kind": "cooperative",
    "tax_code": "1009988776",
    "name": "Hợp tác xã Gạo tám Hải Hậu",
    "short_name": "HTX Gạo tám",
    "phone": "0228 3877 123",
    "email": "htx@gaotam.vn",
    "street": "Thôn Đông",
    "commune": "xã Hải Đông",
    "province": "tỉnh Nam Định",
    "effective_from": "2024-03-01",
}


def _count(app: Flask, what) -> int:  # type: ignore[no-untyped-def]
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(what)) or 0


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _org(app: Flask, tax_code: str) -> Organisation:
    with app.extensions["ocop.db"].transaction() as session:
        org = find_organisation(session, tax_code)
        org.addresses  # noqa: B018  (loaded while the session is open)
        return org


def test_list_shows_organisations_with_kind_address_and_products(
    as_authority: FlaskClient,
) -> None:
    page = as_authority.get("/console/organisations")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hợp tác xã Bánh cáy làng Nguyễn" in html
    assert "1001187342" in html
    assert "làng Nguyễn, xã Đông Hưng, tỉnh Hưng Yên" in html  # the current address


def test_list_filters_by_kind_and_refuses_an_unknown_kind(as_authority: FlaskClient) -> None:
    html = as_authority.get("/console/organisations?kind=household_business").get_data(as_text=True)
    assert "Hộ kinh doanh Phạm Văn Hòa" in html
    assert "Hợp tác xã Bánh cáy làng Nguyễn" not in html
    assert as_authority.get("/console/organisations?kind=pirate").status_code == 400


@pytest.mark.parametrize("who", ["producer", "distributor"])
def test_only_authorities_reach_organisations(
    client: FlaskClient, world: World, app: Flask, who: str
) -> None:
    sign_in(client, world, who)
    before = _count(app, Organisation)
    assert client.get("/console/organisations").status_code == 403
    assert client.get(f"/console/organisations/{world.producer_id}").status_code == 403
    assert client.get("/console/organisations/new").status_code == 403
    assert post(client, "/console/organisations/new", NEW).status_code == 403
    changed = post(client, f"/console/organisations/{world.producer_id}", {"phone": "1"})
    assert changed.status_code == 403
    assert _count(app, Organisation) == before


def test_register_an_organisation_with_its_address(as_authority: FlaskClient, app: Flask) -> None:
    response = post(as_authority, "/console/organisations/new", NEW)
    assert response.status_code == 302, response.get_data(as_text=True)
    org = _org(app, NEW["tax_code"])
    assert response.headers["Location"].endswith(f"/console/organisations/{org.id}")
    assert org.kind == "cooperative"
    assert org.phone == NEW["phone"]
    assert [(a.province, a.effective_from) for a in org.addresses] == [
        ("tỉnh Nam Định", dt.date(2024, 3, 1))
    ]
    [entry] = _audits(app, "organisation.registered")
    assert entry.target == f"organisation {NEW['tax_code']}"
    page = as_authority.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hợp tác xã Gạo tám Hải Hậu" in page
    assert "xã Hải Đông" in page


def test_double_submission_creates_one_organisation(as_authority: FlaskClient, app: Flask) -> None:
    first = post(as_authority, "/console/organisations/new", NEW)
    orgs, addresses = _count(app, Organisation), _count(app, Address)
    second = post(as_authority, "/console/organisations/new", NEW)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert (_count(app, Organisation), _count(app, Address)) == (orgs, addresses)
    assert len(_audits(app, "organisation.registered")) == 1
    html = as_authority.get(second.headers["Location"]).get_data(as_text=True)
    assert "đã được đăng ký trước đó" in html


def test_a_new_form_for_a_recorded_tax_code_does_not_edit_it(
    as_authority: FlaskClient, app: Flask
) -> None:
    post(as_authority, "/console/organisations/new", NEW)
    response = post(as_authority, "/console/organisations/new", {**NEW, "phone": "0900 000 000"})
    assert response.status_code == 409
    assert "đã được ghi nhận" in response.get_data(as_text=True)
    assert _org(app, NEW["tax_code"]).phone == NEW["phone"]


def test_register_needs_a_province_and_writes_nothing_without(
    as_authority: FlaskClient, app: Flask
) -> None:
    before = _count(app, Organisation)
    response = post(as_authority, "/console/organisations/new", {**NEW, "province": ""})
    assert response.status_code == 400
    assert 'id="province-err"' in response.get_data(as_text=True)
    assert _count(app, Organisation) == before


def test_register_refuses_a_bad_tax_code_on_its_field(
    as_authority: FlaskClient, app: Flask
) -> None:
    before = _count(app, Organisation)
    response = post(
        as_authority, "/console/organisations/new?lang=en", {**NEW, "tax_code": "10 99"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="tax_code-err"' in html
    assert "must not contain spaces" in html
    assert "$.organisations" not in html  # people never read JSON paths
    assert _count(app, Organisation) == before


def test_register_without_csrf_token_is_refused(as_authority: FlaskClient, app: Flask) -> None:
    before = _count(app, Organisation)
    assert as_authority.post("/console/organisations/new", data=NEW).status_code == 400
    assert _count(app, Organisation) == before
    assert _audits(app, "organisation.registered") == []


def test_detail_shows_addresses_products_and_users(as_authority: FlaskClient, world: World) -> None:
    page = as_authority.get(f"/console/organisations/{world.producer_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" in html
    assert "Tài khoản trên bàn làm việc" in html
    assert as_authority.get("/console/organisations/987654").status_code == 404
    assert post(as_authority, "/console/organisations/987654", {"name": "x"}).status_code == 404


def _edit(org: Organisation, **changes: str) -> dict[str, str]:
    return {"kind": org.kind.value, "name": org.name, **changes}


def test_edit_contact_fields_and_append_a_later_address(
    as_authority: FlaskClient, world: World, app: Flask
) -> None:
    org = _org(app, "1001187342")
    newest = org.addresses[-1].effective_from
    later = (newest + dt.timedelta(days=30)).isoformat()
    response = post(
        as_authority,
        f"/console/organisations/{org.id}",
        _edit(org, phone="0227 1234 567", commune="xã Nguyên Xá", province="tỉnh Hưng Yên",
              effective_from=later),
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    changed = _org(app, "1001187342")
    assert changed.phone == "0227 1234 567"
    assert len(changed.addresses) == len(org.addresses) + 1
    assert changed.addresses[0].province == org.addresses[0].province  # the old one is kept
    assert changed.addresses[-1].province == "tỉnh Hưng Yên"
    [entry] = _audits(app, "organisation.updated")
    assert entry.detail == {"created": {"addresses": 1}, "updated": {"organisations": 1}}


def test_edit_that_changes_nothing_writes_no_audit_entry(
    as_authority: FlaskClient, app: Flask
) -> None:
    org = _org(app, "1001187342")
    response = post(as_authority, f"/console/organisations/{org.id}", _edit(org))
    assert response.status_code == 302
    assert _audits(app, "organisation.updated") == []


def test_an_address_dated_before_the_newest_is_refused(
    as_authority: FlaskClient, app: Flask
) -> None:
    org = _org(app, "1001187342")
    response = post(
        as_authority,
        f"/console/organisations/{org.id}?lang=en",
        _edit(org, phone="0999", province="tỉnh Hưng Yên", effective_from="2000-01-01"),
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'id="effective_from-err"' in html
    assert "only ever extended" in html
    after = _org(app, "1001187342")
    assert len(after.addresses) == len(org.addresses)
    assert after.phone == org.phone  # all or nothing


def test_name_and_kind_changes_are_refused_with_the_importers_message(
    as_authority: FlaskClient, app: Flask
) -> None:
    org = _org(app, "1001187342")
    url = f"/console/organisations/{org.id}?lang=en"
    renamed = post(as_authority, url, _edit(org, name="Khác"))
    assert renamed.status_code == 409
    assert "a tax code keeps its name" in renamed.get_data(as_text=True)
    rekinded = post(as_authority, url, {**_edit(org), "kind": "enterprise"})
    assert rekinded.status_code == 409
    assert 'id="kind-err"' in rekinded.get_data(as_text=True)
    assert _org(app, "1001187342").name == org.name
    assert _audits(app, "organisation.updated") == []


def test_edit_without_csrf_token_is_refused(as_authority: FlaskClient, app: Flask) -> None:
    org = _org(app, "1001187342")
    response = as_authority.post(f"/console/organisations/{org.id}", data=_edit(org, phone="0111"))
    assert response.status_code == 400
    assert _org(app, "1001187342").phone == org.phone
    csrf(as_authority)  # the session still works
