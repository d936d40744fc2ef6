"""RFC 6962 Merkle roots: the Certificate Transparency reference vectors and a naive model."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.core.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

# The leaves and roots used by Certificate Transparency's reference test suites.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    bytes(range(0x40, 0x44)),
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
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


def test_reference_roots() -> None:
    acc = MerkleAccumulator()
    assert acc.root() == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for leaf, root in zip(LEAVES, ROOTS, strict=True):
        acc.append_data(leaf)
        assert acc.root().hex() == root


def _naive(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_naive(leaves[:k]), _naive(leaves[k:]))


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_streaming_root_equals_the_recursive_definition(leaves: list[bytes]) -> None:
    acc = MerkleAccumulator()
    for leaf in leaves:
        acc.append_data(leaf)
    assert acc.root() == _naive(leaves)
    assert acc.size == len(leaves)


@given(st.integers(1, 70), st.data())
def test_inclusion_proofs_verify_and_detect_changes(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(size)]
    index = data.draw(st.integers(0, size - 1))
    root = subtree_root(leaves)
    proof = inclusion_proof(leaves, index, size)
    verify_inclusion(index, size, leaves[index], proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaves[index], proof[:-1], root)


@given(st.integers(1, 70), st.data())
def test_consistency_proofs_verify_and_detect_forks(new: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(new)]
    old = data.draw(st.integers(1, new))
    proof = consistency_proof(leaves, old, new)
    old_root, new_root = subtree_root(leaves, 0, old), subtree_root(leaves)
    verify_consistency(old, new, old_root, new_root, proof)
    forked = [*leaves[: old - 1], leaf_hash(b"rewritten"), *leaves[old:]]
    if old < new or proof:
        with pytest.raises(ProofError):
            verify_consistency(old, new, subtree_root(forked, 0, old), new_root, proof)
