"""The audit log page, and the database keeping the log append-only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from ocop.workflows import audit
from ocop.workflows.access import Actor
from ocop.workflows.accounts import find_user
from ocop.workflows.models import AuditEntry

from .conftest import World, sign_in

_NEXT = re.compile(r'href="(/console/audit\?[^"]*before=\d+[^"]*)"')


@pytest.fixture
def logged(app: Flask, world: World) -> None:
    """60 entries of the cooperative and 3 of the distributor, oldest first."""
    with app.extensions["ocop.db"].transaction() as session:
        producer, distributor = (
            Actor.of(find_user(session, world.emails[who]), ip="203.0.113.7")
            for who in ("producer", "distributor")
        )
        for n in range(60):
            audit.record(session, producer, "lot.update", f"lot L-{n:02d}", {"field": "quantity"})
            session.flush()  # ids in the order written
        for n in range(3):
            audit.record(session, distributor, "receiving.record", f"delivery D-{n}")
            session.flush()
        # A known time, to check the page shows Vietnam time.
        clock = audit.record(session, producer, "clock.check", "clock")
        clock.at = dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC)


def _targets(page: str) -> list[str]:
    return re.findall(r"<td>((?:lot L|delivery D)-\d+)</td>", page)


def test_audit_shows_who_what_when_where(
    as_authority: FlaskClient, world: World, logged: None
) -> None:
    response = as_authority.get("/console/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "producer@test.vn" in page and "Hợp tác xã Bánh cáy làng Nguyễn" in page
    assert "receiving.record" in page and "203.0.113.7" in page
    assert "&#34;field&#34;: &#34;quantity&#34;" in page or "&quot;field&quot;" in page
    # Newest first: the distributor's entries came last (before the clock check).
    assert _targets(page)[:3] == ["delivery D-2", "delivery D-1", "delivery D-0"]


def test_time_is_shown_in_vietnam_time(as_authority: FlaskClient, logged: None) -> None:
    page = as_authority.get("/console/audit?action=clock.").get_data(as_text=True)
    assert "02/01/2026 03:00:00" in page  # 20:00 UTC on 1 January


def test_filter_by_action_prefix_and_organisation(
    as_authority: FlaskClient, world: World, logged: None
) -> None:
    receiving = as_authority.get("/console/audit?action=receiving.").get_data(as_text=True)
    assert _targets(receiving) == ["delivery D-2", "delivery D-1", "delivery D-0"]
    by_org = as_authority.get(f"/console/audit?org={world.distributor_id}").get_data(as_text=True)
    assert "receiving.record" in by_org and "lot.update" not in by_org
    both = as_authority.get(f"/console/audit?action=lot.&org={world.distributor_id}")
    assert _targets(both.get_data(as_text=True)) == []
    nothing = as_authority.get("/console/audit?action=no.such.action").get_data(as_text=True)
    assert "Không có mục nào" in nothing


def test_paging_with_before_shows_every_entry_once(as_authority: FlaskClient, logged: None) -> None:
    first = as_authority.get("/console/audit?action=lot.").get_data(as_text=True)
    first_targets = _targets(first)
    assert len(first_targets) == 50
    link = _NEXT.search(first).group(1).replace("&amp;", "&")
    second = as_authority.get(link).get_data(as_text=True)
    second_targets = _targets(second)
    assert not _NEXT.search(second)
    assert sorted(first_targets + second_targets) == sorted(f"lot L-{n:02d}" for n in range(60))


@pytest.mark.parametrize("query", ["before=abc", "org=-1", f"before={2**70}", "org=1.5"])
def test_bad_filters_are_400(as_authority: FlaskClient, query: str) -> None:
    assert as_authority.get(f"/console/audit?{query}").status_code == 400


@pytest.mark.parametrize("who", ["producer", "distributor"])
def test_only_authorities_read_the_log(app: Flask, world: World, who: str) -> None:
    client = sign_in(app.test_client(), world, who)
    assert client.get("/console/audit").status_code == 403
    assert app.test_client().get("/console/audit").status_code == 302


def test_the_database_refuses_to_update_an_audit_entry(
    app: Flask, world: World, logged: None
) -> None:
    database = app.extensions["ocop.db"]
    with database.transaction() as session:
        entry_id, action = session.execute(
            select(AuditEntry.id, AuditEntry.action).order_by(AuditEntry.id).limit(1)
        ).one()
    refused = pytest.raises(DBAPIError, match="append-only")
    with refused, database.engine.begin() as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id).values(action="forged")
        )
    with database.transaction() as session:
        assert session.get(AuditEntry, entry_id).action == action
