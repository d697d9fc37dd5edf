"""Registered trademarks and standards applied, recorded from the console.

Through the importer like every other record edit (:mod:`.records`), so the
rules (dates, kinds, lengths, duplicates) are the import format's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ocop.trace.importer import ImportSummary
from ocop.trace.models import Product

from .records import _import, _present


def _product_record(product: Product, **extra: Any) -> dict[str, Any]:
    return {
        "code": product.code,
        "producer": product.producer.tax_code,
        "name": product.name,
        **extra,
    }


def add_trademark(session: Session, product: Product, record: Mapping[str, Any]) -> ImportSummary:
    """Record a registered trademark of ``product``; one already recorded stays as it is."""
    return _import(session, "products", _product_record(product, trademarks=[_present(record)]))


def add_standard(session: Session, product: Product, record: Mapping[str, Any]) -> ImportSummary:
    """Record a standard ``product`` applies (TCVN, QCVN, TCCS, ...)."""
    return _import(session, "products", _product_record(product, standards=[_present(record)]))


__all__ = ["add_standard", "add_trademark"]
