"""Who may pull a lot's EPCIS events: the console's rule for records, for people and tokens.

A signed-in officer or producer reads what the console shows them
(``records.view`` on records their organisation owns; an authority owns
everything). An API token speaks for its organisation: it reads the lots
that organisation owns, like its people would.
"""

from __future__ import annotations

from ocop.trace.models import Lot

from .access import Actor


def may_read_events(lot: Lot, *, actor: Actor | None, token_organisation_id: int | None) -> bool:
    if actor is not None and actor.may("records.view") and actor.owns(lot.owner_id):
        return True
    return token_organisation_id is not None and token_organisation_id == lot.owner_id


__all__ = ["may_read_events"]
