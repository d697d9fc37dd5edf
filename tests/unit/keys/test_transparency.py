"""The log on the database: appends from eight processes at once, proofs at any size."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select

from ocop.keys import merkle
from ocop.keys.models import LogLeaf, LogNode
from ocop.keys.transparency import (
    append,
    consistency_proof,
    inclusion_proof,
    key_fields,
    leaves,
    tree_head,
)
from ocop.trace.db import Database, load_models, utcnow

PROCESSES = 8
EACH = 6


def _appender(url: str, worker: int) -> None:
    load_models()
    database = Database.from_url(url)
    try:
        for n in range(EACH):
            with database.transaction() as session:
                append(
                    session,
                    key_fields(
                        event="registered",
                        kid=f"w{worker}-{n}",
                        organisation=worker,
                        public_key="x",
                        at=utcnow(),
                    ),
                    kid=f"w{worker}-{n}",
                )
    finally:
        database.dispose()


def test_eight_processes_appending_at_once_make_one_dense_consistent_tree(
    clean_database, database_url, tmp_path
) -> None:
    database = clean_database
    if database_url.startswith("sqlite"):
        # A file of its own: eight other processes writing to the suite's shared SQLite
        # file left it answering "disk I/O error" to the tests that came after.
        database_url = f"sqlite:///{tmp_path / 'log.db'}"
        database = Database.from_url(database_url)
        database.upgrade()
    try:
        _appended_by_processes(database, database_url)
    finally:
        if database is not clean_database:
            database.dispose()


def _appended_by_processes(database: Database, database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_appender, args=(database_url, w)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with database.transaction() as session:
        rows = leaves(session, 0, 1000)
        assert [row.index for row in rows] == list(range(PROCESSES * EACH))
        assert len({row.kid for row in rows}) == PROCESSES * EACH
        tree = merkle.MemoryTree()
        for row in rows:
            tree.append(bytes(row.leaf))
            # Each leaf's stored root is the root of the tree it ended.
            assert bytes(row.root) == tree.root()
        head = tree_head(session)
        assert head.size == tree.size and head.root == tree.root()
        assert session.scalar(select(func.count()).select_from(LogNode)) == len(tree.nodes)
        for index in (0, 7, PROCESSES * EACH - 1):
            assert inclusion_proof(session, index, head.size) == tree.inclusion_proof(index)
        for first in (1, 5, 16, head.size):
            assert consistency_proof(session, first, head.size) == tree.consistency_proof(first)
        assert session.scalar(select(func.count()).select_from(LogLeaf)) == head.size
