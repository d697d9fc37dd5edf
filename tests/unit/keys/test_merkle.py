"""RFC 9162 tree math against the known answers of RFC 6962's reference tests, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocop.keys.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    leaf_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of the Certificate Transparency reference tests (merkle_tree_test).
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


@pytest.fixture
def tree() -> MemoryTree:
    tree = MemoryTree()
    for leaf in LEAVES:
        tree.append(leaf)
    return tree


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert MemoryTree().root().hex() == EMPTY_ROOT.hex()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_roots_match_the_reference(tree: MemoryTree) -> None:
    assert [tree.root(n).hex() for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference(
    tree: MemoryTree, index: int, size: int, path: list[str]
) -> None:
    proof = tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(
        index, size, leaf_hash(LEAVES[index]), proof, bytes.fromhex(ROOTS[size - 1])
    )


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(
    tree: MemoryTree, first: int, second: int, path: list[str]
) -> None:
    proof = tree.consistency_proof(first, second)
    assert [p.hex() for p in proof] == path
    roots = [bytes.fromhex(r) for r in ROOTS]
    assert verify_consistency(first, second, roots[first - 1], roots[second - 1], proof)


def test_refusals(tree: MemoryTree) -> None:
    root = tree.root()
    with pytest.raises(ValueError, match="not below"):
        root_from_inclusion(8, 8, leaf_hash(LEAVES[0]), [])
    assert not verify_inclusion(0, 8, leaf_hash(LEAVES[0]), tree.inclusion_proof(0)[:-1], root)
    assert not verify_inclusion(0, 8, leaf_hash(LEAVES[0]), [*tree.inclusion_proof(0), root], root)
    assert not verify_consistency(0, 8, root, root, [])
    assert not verify_consistency(8, 4, root, root, [])
    assert not verify_consistency(4, 8, tree.root(4), root, [])  # an empty proof proves nothing
    assert not verify_consistency(8, 8, root, tree.root(7), [])


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies_and_any_tampering_fails(
    size: int, data: st.DataObject
) -> None:
    tree = MemoryTree()
    for i in range(size):
        tree.append(i.to_bytes(4, "big"))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.inclusion_proof(index)
    hashed, root = leaf_hash(index.to_bytes(4, "big")), tree.root()
    assert verify_inclusion(index, size, hashed, proof, root)
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
    if size > 1:
        assert not verify_inclusion((index + 1) % size, size, hashed, proof, root)
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bit = data.draw(st.integers(min_value=0, max_value=255))
        tampered = list(proof)
        flipped = bytearray(tampered[at])
        flipped[bit // 8] ^= 1 << (bit % 8)
        tampered[at] = bytes(flipped)
        assert not verify_inclusion(index, size, hashed, tampered, root)
        assert not verify_inclusion(index, size, hashed, proof[:-1], root)
        assert not verify_inclusion(index, size, hashed, [*proof, proof[0]], root)


@settings(max_examples=60, deadline=None)
@given(second=sizes, data=st.data())
def test_every_consistency_proof_verifies_and_any_tampering_fails(
    second: int, data: st.DataObject
) -> None:
    tree = MemoryTree()
    for i in range(second):
        tree.append(i.to_bytes(4, "big"))
    first = data.draw(st.integers(min_value=1, max_value=second))
    proof = tree.consistency_proof(first, second)
    old, new = tree.root(first), tree.root(second)
    assert verify_consistency(first, second, old, new, proof)
    assert not verify_consistency(first, second, leaf_hash(b"other"), new, proof)
    if first < second:
        assert not verify_consistency(first, second, old, leaf_hash(b"other"), proof)
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        tampered = list(proof)
        tampered[at] = leaf_hash(tampered[at])
        assert not verify_consistency(first, second, old, new, tampered)
        assert not verify_consistency(first, second, old, new, proof[:-1])
        assert not verify_consistency(first, second, old, new, [*proof, proof[0]])
