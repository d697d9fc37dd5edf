"""The transparency log of issuance on the database: append, tree heads, proofs.

Every key event (registered, retired, revoked) and every batch of stamps is a
leaf (docs/transparency-log.md gives the format). The tree math is
:mod:`.merkle`; here the complete subtrees live in ``log_nodes`` so that an
append writes O(log n) small rows and a proof reads O(log n) of them in one
query, at any size. Appends take turns on the one ``log_state`` row, which
they bump first: concurrent issuers (processes, machines) get consecutive
indexes and never build on a tree another append has not finished.

Functions take the caller's :class:`Session` and only flush: the leaf commits
with the batch or the key event it records, or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ocop.trace.db import utcnow

from . import merkle
from .errors import LogProblem
from .loghead import TreeHead
from .models import LogLeaf, LogNode, LogState

LEAF_VERSION = 1
MAX_LEAVES_PER_PAGE = 1000


def leaf_bytes(fields: Mapping[str, object]) -> bytes:
    """A leaf's bytes: canonical JSON (sorted keys, no spaces, UTF-8), so anyone can rebuild it."""
    return json.dumps(
        {"v": LEAF_VERSION, **fields}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def batch_fields(
    *,
    batch: int,
    kid: str,
    organisation: int,
    lot: str,
    count: int,
    first: str,
    last: str,
    at: dt.datetime,
) -> dict[str, object]:
    return {
        "type": "batch",
        "batch": batch,
        "kid": kid,
        "org": organisation,
        "lot": lot,
        "count": count,
        "first": first,
        "last": last,
        "time": _time(at),
    }


def key_fields(
    *, event: str, kid: str, organisation: int, public_key: str, at: dt.datetime
) -> dict[str, object]:
    return {
        "type": "key",
        "event": event,
        "kid": kid,
        "org": organisation,
        "public_key": public_key,
        "time": _time(at),
    }


def _bump_size(session: Session) -> int:
    """The new size, taking the log's turn: the row stays locked until the caller commits."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = LogState.__table__
    statement = (
        insert(table)
        .values(id=1, size=1)
        .on_conflict_do_update(index_elements=[table.c.id], set_={"size": table.c.size + 1})
        .returning(table.c.size)
    )
    return int(session.execute(statement).scalar_one())


def _nodes(session: Session, wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    if not wanted:
        return {}
    rows = session.execute(
        select(LogNode.level, LogNode.index, LogNode.hash).where(
            tuple_(LogNode.level, LogNode.index).in_(sorted(wanted))
        )
    )
    found = {(level, index): bytes(value) for level, index, value in rows}
    missing = wanted - found.keys()
    if missing:
        raise LogProblem(
            "the log's stored tree is incomplete (missing node %(node)s)", node=min(missing)
        )
    return found


def append(
    session: Session,
    fields: Mapping[str, object],
    *,
    batch_id: int | None = None,
    kid: str | None = None,
    now: dt.datetime | None = None,
) -> LogLeaf:
    """Append one leaf; its index is the log's size before it."""
    size = _bump_size(session)
    index = size - 1
    leaf = leaf_bytes(fields)
    hashed = merkle.leaf_hash(leaf)
    # The nodes this leaf closes are built on the previous tree's frontier.
    known = _nodes(session, set(merkle.frontier(index)))
    made = merkle.append_nodes(index, hashed, known.__getitem__)
    known.update(made)
    root = merkle.fold([known[node] for node in merkle.frontier(size)])
    session.execute(
        LogNode.__table__.insert(),
        [{"level": level, "index": i, "hash": value} for (level, i), value in made],
    )
    row = LogLeaf(
        index=index,
        kind=str(fields["type"]),
        batch_id=batch_id,
        kid=kid,
        leaf=leaf,
        leaf_hash=hashed,
        root=root,
        appended_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def tree_size(session: Session) -> int:
    return int(session.scalar(select(LogState.size).where(LogState.id == 1)) or 0)


def tree_head(session: Session, size: int | None = None) -> TreeHead:
    """The (unsigned) head of the tree of ``size`` leaves, the latest by default.

    Its time is when its last leaf was appended: a head of a given size is the
    same whenever and by whomever it is asked for.
    """
    size = tree_size(session) if size is None else size
    if size == 0:
        return TreeHead(0, dt.datetime.fromtimestamp(0, dt.UTC), merkle.EMPTY_ROOT)
    row = session.get(LogLeaf, size - 1)
    if row is None:
        raise LogProblem("the log has no tree of size %(size)s", size=size)
    return TreeHead(size, row.appended_at, bytes(row.root))


def _check_size(session: Session, size: int) -> None:
    latest = tree_size(session)
    if not 0 < size <= latest:
        raise LogProblem(
            "tree size %(size)s is not in the log (its size is %(latest)s)",
            size=size,
            latest=latest,
        )


def _hashes(session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    known = _nodes(session, merkle.nodes_for(ranges))
    return [merkle.subtree_hash(a, b, known.__getitem__) for a, b in ranges]


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    _check_size(session, size)
    if not 0 <= index < size:
        raise LogProblem(
            "leaf %(index)s is not in the tree of size %(size)s", index=index, size=size
        )
    return _hashes(session, merkle.inclusion_ranges(index, size))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    _check_size(session, second)
    if not 0 < first <= second:
        raise LogProblem(
            "a consistency proof goes from a smaller tree to a larger one, "
            "not from %(first)s to %(second)s",
            first=first,
            second=second,
        )
    return _hashes(session, merkle.consistency_ranges(first, second))


def leaves(session: Session, start: int, end: int) -> list[LogLeaf]:
    """Leaves ``start`` .. ``end - 1``, at most :data:`MAX_LEAVES_PER_PAGE` of them."""
    if start < 0 or end <= start:
        raise LogProblem(
            "ask for leaves from start to end, end above start (not %(start)s to %(end)s)",
            start=start,
            end=end,
        )
    end = min(end, start + MAX_LEAVES_PER_PAGE)
    return list(
        session.scalars(
            select(LogLeaf)
            .where(LogLeaf.index >= start, LogLeaf.index < end)
            .order_by(LogLeaf.index)
        )
    )


def leaf_of_batch(session: Session, batch_id: int) -> LogLeaf | None:
    return session.scalars(select(LogLeaf).where(LogLeaf.batch_id == batch_id)).one_or_none()


@dataclass(frozen=True, slots=True)
class Inclusion:
    """A leaf with its inclusion proof against a tree head: what the verify JSON carries."""

    index: int
    leaf: bytes
    head: TreeHead
    path: tuple[bytes, ...]


def inclusion_of(session: Session, index: int, head: TreeHead) -> Inclusion:
    row = session.get(LogLeaf, index)
    if row is None or index >= head.size:
        raise LogProblem(
            "leaf %(index)s is not in the tree of size %(size)s", index=index, size=head.size
        )
    return Inclusion(
        index, bytes(row.leaf), head, tuple(inclusion_proof(session, index, head.size))
    )


__all__ = [
    "Inclusion",
    "append",
    "batch_fields",
    "consistency_proof",
    "inclusion_of",
    "inclusion_proof",
    "key_fields",
    "leaf_bytes",
    "leaf_of_batch",
    "leaves",
    "tree_head",
    "tree_size",
]
