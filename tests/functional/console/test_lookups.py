"""A lot named in a console URL or form: found only when it can exist and the actor owns it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .conftest import post

OWN_LOT = "BC-2026-1115"  # the cooperative's stampable lot of Bánh cáy
OTHERS_LOT = "BD-2026-1105"  # the household business's


@pytest.mark.parametrize(
    "code",
    ["NO-SUCH-LOT", OTHERS_LOT, "A" * 41, "A" * 5000, "BC\u200b-2026-1115", "BC-2026-1115\u00ad"],
)
@pytest.mark.parametrize("page", ["/console/lots/{}", "/console/stamp-requests/new?lot={}"])
def test_a_lot_that_cannot_be_shown_is_404(as_producer: FlaskClient, page: str, code: str) -> None:
    # Too long for a lot code, invisible characters, someone else's: one answer.
    assert as_producer.get(page.format(code)).status_code == 404


def test_a_posted_lot_code_is_checked_the_same_way(as_producer: FlaskClient) -> None:
    response = post(
        as_producer,
        "/console/stamp-requests/new",
        {"lot": "A" * 5000, "count": "10", "layout": "a4-5x8", "nonce": "n-lookups"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["/console/lots/{}", "/console/stamp-requests/new?lot={}"])
def test_the_owners_lot_is_found(as_producer: FlaskClient, page: str) -> None:
    response = as_producer.get(page.format(OWN_LOT))
    assert response.status_code == 200
    assert OWN_LOT in response.get_data(as_text=True)
