"""The append-only audit log: every write the console or the API makes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow

from .access import Actor
from .models import AuditEntry

# Never written to the log, whatever a caller passes.
_SECRET_WORDS = ("password", "passphrase", "token", "secret", "pin", "csrf")


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction: it commits with the write it describes."""
    entry = AuditEntry(
        at=utcnow(),
        user_id=actor.user_id,
        actor=actor.email,
        organisation_id=actor.organisation_id,
        action=action,
        target=target[:200] if target else None,
        detail=_scrub(detail) if detail else None,
        ip=actor.ip,
    )
    session.add(entry)
    return entry


def record_system(
    session: Session,
    who: str,
    action: str,
    target: str | None = None,
    detail: Mapping[str, Any] | None = None,
    *,
    organisation_id: int | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """An entry for a write made without a signed-in user: from the command line,
    or through the API with an organisation's token (``who`` names the token)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=who[:254],
        organisation_id=organisation_id,
        action=action,
        target=target[:200] if target else None,
        detail=_scrub(detail) if detail else None,
        ip=ip,
    )
    session.add(entry)
    return entry


def _scrub(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in detail.items()
        if not any(word in key.lower() for word in _SECRET_WORDS)
    }


def entries(
    session: Session,
    *,
    action: str | None = None,
    organisation_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Newest first, a page at a time (``before_id`` is the last id of the previous page)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if organisation_id is not None:
        query = query.where(AuditEntry.organisation_id == organisation_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return session.scalars(query).all()
