"""The fingerprint of what an action changes, and the check of a confirmed form."""

from __future__ import annotations

import dataclasses

import pytest

from ocop.workflows.confirmations import Consequences, check_confirmed
from ocop.workflows.errors import ConfirmationMissing, ConfirmationStale

SHOWN = Consequences("void", "42", 1, 5000, 12, lots=1, state="issued")


def test_the_confirmation_of_what_was_shown_passes() -> None:
    check_confirmed(SHOWN, SHOWN.fingerprint)
    assert len(SHOWN.fingerprint) == 16


@pytest.mark.parametrize("sent", [None, "", 0, ["x"], b"abc"])
def test_no_confirmation_is_refused_as_missing(sent: object) -> None:
    with pytest.raises(ConfirmationMissing):
        check_confirmed(SHOWN, sent)


@pytest.mark.parametrize(
    "changed",
    [
        {"stamps": 5001},  # another batch issued meanwhile
        {"batches": 2},
        {"state": "voided"},  # someone else voided it
        {"target": "43"},  # another batch's page
        {"action": "recall"},  # another action's page
        {"already": True},
    ],
)
def test_a_confirmation_of_other_facts_is_refused_as_stale(changed: dict[str, object]) -> None:
    now = dataclasses.replace(SHOWN, **changed)  # type: ignore[arg-type]
    with pytest.raises(ConfirmationStale):
        check_confirmed(now, SHOWN.fingerprint)


def test_new_scans_do_not_make_a_confirmation_stale() -> None:
    # Scans keep coming in while the officer reads; they change no decision.
    check_confirmed(dataclasses.replace(SHOWN, scanned=13), SHOWN.fingerprint)
