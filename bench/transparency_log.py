"""The transparency log at a million batches: append rate and proof size.

    python bench/transparency_log.py                       # SQLite in a temporary file
    python bench/transparency_log.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/transparency_log.py --pure 1000000 --db 5000

Two parts, said apart in the output:

1. The pure tree (keys/merkle.py, in memory, the same node layout the
   database keeps): ``--pure`` batch leaves appended (default 1,000,000), the
   append rate, then inclusion proofs of 1,000 random leaves and consistency
   proofs from 1,000 random older sizes: their length in hashes and bytes,
   each checked with RFC 9162's algorithms.
2. The database log (keys/transparency.py): ``--db`` batch leaves (default
   5,000) appended one per transaction, as issuance does, with the append
   rate; then proofs read from the database, compared with the pure tree's
   and verified. A million rows one transaction each would take too long for
   a bench, so the database figure is at the smaller size and says so; the
   cost of an append is O(log n) rows either way.

Exits 1 if any proof fails or the database and the pure tree disagree.
On PostgreSQL the run uses a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ocop.keys import merkle
from ocop.keys.transparency import (
    append,
    batch_fields,
    consistency_proof,
    inclusion_proof,
    leaf_bytes,
    tree_head,
)
from ocop.trace.db import Database, load_models, scratch_schema

AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def fields(n: int) -> dict[str, object]:
    return batch_fields(
        batch=n + 1,
        kid="x" * 43,
        organisation=1 + n % 63,
        lot=f"LOT-{n:07d}",
        count=1000,
        first=f"{n + 1}-000001-0",
        last=f"{n + 1}-001000-0",
        at=AT + dt.timedelta(seconds=n),
    )


def pure(count: int, rng: random.Random) -> bool:
    tree = merkle.MemoryTree()
    started = time.perf_counter()
    for n in range(count):
        tree.append(leaf_bytes(fields(n)))
    took = time.perf_counter() - started
    root = tree.root()
    print(
        f"pure tree: {count:,} batch leaves appended in {took:.1f} s "
        f"({count / took:,.0f} appends/s), {len(tree.nodes):,} stored nodes"
    )
    ok = True
    lengths = []
    for index in rng.sample(range(count), min(1000, count)):
        proof = tree.inclusion_proof(index)
        lengths.append(len(proof))
        hashed = merkle.leaf_hash(leaf_bytes(fields(index)))
        ok &= merkle.verify_inclusion(index, count, hashed, proof, root)
    print(
        f"  inclusion proofs at size {count:,}: {min(lengths)}-{max(lengths)} hashes, "
        f"at most {max(lengths) * merkle.HASH_SIZE} bytes (1,000 checked: "
        f"{'all verify' if ok else 'SOME FAIL'})"
    )
    lengths = []
    good = True
    for first in rng.sample(range(1, count), min(1000, count - 1)):
        proof = tree.consistency_proof(first)
        lengths.append(len(proof))
        good &= merkle.verify_consistency(first, count, tree.root(first), root, proof)
    print(
        f"  consistency proofs to size {count:,}: {min(lengths)}-{max(lengths)} hashes, "
        f"at most {max(lengths) * merkle.HASH_SIZE} bytes (1,000 checked: "
        f"{'all verify' if good else 'SOME FAIL'})"
    )
    return ok and good


@contextmanager
def database(url: str | None) -> Iterator[Database]:
    load_models()
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            db = Database.from_url(f"sqlite:///{Path(folder) / 'bench.db'}")
            db.upgrade()
            yield db
            db.dispose()
        return
    with scratch_schema(url, "ocop_bench") as scratch:
        db = Database.from_url(scratch)
        db.upgrade()
        yield db
        db.dispose()


def on_database(url: str | None, count: int, rng: random.Random) -> bool:
    tree = merkle.MemoryTree()
    with database(url) as db:
        started = time.perf_counter()
        for n in range(count):
            with db.transaction() as session:
                append(session, fields(n), batch_id=n + 1, now=AT + dt.timedelta(seconds=n))
            tree.append(leaf_bytes(fields(n)))
        took = time.perf_counter() - started
        print(
            f"database ({db.engine.dialect.name}): {count:,} batch leaves appended one "
            f"transaction each in {took:.1f} s ({count / took:,.0f} appends/s)"
        )
        ok = True
        with db.transaction() as session:
            head = tree_head(session)
            ok &= head.size == count and head.root == tree.root()
            started = time.perf_counter()
            samples = rng.sample(range(count), min(200, count))
            for index in samples:
                proof = inclusion_proof(session, index, count)
                ok &= proof == tree.inclusion_proof(index)
                hashed = merkle.leaf_hash(leaf_bytes(fields(index)))
                ok &= merkle.verify_inclusion(index, count, hashed, proof, head.root)
            for first in rng.sample(range(1, count), min(200, count - 1)):
                proof = consistency_proof(session, first, count)
                ok &= merkle.verify_consistency(first, count, tree.root(first), head.root, proof)
            took = time.perf_counter() - started
        print(
            f"  {2 * len(samples)} proofs read from the database in {took:.2f} s "
            f"({took / (2 * len(samples)) * 1000:.1f} ms each): "
            f"{'all match the pure tree and verify' if ok else 'SOME FAIL'}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--pure", type=int, default=1_000_000)
    parser.add_argument("--db", type=int, default=5_000)
    args = parser.parse_args()
    rng = random.Random(17)
    ok = pure(args.pure, rng)
    ok &= on_database(args.database_url, args.db, rng)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
