"""Products: producers propose their own, authorities register and approve them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.models import Product
from ocop.workflows.models import AuditEntry

from .conftest import World, post, sign_in

MINE = "BANH-CAY-LANG-NGUYEN"  # the producer's (the sample cooperative's)
THEIRS = "BANH-DA-SOI-VU-HOI"  # the other producer's (the sample household business)

PROPOSAL = {
    "code": "CHE-LAM-NGUYEN",
    "name": "Chè lam làng Nguyễn",
    "short_name": "Chè lam",
    "description": "Chè lam nếp cái hoa vàng, gừng và mật mía.",
    "gtin": "8936045120033",
    "sector": "Thực phẩm",
    "group": "Thực phẩm chế biến",
    "product_set": "Bánh, mứt, kẹo",
    "taxonomy_basis": "148/QĐ-TTg",
}


def _products(app: Flask) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(Product)) or 0


def _product(app: Flask, code: str) -> Product | None:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalars(select(Product).where(Product.code == code)).one_or_none()


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_producer_sees_only_its_own_products(as_producer: FlaskClient) -> None:
    page = as_producer.get("/console/products")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" in html
    assert "08936045120019" in html  # its GTIN
    assert "★★★★" in html  # the 4 stars of its valid certificate
    assert "Bánh đa sợi Vũ Hội" not in html
    assert "Mật ong hoa nhãn Hưng Hà" not in html


def test_authority_sees_every_product_and_can_filter_pending(as_authority: FlaskClient) -> None:
    html = as_authority.get("/console/products").get_data(as_text=True)
    for name in ("Bánh cáy làng Nguyễn", "Bánh đa sợi Vũ Hội", "Mật ong hoa nhãn Hưng Hà"):
        assert name in html
    pending = as_authority.get("/console/products?state=pending").get_data(as_text=True)
    assert "Bánh cáy làng Nguyễn" not in pending
    assert as_authority.get("/console/products?state=whatever").status_code == 400


def test_producer_cannot_reach_another_producers_product(
    as_producer: FlaskClient, app: Flask
) -> None:
    assert as_producer.get(f"/console/products/{THEIRS}").status_code == 404
    assert as_producer.get("/console/products/NO-SUCH-CODE").status_code == 404
    before = _product(app, THEIRS)
    assert before is not None
    edit = post(as_producer, f"/console/products/{THEIRS}", {"name": "Bánh đa của tôi"})
    assert edit.status_code == 404
    after = _product(app, THEIRS)
    assert after is not None and after.name == before.name
    # Approving is an authority's job, whoever's product it is.
    assert post(as_producer, f"/console/products/{MINE}/approve").status_code == 403
    assert post(as_producer, f"/console/products/{THEIRS}/approve").status_code == 403


def test_distributor_has_no_products_page(as_distributor: FlaskClient) -> None:
    assert as_distributor.get("/console/products").status_code == 403
    assert as_distributor.get("/console/products/new").status_code == 403
    assert as_distributor.get(f"/console/products/{MINE}").status_code == 403


def test_producer_proposes_a_product_that_waits_for_approval(
    as_producer: FlaskClient, app: Flask, world: World
) -> None:
    form = as_producer.get("/console/products/new").get_data(as_text=True)
    assert 'name="producer"' not in form  # its own organisation, nobody else's
    response = post(as_producer, "/console/products/new", PROPOSAL)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/console/products/{PROPOSAL['code']}")
    product = _product(app, PROPOSAL["code"])
    assert product is not None
    assert product.producer_id == world.producer_id
    assert product.approved is False
    assert product.gtin == "08936045120033"
    [entry] = _audits(app, "product.proposed")
    assert entry.target == f"product {PROPOSAL['code']}"
    page = as_producer.get(response.headers["Location"]).get_data(as_text=True)
    assert "chờ duyệt" in page


def test_double_submission_of_a_proposal_creates_one_product(
    as_producer: FlaskClient, app: Flask
) -> None:
    first = post(as_producer, "/console/products/new", PROPOSAL)
    count = _products(app)
    second = post(as_producer, "/console/products/new", PROPOSAL)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _products(app) == count
    assert len(_audits(app, "product.proposed")) == 1
    different = post(as_producer, "/console/products/new", {**PROPOSAL, "name": "Chè lam khác"})
    assert different.status_code == 409
    product = _product(app, PROPOSAL["code"])
    assert product is not None and product.name == PROPOSAL["name"]


def test_a_code_taken_by_another_producer_is_refused_without_naming_it(
    as_producer: FlaskClient, app: Flask
) -> None:
    response = post(as_producer, "/console/products/new", {**PROPOSAL, "code": THEIRS})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "đã có người dùng" in html  # "already taken"
    assert "1002234561" not in html
    product = _product(app, THEIRS)
    assert product is not None and product.name == "Bánh đa sợi Vũ Hội"


def test_bad_gtin_check_digit_is_shown_on_the_gtin_field(
    as_producer: FlaskClient, app: Flask
) -> None:
    count = _products(app)
    response = post(as_producer, "/console/products/new", {**PROPOSAL, "gtin": "8936045120034"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="gtin-err"' in html
    assert "có số kiểm tra là" in html  # "has check digit"
    assert _products(app) == count
    assert _audits(app, "product.proposed") == []


def test_short_name_longer_than_a_label_is_refused(as_producer: FlaskClient, app: Flask) -> None:
    response = post(as_producer, "/console/products/new", {**PROPOSAL, "short_name": "x" * 61})
    assert response.status_code == 400
    assert 'id="short_name-err"' in response.get_data(as_text=True)
    assert _product(app, PROPOSAL["code"]) is None


def test_proposal_without_csrf_token_is_refused(as_producer: FlaskClient, app: Flask) -> None:
    count = _products(app)
    assert as_producer.post("/console/products/new", data=PROPOSAL).status_code == 400
    assert _products(app) == count


def test_authority_registers_an_approved_product_for_a_producer(
    as_authority: FlaskClient, app: Flask, world: World
) -> None:
    form = as_authority.get("/console/products/new").get_data(as_text=True)
    assert 'name="producer"' in form
    data = {**PROPOSAL, "producer": str(world.other_producer_id)}
    response = post(as_authority, "/console/products/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    product = _product(app, PROPOSAL["code"])
    assert product is not None
    assert product.producer_id == world.other_producer_id
    assert product.approved is True
    assert len(_audits(app, "product.registered")) == 1


def test_authority_needs_an_existing_producer(
    as_authority: FlaskClient, app: Flask, world: World
) -> None:
    count = _products(app)
    url = "/console/products/new?lang=en"
    unknown = post(as_authority, url, {**PROPOSAL, "producer": "987654"})
    assert unknown.status_code == 404
    missing = post(as_authority, "/console/products/new?lang=en", PROPOSAL)
    assert missing.status_code == 400
    distributor = post(as_authority, url, {**PROPOSAL, "producer": str(world.distributor_id)})
    assert distributor.status_code == 400
    assert "products are made by" in distributor.get_data(as_text=True)
    assert _products(app) == count


def test_authority_approves_a_proposal_once(app: Flask, world: World) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    post(producer, "/console/products/new", PROPOSAL)
    authority = sign_in(app.test_client(), world, "authority")
    page = authority.get(f"/console/products/{PROPOSAL['code']}").get_data(as_text=True)
    assert "Duyệt sản phẩm" in page
    response = post(authority, f"/console/products/{PROPOSAL['code']}/approve")
    assert response.status_code == 302
    product = _product(app, PROPOSAL["code"])
    assert product is not None and product.approved is True
    again = post(authority, f"/console/products/{PROPOSAL['code']}/approve")
    assert again.status_code == 302
    [entry] = _audits(app, "product.approved")
    assert entry.target == f"product {PROPOSAL['code']}"
    # Sending the proposal again does not take the approval back.
    post(producer, "/console/products/new", PROPOSAL)
    product = _product(app, PROPOSAL["code"])
    assert product is not None and product.approved is True
    assert post(authority, "/console/products/NO-SUCH-CODE/approve").status_code == 404


def test_approve_without_csrf_token_is_refused(app: Flask, world: World) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    post(producer, "/console/products/new", PROPOSAL)
    authority = sign_in(app.test_client(), world, "authority")
    assert authority.post(f"/console/products/{PROPOSAL['code']}/approve").status_code == 400
    product = _product(app, PROPOSAL["code"])
    assert product is not None and product.approved is False
    assert _audits(app, "product.approved") == []


def test_producer_edits_its_own_product(as_producer: FlaskClient, app: Flask) -> None:
    page = as_producer.get(f"/console/products/{MINE}")
    assert page.status_code == 200
    assert "TB-OCOP-2024-0152" in page.get_data(as_text=True)  # its certificates
    response = post(
        as_producer,
        f"/console/products/{MINE}",
        {"name": "Bánh cáy làng Nguyễn", "short_name": "Bánh cáy Nguyễn", "sector": "Thực phẩm"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    product = _product(app, MINE)
    assert product is not None
    assert product.short_name == "Bánh cáy Nguyễn"
    assert product.gtin == "08936045120019"  # left empty: kept
    # The label name changed: what the council approved is no longer what prints.
    assert product.approved is False
    [entry] = _audits(app, "product.updated")
    assert entry.detail == {"updated": {"products": 1}}


def test_producer_changing_only_the_description_keeps_the_approval(
    as_producer: FlaskClient, app: Flask
) -> None:
    product = _product(app, MINE)
    assert product is not None
    response = post(
        as_producer,
        f"/console/products/{MINE}",
        {"name": product.name, "short_name": product.short_name or "", "description": "Mới."},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    changed = _product(app, MINE)
    assert changed is not None and changed.description == "Mới." and changed.approved


def test_control_characters_in_a_form_are_refused(as_producer: FlaskClient, app: Flask) -> None:
    before = _products(app)
    response = post(as_producer, "/console/products/new", {**PROPOSAL, "name": "Chè\x00lam"})
    assert response.status_code == 400
    assert _products(app) == before


def test_codes_with_control_characters_or_huge_ids_name_nothing(
    as_authority: FlaskClient,
) -> None:
    for url in (
        "/console/products/a%00b",
        "/console/facilities/a%00b",
        "/console/organisations/99999999999999999999",
        "/console/certifications/99999999999999999999",
    ):
        assert as_authority.get(url).status_code == 404, url
    for url in (
        "/console/events?before=99999999999999999999",
        "/console/facilities?org=99999999999999999999",
        "/console/analytics?lot=a%00b",
    ):
        assert as_authority.get(url).status_code == 400, url
    assert as_authority.get("/console/analytics?_method=POST").status_code == 200


def test_a_gtin_is_added_but_never_changed(as_producer: FlaskClient, app: Flask) -> None:
    response = post(
        as_producer,
        f"/console/products/{MINE}",
        {"name": "Bánh cáy làng Nguyễn", "gtin": "8936045120033", "short_name": "Khác"},
    )
    assert response.status_code == 409
    assert 'id="gtin-err"' in response.get_data(as_text=True)
    product = _product(app, MINE)
    assert product is not None
    assert product.gtin == "08936045120019"
    assert product.short_name != "Khác"  # all or nothing
    assert _audits(app, "product.updated") == []


def test_any_page_number_gets_a_page(as_authority: FlaskClient) -> None:
    for page in ("0", "-3", "abc", "99999999999999999999999"):
        assert as_authority.get(f"/console/products?page={page}").status_code == 200
