"""Writing what a checked and compared file adds: bulk INSERTs inside a SAVEPOINT.

:func:`write` carries out a :class:`~.comparing.Plan` in the order the foreign
keys need (organisations and their addresses, facilities, products,
certificates, lots, events and their lots, recalls), each kind as one bulk
statement per chunk rather than one per record, and refreshes PostgreSQL's
statistics after a big load. A failure here, such as a concurrent import of
the same records, leaves the caller's transaction as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import TraceError
from ..folding import product_search_text
from ..models import (
    Address,
    AppliedStandard,
    Certification,
    CertStatus,
    Event,
    EventLot,
    Facility,
    Lot,
    Organisation,
    Product,
    Recall,
    Trademark,
)
from .checking import Import, chunks
from .comparing import Plan, utc
from .records import CertSpec, FacilitySpec, LotSpec, OrgSpec, ProductSpec


def write(job: Import, plan: Plan) -> None:
    """Carry out ``plan``; TraceError if the database refuses it, with nothing written."""
    session = job.session
    # The SAVEPOINT undoes a half-done write even if the caller goes on to commit.
    savepoint = session.begin_nested()
    try:
        _Writer(job, plan).write()
        session.flush()
        _refresh_statistics(session, plan.tally.created)
    except IntegrityError as error:
        savepoint.rollback()
        raise TraceError(
            "the database refused the import, most likely because another import wrote "
            "the same records at the same moment; run it again (%(problem)s)",
            problem=_first_line(error),
        ) from None
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()


# Past this many new rows PostgreSQL's statistics of a table are stale enough for
# its planner to pick nested loops over "empty" tables until autovacuum runs.
_ANALYZE_AFTER = 10_000


def _refresh_statistics(session: Session, created: Mapping[str, int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    tables = {"lots": ["lots"], "events": ["events", "event_lots"]}
    for kind, names in tables.items():
        if created.get(kind, 0) >= _ANALYZE_AFTER:
            for name in names:
                session.execute(text(f"ANALYZE {name}"))


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", error)).strip().splitlines()[0][:200]


class _Writer:
    def __init__(self, job: Import, plan: Plan) -> None:
        self.job = job
        self.plan = plan
        self.session = job.session
        self.now = job.now
        self.tally = plan.tally

    def write(self) -> None:
        for row, changes in self.plan.row_updates:
            for name, value in changes.items():
                setattr(row, name, value)
        org_ids = dict(self.job.org_ids)
        org_ids.update(
            self._insert(
                Organisation, Organisation.tax_code, [self._org_row(o) for o in self.plan.new_orgs]
            )
        )
        self.tally.created["organisations"] += len(self.plan.new_orgs)
        self._insert_addresses(org_ids)
        for tax_code, council in self.plan.council_links:
            self.session.execute(
                update(Organisation)
                .where(Organisation.id == org_ids[tax_code])
                .values(council_id=org_ids[council])
            )
        facility_ids = {code: row.id for code, row in self.job.db_facilities.items()}
        facility_ids.update(
            self._insert(
                Facility,
                Facility.code,
                [self._facility_row(f, org_ids) for f in self.plan.new_facilities],
            )
        )
        self.tally.created["facilities"] += len(self.plan.new_facilities)
        product_ids = {code: row.id for code, row in self.job.db_products.items()}
        product_ids.update(
            self._insert(
                Product,
                Product.code,
                [self._product_row(x, org_ids) for x in self.plan.new_products],
            )
        )
        self.tally.created["products"] += len(self.plan.new_products)
        cert_rows = [self._cert_row(c, product_ids, facility_ids) for c in self.plan.new_certs]
        if cert_rows:
            _bulk_insert(self.session, Certification, cert_rows, self.now)
        self.tally.created["certifications"] += len(cert_rows)
        self._write_marks(product_ids, facility_ids)
        lot_ids = {code: row.id for code, row in self.job.db_lots.items()}
        lot_rows = [
            self._lot_row(x, product_ids, facility_ids, org_ids) for x in self.plan.new_lots
        ]
        lot_ids.update(self._insert(Lot, Lot.code, lot_rows))
        if self.plan.lot_updates:
            self.session.execute(update(Lot), self.plan.lot_updates)
        self.tally.created["lots"] += len(lot_rows)
        self._write_events(org_ids, facility_ids, lot_ids)
        self._write_recalls(org_ids, lot_ids)

    def _write_marks(self, product_ids: Mapping[str, int], facility_ids: Mapping[str, int]) -> None:
        """Standards and trademarks not yet recorded; recorded ones stay as they are."""
        standards: dict[tuple[Any, ...], dict[str, Any]] = {}
        for owner, ids, column in (
            (self.job.p.products, product_ids, "product_id"),
            (self.job.p.facilities, facility_ids, "facility_id"),
        ):
            for spec in owner:
                for std in spec.standards:
                    row: dict[str, Any] = {
                        "product_id": None,
                        "facility_id": None,
                        column: ids[spec.code],
                        "kind": std.kind,
                        "code": std.code,
                        "title": std.title,
                    }
                    key = (row["product_id"], row["facility_id"], std.kind.value, std.code)
                    standards[key] = row
        if standards:
            recorded = {
                (p, f, k.value, c)
                for p, f, k, c in self.session.execute(
                    select(
                        AppliedStandard.product_id,
                        AppliedStandard.facility_id,
                        AppliedStandard.kind,
                        AppliedStandard.code,
                    )
                )
            }
            rows = [row for key, row in standards.items() if key not in recorded]
            _bulk_insert(self.session, AppliedStandard, rows, self.now)
        marks = {
            (product_ids[x.code], t.office, t.number): {
                "product_id": product_ids[x.code],
                "mark": t.mark,
                "number": t.number,
                "owner": t.owner,
                "filed_on": t.filed_on,
                "granted_on": t.granted_on,
                "classes": t.classes,
                "office": t.office,
            }
            for x in self.job.p.products
            for t in x.trademarks
        }
        if marks:
            recorded_marks = {
                (p, o, n)
                for p, o, n in self.session.execute(
                    select(Trademark.product_id, Trademark.office, Trademark.number)
                )
            }
            rows = [row for key, row in marks.items() if key not in recorded_marks]
            _bulk_insert(self.session, Trademark, rows, self.now)

    def _insert(self, model: Any, key: Any, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert ``rows`` in bulk; their new ids by natural key."""
        if not rows:
            return {}
        # Not INSERT ... RETURNING: to keep ids in order SQLAlchemy falls back to
        # one statement per row here. One executemany, then one SELECT of the rows
        # above the previous highest id (a concurrent writer's rows, possible on
        # PostgreSQL, are told apart by their keys) is far faster on both engines.
        before = self.session.scalar(select(func.max(model.id))) or 0
        _bulk_insert(self.session, model, rows, self.now)
        wanted = {row[key.key] for row in rows}
        found = self.session.execute(select(model.id, key).where(model.id > before))
        ids = {k: i for i, k in found if k in wanted}
        assert len(ids) == len(wanted)
        return ids

    def _org_row(self, o: OrgSpec) -> dict[str, Any]:
        return {
            "tax_code": o.tax_code, "kind": o.kind, "name": o.name, "short_name": o.short_name,
            "phone": o.phone, "email": o.email, "website": o.website, "sample": self.job.sample,
        }  # fmt: skip

    def _insert_addresses(self, org_ids: Mapping[str, int]) -> None:
        rows = [
            {
                "organisation_id": org_ids[tax_code], "street": a.street, "commune": a.commune,
                "district": a.district, "province": a.province, "country": a.country,
                "effective_from": a.effective_from, "note": a.note,
            }
            for tax_code, a in self.plan.new_addresses
        ]  # fmt: skip
        if rows:
            _bulk_insert(self.session, Address, rows, self.now)
        self.tally.created["addresses"] += len(rows)

    def _facility_row(self, f: FacilitySpec, org_ids: Mapping[str, int]) -> dict[str, Any]:
        return {
            "code": f.code, "organisation_id": org_ids[f.organisation], "kind": f.kind,
            "name": f.name, "gln": f.gln, "planting_area_code": f.planting_area_code,
            "crop": f.crop, "area_ha": f.area_ha, "latitude": f.latitude,
            "longitude": f.longitude, "address": f.address,
        }  # fmt: skip

    def _product_row(self, x: ProductSpec, org_ids: Mapping[str, int]) -> dict[str, Any]:
        return {
            "code": x.code, "producer_id": org_ids[x.producer], "name": x.name,
            "short_name": x.short_name, "description": x.description, "gtin": x.gtin,
            "image": x.image, "sector": x.sector, "group": x.group, "product_set": x.product_set,
            "taxonomy_basis": x.taxonomy_basis,
            # Bulk rows bypass Product's setter that keeps the folded name.
            "search_text": product_search_text(x.name, x.short_name),
        }  # fmt: skip

    def _cert_row(
        self, c: CertSpec, product_ids: Mapping[str, int], facility_ids: Mapping[str, int]
    ) -> dict[str, Any]:
        return {
            "scheme": c.scheme, "number": c.number,
            "product_id": product_ids[c.product] if c.product else None,
            "facility_id": facility_ids[c.facility] if c.facility else None,
            "stars": c.stars, "score": c.score, "level": c.level, "issuing_body": c.issuing_body,
            "decision_number": c.decision_number, "decision_date": c.decision_date,
            "legal_basis": c.legal_basis, "valid_from": c.valid_from, "valid_until": c.valid_until,
            "status": c.status, "status_reason": c.status_reason,
            "status_changed_at": self.now if c.status is not CertStatus.VALID else None,
        }  # fmt: skip

    def _lot_row(
        self,
        x: LotSpec,
        product_ids: Mapping[str, int],
        facility_ids: Mapping[str, int],
        org_ids: Mapping[str, int],
    ) -> dict[str, Any]:
        owner = x.owner
        if owner is None and x.product is not None:
            owner = self.job.product_producer(x.product, x.path)
        if owner is None and x.facility is not None:
            owner = self.job.facility_org(x.facility, x.path)
        assert owner is not None
        return {
            "code": x.code, "product_id": product_ids[x.product] if x.product else None,
            "item": x.item, "facility_id": facility_ids[x.facility] if x.facility else None,
            "owner_id": org_ids[owner], "produced_on": x.produced_on,
            "best_before": x.best_before, "quantity": x.quantity, "unit": x.unit,
        }  # fmt: skip

    def _write_events(
        self,
        org_ids: Mapping[str, int],
        facility_ids: Mapping[str, int],
        lot_ids: Mapping[str, int],
    ) -> None:
        events = self.plan.new_events
        self.tally.created["events"] += len(events)
        if not events:
            return
        event_ids = {key: row.id for key, row in self.job.db_events.items()}
        rows = []
        facility_orgs: dict[str, str] = {}
        for e in events:
            organisation = e.organisation
            if organisation is None:
                assert e.facility is not None
                organisation = facility_orgs.get(e.facility) or self.job.facility_org(
                    e.facility, e.path
                )
                facility_orgs[e.facility] = organisation
            rows.append(
                {
                    "event_id": e.event_id, "type": e.type, "action": e.action,
                    "biz_step": e.biz_step, "disposition": e.disposition, "event_time": e.time,
                    "time_zone": e.time_zone,
                    "facility_id": facility_ids[e.facility] if e.facility else None,
                    "organisation_id": org_ids[organisation],
                    # A correction of an event in this same file gets its pointer below,
                    # once that event has an id.
                    "corrects_id": event_ids.get(e.corrects) if e.corrects else None,
                    "reason": e.reason, "documents": e.documents, "sample": self.job.sample,
                }
            )  # fmt: skip
        event_ids.update(self._insert(Event, Event.event_id, rows))
        links = [
            {
                "event_id": event_ids[e.event_id], "lot_id": lot_ids[x.lot], "role": x.role,
                "quantity": x.quantity, "unit": x.unit,
            }
            for e in events
            for x in e.links
        ]  # fmt: skip
        _bulk_insert(self.session, EventLot, links, self.now)
        late = [
            {"id": event_ids[e.event_id], "corrects_id": event_ids[e.corrects]}
            for e in events
            if e.corrects and e.corrects not in self.job.db_events
        ]
        if late:
            self.session.execute(update(Event), late)

    def _write_recalls(self, org_ids: Mapping[str, int], lot_ids: Mapping[str, int]) -> None:
        if not self.job.p.recalls:
            return
        ids = [lot_ids[r.lot] for r in self.job.p.recalls]
        stored = {
            (lot_id, notice, utc(at))
            for lot_id, notice, at in self.session.execute(
                select(Recall.lot_id, Recall.notice, Recall.recalled_at).where(
                    Recall.lot_id.in_(ids)
                )
            )
        }
        rows = []
        for r in self.job.p.recalls:
            key = (lot_ids[r.lot], r.notice, r.at)
            if key in stored:
                self.tally.unchanged["recalls"] += 1
                continue
            stored.add(key)
            rows.append(
                {
                    "lot_id": key[0], "notice": r.notice, "recalled_at": r.at,
                    "recalled_by_id": org_ids[r.by] if r.by else None,
                }
            )  # fmt: skip
        if rows:
            _bulk_insert(self.session, Recall, rows, self.now)
        self.tally.created["recalls"] += len(rows)


def _bulk_insert(
    session: Session, model: Any, rows: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """INSERT ``rows`` (every one with the same keys) as one executemany per chunk.

    Neither the ORM's bulk INSERT (it splits the rows at every change in which
    columns are null: one statement per row for alternating raw and product
    lots) nor Core's (a parameter dict and a type conversion call per value)
    keeps up with a 100,000-event file. This converts column by column with
    each column type's own bind processor and hands tuples to the driver.
    """
    if not rows:
        return
    table = model.__table__
    connection = session.connection()
    dialect = connection.dialect
    # Python-side defaults (created_at, flags), which Core would fill in per row.
    defaults = {
        c.key: now if c.default.is_callable else c.default.arg
        for c in table.c
        if c.default is not None and c.key not in rows[0]
    }
    compiled = insert(table).compile(dialect=dialect, column_keys=[*rows[0], *defaults])
    names = list(compiled.positiontup or compiled.binds)
    for chunk in chunks(rows, 20000):
        columns = [_column_values(table.c[n], dialect, chunk, defaults) for n in names]
        params: list[Any] = list(zip(*columns, strict=True))
        if dialect.name == "postgresql":
            _copy(connection, table, names, params)
        elif compiled.positiontup is None:
            connection.exec_driver_sql(
                compiled.string, [dict(zip(names, values, strict=True)) for values in params]
            )
        else:
            connection.exec_driver_sql(compiled.string, params)


def _copy(
    connection: Any, table: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    # PostgreSQL checks foreign keys row by row whatever the statement; COPY
    # still takes a third of the time of batched INSERTs.
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(table.c[n].name) for n in names)
    sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _column_values(
    column: Any, dialect: Any, rows: Sequence[Mapping[str, Any]], defaults: Mapping[str, Any]
) -> list[Any]:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if column.key in defaults:
        value = defaults[column.key]
        return [process(value) if process and value is not None else value] * len(rows)
    values = [row[column.key] for row in rows]
    if process is None:
        return values
    return [None if v is None else process(v) for v in values]


__all__ = ["write"]
