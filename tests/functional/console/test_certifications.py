"""Certifications: recorded and revoked by the authority, through the importer's rules."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.keys.models import IssuerKey
from ocop.stamps.errors import IssuanceRefused
from ocop.stamps.issuance import check_issuable
from ocop.trace.db import vietnam_today
from ocop.trace.models import Certification, CertStatus, Scheme
from ocop.trace.queries import find_lot
from ocop.workflows.models import AuditEntry

from .conftest import World, post, sign_in

TODAY = vietnam_today()

OCOP = {
    "scheme": "ocop",
    "number": "HY-OCOP-2026-0001",
    "product": "MAT-ONG-HUNG-HA",
    "stars": "4",
    "score": "81,5",
    "level": "province",
    "issuing_body": "UBND tỉnh Hưng Yên",
    "decision_number": "123/QĐ-UBND",
    "decision_date": TODAY.isoformat(),
    "legal_basis": "148/QĐ-TTg",
    "valid_from": TODAY.isoformat(),
}


def _certs(app: Flask) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(Certification)) or 0


def _cert(app: Flask, scheme: str, number: str) -> Certification | None:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalars(
            select(Certification).where(
                Certification.scheme == Scheme(scheme), Certification.number == number
            )
        ).one_or_none()


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _banh_cay(app: Flask) -> Certification:
    cert = _cert(app, "ocop", "TB-OCOP-2024-0152")
    assert cert is not None
    return cert


@pytest.mark.parametrize("who", ["producer", "distributor"])
def test_only_authorities_manage_certifications(
    client: FlaskClient, world: World, app: Flask, who: str
) -> None:
    sign_in(client, world, who)
    cert = _banh_cay(app)
    count = _certs(app)
    assert client.get("/console/certifications").status_code == 403
    assert client.get("/console/certifications/new").status_code == 403
    assert client.get(f"/console/certifications/{cert.id}").status_code == 403
    assert post(client, "/console/certifications/new", OCOP).status_code == 403
    revoke = post(client, f"/console/certifications/{cert.id}/revoke", {"status_reason": "x"})
    assert revoke.status_code == 403
    assert _certs(app) == count
    assert _banh_cay(app).status is CertStatus.VALID


def test_list_shows_scheme_number_holder_stars_validity_and_status(
    as_authority: FlaskClient,
) -> None:
    page = as_authority.get("/console/certifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "TB-OCOP-2024-0152" in html
    assert "VietGAP-TT-24-05-34-0027" in html
    assert "Vùng nguyên liệu nếp cái hoa vàng làng Nguyễn" in html
    assert "2024-09-20 – 2027-09-19" in html
    assert "còn hiệu lực" in html
    assert "HH-OCOP-2022-0031" in html
    assert "đã hết hạn" in html  # the honey's certificate ended in 2025
    ocop_only = as_authority.get("/console/certifications?scheme=ocop").get_data(as_text=True)
    assert "VietGAP-TT-24-05-34-0027" not in ocop_only
    assert as_authority.get("/console/certifications?scheme=bogus").status_code == 400


def test_record_an_ocop_certificate_valid_36_months_by_default(
    as_authority: FlaskClient, app: Flask
) -> None:
    form = as_authority.get("/console/certifications/new?product=MAT-ONG-HUNG-HA")
    assert 'value="MAT-ONG-HUNG-HA"' in form.get_data(as_text=True)
    response = post(as_authority, "/console/certifications/new", OCOP)
    assert response.status_code == 302, response.get_data(as_text=True)
    cert = _cert(app, "ocop", OCOP["number"])
    assert cert is not None
    assert response.headers["Location"].endswith(f"/console/certifications/{cert.id}")
    assert cert.stars == 4
    assert cert.valid_until > TODAY + dt.timedelta(days=3 * 365 - 5)
    [entry] = _audits(app, "certification.recorded")
    assert entry.target == f"certification ocop/{OCOP['number']}"
    # The product now shows the stars of its valid certificate.
    page = as_authority.get("/console/products/MAT-ONG-HUNG-HA").get_data(as_text=True)
    assert "OCOP 4 sao" in page


def test_double_submission_records_one_certificate(as_authority: FlaskClient, app: Flask) -> None:
    first = post(as_authority, "/console/certifications/new?lang=en", OCOP)
    count = _certs(app)
    second = post(as_authority, "/console/certifications/new?lang=en", OCOP)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _certs(app) == count
    assert len(_audits(app, "certification.recorded")) == 1
    other = post(
        as_authority, "/console/certifications/new?lang=en", {**OCOP, "stars": "5", "score": "92"}
    )
    assert other.status_code == 409
    assert "kept as issued" in other.get_data(as_text=True)
    cert = _cert(app, "ocop", OCOP["number"])
    assert cert is not None and cert.stars == 4


def test_an_unapproved_product_cannot_be_certified(app: Flask, world: World) -> None:
    producer = sign_in(app.test_client(), world, "producer")
    proposal = {"code": "CHE-LAM", "name": "Chè lam làng Nguyễn"}
    assert post(producer, "/console/products/new", proposal).status_code == 302
    authority = sign_in(app.test_client(), world, "authority")
    count = _certs(app)
    response = post(authority, "/console/certifications/new", {**OCOP, "product": "CHE-LAM"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="product-err"' in html
    assert "chưa được duyệt" in html  # the rule's error, in Vietnamese
    assert _certs(app) == count
    assert _audits(app, "certification.recorded") == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"stars": "2"}, "stars", "1 and 2 stars get no certificate"),
        ({"stars": "", "score": ""}, "stars", "needs its stars"),
        ({"score": "95"}, "score", "does not give 4 stars"),
        ({"product": "NO-SUCH-PRODUCT"}, "product", "unknown product"),
        ({"valid_until": "2020-01-01"}, "valid_until", "must end after it starts"),
        ({"valid_from": ""}, "valid_from", ""),
    ],
)
def test_bad_certificates_are_refused_on_their_field(
    as_authority: FlaskClient, app: Flask, change: dict[str, str], field: str, words: str
) -> None:
    count = _certs(app)
    response = post(as_authority, "/console/certifications/new?lang=en", {**OCOP, **change})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-err"' in html
    assert words in html
    assert _certs(app) == count


def test_record_a_vietgap_certificate_for_a_facility(as_authority: FlaskClient, app: Flask) -> None:
    data = {
        "scheme": "vietgap",
        "number": "VietGAP-TT-26-01-34-0100",
        "facility": "NX-VUON-GAC",
        "issuing_body": "Trung tâm Chứng nhận VietGAP",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=730)).isoformat(),
    }
    response = post(as_authority, "/console/certifications/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    cert = _cert(app, "vietgap", data["number"])
    assert cert is not None and cert.facility_id is not None and cert.stars is None


def test_record_without_csrf_token_is_refused(as_authority: FlaskClient, app: Flask) -> None:
    count = _certs(app)
    assert as_authority.post("/console/certifications/new", data=OCOP).status_code == 400
    assert _certs(app) == count


def test_revoke_needs_a_reason(as_authority: FlaskClient, app: Flask) -> None:
    cert = _banh_cay(app)
    response = post(as_authority, f"/console/certifications/{cert.id}/revoke?lang=en", {})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="status_reason-err"' in html
    assert "needs a status_reason" in html
    assert _banh_cay(app).status is CertStatus.VALID
    assert _audits(app, "certification.revoked") == []


def test_revoke_stops_new_stamps_and_is_audited(
    as_authority: FlaskClient, app: Flask, world: World
) -> None:
    cert = _banh_cay(app)
    reason = "Kiểm tra định kỳ: sản phẩm không còn đạt tiêu chí"
    response = post(
        as_authority, f"/console/certifications/{cert.id}/revoke", {"status_reason": reason}
    )
    assert response.status_code == 302
    revoked = _banh_cay(app)
    assert revoked.status is CertStatus.REVOKED
    assert revoked.status_reason == reason
    [entry] = _audits(app, "certification.revoked")
    assert entry.detail == {"reason": reason}
    page = as_authority.get(f"/console/certifications/{cert.id}").get_data(as_text=True)
    assert "đã bị thu hồi" in page
    with app.extensions["ocop.db"].transaction() as session:
        key = session.scalars(
            select(IssuerKey).where(IssuerKey.organisation_id == world.authority_id)
        ).first()
        assert key is not None
        with pytest.raises(IssuanceRefused, match="no valid OCOP certificate"):
            check_issuable(session, find_lot(session, "BC-2025-1025"), key, TODAY)
    # The same revocation again changes nothing; another reason is refused.
    again = post(
        as_authority, f"/console/certifications/{cert.id}/revoke", {"status_reason": reason}
    )
    assert again.status_code == 302
    other = post(
        as_authority, f"/console/certifications/{cert.id}/revoke", {"status_reason": "khác"}
    )
    assert other.status_code == 409
    assert _banh_cay(app).status_reason == reason
    assert len(_audits(app, "certification.revoked")) == 1


def test_revoke_without_csrf_token_or_of_an_unknown_certificate(
    as_authority: FlaskClient, app: Flask
) -> None:
    cert = _banh_cay(app)
    no_token = as_authority.post(
        f"/console/certifications/{cert.id}/revoke", data={"status_reason": "x"}
    )
    assert no_token.status_code == 400
    assert _banh_cay(app).status is CertStatus.VALID
    assert as_authority.get("/console/certifications/987654").status_code == 404
    unknown = post(as_authority, "/console/certifications/987654/revoke", {"status_reason": "x"})
    assert unknown.status_code == 404
