"""Records the console creates and changes, and the approval rules.

Every write goes through :func:`ocop.trace.importer.import_records` as a small
import document, so every validation rule stays the importer's. This module
adds only what belongs to the console: a product proposed by a producer waits
for an authority's approval, only an approved product gets an OCOP
certificate, and a "new" form never quietly changes a record that already
exists under the same natural key. (Plus the paging of the lists that show
these records.) Facilities are created and changed the same way, audited here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from ocop.trace.db import rowcount
from ocop.trace.errors import ConflictingRecord, InvalidRecord
from ocop.trace.importer import ImportSummary, import_records
from ocop.trace.importer.vocabulary import FORMAT
from ocop.trace.models import (
    Certification,
    CertStatus,
    Facility,
    Organisation,
    Product,
    Scheme,
)
from ocop.trace.numbers import write_number

from . import audit
from .access import Actor
from .errors import AlreadyRecorded, FacilityCodeTaken, InvalidInput, NotApproved

T = TypeVar("T")

# The last field name of an import path: "$.organisations[0].addresses[0].province".
_LAST_FIELD = re.compile(r"\.([a-z_]+)$")


@dataclass(frozen=True, slots=True)
class Saved(Generic[T]):
    """What a write did: the record, and whether it was created or changed at all."""

    record: T
    created: bool
    changed: bool


def status_of(error: Exception) -> int:
    """409 for a clash with what is stored, 400 for a bad value."""
    return 409 if isinstance(error, ConflictingRecord | AlreadyRecorded) else 400


def changes(summary: ImportSummary) -> dict[str, dict[str, int]]:
    """The non-zero counts of an import, for an audit entry."""
    return {
        what: {kind: n for kind, n in counts.items() if n}
        for what, counts in (("created", summary.created), ("updated", summary.updated))
        if any(counts.values())
    }


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, newest or first by name, and whether another follows."""

    items: list[Any]
    number: int
    has_next: bool


PAGE_SIZE = 50
# Past any real list, and small enough for an OFFSET on every engine.
MAX_PAGE = 100_000


def optional_int(value: object) -> int | None:
    """A select's value as a number, or None for its empty choice (a WTForms ``coerce``)."""
    return int(str(value)) if value not in (None, "") else None


def page_of(session: Session, query: Select[Any], number: int, size: int = PAGE_SIZE) -> Page:
    """Page ``number`` (from 1) of ``query``: entities for a one-entity query, rows otherwise."""
    number = min(max(number, 1), MAX_PAGE)
    result = session.execute(query.limit(size + 1).offset((number - 1) * size))
    rows = list(result.scalars() if len(query.column_descriptions) == 1 else result)
    return Page(rows[:size], number, len(rows) > size)


# --------------------------------------------------------------------------- organisations


def register_organisation(session: Session, record: Mapping[str, Any]) -> Saved[Organisation]:
    """Record a new organisation (import fields, ``addresses`` included).

    Sent again unchanged, it finds the stored one; sent with other content for a
    tax code already recorded, it is refused rather than applied as an edit.
    """
    tax_code = str(record.get("tax_code") or "")
    existing = _organisation(session, tax_code)
    summary = _import(session, "organisations", record)
    if existing is not None and summary.changed_anything:
        raise AlreadyRecorded(
            "an organisation with tax code %(tax_code)s is already recorded; "
            "change it on its page",
            tax_code=tax_code,
        )
    org = _organisation(session, tax_code)
    assert org is not None
    return Saved(org, existing is None, summary.changed_anything)


def update_organisation(
    session: Session, org: Organisation, record: Mapping[str, Any]
) -> ImportSummary:
    """Change contact fields or append an address; the tax code is the stored one."""
    return _import(session, "organisations", {**record, "tax_code": org.tax_code})


def _organisation(session: Session, tax_code: str) -> Organisation | None:
    return session.scalars(
        select(Organisation).where(Organisation.tax_code == tax_code)
    ).one_or_none()


# --------------------------------------------------------------------------- products


def create_product(
    session: Session, who: Actor, producer: Organisation, record: Mapping[str, Any]
) -> Saved[Product]:
    """A product of ``producer``: approved when an authority records it, a proposal
    waiting for approval when the producer does."""
    code = str(record.get("code") or "")
    existing = _product(session, code)
    if existing is not None and existing.producer_id != producer.id:
        # Said without naming the other producer: a code is all one learns.
        raise AlreadyRecorded(
            "the product code %(code)s is already taken; choose another", code=code
        )
    summary = _import(session, "products", {**record, "producer": producer.tax_code})
    if existing is not None:
        if summary.changed_anything:
            raise AlreadyRecorded(
                "product %(code)s is already recorded; change it on its page", code=code
            )
        return Saved(existing, False, False)
    product = _product(session, code)
    assert product is not None
    if not who.is_authority:
        product.approved = False
        session.flush()
    return Saved(product, True, True)


# What the council approved and stamps print: a producer changing one of these
# sends the product back for approval.
APPROVED_FIELDS = ("name", "short_name", "gtin")


def update_product(
    session: Session, product: Product, record: Mapping[str, Any], *, by_authority: bool
) -> ImportSummary:
    """Change names, description, taxonomy or add a GTIN; code and producer stay."""
    before = [getattr(product, name) for name in APPROVED_FIELDS]
    summary = _import(
        session,
        "products",
        {**record, "code": product.code, "producer": product.producer.tax_code},
    )
    stored = session.get_one(Product, product.id)  # ``product`` may be another session's
    if not by_authority and before != [getattr(stored, name) for name in APPROVED_FIELDS]:
        stored.approved = False
        session.flush()
    return summary


def approve_product(session: Session, product: Product) -> bool:
    """Approve a proposed product; False when it already was.

    One conditional UPDATE, so two officers approving at once record one approval.
    """
    changed = rowcount(
        session,
        update(Product)
        .where(Product.id == product.id, Product.approved.is_(False))
        .values(approved=True)
        .execution_options(synchronize_session=False),
    )
    return changed == 1


def _product(session: Session, code: str) -> Product | None:
    code = unicodedata.normalize("NFC", code.strip())  # as the importer reads codes
    return session.scalars(select(Product).where(Product.code == code)).one_or_none()


# --------------------------------------------------------------------------- facilities

# What the importer lets change on a stored facility (a GLN only while it is empty).
FACILITY_FIELDS = (
    "name", "gln", "planting_area_code", "crop", "area_ha", "latitude", "longitude", "address",
)  # fmt: skip


def facilities_of(session: Session, organisation_id: int | None) -> Sequence[Facility]:
    """The facilities of one organisation, or of all when ``organisation_id`` is None."""
    query = select(Facility).order_by(Facility.code)
    if organisation_id is not None:
        query = query.where(Facility.organisation_id == organisation_id)
    return session.scalars(query).all()


def create_facility(
    session: Session, who: Actor, organisation: Organisation, values: Mapping[str, str | None]
) -> None:
    """Record a new facility of ``organisation`` through the importer, audited."""
    code = values.get("code") or ""
    if session.scalar(select(Facility.id).where(Facility.code == code)) is not None:
        raise FacilityCodeTaken(
            "The code %(code)s is already in use; choose another.", "code", code=code
        )
    import_records(session, _facility_document(organisation.tax_code, values))
    audit.record(
        session, who, "facility.create", code, {"kind": values.get("kind"), "name": values["name"]}
    )


def update_facility(
    session: Session, who: Actor, facility: Facility, values: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Change what the importer lets change; the changed fields (new values), audited."""
    for name in FACILITY_FIELDS:
        if not values.get(name) and getattr(facility, name) is not None:
            # The importer never erases a stored value; say so rather than seem to.
            raise InvalidInput("A saved value cannot be removed; enter a new value instead.", name)
    before = facility_values(facility)
    record = {"code": facility.code, "kind": facility.kind.value, **values}
    import_records(session, _facility_document(facility.organisation.tax_code, record))
    changes = {k: v for k, v in facility_values(facility).items() if v != before[k]}
    if changes:
        audit.record(session, who, "facility.update", facility.code, {"changed": changes})
    return changes


def facility_values(facility: Facility) -> dict[str, str | None]:
    """The editable fields as a form shows them (12,5, not 12.5000): as the rule for
    numbers reads them back (:mod:`ocop.trace.numbers`)."""
    return {name: _shown(getattr(facility, name)) for name in FACILITY_FIELDS}


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return write_number(value)
    return str(value)


def _facility_document(tax_code: str, values: Mapping[str, str | None]) -> dict[str, object]:
    # Left-out fields keep what is stored; empty ones are left out.
    record = {k: v for k, v in values.items() if v} | {"organisation": tax_code}
    return {"format": FORMAT, "facilities": [record]}


# --------------------------------------------------------------------------- certifications


def record_certificate(session: Session, record: Mapping[str, Any]) -> Saved[Certification]:
    """Record a certificate (import fields); an OCOP one only for an approved product."""
    scheme, number = str(record.get("scheme") or ""), str(record.get("number") or "")
    product = _product(session, str(record.get("product") or ""))
    if scheme == Scheme.OCOP and product is not None and not product.approved:
        raise NotApproved(
            "product %(code)s is not approved yet; approve it before certifying it",
            field="product",
            code=product.code,
        )
    existing = _certificate(session, scheme, number)
    summary = _import(session, "certifications", record)
    if existing is not None and summary.changed_anything:
        raise AlreadyRecorded(
            "certificate %(scheme)s/%(number)s is already recorded", scheme=scheme, number=number
        )
    cert = _certificate(session, scheme, number)
    assert cert is not None
    return Saved(cert, existing is None, summary.changed_anything)


def revoke_certificate(session: Session, cert: Certification, reason: str | None) -> bool:
    """Revoke ``cert`` with ``reason``; False when it already was, for that reason.

    The importer decides: a reason is required, and only a valid certificate changes.
    """
    record = {**certificate_record(cert), "status": CertStatus.REVOKED.value}
    record["status_reason"] = reason
    return _import(session, "certifications", record).changed_anything


def certificate_record(cert: Certification) -> dict[str, Any]:
    """A stored certificate as import fields: the importer compares them all."""
    return {
        "scheme": cert.scheme.value,
        "number": cert.number,
        "product": cert.product.code if cert.product else None,
        "facility": cert.facility.code if cert.facility else None,
        "stars": cert.stars,
        "score": cert.score,  # a number, not text: nothing to read
        "level": cert.level.value if cert.level else None,
        "issuing_body": cert.issuing_body,
        "decision_number": cert.decision_number,
        "decision_date": cert.decision_date.isoformat() if cert.decision_date else None,
        "legal_basis": cert.legal_basis,
        "valid_from": cert.valid_from.isoformat(),
        "valid_until": cert.valid_until.isoformat(),
    }


def _certificate(session: Session, scheme: str, number: str) -> Certification | None:
    try:
        known = Scheme(scheme)
    except ValueError:  # the importer says why
        return None
    return session.scalars(
        select(Certification).where(Certification.scheme == known, Certification.number == number)
    ).one_or_none()


# --------------------------------------------------------------------------- the import


def _import(session: Session, section: str, record: Mapping[str, Any]) -> ImportSummary:
    try:
        return import_records(session, {"format": FORMAT, section: [_present(record)]})
    except InvalidRecord as error:
        raise _for_form(error, section) from None


def _present(record: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out what the form left empty: the importer never erases a stored value
    for a field that is absent."""
    kept: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, list):
            value = [_present(item) for item in value]
        if value is not None and value != "" and value != []:
            kept[key] = value
    return kept


def _for_form(error: InvalidRecord, section: str) -> InvalidRecord:
    """The same error with its path cut to the field the form has: a form field
    (``province``) stands for ``$.organisations[0].addresses[0].province``, and a
    path that names no field is dropped, so people never read JSON paths."""
    match = _LAST_FIELD.search(error.path or "")
    path = f"$.{section}[0].{match.group(1)}" if match else None
    return type(error)(error.reason, path)
