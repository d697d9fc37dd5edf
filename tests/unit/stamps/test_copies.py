"""The copy rule: what makes a stamp suspect, and what two shared places mean."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import column, select

from ocop.stamps import Reason
from ocop.stamps.copies import CopyRule, SharedPlace

T0 = dt.datetime(2026, 11, 10, 3, 0, tzinfo=dt.UTC)
RULE = CopyRule(sightings=10, far_sightings=3)


@pytest.mark.parametrize(
    ("sightings", "far", "claims", "reasons"),
    [
        (0, 0, 0, ()),
        (10, 0, 0, ()),  # at the threshold: not yet
        (11, 0, 0, (Reason.SCAN_LIMIT_EXCEEDED,)),
        (2, 1, 0, ()),  # far apart, but two sightings prove nothing
        (3, 1, 0, (Reason.SEEN_FAR_APART,)),
        (0, 0, 1, ()),
        (0, 0, 2, (Reason.PIN_CLAIMED_TWICE,)),
        (12, 2, 2, (Reason.SCAN_LIMIT_EXCEEDED, Reason.SEEN_FAR_APART, Reason.PIN_CLAIMED_TWICE)),
    ],
)
def test_reasons(sightings, far, claims, reasons) -> None:
    assert RULE.reasons(sightings, far, claims) == reasons


def test_the_same_conditions_compile_to_sql() -> None:
    conditions = RULE.conditions(column("sightings"), column("far_apart"), column("pin_claims"))
    sql = str(select(column("x")).where(*(c for c, _r in conditions)))
    assert "sightings >" in sql and "far_apart >" in sql and "pin_claims >" in sql


def _at(place: str, minutes: int, network: str | None) -> SharedPlace:
    return SharedPlace(place, T0 + dt.timedelta(minutes=minutes), network)


@pytest.mark.parametrize(
    ("before", "now", "far"),
    [
        (None, _at("Hà Nội", 0, "a"), False),
        (_at("Hà Nội", 0, "a"), _at("Thành phố Hồ Chí Minh", 30, "b"), True),
        # One network changing its mind is one witness.
        (_at("Hà Nội", 0, "a"), _at("Thành phố Hồ Chí Minh", 30, "a"), False),
        (_at("Hà Nội", 0, None), _at("Thành phố Hồ Chí Minh", 30, "b"), False),
        # Neighbours: a commuter, not a copy.
        (_at("Hà Nội", 0, "a"), _at("Bắc Ninh", 10, "b"), False),
        (_at("Hà Nội", 0, "a"), _at("Hưng Yên", 10, "b"), False),
        # Far, but time enough to travel.
        (_at("Hà Nội", 0, "a"), _at("Thành phố Hồ Chí Minh", 61, "b"), False),
        (_at("Hà Nội", 0, "a"), _at("Hà Nội", 5, "b"), False),
        # Not a province we know: nothing to say.
        (_at("Hà Nội", 0, "a"), _at("Atlantis", 5, "b"), False),
        # Out of order (a clock, a retry): never far.
        (_at("Hà Nội", 30, "a"), _at("Cà Mau", 0, "b"), False),
    ],
)
def test_far_apart(before, now, far) -> None:
    assert RULE.far_apart(before, now) is far
