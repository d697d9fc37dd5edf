"""Comparing a checked file with what is stored: what to create, update, leave alone.

A record already stored is either the same (unchanged), fills in or changes
what may change (updated: an organisation's phone, an empty GTIN, a valid
certificate that is now revoked), or contradicts what is kept as recorded, and
then :class:`ConflictingRecord` names the field. Nothing is changed here: the
result is a :class:`Plan` that ``writing`` carries out, and the counts that
become the :class:`ImportSummary`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select

from ..errors import ConflictingRecord, Phrase
from ..models import (
    Certification,
    CertStatus,
    Event,
    EventLot,
    Facility,
    LotRole,
    Organisation,
    Product,
)
from .checking import Import, chunks
from .records import AddressSpec, CertSpec, EventSpec, FacilitySpec, LotSpec, OrgSpec, ProductSpec
from .vocabulary import KINDS

# --------------------------------------------------------------------------- summary


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """How many records of each kind the import created, updated, or found unchanged."""

    created: Mapping[str, int]
    updated: Mapping[str, int]
    unchanged: Mapping[str, int]

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            kind: {
                "created": self.created.get(kind, 0),
                "updated": self.updated.get(kind, 0),
                "unchanged": self.unchanged.get(kind, 0),
            }
            for kind in KINDS
        }

    def __str__(self) -> str:
        parts = []
        for kind in KINDS:
            counts = [
                f"{n} {what}"
                for what, n in (
                    ("created", self.created.get(kind, 0)),
                    ("updated", self.updated.get(kind, 0)),
                    ("unchanged", self.unchanged.get(kind, 0)),
                )
                if n
            ]
            if counts:
                parts.append(f"{kind}: {', '.join(counts)}")
        return "; ".join(parts) if parts else "nothing to import"


class Tally:
    """The counts of an import as it goes: comparing finds updates, writing creates."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()

    def summary(self) -> ImportSummary:
        return ImportSummary(dict(self.created), dict(self.updated), dict(self.unchanged))


# --------------------------------------------------------------------------- the plan


@dataclass(slots=True)
class Plan:
    """What an import writes: the new records, and the changes to stored ones."""

    tally: Tally = field(default_factory=Tally)
    new_orgs: list[OrgSpec] = field(default_factory=list)
    new_addresses: list[tuple[str, AddressSpec]] = field(default_factory=list)
    new_facilities: list[FacilitySpec] = field(default_factory=list)
    new_products: list[ProductSpec] = field(default_factory=list)
    new_certs: list[CertSpec] = field(default_factory=list)
    new_lots: list[LotSpec] = field(default_factory=list)
    new_events: list[EventSpec] = field(default_factory=list)
    row_updates: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    # (organisation, council) by tax code: set once every organisation has an id.
    council_links: list[tuple[str, str]] = field(default_factory=list)
    lot_updates: list[dict[str, Any]] = field(default_factory=list)


def compare(job: Import) -> Plan:
    """What ``job``'s file adds and changes, or ConflictingRecord if it contradicts the store."""
    return _Comparison(job).run()


class _Comparison:
    def __init__(self, job: Import) -> None:
        self.job = job
        self.plan = Plan()
        self.tally = self.plan.tally

    def run(self) -> Plan:
        job, plan, p = self.job, self.plan, self.job.p
        plan.new_orgs = [o for o in p.organisations if o.tax_code not in job.db_orgs]
        org_updates = [
            (o, job.db_orgs[o.tax_code]) for o in p.organisations if o.tax_code in job.db_orgs
        ]
        plan.new_addresses = [(o.tax_code, a) for o in plan.new_orgs for a in o.addresses]
        plan.council_links = [(o.tax_code, o.council) for o in plan.new_orgs if o.council]
        for spec, row in org_updates:
            self._compare_org(spec, row)
        plan.new_facilities = [f for f in p.facilities if f.code not in job.db_facilities]
        for f in p.facilities:
            if f.code in job.db_facilities:
                self._compare_facility(f, job.db_facilities[f.code])
        plan.new_products = [x for x in p.products if x.code not in job.db_products]
        for x in p.products:
            if x.code in job.db_products:
                self._compare_product(x, job.db_products[x.code])
        plan.new_certs = [
            c for c in p.certifications if (c.scheme.value, c.number) not in job.db_certs
        ]
        for c in p.certifications:
            if (c.scheme.value, c.number) in job.db_certs:
                self._compare_cert(c, job.db_certs[(c.scheme.value, c.number)])
        plan.new_lots = [x for x in p.lots if x.code not in job.db_lots]
        for lot in p.lots:
            if lot.code in job.db_lots:
                self._compare_lot(lot, job.db_lots[lot.code])
        plan.new_events = [e for e in p.events if e.event_id not in job.db_events]
        self._compare_events([e for e in p.events if e.event_id in job.db_events])
        return plan

    def _compare_org(self, spec: OrgSpec, row: Organisation) -> None:
        for name in ("kind", "name"):
            if getattr(spec, name) != getattr(row, name):
                raise ConflictingRecord(
                    "organisation %(tax_code)r is recorded with %(name)s %(old)s, not %(new)s; "
                    "a tax code keeps its %(name)s",
                    f"{spec.path}.{name}",
                    tax_code=spec.tax_code,
                    name=name,
                    old=_plain(getattr(row, name)),
                    new=_plain(getattr(spec, name)),
                )
        changes = self._fill(spec, row, ("short_name", "phone", "email", "website"), overwrite=True)
        stored_council = row.council.tax_code if row.council is not None else None
        relinked = spec.council is not None and spec.council != stored_council
        if relinked:
            # A province merged into another moves its organisations to that council.
            self.plan.council_links.append((spec.tax_code, str(spec.council)))
        if relinked and not changes:
            self.tally.updated["organisations"] += 1
        else:
            self._update("organisations", row, changes)
        stored = {a.effective_from: a for a in row.addresses}
        newest = max(stored, default=None)
        for address in spec.addresses:
            old = stored.get(address.effective_from)
            if old is not None:
                if address.content() != (
                    old.street,
                    old.commune,
                    old.district,
                    old.province,
                    old.country,
                    old.note,
                ):
                    raise ConflictingRecord(
                        "the address of %(tax_code)r effective %(date)s is recorded as "
                        "%(old)r; addresses are kept as written: add a new one with a later "
                        "effective_from",
                        address.path,
                        tax_code=spec.tax_code,
                        date=address.effective_from,
                        old=str(old),
                    )
                self.tally.unchanged["addresses"] += 1
            elif newest is not None and address.effective_from < newest:
                raise ConflictingRecord(
                    "a new address must take effect after the newest one recorded (%(newest)s); "
                    "the address history is only ever extended",
                    f"{address.path}.effective_from",
                    newest=newest,
                )
            else:
                self.plan.new_addresses.append((spec.tax_code, address))

    def _fill(
        self, spec: Any, row: Any, names: Iterable[str], *, overwrite: bool
    ) -> dict[str, Any]:
        """The given values that differ from ``row``; without ``overwrite`` only empty fields."""
        changes: dict[str, Any] = {}
        for name in names:
            new, old = getattr(spec, name), getattr(row, name)
            if new is None or new == old:
                continue
            if old is not None and not overwrite:
                raise ConflictingRecord(
                    "%(record)s is recorded with %(name)s %(old)s, not %(new)s; "
                    "recorded values are kept: record a new one instead",
                    f"{spec.path}.{name}",
                    record=_describe(row),
                    name=name,
                    old=_plain(old),
                    new=_plain(new),
                )
            changes[name] = new
        return changes

    def _update(self, kind: str, row: Any, changes: dict[str, Any]) -> None:
        # Applied by writing: a later error must leave the stored objects untouched.
        if changes:
            self.plan.row_updates.append((row, changes))
            self.tally.updated[kind] += 1
        else:
            self.tally.unchanged[kind] += 1

    def _compare_facility(self, spec: FacilitySpec, row: Facility) -> None:
        if spec.organisation != row.organisation.tax_code or spec.kind != row.kind:
            what = "organisation" if spec.organisation != row.organisation.tax_code else "kind"
            raise ConflictingRecord(
                "facility %(code)r is recorded with another %(name)s; "
                "a facility code keeps its owner and kind",
                f"{spec.path}.{what}",
                code=spec.code,
                name=what,
            )
        changes = self._fill(spec, row, ("gln",), overwrite=False)
        changes |= self._fill(
            spec, row,
            ("name", "planting_area_code", "crop", "area_ha", "latitude", "longitude", "address"),
            overwrite=True,
        )  # fmt: skip
        self._update("facilities", row, changes)

    def _compare_product(self, spec: ProductSpec, row: Product) -> None:
        if spec.producer != row.producer.tax_code:
            raise ConflictingRecord(
                "product %(code)r is recorded as made by %(producer)r; "
                "a product code keeps its producer",
                f"{spec.path}.producer",
                code=spec.code,
                producer=row.producer.tax_code,
            )
        changes = self._fill(spec, row, ("gtin",), overwrite=False)
        changes |= self._fill(
            spec, row,
            ("name", "short_name", "description", "image", "sector", "group", "product_set",
             "taxonomy_basis"),
            overwrite=True,
        )  # fmt: skip
        self._update("products", row, changes)

    def _compare_cert(self, spec: CertSpec, row: Certification) -> None:
        target_id = (
            (
                self.job.db_products[spec.product].id
                if spec.product in self.job.db_products
                else None
            )
            if spec.product
            else None
        )
        facility_id = (
            (
                self.job.db_facilities[spec.facility].id
                if spec.facility in self.job.db_facilities
                else None
            )
            if spec.facility
            else None
        )
        fixed = {
            "product": (target_id, row.product_id),
            "facility": (facility_id, row.facility_id),
            "stars": (spec.stars, row.stars),
            "score": (spec.score, row.score),
            "level": (spec.level, row.level),
            "issuing_body": (spec.issuing_body, row.issuing_body),
            "decision_number": (spec.decision_number, row.decision_number),
            "decision_date": (spec.decision_date, row.decision_date),
            "legal_basis": (spec.legal_basis, row.legal_basis),
            "valid_from": (spec.valid_from, row.valid_from),
            "valid_until": (spec.valid_until, row.valid_until),
        }
        for name, (new, old) in fixed.items():
            if new != old:
                raise ConflictingRecord(
                    "certificate %(scheme)s/%(number)s is recorded with %(name)s %(old)s, "
                    "not %(new)s; a certificate is kept as issued: record "
                    "a new certificate and mark this one superseded",
                    f"{spec.path}.{name}",
                    scheme=spec.scheme,
                    number=spec.number,
                    name=name,
                    old=_plain(old),
                    new=_plain(new),
                )
        self._update("certifications", row, self._change_status(spec, row))

    def _change_status(self, spec: CertSpec, row: Certification) -> dict[str, Any]:
        if spec.status == row.status and spec.status_reason in (None, row.status_reason):
            return {}
        if row.status is not CertStatus.VALID or spec.status is CertStatus.VALID:
            raise ConflictingRecord(
                "certificate %(scheme)s/%(number)s is %(status)s; only a valid "
                "certificate can become expired, revoked or superseded",
                f"{spec.path}.status",
                scheme=spec.scheme,
                number=spec.number,
                status=row.status,
            )
        return {
            "status": spec.status,
            "status_reason": spec.status_reason,
            "status_changed_at": self.job.now,
        }

    def _compare_lot(self, spec: LotSpec, row: Row[Any]) -> None:
        refs = {
            "product": (self._product_id(spec.product), row.product_id),
            "facility": (self._facility_id(spec.facility), row.facility_id),
            "owner": (self._org_id(spec.owner), row.owner_id),
        }
        for name, (new, old) in refs.items():
            if getattr(spec, name) is not None and new != old:
                raise ConflictingRecord(
                    "lot %(code)r is recorded with another %(name)s; lots are kept as recorded",
                    f"{spec.path}.{name}",
                    code=spec.code,
                    name=name,
                )
        changes = {}
        for name in ("item", "produced_on", "best_before", "quantity", "unit"):
            new, old = getattr(spec, name), getattr(row, name)
            if new is None or new == old:
                continue
            if old is not None:
                raise ConflictingRecord(
                    "lot %(code)r is recorded with %(name)s %(old)s, not %(new)s; "
                    "lots are kept as recorded",
                    f"{spec.path}.{name}",
                    code=spec.code,
                    name=name,
                    old=_plain(old),
                    new=_plain(new),
                )
            changes[name] = new
        if changes:
            self.plan.lot_updates.append({"id": row.id, **changes})
            self.tally.updated["lots"] += 1
        else:
            self.tally.unchanged["lots"] += 1

    def _product_id(self, code: str | None) -> int | None:
        row = self.job.db_products.get(code) if code else None
        return row.id if row else None

    def _facility_id(self, code: str | None) -> int | None:
        row = self.job.db_facilities.get(code) if code else None
        return row.id if row else None

    def _org_id(self, tax_code: str | None) -> int | None:
        return self.job.org_ids.get(tax_code) if tax_code else None

    def _compare_events(self, specs: list[EventSpec]) -> None:
        if not specs:
            return
        ids = [self.job.db_events[e.event_id].id for e in specs]
        # Every lot the file's events name is in db_lots already: no join needed
        # (and none for PostgreSQL's planner to get wrong on freshly loaded tables).
        codes: dict[int, Any] = {row.id: code for code, row in self.job.db_lots.items()}
        links: dict[int, set[tuple[Any, ...]]] = {}
        for chunk in chunks(ids):
            rows = self.job.session.execute(
                select(
                    EventLot.event_id,
                    EventLot.lot_id,
                    EventLot.role,
                    EventLot.quantity,
                    EventLot.unit,
                ).where(EventLot.event_id.in_(chunk))
            )
            for event_id, lot_id, role, quantity, unit in rows:
                code = codes.get(lot_id, ("lot id", lot_id))
                links.setdefault(event_id, set()).add((code, LotRole(role), quantity, unit))
        stored_ids = {row.id: key for key, row in self.job.db_events.items()}
        for spec in specs:
            row = self.job.db_events[spec.event_id]
            difference = self._event_difference(spec, row, links.get(row.id, set()), stored_ids)
            if difference:
                raise ConflictingRecord(
                    "event %(event)r already exists with different content "
                    "(%(difference)s); events are append-only: send a correction event "
                    "with `corrects`",
                    spec.path,
                    event=spec.event_id,
                    difference=difference,
                )
            self.tally.unchanged["events"] += 1

    def _event_difference(
        self,
        spec: EventSpec,
        row: Row[Any],
        links: set[tuple[Any, ...]],
        stored_ids: dict[int, str],
    ) -> Phrase | None:
        organisation = spec.organisation or self.job.facility_org(spec.facility or "", spec.path)
        corrects = stored_ids.get(row.corrects_id) if row.corrects_id else None
        if row.corrects_id and corrects is None:
            corrects = self.job.session.scalar(
                select(Event.event_id).where(Event.id == row.corrects_id)
            )
        checks = {
            "type": (spec.type, row.type),
            "action": (spec.action, row.action),
            "biz_step": (spec.biz_step, row.biz_step),
            "disposition": (spec.disposition, row.disposition),
            "time": ((spec.time, spec.time_zone), (utc(row.event_time), row.time_zone)),
            "facility": (self._facility_id(spec.facility), row.facility_id),
            "organisation": (self._org_id(organisation), row.organisation_id),
            "corrects": (spec.corrects, corrects),
            "reason": (spec.reason, row.reason),
            "documents": (spec.documents, row.documents),
        }
        for name, (new, old) in checks.items():
            if new != old:
                return Phrase("%(name)s differs", name=name)
        wanted = {(x.lot, x.role, x.quantity, x.unit) for x in spec.links}
        if _normal_links(wanted) != _normal_links(links):
            return Phrase("lots differ")
        return None


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` made timezone-aware: a naive time read back is UTC, as everything stored is."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _normal_links(links: Iterable[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    # Decimal("2.500") == Decimal("2.5"), but their hashes in a set must agree too.
    return {
        (lot, role, q.normalize() if q is not None else None, unit) for lot, role, q, unit in links
    }


def _describe(row: Any) -> Phrase:
    if isinstance(row, Facility):
        return Phrase("facility %(code)r", code=row.code)
    if isinstance(row, Product):
        return Phrase("product %(code)r", code=row.code)
    return Phrase("organisation %(tax_code)r", tax_code=row.tax_code)


def _plain(value: object) -> str:
    if isinstance(value, StrEnum):
        return repr(value.value)
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return repr(value)


__all__ = ["ImportSummary", "Plan", "Tally", "compare", "utc"]
