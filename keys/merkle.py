"""Merkle tree math of RFC 9162 (Certificate Transparency 2.0), section 2.1; no database.

Leaf hash ``SHA-256(0x00 || leaf)``, node hash ``SHA-256(0x01 || left || right)``,
and the tree shape of section 2.1.1: the left subtree of ``n`` leaves holds the
largest power of two smaller than ``n``. So every left subtree is *complete*
and *aligned* (``2**level`` leaves starting at a multiple of ``2**level``), and
a store that keeps the hash of each complete aligned subtree, as
``(level, index)``, answers any proof with O(log n) of them: see
:func:`subtree_nodes`. :class:`MemoryTree` is that store in memory (tests, the
bench); the database log (:mod:`.transparency`) is the same on tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Node = tuple[int, int]  # (level, index): leaves index * 2**level .. (index + 1) * 2**level - 1
Lookup = Callable[[Node], bytes]

HASH_SIZE = 32


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_nodes(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees whose hashes make MTH(D[start:end]), left to right.

    Only ranges that occur in RFC 9162's recursion are asked for: ``start`` is a
    multiple of the largest power of two not above ``end - start``.
    """
    nodes: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1  # the biggest complete subtree that fits
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH from its complete subtrees (left to right): the right edge is folded first."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def subtree_hash(start: int, end: int, lookup: Lookup) -> bytes:
    return fold([lookup(node) for node in subtree_nodes(start, end)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs are the inclusion proof PATH(index, D[0:size]), in order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    # RFC 9162 2.1.3.1, unrolled: the proof lists siblings from the leaf upwards.
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs are PROOF(first, D[0:second]) (RFC 9162 2.1.4.1)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    ranges: list[tuple[int, int]] = []
    start, end, m, whole = 0, second, first, True
    while True:
        if m == end - start:
            if not whole:
                ranges.append((start, end))
            break
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    return ranges[::-1]


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every stored node the MTHs of ``ranges`` need: fetch them in one go."""
    return {node for start, end in ranges for node in subtree_nodes(start, end)}


def frontier(size: int) -> list[Node]:
    """The complete subtrees of a tree of ``size`` leaves: its root's ingredients."""
    return subtree_nodes(0, size)


def append_nodes(index: int, hashed: bytes, lookup: Lookup) -> list[tuple[Node, bytes]]:
    """The nodes leaf ``index`` completes, itself first: each odd node closes its parent."""
    made = [((0, index), hashed)]
    level, i, current = 0, index, hashed
    while i & 1:
        current = node_hash(lookup((level, i - 1)), current)
        level, i = level + 1, i >> 1
        made.append(((level, i), current))
    return made


# --- verifying (RFC 9162 2.1.3.2 and 2.1.4.2, as written) -------------------------


def root_from_inclusion(index: int, size: int, hashed: bytes, path: Sequence[bytes]) -> bytes:
    """The root ``path`` proves leaf hash ``hashed`` (leaf ``index``) under; else ValueError."""
    if not 0 <= index < size:
        raise ValueError("the leaf index is not below the tree size")
    fn, sn, r = index, size - 1, hashed
    for p in path:
        if sn == 0:
            raise ValueError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, hashed: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    try:
        return root_from_inclusion(index, size, hashed, path) == root
    except ValueError:
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves is a prefix of the one of ``second``."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


class MemoryTree:
    """An append-only tree in memory, storing complete subtrees as the database log does."""

    def __init__(self) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.size = 0

    def append(self, leaf: bytes) -> int:
        index = self.size
        for node, value in append_nodes(index, leaf_hash(leaf), self.nodes.__getitem__):
            self.nodes[node] = value
        self.size += 1
        return index

    def root(self, size: int | None = None) -> bytes:
        return subtree_hash(0, self.size if size is None else size, self.nodes.__getitem__)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        ranges = inclusion_ranges(index, self.size if size is None else size)
        return [subtree_hash(a, b, self.nodes.__getitem__) for a, b in ranges]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        ranges = consistency_ranges(first, self.size if second is None else second)
        return [subtree_hash(a, b, self.nodes.__getitem__) for a, b in ranges]
