"""Lots as an organisation keeps them: a new lot of its own, and a recall of one.

A new lot goes through :func:`~.importer.import_records` like any other record,
so every rule of the import format (codes, dates, quantities, units) is the
importer's; what is added here is whose records a lot may name.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ConflictingRecord, InvalidRecord
from .importer import import_records
from .importer.vocabulary import FORMAT
from .models import Facility, Lot, Organisation, Product, Recall
from .queries import find_lot, record_recall

_PATH = "$.lots[0]"


@dataclass(frozen=True, slots=True)
class NewLot:
    """A lot as a form gives it: text in the import format, empty fields as None."""

    code: str
    product: str | None = None  # product code; None for a raw-material lot
    item: str | None = None  # what a raw-material lot is
    facility: str | None = None
    produced_on: str | None = None  # YYYY-MM-DD
    best_before: str | None = None
    quantity: str | None = None
    unit: str | None = None

    def record(self, owner_tax_code: str) -> dict[str, Any]:
        """The lot as one record of the import format, owned by ``owner_tax_code``."""
        fields = {
            "code": self.code,
            "product": self.product,
            "item": self.item,
            "facility": self.facility,
            "owner": owner_tax_code,
            "produced_on": self.produced_on,
            "best_before": self.best_before,
            "quantity": self.quantity,
            "unit": self.unit,
        }
        return {key: value for key, value in fields.items() if value}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def add_lot(session: Session, owner: Organisation, new: NewLot) -> Lot:
    """Record a new lot owned by ``owner``, of one of its products and at one of its places.

    Another organisation's product or facility is as unknown as one that does
    not exist, so the answer reveals nothing about it. A code already in use is
    refused: the import would otherwise fill in that lot's empty fields.
    """
    code = _nfc(new.code)
    if session.scalar(select(Lot.id).where(Lot.code == code)) is not None:
        raise ConflictingRecord(
            "there is already a lot %(code)r; lot codes are unique, choose another",
            f"{_PATH}.code",
            code=code,
        )
    if new.product and not _owned(session, Product.producer_id, Product.code, new.product, owner):
        raise InvalidRecord(
            "unknown product %(code)r: %(owner)s has no product with this code",
            f"{_PATH}.product",
            code=new.product,
            owner=owner.name,
        )
    if new.facility and not _owned(
        session, Facility.organisation_id, Facility.code, new.facility, owner
    ):
        raise InvalidRecord(
            "unknown facility %(code)r: %(owner)s has no facility with this code",
            f"{_PATH}.facility",
            code=new.facility,
            owner=owner.name,
        )
    import_records(session, {"format": FORMAT, "lots": [new.record(owner.tax_code)]})
    return find_lot(session, code)


def _owned(
    session: Session, owner_column: Any, code_column: Any, code: str, owner: Organisation
) -> bool:
    found = session.scalar(select(owner_column).where(code_column == _nfc(code)))
    return found == owner.id


def recall_lot(
    session: Session, lot: Lot, notice: str, *, by: Organisation, at: dt.datetime
) -> Recall:
    """Recall ``lot``, or give a recalled lot a newer notice: its stamps show the newest.

    The notice the lot already shows is refused, so a form sent twice does not
    record the same recall twice.
    """
    notice = _nfc(notice)
    current = lot.active_recall
    if current is not None and current.notice == notice:
        raise ConflictingRecord("lot %(code)s already shows this recall notice", code=lot.code)
    return record_recall(session, lot, notice, by, at)


__all__ = ["NewLot", "add_lot", "recall_lot"]
