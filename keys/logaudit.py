"""Checking the transparency log from outside, as ``ocop log verify`` does; no database.

Whatever answers ``/log/v1/...`` (a :class:`LogSource`: HTTP for the command,
the test client in tests) is not trusted: every head must carry the log key's
signature, a head must extend the last one seen (consistency proof), the
leaves must rebuild the root, and a verify answer's proof must put the stamp's
batch in a signed head.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import merkle
from .errors import InvalidJWK, LogProblem
from .jwk import public_key_from_jwk
from .loghead import SignedTreeHead, unb64


class LogSource(Protocol):
    def get(self, path: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Audit:
    head: SignedTreeHead
    notes: tuple[str, ...]


def log_public_key(jwk: object) -> Ed25519PublicKey:
    if not isinstance(jwk, dict):
        raise LogProblem("the log key must be a JWK object")
    try:
        return public_key_from_jwk(jwk)
    except InvalidJWK as error:
        raise LogProblem("the log key is not usable: %(problem)s", problem=error) from None


def _hashes(value: object, what: str) -> list[bytes]:
    if not isinstance(value, list) or len(value) > 128:
        raise LogProblem("%(what)s must be a list of hashes", what=what)
    hashes = [unb64(item, what) for item in value]
    if any(len(h) != merkle.HASH_SIZE for h in hashes):
        raise LogProblem("%(what)s holds a hash that is not 32 bytes", what=what)
    return hashes


def check_consistent(source: LogSource, seen: SignedTreeHead, head: SignedTreeHead) -> None:
    """Raise unless ``head`` extends ``seen``: the log never rewrote what it had shown."""
    old, new = seen.head, head.head
    if new.size < old.size:
        raise LogProblem(
            "the log shrank: it showed %(old)s entries before and %(new)s now",
            old=old.size,
            new=new.size,
        )
    if old.size == 0:
        return
    if old.size == new.size:
        if old.root != new.root:
            raise LogProblem("two different trees of the same size %(size)s", size=new.size)
        return
    answer = source.get(f"/log/v1/consistency?first={old.size}&second={new.size}")
    proof = _hashes(answer.get("consistency") if isinstance(answer, dict) else None, "consistency")
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise LogProblem(
            "the consistency proof from size %(old)s to %(new)s fails: the log rewrote its past",
            old=old.size,
            new=new.size,
        )


def _pages(source: LogSource, size: int, page: int) -> Iterator[bytes]:
    start = 0
    while start < size:
        answer = source.get(f"/log/v1/leaves?start={start}&end={min(size, start + page)}")
        rows = answer.get("leaves") if isinstance(answer, dict) else None
        if not isinstance(rows, list) or not rows:
            raise LogProblem("the log gave no leaves from %(start)s", start=start)
        for row in rows:
            if not isinstance(row, dict) or row.get("index") != start:
                raise LogProblem("the log gave leaves out of order at %(start)s", start=start)
            yield unb64(row.get("leaf"), "leaf")
            start += 1


def check_leaves(source: LogSource, head: SignedTreeHead, page: int = 1000) -> None:
    """Raise unless every leaf, fetched again, rebuilds the head's root."""
    tree = merkle.MemoryTree()
    for leaf in _pages(source, head.head.size, page):
        tree.append(leaf)
    if tree.size != head.head.size or tree.root() != head.head.root:
        raise LogProblem(
            "the leaves do not rebuild the root of the tree of size %(size)s", size=head.head.size
        )


def check_stamp_proof(verdict: object, key: Ed25519PublicKey) -> SignedTreeHead:
    """Raise unless a verify answer proves its stamp's batch is in a signed head."""
    if not isinstance(verdict, dict):
        raise LogProblem("a verify answer must be a JSON object")
    log = verdict.get("log")
    if not isinstance(log, dict):
        raise LogProblem("the verify answer carries no log proof (the batch is not logged)")
    head = SignedTreeHead.from_json(log.get("sth"))
    head.verify(key)
    index = log.get("leaf_index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise LogProblem("leaf_index must be a whole number")
    leaf = unb64(log.get("leaf"), "leaf")
    try:
        fields = json.loads(leaf)
    except (UnicodeDecodeError, json.JSONDecodeError):
        fields = None
    batch = verdict.get("batch")
    number = batch.get("number") if isinstance(batch, dict) else batch
    if (
        not isinstance(fields, dict)
        or fields.get("type") != "batch"
        or fields.get("batch") != number
    ):
        raise LogProblem("the logged leaf is not the stamp's batch %(batch)s", batch=number)
    path = _hashes(log.get("inclusion"), "inclusion")
    if not merkle.verify_inclusion(
        index, head.head.size, merkle.leaf_hash(leaf), path, head.head.root
    ):
        raise LogProblem(
            "the inclusion proof of leaf %(index)s in the tree of size %(size)s fails",
            index=index,
            size=head.head.size,
        )
    return head


def read_state(path: Path) -> SignedTreeHead | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LogProblem(
            "cannot read %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    try:
        return SignedTreeHead.from_json(json.loads(text))
    except json.JSONDecodeError:
        raise LogProblem("%(path)s holds no tree head", path=path) from None


def write_state(path: Path, head: SignedTreeHead) -> None:
    try:
        path.write_text(json.dumps(head.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise LogProblem(
            "cannot write %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None


def audit(
    source: LogSource,
    key: Ed25519PublicKey,
    *,
    head: SignedTreeHead | None = None,
    seen: SignedTreeHead | None = None,
    leaves: bool = False,
    verdict: object = None,
) -> Audit:
    """Every check asked for, in order; the first failure raises :class:`LogProblem`."""
    notes: list[str] = []
    if head is None:
        head = SignedTreeHead.from_json(source.get("/log/v1/sth"))
    head.verify(key)
    notes.append(f"tree head signed by the log key: size {head.head.size}")
    if verdict is not None:
        proved = check_stamp_proof(verdict, key)
        older, newer = sorted((proved, head), key=lambda h: h.head.size)
        check_consistent(source, older, newer)
        notes.append(f"the stamp's batch is in the log (tree size {proved.head.size})")
    if seen is not None:
        seen.verify(key)
        check_consistent(source, seen, head)
        notes.append(f"consistent with the head seen before (size {seen.head.size})")
    if leaves:
        check_leaves(source, head)
        notes.append(f"all {head.head.size} leaves rebuild the root")
    return Audit(head, tuple(notes))
