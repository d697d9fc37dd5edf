"""Stamp request rules: who may ask for which lot, and how a request is decided."""

from __future__ import annotations

import pytest

from ocop.stamps.errors import IssuanceRefused
from ocop.stamps.issuance import open_batch
from ocop.trace.db import utcnow, vietnam_today
from ocop.trace.models import Lot, OrgKind, Recall
from ocop.workflows.access import Actor
from ocop.workflows.errors import RequestConflict, RequestRefused
from ocop.workflows.models import RequestStatus, Role
from ocop.workflows.stamp_requests import (
    LAYOUTS,
    list_requests,
    lot_problem,
    print_layout,
    reject_request,
    stampable_lots,
    submit_request,
)
from tests import factories as f


def _submit(session, lot, org=None, **kw):
    args = {
        "count": "10",
        "pin": False,
        "layout": "a4-5x8",
        "note": None,
        "nonce": "n-1",
        "maximum": 1000,
    }
    args.update(kw)
    return submit_request(session, lot, _someone_of(org or lot.owner), **args)


def _someone_of(org):
    role = Role.PRODUCER if org.kind.is_producer else Role.AUTHORITY
    return Actor(0, "producer@test.vn", role, org.id, org.kind, org.name)


def test_submit_makes_a_pending_request_once_per_nonce(session):
    lot = f.certified_lot(session)
    made, created = _submit(session, lot, count=" 1_000 ", note="  Lô Tết  ")
    assert created and made.status is RequestStatus.PENDING
    assert (made.count, made.note, made.organisation_id) == (1000, "Lô Tết", lot.owner_id)
    again, created = _submit(session, lot, count="5")
    assert again.id == made.id and not created
    other, created = _submit(session, lot, nonce="n-2")
    assert created and other.id != made.id


@pytest.mark.parametrize("count", ["0", "-1", "abc", "", "1001"])
def test_bad_counts_name_the_count_field(session, count):
    with pytest.raises(RequestRefused, match="count") as caught:
        _submit(session, f.certified_lot(session), count=count)
    assert caught.value.field == "count"


def test_only_the_owner_asks_for_its_lot(session):
    lot = f.certified_lot(session)
    stranger = f.organisation(session)
    with pytest.raises(RequestRefused, match="does not belong"):
        _submit(session, lot, stranger)
    authority = f.organisation(session, OrgKind.AUTHORITY)
    with pytest.raises(RequestRefused, match="not a producer"):
        _submit(session, lot, authority)


def test_form_values_are_checked(session):
    lot = f.certified_lot(session)
    with pytest.raises(RequestRefused, match="layout"):
        _submit(session, lot, layout="a0")
    with pytest.raises(RequestRefused, match="note"):
        _submit(session, lot, note="x" * 1001)
    with pytest.raises(RequestRefused, match="expired"):
        _submit(session, lot, nonce="")


def test_lots_that_cannot_get_stamps_are_refused(session):
    expired = f.certified_lot(session, valid=False)
    with pytest.raises(IssuanceRefused, match="no valid OCOP certificate"):
        _submit(session, expired)
    recalled = f.certified_lot(session)
    session.add(Recall(lot=recalled, notice="x", recalled_at=utcnow()))
    session.flush()
    session.expire(recalled)
    with pytest.raises(IssuanceRefused, match="recalled"):
        _submit(session, recalled)
    raw = Lot(code="RAW-R1", item="Gạo nếp", owner=f.organisation(session))
    session.add(raw)
    session.flush()
    with pytest.raises(IssuanceRefused, match="raw-material"):
        _submit(session, raw)


def test_an_unapproved_product_gets_no_request_and_no_batch(session):
    lot = f.certified_lot(session)
    lot.product.approved = False
    session.flush()
    with pytest.raises(IssuanceRefused, match="not approved by the OCOP council"):
        _submit(session, lot)
    key = f.authority_key(session)
    with pytest.raises(IssuanceRefused, match="not approved by the OCOP council"):
        open_batch(session, lot, key.row, count=1, pin=False, actor="t", today=vietnam_today())
    assert "not approved" in str(lot_problem(session, lot, vietnam_today()))


def test_reject_needs_a_reason_and_a_pending_request(session):
    made, _ = _submit(session, f.certified_lot(session))
    with pytest.raises(RequestRefused, match="say why") as caught:
        reject_request(session, made.id, reason="  ", actor="a@test.vn")
    assert caught.value.field == "reason"
    assert made.status is RequestStatus.PENDING
    decided = reject_request(session, made.id, reason=" Thiếu hồ sơ ", actor="a@test.vn")
    assert decided.status is RequestStatus.REJECTED
    assert (decided.decision_note, decided.decided_by) == ("Thiếu hồ sơ", "a@test.vn")
    with pytest.raises(RequestConflict, match="already rejected"):
        reject_request(session, made.id, reason="again", actor="a@test.vn")
    with pytest.raises(RequestRefused, match="no stamp request"):
        reject_request(session, 987654, reason="x", actor="a@test.vn")


def test_listing_is_scoped_and_puts_pending_first(session):
    lot = f.certified_lot(session)
    first, _ = _submit(session, lot, nonce="a")
    second, _ = _submit(session, lot, nonce="b")
    reject_request(session, second.id, reason="no", actor="a@test.vn")
    third, _ = _submit(session, lot, nonce="c")
    elsewhere, _ = _submit(session, f.certified_lot(session), nonce="a")
    own = [r.id for r in list_requests(session, lot.owner_id)]
    assert own[:2] == sorted([first.id, third.id], reverse=True) and own[2] == second.id
    assert elsewhere.id not in own
    assert elsewhere.id in [r.id for r in list_requests(session, None)]


def test_stampable_lots_are_the_owners_product_lots_that_pass(session):
    good = f.certified_lot(session)
    session.add(Lot(code="LOT-UNDATED", product=good.product, owner=good.owner))
    session.add(Lot(code="RAW-R2", item="Gạo", owner=good.owner))
    session.flush()
    found = stampable_lots(session, good.owner_id, vietnam_today())
    assert [lot.code for lot in found] == [good.code, "LOT-UNDATED"]  # newest production first
    assert stampable_lots(session, f.organisation(session).id, vietnam_today()) == []
    good.product.approved = False
    session.flush()
    assert stampable_lots(session, good.owner_id, vietnam_today()) == []


def test_every_layout_fits_its_sheet():
    assert {name: layout.per_page for name, layout in LAYOUTS.items()} == {
        "a4-5x8": 40,
        "a4-4x10": 40,
        "a4-3x7": 21,
        "roll-40x30": 1,
        "roll-50x30": 1,
        "roll-60x40": 1,
    }


def test_a_layout_names_its_printer():
    assert print_layout("roll-40x30") == LAYOUTS["roll-40x30"]
    at_300 = print_layout("roll-40x30@300")
    assert (at_300.dpi, at_300.module_dots, at_300.roll) == (300, 5, True)
    assert print_layout("a4-3x7@203").module_dots == 4
    for name in ("roll-40x30@72", "roll-40x30@", "a4-9x9", "@300", ""):
        with pytest.raises(RequestRefused):
            print_layout(name)
