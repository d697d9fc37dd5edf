"""The confirmation step of recall, void, revoke and reject (issue 15), across the four:
who may open it, what it says, and that only its own form acts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.keys.models import IssuerKey
from ocop.stamps.models import BatchStatus, StampBatch
from ocop.trace.models import Recall
from ocop.workflows.models import AuditEntry, RequestStatus, StampRequest

from .conftest import World, confirmed, post, sign_in
from .test_reports import _issue
from .test_stamp_requests import LOT, _request_id, _submit


@dataclass
class Target:
    urls: dict[str, str]  # action -> its confirmation page (and POST) URL
    batch: int


@pytest.fixture
def target(app: Flask, world: World, tmp_path: Path) -> Target:
    stamps = _issue(app, tmp_path, LOT, 5)
    producer = sign_in(app.test_client(), world, "producer")
    pending = _request_id(_submit(producer))
    with app.extensions["ocop.db"].transaction() as session:
        batch = session.scalar(select(func.max(StampBatch.id)))
        kid = session.scalars(
            select(IssuerKey.kid).where(IssuerKey.organisation_id == world.authority_id)
        ).one()
    assert stamps
    return Target(
        {
            "recall": f"/console/lots/{LOT}/recall",
            "void": f"/console/batches/{batch}/void",
            "revoke": f"/console/keys/{kid}/revoke",
            "reject": f"/console/stamp-requests/{pending}/reject",
        },
        batch,
    )


FIELDS = {"recall": "notice", "void": "reason", "revoke": "reason", "reject": "reason"}
SAYS = {
    "recall": "5 tem đã in (1 lô tem) sẽ báo",
    "void": "5 tem đã in sẽ báo",
    "revoke": "5 tem đã in (1 lô tem của 1 lô hàng) ký bằng khóa này",
    "reject": "Không tem nào được ký",
}
SAYS_EN = {
    "recall": "5 printed stamps (1 stamp batches) will show",
    "void": "5 printed stamps will show",
    "revoke": "5 printed stamps (1 stamp batches of 1 lots) signed with this key",
    "reject": "No stamp is signed",
}


ACTIONS = ("lot.recalled", "batch.voided", "key.revoke", "stamp_request.reject")


def _state(app: Flask) -> tuple[object, ...]:
    """Everything the four actions could change."""
    with app.extensions["ocop.db"].transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Recall)),
            tuple(session.scalars(select(StampBatch.status).order_by(StampBatch.id))),
            tuple(session.scalars(select(IssuerKey.status).order_by(IssuerKey.id))),
            tuple(session.scalars(select(StampRequest.status).order_by(StampRequest.id))),
            session.scalar(select(func.count()).where(AuditEntry.action.in_(ACTIONS))),
        )


@pytest.mark.parametrize("action", list(FIELDS))
def test_the_confirmation_page_says_what_will_happen_without_javascript(
    as_authority: FlaskClient, target: Target, action: str
) -> None:
    url = target.urls[action]
    response = as_authority.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SAYS[action] in html
    main = html.split("<main", 1)[1]
    assert "<script" not in main  # a plain page and a plain form
    form = re.search(rf'<form method="post" action="{re.escape(url)}".*?</form>', main, re.S)
    assert form, "no form posting to the action"
    for name in ("csrf_token", "confirm", FIELDS[action]):
        assert f'name="{name}"' in form.group(0)
    assert "Không, quay lại" in form.group(0)
    english = as_authority.get(f"{url}?lang=en").get_data(as_text=True)
    assert "What will happen" in english and SAYS_EN[action] in english
    assert "No, go back" in english


@pytest.mark.parametrize("action", list(FIELDS))
@pytest.mark.parametrize("who", ["producer", "distributor"])
def test_a_role_that_may_not_act_gets_403_and_nothing_changes(
    app: Flask, world: World, target: Target, action: str, who: str
) -> None:
    before = _state(app)
    client = sign_in(app.test_client(), world, who)
    url = target.urls[action]
    assert client.get(url).status_code == 403
    assert post(client, url, {FIELDS[action]: "không được phép"}).status_code == 403
    # Even with a confirmation read off an officer's page.
    officer = sign_in(app.test_client(), world, "authority")
    confirm = re.search(r'name="confirm"[^>]*value="([^"]+)"', officer.get(url).get_data(
        as_text=True)).group(1)  # fmt: skip
    forged = post(client, url, {FIELDS[action]: "không được phép", "confirm": confirm})
    assert forged.status_code == 403
    assert _state(app) == before


@pytest.mark.parametrize("action", list(FIELDS))
@pytest.mark.parametrize(
    "confirm, status",
    [(None, 400), ("", 400), ("0" * 16, 409), ("ü" * 3000, 409), ("\x00", 409)],
)
def test_a_post_that_skipped_its_confirmation_changes_nothing(
    app: Flask, as_authority: FlaskClient, target: Target, action: str,
    confirm: str | None, status: int,
) -> None:  # fmt: skip
    before = _state(app)
    data = {FIELDS[action]: "Lý do đủ rõ ràng"}
    if confirm is not None:
        data["confirm"] = confirm
    response = post(as_authority, target.urls[action], data)
    assert response.status_code == status
    said = response.get_data(as_text=True)
    assert ("phải được xác nhận" if status == 400 else "đã thay đổi") in said
    assert _state(app) == before


@pytest.mark.parametrize("action", list(FIELDS))
def test_the_confirmed_form_acts_once(
    app: Flask, as_authority: FlaskClient, target: Target, action: str
) -> None:
    response = confirmed(as_authority, target.urls[action], {FIELDS[action]: "Lý do rõ ràng"})
    assert response.status_code == 302
    checks: dict[str, Callable[[tuple[object, ...]], bool]] = {
        "recall": lambda s: s[0] == 1,
        "void": lambda s: s[1] == (BatchStatus.VOIDED,),
        "revoke": lambda s: "revoked" in [str(k) for k in s[2]],
        "reject": lambda s: s[3] == (RequestStatus.REJECTED,),
    }
    assert checks[action](_state(app))
