"""Records named in a console URL or form, found only for an actor who may see them.

Whatever the reason a record cannot be shown (no such code, a code no record
can have, someone else's record), the answer is the same 404: ids and codes
reveal nothing about other organisations.
"""

from __future__ import annotations

import unicodedata

from flask import abort
from sqlalchemy.orm import Session

from ocop.trace.errors import NotFound
from ocop.trace.models import Lot
from ocop.trace.queries import find_lot

from .access import ensure_own

MAX_CODE = 40  # the import format's limit: a longer code names no lot


def lot_or_404(session: Session, code: str) -> Lot:
    """The lot named ``code``, if this actor may see it; 404 whatever the reason not."""
    if len(code) > MAX_CODE or not code.isprintable():
        abort(404)
    try:
        lot = find_lot(session, unicodedata.normalize("NFC", code))
    except NotFound:
        abort(404)
    ensure_own(lot.owner_id)
    return lot
