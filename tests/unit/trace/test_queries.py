"""What other packages ask: lots and whether they are stampable, certificates, recalls."""

from __future__ import annotations

import datetime as dt

import pytest

from ocop.trace.db import utcnow
from ocop.trace.errors import InvalidRecord, NotFound
from ocop.trace.importer import import_records, load_sample
from ocop.trace.models import Certification, CertLevel, CertStatus, Scheme
from ocop.trace.queries import (
    certificates_of,
    find_lot,
    find_organisation,
    find_product,
    latest_ocop_certificate,
    list_lots,
    record_recall,
    valid_ocop_certificate,
)

from .documents import COOP

TODAY = dt.date(2026, 11, 28)


def _cert(product, number, start, end, status=CertStatus.VALID, scheme=Scheme.OCOP, stars=4):
    return Certification(
        scheme=scheme,
        number=number,
        product=product,
        stars=stars if scheme is Scheme.OCOP else None,
        level=CertLevel.PROVINCE,
        issuing_body="UBND tỉnh Thái Bình",
        valid_from=start,
        valid_until=end,
        status=status,
    )


def test_find_lot(session, doc):
    import_records(session, doc)
    assert find_lot(session, "BC-1").product.code == "BC"
    with pytest.raises(NotFound, match="no lot with code 'NOPE'"):
        find_lot(session, "NOPE")
    assert find_product(session, "BC").name == "Bánh cáy"
    assert find_organisation(session, COOP).kind.value == "cooperative"
    with pytest.raises(NotFound):
        find_product(session, "NOPE")


def test_list_lots_says_what_is_stampable(session):
    load_sample(session)
    lots = {lot.code: lot for lot in list_lots(session, TODAY)}
    assert lots["BC-2026-1115"].stampable and lots["BC-2026-1115"].stars == 4
    assert lots["BD-2026-1105"].stampable and lots["BD-2026-1105"].stars == 3
    assert not lots["MO-2025-0420"].stampable  # certificate expired in 2025
    assert not lots["NEP-2026-0615"].stampable  # raw material
    assert lots["NEP-2026-0615"].product is None
    assert lots["BC-2026-1115"].producer == "Hợp tác xã Bánh cáy làng Nguyễn"
    first_stampable = next(lot for lot in list_lots(session, TODAY) if lot.stampable)
    assert first_stampable.code == "BC-2026-1115"  # newest first: the demo stamps this one
    assert set(lots["BC-2026-1115"].to_json()) >= {"code", "product", "producer", "stampable"}


def test_stampable_follows_the_certificate_dates(session, doc):
    import_records(session, doc)  # OCOP-1: 2024-09-20 to 2027-09-19
    code = "BC-1"
    assert next(x for x in list_lots(session, dt.date(2027, 9, 19)) if x.code == code).stampable
    assert not next(x for x in list_lots(session, dt.date(2027, 9, 20)) if x.code == code).stampable
    assert not next(x for x in list_lots(session, dt.date(2024, 9, 19)) if x.code == code).stampable


def test_valid_and_latest_certificate(session, doc):
    import_records(session, doc)
    product = find_product(session, "BC")
    old = session.get_one(Certification, certificates_of(session, product)[0].id)
    newer = _cert(product, "OCOP-2", dt.date(2025, 9, 1), dt.date(2028, 8, 31), stars=5)
    revoked = _cert(
        product, "OCOP-3", dt.date(2026, 1, 1), dt.date(2028, 12, 31), CertStatus.REVOKED
    )
    future = _cert(product, "OCOP-4", dt.date(2027, 1, 1), dt.date(2029, 12, 31))
    vietgap = _cert(
        product, "VG-1", dt.date(2026, 2, 1), dt.date(2029, 1, 31), scheme=Scheme.VIETGAP
    )
    session.add_all([newer, revoked, future, vietgap])
    session.flush()
    assert valid_ocop_certificate(session, product, TODAY) is newer
    assert latest_ocop_certificate(session, product, TODAY) is newer
    assert valid_ocop_certificate(session, product, dt.date(2025, 1, 1)) is old
    # Once all have lapsed, the newest that had begun explains why.
    assert valid_ocop_certificate(session, product, dt.date(2030, 6, 1)) is None
    assert latest_ocop_certificate(session, product, dt.date(2030, 6, 1)) is future
    assert latest_ocop_certificate(session, product, dt.date(2024, 1, 1)) is None
    listed = certificates_of(session, product)
    assert listed[-1] is vietgap and {c.number for c in listed[:-1]} == {
        "OCOP-1",
        "OCOP-2",
        "OCOP-3",
        "OCOP-4",
    }


def test_record_recall(session, doc):
    import_records(session, doc)
    lot = find_lot(session, "BC-1")
    org = find_organisation(session, COOP)
    recall = record_recall(session, lot, "  Thu hồi do bao bì lỗi.  ", org, utcnow())
    assert recall.notice == "Thu hồi do bao bì lỗi."
    assert lot.active_recall is recall
    assert next(x for x in list_lots(session, TODAY) if x.code == "BC-1").recalled
    with pytest.raises(InvalidRecord, match="needs a notice"):
        record_recall(session, lot, " ", org, utcnow())
    with pytest.raises(InvalidRecord, match="time zone"):
        record_recall(session, lot, "x", None, dt.datetime(2026, 1, 1))
