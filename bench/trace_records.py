"""How fast value-chain records import, and how fast a deep genealogy is read back.

    python bench/trace_records.py                      # SQLite in a temporary file
    python bench/trace_records.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Imports a synthetic file of 100,000 events (raw lots harvested, then transformed
into product lots, each product lot also feeding the next one) through the
same path as ``ocop trace import``: read the file, validate, write, commit. It
then imports it again (every record already there), and times the upstream tree
and the journey of a lot with 1,000 ancestors. Aim: at least 5,000 events/s on
SQLite. On PostgreSQL the run uses a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from checks import expect

import ocop.keys.models
import ocop.stamps.models  # noqa: F401  (every table, as in production)
from ocop.trace.db import Database, scratch_schema
from ocop.trace.genealogy import journey, upstream_tree
from ocop.trace.importer import import_records, load_import_file
from ocop.trace.queries import find_lot

ORG = "1000000001"
RAW_PER_PRODUCT = 4  # rice, gấc, peanuts, sesame


def _event_id(n: int) -> str:
    return f"urn:uuid:{uuid.UUID(int=n, version=4)}"


def _time(n: int) -> str:
    # One event a minute from 2025-01-01, in Vietnam's offset.
    minutes = n % (60 * 24 * 365)
    day, rest = divmod(minutes, 60 * 24)
    month, day = divmod(day, 28)
    return f"2025-{month % 12 + 1:02d}-{day + 1:02d}T{rest // 60:02d}:{rest % 60:02d}:00+07:00"


def _base() -> dict[str, Any]:
    return {
        "organisations": [{"tax_code": ORG, "kind": "cooperative", "name": "HTX Đo tốc độ"}],
        "facilities": [
            {"code": "AREA", "organisation": ORG, "kind": "raw_material_area", "name": "Vùng"},
            {"code": "PLANT", "organisation": ORG, "kind": "processing_plant", "name": "Xưởng"},
        ],
        "products": [{"code": "BC", "producer": ORG, "name": "Bánh cáy", "gtin": "8936045120019"}],
    }


def synthetic_chain(events: int) -> dict[str, Any]:
    """``events`` events: per product lot, four harvests and one transformation."""
    data = _base()
    lots, out = [], []
    group = RAW_PER_PRODUCT + 1
    previous = None
    for g in range(events // group):
        raws = [f"R{g:06d}-{k}" for k in range(RAW_PER_PRODUCT)]
        product = f"P{g:06d}"
        lots += [{"code": c, "item": "nguyên liệu", "facility": "AREA"} for c in raws]
        lots.append({"code": product, "product": "BC", "facility": "PLANT", "unit": "box"})
        for k, code in enumerate(raws):
            n = g * group + k
            out.append(_harvest(n, code))
        inputs = [{"lot": c, "quantity": 25, "unit": "kg"} for c in raws]
        if previous is not None:
            inputs.append({"lot": previous, "quantity": 1, "unit": "box"})
        out.append(_transform(g * group + RAW_PER_PRODUCT, inputs, product))
        previous = product
    data["lots"], data["events"] = lots, out
    return data


def _harvest(n: int, lot: str) -> dict[str, Any]:
    return {
        "id": _event_id(n),
        "type": "ObjectEvent",
        "action": "ADD",
        "biz_step": "harvesting",
        "time": _time(n),
        "facility": "AREA",
        "lots": [{"lot": lot, "quantity": 100, "unit": "kg"}],
    }


def _transform(n: int, inputs: list[dict[str, Any]], output: str) -> dict[str, Any]:
    return {
        "id": _event_id(n),
        "type": "TransformationEvent",
        "biz_step": "transforming",
        "time": _time(n),
        "facility": "PLANT",
        "inputs": inputs,
        "outputs": [{"lot": output, "quantity": 100, "unit": "box"}],
    }


def deep_lot(depth: int, offset: int) -> dict[str, Any]:
    """One lot with ``depth`` ancestors in a single line: D0000 -> D0001 -> ..."""
    codes = [f"D{i:05d}" for i in range(depth + 1)]
    data = _base()
    data["lots"] = [{"code": c, "item": "bột", "facility": "PLANT"} for c in codes]
    data["events"] = [
        _transform(offset + i, [{"lot": codes[i]}], codes[i + 1]) for i in range(depth)
    ]
    return data


@contextmanager
def database(url: str | None) -> Iterator[Database]:
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            db = Database.from_url(url or f"sqlite:///{Path(folder) / 'bench.db'}")
            db.upgrade()
            yield db
            db.dispose()
        return
    with scratch_schema(url, "ocop_bench") as scratch:
        db = Database.from_url(scratch)
        try:
            db.upgrade()
            yield db
        finally:
            db.dispose()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def import_file(db: Database, path: Path) -> Any:
    data = load_import_file(path)
    with db.transaction() as session:
        return import_records(session, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary file")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, database(args.database_url) as db:
        print(f"engine: {db.engine.dialect.name}")
        path = Path(folder) / "events.json"
        path.write_text(json.dumps(synthetic_chain(args.events)), encoding="utf-8")
        count = args.events // (RAW_PER_PRODUCT + 1) * (RAW_PER_PRODUCT + 1)
        print(f"file: {count:,} events, {path.stat().st_size / 1e6:.1f} MB")

        seconds, summary = timed(lambda: import_file(db, path))
        expect(summary.created["events"] == count, f"import created {summary}, not {count} events")
        print(f"import:          {seconds:6.2f} s  {count / seconds:9,.0f} events/s")
        seconds, summary = timed(lambda: import_file(db, path))
        expect(summary.total_created == 0, f"importing again created {summary}")
        print(f"import again:    {seconds:6.2f} s  {count / seconds:9,.0f} events/s (nothing new)")

        deep = Path(folder) / "deep.json"
        deep.write_text(json.dumps(deep_lot(args.depth, 10**9)), encoding="utf-8")
        import_file(db, deep)
        _time_tree(db, f"D{args.depth:05d}", args.depth)


def _time_tree(db: Database, code: str, depth: int) -> None:
    trees, journeys = [], []
    for _ in range(5):
        with db.transaction() as session:
            lot = find_lot(session, code)
            seconds, tree = timed(lambda lot=lot, s=session: upstream_tree(s, lot))
            expect(len(tree) == depth + 1, f"upstream tree of {len(tree)} lots, not {depth + 1}")
            trees.append(seconds)
        with db.transaction() as session:
            lot = find_lot(session, code)
            seconds, events = timed(lambda lot=lot, s=session: journey(s, lot))
            expect(len(events) == depth, f"journey of {len(events)} events, not {depth}")
            journeys.append(seconds)
    tree_ms, journey_ms = statistics.median(trees) * 1000, statistics.median(journeys) * 1000
    print(f"upstream tree, {depth:,} ancestors: {tree_ms:6.1f} ms (median of 5)")
    print(f"journey, {depth:,} events:          {journey_ms:6.1f} ms (median of 5)")


if __name__ == "__main__":
    main()
