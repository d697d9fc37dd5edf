"""Events a producer records in the console, by form or from a CSV file.

Every rule about events (known lots, loops in the genealogy, append-only ids)
is the importer's. The console adds one rule of its own, :meth:`Actor.owns`
applied to what an event names: an organisation records events only about its
own lots, at its own facilities, and corrects only its own events.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.errors import InvalidRecord
from ocop.trace.importer import import_records
from ocop.trace.models import Event, Facility, Lot

from . import audit
from .access import Actor

# The parts of an event that name lots (docs/import-format.md).
SECTIONS = ("lots", "inputs", "outputs")

_Named = list[tuple[str, str]]  # (code, the JSON path that names it)


def check_own_records(session: Session, actor: Actor, document: Mapping[str, Any]) -> None:
    """Refuse events about lots, facilities or events that ``actor`` does not own.

    Unknown codes get the same answer as other organisations' codes, so the
    refusal tells nothing about what others hold.
    """
    lots: _Named = []
    places: _Named = []
    corrected: _Named = []
    events = document.get("events") or []
    for i, event in enumerate(events):
        path = f"$.events[{i}]"
        for section in SECTIONS:
            for j, item in enumerate(event.get(section) or []):
                lots.append((_nfc(item.get("lot")), f"{path}.{section}[{j}].lot"))
        if event.get("facility"):
            places.append((_nfc(event["facility"]), f"{path}.facility"))
        if event.get("corrects"):
            corrected.append((event["corrects"], f"{path}.corrects"))
    for code, path in _not_owned(actor, lots, _owners(session, Lot.code, Lot.owner_id, lots)):
        raise InvalidRecord("lot %(code)r is not one of your organisation's lots", path, code=code)
    owners = _owners(session, Facility.code, Facility.organisation_id, places)
    for code, path in _not_owned(actor, places, owners):
        raise InvalidRecord(
            "facility %(code)r is not one of your organisation's facilities", path, code=code
        )
    # An event of the same document is the actor's own: it is being recorded now.
    owners = _owners(session, Event.event_id, Event.organisation_id, corrected)
    owners |= {event.get("id"): actor.organisation_id for event in events}
    for code, path in _not_owned(actor, corrected, owners):
        raise InvalidRecord(
            "event %(code)r was not recorded by your organisation", path, code=code
        )


def record_events(
    session: Session,
    who: Actor,
    document: Mapping[str, Any],
    action: str,
    target: str,
    detail: Mapping[str, Any],
) -> set[str]:
    """Import ``document``'s events for the actor's organisation, audited.

    Returns the ids of the events that were new: none when the same form or
    file comes again.
    """
    check_own_records(session, who, document)
    ids = [event["id"] for event in document["events"]]
    known = set(session.scalars(select(Event.event_id).where(Event.event_id.in_(ids))))
    summary = import_records(session, document)
    created = set(ids) - known
    if summary.changed_anything:
        audit.record(session, who, action, target, {**detail, "created": len(created)})
    return created


def _nfc(value: object) -> str:
    return unicodedata.normalize("NFC", value.strip()) if isinstance(value, str) else ""


def _owners(
    session: Session, key: Any, owner: Any, named: Iterable[tuple[str, str]]
) -> dict[Any, int | None]:
    """The owning organisation of each code named that exists."""
    codes = sorted({code for code, _path in named})
    if not codes:
        return {}
    return {code: who for code, who in session.execute(select(key, owner).where(key.in_(codes)))}


def _not_owned(actor: Actor, named: _Named, owners: Mapping[Any, int | None]) -> _Named:
    return [
        (code, path)
        for code, path in named
        if code not in owners or not actor.owns(owners[code])
    ]


__all__ = ["SECTIONS", "check_own_records", "record_events"]
