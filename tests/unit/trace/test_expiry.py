"""Certificates reaching their end: marked by the daily job, announced 90 days ahead."""

from __future__ import annotations

import datetime as dt

from ocop.trace.db import vietnam_today
from ocop.trace.expiry import certificates_ending, expire_certificates
from ocop.trace.models import CertStatus
from tests import factories as f


def test_only_valid_certificates_past_their_end_are_marked(session):
    today = vietnam_today()
    current = f.certified_lot(session).product.certifications[0]
    past = f.certified_lot(session, valid=False).product.certifications[0]
    revoked = f.certified_lot(session, valid=False).product.certifications[0]
    revoked.status = CertStatus.REVOKED
    session.flush()
    assert expire_certificates(session, today) >= 1
    session.expire_all()
    assert past.status is CertStatus.EXPIRED and past.status_reason
    assert current.status is CertStatus.VALID
    assert revoked.status is CertStatus.REVOKED  # a revocation is never overwritten
    assert expire_certificates(session, today) == 0  # the next day's run finds nothing new


def test_a_producer_hears_of_an_end_within_90_days(session):
    lot = f.certified_lot(session)
    cert = lot.product.certifications[0]
    today = vietnam_today()
    cert.valid_until = today + dt.timedelta(days=89)
    other = f.certified_lot(session)
    session.flush()
    assert [c.id for c in certificates_ending(session, lot.product.producer_id, today)] == [
        cert.id
    ]
    assert certificates_ending(session, other.product.producer_id, today) == []
    cert.valid_until = today + dt.timedelta(days=91)
    session.flush()
    assert certificates_ending(session, lot.product.producer_id, today) == []
