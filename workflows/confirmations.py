"""What an irreversible action will do, said before it is done.

Recalling a lot, voiding a batch, revoking a key and rejecting a stamp request
each first show the officer what follows (how many batches and printed stamps
change their verdict). The facts shown carry a ``fingerprint``; the confirmed
form sends it back and :func:`check_confirmed` refuses a form that skipped the
confirmation (an old page, a hand-made request) or that confirmed facts which
have changed since (another batch issued meanwhile): the officer confirms what
will really happen, nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocop.keys.models import IssuerKey
from ocop.stamps.models import BatchStatus, StampBatch, StampScan
from ocop.trace.models import Lot

from .errors import ConfirmationMissing, ConfirmationStale
from .models import StampRequest

# Batches whose stamps a scan still reports as valid (or soon will): what an action changes.
_LIVE = (BatchStatus.ISSUED, BatchStatus.ISSUING)


@dataclass(frozen=True, slots=True)
class Consequences:
    """What an action changes: the batches and stamps whose verdict turns red."""

    action: str  # recall, void, revoke, reject
    target: str  # the lot code, batch id, kid or request id
    batches: int
    stamps: int
    scanned: int  # of those stamps, how many someone has already scanned
    lots: int = 0
    already: bool = False  # recalled before (a new notice), or a key already revoked
    state: str = ""  # the target's status, part of what was confirmed

    @property
    def fingerprint(self) -> str:
        facts = "|".join(
            str(part)
            for part in (
                self.action, self.target, self.batches, self.stamps, self.lots,
                self.already, self.state,
            )
        )  # fmt: skip
        # Scans are left out on purpose: they grow every minute and change no decision.
        return hashlib.sha256(facts.encode()).hexdigest()[:16]


def recall_consequences(session: Session, lot: Lot) -> Consequences:
    """Every live batch of ``lot`` will show the recall notice when scanned."""
    batches, stamps, scanned = _tally(session, StampBatch.lot_id == lot.id)
    return Consequences(
        "recall", lot.code, batches, stamps, scanned, lots=1,
        already=lot.active_recall is not None,
        state=str(len(lot.recalls)),
    )  # fmt: skip


def void_consequences(session: Session, batch: StampBatch) -> Consequences:
    """Every stamp of ``batch`` will say it was voided."""
    live = batch.status in _LIVE
    scanned = _scanned(session, StampBatch.id == batch.id) if live else 0
    return Consequences(
        "void", str(batch.id), int(live), batch.count if live else 0, scanned, lots=1,
        already=batch.status is BatchStatus.VOIDED, state=batch.status.value,
    )  # fmt: skip


def revoke_consequences(session: Session, key: IssuerKey) -> Consequences:
    """Every stamp the key signed will say it was revoked, whatever its batch."""
    signed = StampBatch.key_id == key.id
    batches, stamps, scanned = _tally(session, signed)
    lots = session.scalar(
        select(func.count(func.distinct(StampBatch.lot_id))).where(
            signed, StampBatch.status.in_(_LIVE)
        )
    )
    return Consequences(
        "revoke", key.kid, batches, stamps, scanned, lots=lots or 0,
        already=key.revoked_at is not None, state=str(key.status),
    )  # fmt: skip


def reject_consequences(request: StampRequest) -> Consequences:
    """No stamp is signed; the producer reads the reason and may ask again."""
    return Consequences(
        "reject", str(request.id), 0, 0, 0, lots=1, state=request.status.value
    )


def check_confirmed(consequences: Consequences, sent: object) -> None:
    """Refuse an action whose confirmation page was skipped or shows outdated facts."""
    if not isinstance(sent, str) or not sent:
        raise ConfirmationMissing(
            "this action must be confirmed first: open its confirmation page, read what "
            "will happen, then confirm"
        )
    if sent != consequences.fingerprint:
        raise ConfirmationStale(
            "what this action would change has changed since it was confirmed; "
            "read the confirmation page again"
        )


def _tally(session: Session, which: object) -> tuple[int, int, int]:
    row = session.execute(
        select(func.count(StampBatch.id), func.coalesce(func.sum(StampBatch.count), 0)).where(
            which, StampBatch.status.in_(_LIVE)  # type: ignore[arg-type]
        )
    ).one()
    return int(row[0]), int(row[1]), _scanned(session, which)


def _scanned(session: Session, which: object) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(StampScan)
        .join(StampBatch, StampBatch.id == StampScan.batch_id)
        .where(which, StampBatch.status.in_(_LIVE))  # type: ignore[arg-type]
    )
    return int(found or 0)


__all__ = [
    "Consequences",
    "check_confirmed",
    "recall_consequences",
    "reject_consequences",
    "revoke_consequences",
    "void_consequences",
]
