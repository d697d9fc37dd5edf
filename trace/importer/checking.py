"""Checking the records of a file against each other and against the database.

One :class:`Import` per file: it holds the file's specs by natural key, loads what
the database already holds of every record the file names (a few bulk SELECTs,
never one per record), and refuses a file whose records name what exists
neither in the file nor in the database, reuse a GTIN or GLN of another record,
correct an event twice, or make a lot its own ancestor. Comparing the file with
what is stored is ``comparing``'s.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ..errors import GenealogyCycle, InvalidRecord, Phrase
from ..genealogy import descendant_edges, find_cycle
from ..models import (
    PRODUCER_KINDS,
    Certification,
    Event,
    EventType,
    Facility,
    Lot,
    LotRole,
    Organisation,
    OrgKind,
    Product,
)
from .records import EventSpec, LotSpec, Parsed

# Keys per IN (...) list: well under the parameters one statement may carry
# (32,766 on SQLite, 65,535 on PostgreSQL).
_CHUNK = 5000

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``, one IN (...) list each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _HasPath(Protocol):
    path: str


S = TypeVar("S", bound=_HasPath)


def _unique(specs: Iterable[S], key: Callable[[S], Any], what: Phrase) -> dict[Any, S]:
    found: dict[Any, S] = {}
    for spec in specs:
        k = key(spec)
        if k in found:
            raise InvalidRecord(
                "%(what)s %(key)s appears twice in this file (first at %(first)s)",
                spec.path,
                what=what,
                key=_show_key(k),
                first=found[k].path,
            )
        found[k] = spec
    return found


def _show_key(key: Any) -> str:
    return "/".join(map(str, key)) if isinstance(key, tuple) else repr(key)


def _unknown(what: Phrase, key: str, path: str) -> InvalidRecord:
    return InvalidRecord(
        "unknown %(what)s %(key)r: not in this file nor in the database", path, what=what, key=key
    )


class Import:
    """One import: the parsed file, and what the database already holds of its records."""

    def __init__(self, session: Session, parsed: Parsed, *, sample: bool, now: dt.datetime) -> None:
        self.session = session
        self.p = parsed
        self.sample = sample
        self.now = now
        self.orgs = _unique(parsed.organisations, lambda s: s.tax_code, Phrase("tax code"))
        self.facilities = _unique(parsed.facilities, lambda s: s.code, Phrase("facility code"))
        self.products = _unique(parsed.products, lambda s: s.code, Phrase("product code"))
        self.certs = _unique(
            parsed.certifications, lambda s: (s.scheme.value, s.number), Phrase("certificate")
        )
        self.lots = _unique(parsed.lots, lambda s: s.code, Phrase("lot code"))
        self.events = _unique(parsed.events, lambda s: s.event_id, Phrase("event id"))
        _unique((s for s in parsed.products if s.gtin), lambda s: s.gtin, Phrase("GTIN"))
        _unique((s for s in parsed.facilities if s.gln), lambda s: s.gln, Phrase("GLN"))

    # ---- what the database holds

    def load(self) -> None:
        """Fetch what the database holds of every record the file names."""
        p = self.p
        org_keys = (
            set(self.orgs)
            | {f.organisation for f in p.facilities}
            | {x.producer for x in p.products}
            | {x.owner for x in p.lots if x.owner}
            | {e.organisation for e in p.events if e.organisation}
            | {r.by for r in p.recalls if r.by}
            | {o.council for o in p.organisations if o.council}
        )
        self.db_orgs = {
            o.tax_code: o for o in self._fetch(Organisation, Organisation.tax_code, org_keys)
        }
        self.org_ids = {code: o.id for code, o in self.db_orgs.items()}
        facility_keys = (
            set(self.facilities)
            | {c.facility for c in p.certifications if c.facility}
            | {x.facility for x in p.lots if x.facility}
            | {e.facility for e in p.events if e.facility}
        )
        self.db_facilities = {
            f.code: f for f in self._fetch(Facility, Facility.code, facility_keys)
        }
        product_keys = (
            set(self.products)
            | {c.product for c in p.certifications if c.product}
            | {x.product for x in p.lots if x.product}
        )
        self.db_products = {x.code: x for x in self._fetch(Product, Product.code, product_keys)}
        # Stored facilities and products name their organisations: an event or a lot
        # may default to them without the file repeating the tax code.
        for f in self.db_facilities.values():
            self.org_ids[f.organisation.tax_code] = f.organisation_id
        for x in self.db_products.values():
            self.org_ids[x.producer.tax_code] = x.producer_id
        numbers = {number for _scheme, number in self.certs}
        self.db_certs = {
            (c.scheme.value, c.number): c
            for c in self._fetch(Certification, Certification.number, numbers)
        }
        lot_keys = (
            set(self.lots)
            | {link.lot for e in p.events for link in e.links}
            | {r.lot for r in p.recalls}
        )
        self.db_lots = {row.code: row for row in self._rows(Lot.__table__, Lot.code, lot_keys)}
        event_keys = set(self.events) | {e.corrects for e in p.events if e.corrects}
        self.db_events = {
            row.event_id: row for row in self._rows(Event.__table__, Event.event_id, event_keys)
        }

    def _fetch(self, model: type[T], column: Any, keys: Iterable[str]) -> list[T]:
        found: list[T] = []
        for chunk in chunks(sorted(keys)):
            found.extend(self.session.scalars(select(model).where(column.in_(chunk))))
        return found

    def _rows(self, table: Any, column: Any, keys: Iterable[str]) -> list[Row[Any]]:
        found: list[Row[Any]] = []
        for chunk in chunks(sorted(keys)):
            found.extend(self.session.execute(select(table).where(column.in_(chunk))))
        return found

    # ---- references

    def org_kind(self, tax_code: str, path: str) -> OrgKind:
        """The kind of organisation ``tax_code``, from the file or else the database."""
        if tax_code in self.orgs:
            return self.orgs[tax_code].kind
        if tax_code in self.db_orgs:
            return self.db_orgs[tax_code].kind
        raise _unknown(Phrase("organisation (tax code)"), tax_code, path)

    def facility_org(self, code: str, path: str) -> str:
        """The tax code of the organisation that owns facility ``code``."""
        if code in self.facilities:
            return self.facilities[code].organisation
        if code in self.db_facilities:
            return self.db_facilities[code].organisation.tax_code
        raise _unknown(Phrase("facility"), code, path)

    def product_producer(self, code: str, path: str) -> str:
        """The tax code of the organisation that makes product ``code``."""
        if code in self.products:
            return self.products[code].producer
        if code in self.db_products:
            return self.db_products[code].producer.tax_code
        raise _unknown(Phrase("product"), code, path)

    def require_lot(self, code: str, path: str) -> None:
        """Refuse a lot that is neither in the file nor in the database."""
        if code not in self.lots and code not in self.db_lots:
            raise _unknown(Phrase("lot"), code, path)

    def check_references(self) -> None:
        """Refuse records that name what is neither in the file nor in the database."""
        for o in self.p.organisations:
            if o.council is None:
                continue
            where = f"{o.path}.council"
            if o.council == o.tax_code:
                raise InvalidRecord("an organisation cannot be its own council", where)
            if self.org_kind(o.council, where) is not OrgKind.AUTHORITY:
                raise InvalidRecord(
                    "organisation %(council)r is not an authority; "
                    "a council is an OCOP council (an authority)",
                    where,
                    council=o.council,
                )
        for f in self.p.facilities:
            self.org_kind(f.organisation, f"{f.path}.organisation")
        for x in self.p.products:
            kind = self.org_kind(x.producer, f"{x.path}.producer")
            if kind not in PRODUCER_KINDS:
                raise InvalidRecord(
                    "organisation %(tax_code)r is a %(kind)s; products are made by "
                    "enterprises, cooperatives, cooperative groups or household businesses",
                    f"{x.path}.producer",
                    tax_code=x.producer,
                    kind=kind,
                )
        for c in self.p.certifications:
            if c.product is not None:
                self.product_producer(c.product, f"{c.path}.product")
            if c.facility is not None:
                self.facility_org(c.facility, f"{c.path}.facility")
        for lot in self.p.lots:
            self._check_lot(lot)
        for e in self.p.events:
            self._check_event(e)
        for r in self.p.recalls:
            self.require_lot(r.lot, f"{r.path}.lot")
            if r.by is not None:
                self.org_kind(r.by, f"{r.path}.by")

    def _check_lot(self, lot: LotSpec) -> None:
        producer = (
            self.product_producer(lot.product, f"{lot.path}.product") if lot.product else None
        )
        place_owner = (
            self.facility_org(lot.facility, f"{lot.path}.facility") if lot.facility else None
        )
        if lot.owner is not None:
            self.org_kind(lot.owner, f"{lot.path}.owner")
        elif producer is None and place_owner is None:
            raise InvalidRecord(
                "a raw-material lot needs an owner (tax code) or a facility", f"{lot.path}.owner"
            )

    def _check_event(self, e: EventSpec) -> None:
        if e.facility is not None:
            self.facility_org(e.facility, f"{e.path}.facility")
        if e.organisation is not None:
            self.org_kind(e.organisation, f"{e.path}.organisation")
        elif e.facility is None:
            raise InvalidRecord(
                "an event needs the organisation (tax code) that recorded it, or a facility",
                f"{e.path}.organisation",
            )
        for link in e.links:
            self.require_lot(
                link.lot, f"{link.path}.lot" if link.role is not LotRole.PARENT else link.path
            )
        if e.corrects is not None:
            target = self.events.get(e.corrects)
            if target is not None and target.index >= e.index:
                raise InvalidRecord(
                    "corrects %(event)r, which comes later in this file; "
                    "list the corrected event first",
                    f"{e.path}.corrects",
                    event=e.corrects,
                )
            if target is None and e.corrects not in self.db_events:
                raise _unknown(Phrase("event"), e.corrects, f"{e.path}.corrects")

    def check_unique_identifiers(self) -> None:
        """GTINs and GLNs are unique across the database too, not just this file."""
        gtins = {x.gtin: x for x in self.p.products if x.gtin}
        for chunk in chunks(sorted(gtins)):
            for code, gtin in self.session.execute(
                select(Product.code, Product.gtin).where(Product.gtin.in_(chunk))
            ):
                gtin = cast(str, gtin)  # IN never matches NULL
                if gtins[gtin].code != code:
                    raise InvalidRecord(
                        "GTIN %(gtin)s already belongs to product %(code)r",
                        f"{gtins[gtin].path}.gtin",
                        gtin=gtin,
                        code=code,
                    )
        glns = {x.gln: x for x in self.p.facilities if x.gln}
        for chunk in chunks(sorted(glns)):
            for code, gln in self.session.execute(
                select(Facility.code, Facility.gln).where(Facility.gln.in_(chunk))
            ):
                gln = cast(str, gln)  # IN never matches NULL
                if glns[gln].code != code:
                    raise InvalidRecord(
                        "GLN %(gln)s already belongs to facility %(code)r",
                        f"{glns[gln].path}.gln",
                        gln=gln,
                        code=code,
                    )

    def check_corrections(self, new_events: Sequence[EventSpec]) -> None:
        """One correction per event: two would leave the right version unclear."""
        by_target: dict[str, EventSpec] = {}
        for e in new_events:
            if e.corrects is None:
                continue
            if e.corrects in by_target:
                raise InvalidRecord(
                    "event %(event)r is already corrected by %(corrector)r in this file; "
                    "correct the correction instead",
                    f"{e.path}.corrects",
                    event=e.corrects,
                    corrector=by_target[e.corrects].event_id,
                )
            by_target[e.corrects] = e
        targets = [self.db_events[t].id for t in by_target if t in self.db_events]
        for chunk in chunks(targets):
            rows = self.session.execute(
                select(Event.event_id, Event.corrects_id).where(Event.corrects_id.in_(chunk))
            )
            for corrector, target_id in rows:
                target = next(k for k, v in self.db_events.items() if v.id == target_id)
                raise InvalidRecord(
                    "event %(event)r is already corrected by %(corrector)r; "
                    "correct that correction instead",
                    f"{by_target[target].path}.corrects",
                    event=target,
                    corrector=corrector,
                )

    # ---- genealogy

    def check_genealogy(self, new_events: Sequence[EventSpec]) -> None:
        """Refuse new transformations that would make a lot its own ancestor."""
        corrected = {e.corrects for e in self.p.events if e.corrects}
        graph: dict[str, set[str]] = {}
        blame: dict[tuple[str, str], EventSpec] = {}
        for e in new_events:
            if e.type is not EventType.TRANSFORMATION or e.event_id in corrected:
                continue
            inputs = [x.lot for x in e.links if x.role is LotRole.INPUT]
            outputs = [x.lot for x in e.links if x.role is LotRole.OUTPUT]
            for a in inputs:
                for b in outputs:
                    graph.setdefault(a, set()).add(b)
                    blame[(a, b)] = e
        if not graph:
            return
        self._add_stored_edges(graph, corrected)
        cycle = find_cycle(graph)
        if cycle is None:
            return
        steps = list(itertools.pairwise(cycle))
        culprit = max((blame[s] for s in steps if s in blame), key=lambda e: e.index)
        raise GenealogyCycle(
            "this transformation closes a loop in the lot genealogy: %(loop)s "
            "(lot %(lot)r would be its own ancestor)",
            culprit.path,
            loop=" → ".join(cycle),
            lot=cycle[0],
        )

    def _add_stored_edges(self, graph: dict[str, set[str]], corrected: set[str]) -> None:
        # A loop through stored records must leave the new edges at a stored lot
        # (only stored lots have stored edges), so the stored descendants of the
        # new edges' outputs are all the database can add.
        outputs = {b for targets in graph.values() for b in targets}
        stored = [self.db_lots[c].id for c in outputs if c in self.db_lots]
        if not stored:
            return
        skip = {self.db_events[c].id for c in corrected if c in self.db_events}
        edges = [(a, b) for a, b, ev in descendant_edges(self.session, stored) if ev not in skip]
        ids = {x for edge in edges for x in edge}
        codes: dict[int, str] = {}
        for chunk in chunks(sorted(ids)):
            rows = self.session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(chunk)))
            codes.update((lot_id, code) for lot_id, code in rows)
        for a, b in edges:
            graph.setdefault(codes[a], set()).add(codes[b])


__all__ = ["Import", "chunks"]
