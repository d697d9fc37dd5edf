"""Council scope (issue 14): a provincial council acts on what its province holds,
a central office on everything, and an officer of another province on nothing.

The world's council (Thái Bình's, which the sample's producers name) is put under
a central office here, beside a second provincial council Y that governs a
producer of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.trace.models import Certification, Lot, Organisation, OrgKind, Product, Recall
from ocop.trace.queries import find_lot
from ocop.workflows.access import Actor
from ocop.workflows.accounts import create_user
from ocop.workflows.errors import OutOfScope
from ocop.workflows.models import RequestStatus, Role, StampRequest, User
from ocop.workflows.stamp_requests import approve_request, submit_request

from .conftest import PASSWORD, World, csrf, post

LOT = "BC-2026-1115"  # the cooperative's stampable lot


@dataclass
class Councils:
    central_id: int
    other_id: int  # council Y, another province
    y_producer_id: int
    emails: dict[str, str]


@pytest.fixture
def councils(app: Flask, world: World) -> Councils:
    with app.extensions["ocop.db"].transaction() as session:
        central = Organisation(kind=OrgKind.AUTHORITY, name="Văn phòng OCOP Trung ương",
                               tax_code="CENTRAL-1")  # fmt: skip
        session.add(central)
        session.flush()
        session.get_one(Organisation, world.authority_id).council_id = central.id
        other = Organisation(kind=OrgKind.AUTHORITY, name="Hội đồng OCOP tỉnh Y",
                             tax_code="COUNCIL-Y", council_id=central.id)  # fmt: skip
        session.add(other)
        session.flush()
        y_producer = Organisation(kind=OrgKind.COOPERATIVE, name="HTX tỉnh Y",
                                  tax_code="Y-COOP-1", council_id=other.id)  # fmt: skip
        session.add(y_producer)
        session.flush()
        emails = {}
        for name, org in (("central", central), ("other_council", other)):
            user, _ = create_user(session, f"{name}@test.vn", org, Role.AUTHORITY,
                                  password=PASSWORD)  # fmt: skip
            emails[name] = user.email
        return Councils(central.id, other.id, y_producer.id, emails)


def _sign_in(client: FlaskClient, email: str) -> FlaskClient:
    token = csrf(client, "/console/signin")
    response = client.post(
        "/console/signin", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def as_other_council(app: Flask, councils: Councils) -> FlaskClient:
    return _sign_in(app.test_client(), councils.emails["other_council"])


@pytest.fixture
def as_central(app: Flask, councils: Councils) -> FlaskClient:
    return _sign_in(app.test_client(), councils.emails["central"])


def _org(app: Flask, org_id: int) -> Organisation:
    with app.extensions["ocop.db"].transaction() as session:
        return session.get_one(Organisation, org_id)


def _whole(app: Flask, org_id: int) -> dict[str, str]:
    """The organisation form as its page fills it, with new contacts."""
    org = _org(app, org_id)
    return {"kind": org.kind.value, "name": org.name, **CONTACT}


CONTACT = {"email": "mao@ke.example", "phone": "0900000000", "website": "https://ke.example"}


def test_another_councils_officer_cannot_change_an_organisations_contacts(
    app: Flask, world: World, as_other_council: FlaskClient
) -> None:
    before = _org(app, world.producer_id)
    response = post(as_other_council, f"/console/organisations/{world.producer_id}",
                    _whole(app, world.producer_id))  # fmt: skip
    assert response.status_code == 403
    after = _org(app, world.producer_id)
    assert (after.email, after.phone, after.website) == (
        before.email, before.phone, before.website,
    )  # fmt: skip
    # It may still read it: the records are not secret, only its council acts on them.
    assert as_other_council.get(f"/console/organisations/{world.producer_id}").status_code == 200


def test_the_governing_council_and_the_central_office_may_change_them(
    app: Flask, world: World, councils: Councils, as_central: FlaskClient, client: FlaskClient
) -> None:
    from .conftest import sign_in

    as_council = sign_in(client, world, "authority")
    response = post(as_council, f"/console/organisations/{world.producer_id}",
                    _whole(app, world.producer_id))  # fmt: skip
    assert response.status_code == 302
    assert _org(app, world.producer_id).email == "mao@ke.example"
    central = post(as_central, f"/console/organisations/{councils.y_producer_id}",
                   _whole(app, councils.y_producer_id))  # fmt: skip
    assert central.status_code == 302
    assert _org(app, councils.y_producer_id).email == "mao@ke.example"
    # Thái Bình's council does not govern province Y's producer.
    assert post(as_council, f"/console/organisations/{councils.y_producer_id}",
                {"phone": "1"}).status_code == 403  # fmt: skip


def test_another_councils_officer_cannot_sign_a_producers_stamp_request(
    app: Flask, world: World, councils: Councils, as_other_council: FlaskClient, tmp_path
) -> None:
    database = app.extensions["ocop.db"]
    with database.transaction() as session:
        producer = session.get_one(Organisation, world.producer_id)
        asker = Actor(
            user_id=0,
            email="producer@test.vn",
            role=Role.PRODUCER,
            organisation_id=producer.id,
            organisation_kind=producer.kind,
            organisation_name=producer.name,
        )
        request, _ = submit_request(
            session, find_lot(session, LOT), asker, count=5, pin=False, layout="a4-5x8",
            note=None, nonce="n" * 20, maximum=100,
        )  # fmt: skip
        request_id = request.id
    response = post(as_other_council, f"/console/stamp-requests/{request_id}/approve")
    assert response.status_code == 403
    reject = post(as_other_council, f"/console/stamp-requests/{request_id}/reject",
                  {"reason": "không phải tỉnh tôi"})  # fmt: skip
    assert reject.status_code == 403
    # The workflow refuses it too, whoever calls it.
    with database.transaction() as session:
        officer = session.scalars(
            select(User).where(User.email == councils.emails["other_council"])
        ).one()
        who = Actor.of(officer)
    settings = app.config["OCOP"]
    with pytest.raises(OutOfScope, match="does not govern"):
        approve_request(
            database, settings.keystore(), request_id, actor=who, queue=app.extensions["ocop.queue"]
        )
    with database.transaction() as session:
        assert session.get_one(StampRequest, request_id).status is RequestStatus.PENDING


def test_another_councils_officer_cannot_manage_the_producers_accounts(
    app: Flask, world: World, as_other_council: FlaskClient
) -> None:
    listing = as_other_council.get("/console/users").get_data(as_text=True)
    assert world.emails["producer"] not in listing
    form = as_other_council.get("/console/users/new").get_data(as_text=True)
    assert f'value="{world.producer_id}"' not in form
    response = post(as_other_council, "/console/users/new", {
        "email": "mole@test.vn", "organisation": str(world.producer_id), "role": "producer_member",
    })  # fmt: skip
    assert response.status_code == 400
    with app.extensions["ocop.db"].transaction() as session:
        assert session.scalar(select(func.count()).where(User.email == "mole@test.vn")) == 0


def test_another_councils_officer_cannot_recall_approve_or_revoke(
    app: Flask, world: World, as_other_council: FlaskClient
) -> None:
    recall = post(as_other_council, f"/console/lots/{LOT}/recall", {"notice": "Thu hồi giả"})
    assert recall.status_code == 403
    # Nor open its confirmation page: it would tell what the recall changes.
    assert as_other_council.get(f"/console/lots/{LOT}/recall").status_code == 403
    with app.extensions["ocop.db"].transaction() as session:
        lot = session.scalars(select(Lot).where(Lot.code == LOT)).one()
        assert session.scalar(select(func.count()).where(Recall.lot_id == lot.id)) == 0
        product = session.scalars(
            select(Product).where(Product.producer_id == world.producer_id)
        ).first()
        cert = session.scalars(
            select(Certification).where(Certification.product_id == product.id)
        ).first()
        product_code, cert_id, cert_status = product.code, cert.id, cert.status
    assert post(as_other_council, f"/console/products/{product_code}/approve").status_code == 403
    revoke = post(as_other_council, f"/console/certifications/{cert_id}/revoke",
                  {"status_reason": "không có lý do"})  # fmt: skip
    assert revoke.status_code == 403
    with app.extensions["ocop.db"].transaction() as session:
        assert session.get_one(Certification, cert_id).status == cert_status


def test_the_rule_itself(app: Flask, world: World, councils: Councils) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        officers = {
            email: Actor.of(user)
            for user in session.scalars(select(User).where(User.role == Role.AUTHORITY))
            for email in [user.email]
        }
        central = officers[councils.emails["central"]]
        council = officers[world.emails["authority"]]
        other = officers[councils.emails["other_council"]]
        producer = session.get_one(Organisation, world.producer_id)
        y_producer = session.get_one(Organisation, councils.y_producer_id)
        own_council = session.get_one(Organisation, world.authority_id)
        assert central.central and not council.central and not other.central
        assert central.governs(producer) and central.governs(y_producer)
        assert council.governs(producer) and not council.governs(y_producer)
        assert other.governs(y_producer) and not other.governs(producer)
        assert council.governs(own_council) and not other.governs(own_council)
        # Accounts of a council: its own officers, or the office directly above it.
        assert council.manages_accounts_of(own_council)
        assert central.manages_accounts_of(own_council)
        assert not other.manages_accounts_of(own_council)
        producer_actor = Actor.of(
            session.scalars(select(User).where(User.email == world.emails["producer"])).one()
        )
        assert not producer_actor.governs(producer)
