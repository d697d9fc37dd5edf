"""The authority's keys in the console: list, rotate, revoke; only their own."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ocop.keys.models import IssuerKey
from ocop.keys.trustlist import KeyStatus
from ocop.workflows.models import AuditEntry
from tests import factories as f

from ..conftest import TEST_PASSPHRASE
from .conftest import World, confirmed, post


def _keys(app: Flask, org_id: int) -> list[tuple[str, str]]:
    with app.extensions["ocop.db"].transaction() as session:
        rows = session.scalars(
            select(IssuerKey).where(IssuerKey.organisation_id == org_id).order_by(IssuerKey.id)
        )
        return [(k.kid, k.status.value) for k in rows]


def _audit(app: Flask, prefix: str) -> list[AuditEntry]:
    with app.extensions["ocop.db"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action.startswith(prefix))))


def test_the_page_lists_keys_without_secrets(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    [(kid, status)] = _keys(app, world.authority_id)
    page = as_authority.get("/console/keys")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and status == "active"
    assert kid in html and "/.well-known/ocop-trust.json" in html
    assert TEST_PASSPHRASE not in html and "PRIVATE KEY" not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_producers_and_distributors_may_not_manage_keys(
    app: Flask, world: World, as_producer: FlaskClient
) -> None:
    [(kid, _)] = _keys(app, world.authority_id)
    assert as_producer.get("/console/keys").status_code == 403
    assert post(as_producer, "/console/keys/rotate").status_code == 403
    assert post(as_producer, f"/console/keys/{kid}/revoke", {"reason": "x"}).status_code == 403
    assert _keys(app, world.authority_id) == [(kid, "active")]


def test_rotate_retires_the_old_key_and_is_audited(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    [(old, _)] = _keys(app, world.authority_id)
    response = post(as_authority, "/console/keys/rotate")
    assert response.status_code == 302
    [(kid1, s1), (kid2, s2)] = _keys(app, world.authority_id)
    assert (kid1, s1) == (old, "retired") and s2 == "active"
    assert kid2 in as_authority.get("/console/keys").get_data(as_text=True)
    [entry] = _audit(app, "key.rotate")
    assert entry.target == kid2 and entry.detail == {"retired": old}
    assert TEST_PASSPHRASE not in str(entry.detail)


def test_rotate_without_csrf_changes_nothing(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    before = _keys(app, world.authority_id)
    assert as_authority.post("/console/keys/rotate").status_code == 400
    assert _keys(app, world.authority_id) == before


def test_revoke_needs_a_reason_and_is_audited(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    [(kid, _)] = _keys(app, world.authority_id)
    url = f"/console/keys/{kid}/revoke"
    assert confirmed(as_authority, url, {"reason": "  "}).status_code == 400
    assert as_authority.post(url, data={"reason": "lộ khóa"}).status_code == 400  # no CSRF
    # A form without the confirmation step (an old page, a forged post) does nothing.
    unconfirmed = post(as_authority, url, {"reason": "lộ khóa"})
    assert unconfirmed.status_code == 400
    assert "phải được xác nhận" in unconfirmed.get_data(as_text=True)
    assert _keys(app, world.authority_id) == [(kid, "active")]
    first = as_authority.get(url).get_data(as_text=True)
    assert "0 tem đã in" in first and "Không, quay lại" in first
    assert confirmed(as_authority, url, {"reason": "Nghi lộ khóa riêng"}).status_code == 302
    assert _keys(app, world.authority_id) == [(kid, "revoked")]
    [entry] = _audit(app, "key.revoke")
    assert entry.target == kid and entry.detail == {"reason": "Nghi lộ khóa riêng", "stamps": 0}
    old = re.search(r'name="confirm"[^>]*value="([^"]+)"', first).group(1)
    again = post(as_authority, url, {"reason": "lần nữa", "confirm": old})
    assert again.status_code == 409 and "đã thay đổi" in again.get_data(as_text=True)
    assert "đã bị thu hồi trước đó" in as_authority.get(url).get_data(as_text=True)
    # With every key revoked, "new key" starts a fresh one.
    assert post(as_authority, "/console/keys/rotate").status_code == 302
    assert [s for _, s in _keys(app, world.authority_id)] == ["revoked", "active"]
    assert len(_audit(app, "key.create")) == 1


def test_unknown_or_another_authoritys_key_is_not_found(
    app: Flask, world: World, as_authority: FlaskClient
) -> None:
    with app.extensions["ocop.db"].transaction() as session:
        other = f.authority_key(session)
        other_kid, other_org = other.row.kid, other.org.id
    assert (
        post(as_authority, "/console/keys/NO-SUCH-KID/revoke", {"reason": "x"}).status_code == 404
    )
    response = post(as_authority, f"/console/keys/{other_kid}/revoke", {"reason": "x"})
    assert response.status_code == 404
    assert _keys(app, other_org) == [(other_kid, KeyStatus.ACTIVE.value)]
    assert _audit(app, "key.") == []
    # Listed (it is in the public trust list anyway), but with no revoke form.
    html = as_authority.get("/console/keys").get_data(as_text=True)
    assert other_kid in html and f"/console/keys/{other_kid}/revoke" not in html
