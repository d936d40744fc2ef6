"""RFC 6962 / RFC 9162 Merkle tree hashing, computed as leaves stream in.

``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``; a tree of
``n`` leaves splits at the largest power of two below ``n``, and the empty tree's hash
is ``SHA-256("")``. :class:`MerkleAccumulator` keeps one hash per set bit of the leaf
count (a compact range), so a root over millions of leaves needs O(log n) memory;
merging the stack from the right reproduces the RFC's split exactly.

Inclusion and consistency proofs are made from a sequence of leaf hashes and checked
with the verification algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleAccumulator",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """Append leaf hashes; ask for the root of everything appended so far."""

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """Leaves appended."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The roots of the complete subtrees, largest first: all a later append needs."""
        return tuple(self._stack)

    def copy(self) -> MerkleAccumulator:
        """An independent accumulator in the same state."""
        return MerkleAccumulator.resume(self._size, self._stack)

    @classmethod
    def resume(cls, size: int, frontier: Sequence[bytes]) -> MerkleAccumulator:
        """An accumulator that continues a tree of ``size`` leaves from its frontier."""
        if len(frontier) != size.bit_count():
            raise ProofError(f"a tree of {size} leaves has {size.bit_count()} frontier hashes")
        acc = cls()
        acc._stack = list(frontier)
        acc._size = size
        return acc

    def append_data(self, data: bytes) -> None:
        """Append the leaf for ``data``."""
        self.append(leaf_hash(data))

    def append(self, leaf: bytes) -> None:
        """Append an already hashed leaf."""
        self._stack.append(leaf)
        self._size += 1
        # Each trailing one bit of the new size closes a perfect subtree.
        size = self._size
        stack = self._stack
        while size % 2 == 0:
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()  # node_hash, inlined
            size //= 2

    def root(self) -> bytes:
        """The RFC 6962 root hash of the leaves appended so far."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        acc = stack[-1]
        # node_hash inlined: the audit log asks for a root after every entry.
        for i in range(len(stack) - 2, -1, -1):
            acc = _sha256(b"\x01" + stack[i] + acc).digest()
        return acc


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims."""


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(leaves: Sequence[bytes], start: int = 0, end: int | None = None) -> bytes:
    """The root over the leaf hashes ``leaves[start:end]`` (RFC 6962 MTH)."""
    end = len(leaves) if end is None else end
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[start]
    k = _split(n)
    return node_hash(subtree_root(leaves, start, start + k), subtree_root(leaves, start + k, end))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    if not 0 <= index < size <= len(leaves):
        raise ProofError(f"no leaf {index} in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_root(leaves, start + k, end))
            end = start + k
        else:
            path.append(subtree_root(leaves, start, start + k))
            start += k
    return path[::-1]


def consistency_proof(leaves: Sequence[bytes], old: int, new: int) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``new``."""
    if not 0 < old <= new <= len(leaves):
        raise ProofError(f"no consistency proof from {old} to {new}")

    def sub(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_root(leaves, start, end)]
        k = _split(n)
        if m <= k:
            return [*sub(m, start, start + k, whole), subtree_root(leaves, start + k, end)]
        return [*sub(m - k, start + k, end, False), subtree_root(leaves, start, start + k)]

    return sub(old, 0, new, True)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` places ``leaf`` at ``index`` under ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree ``old`` is a prefix of ``new``."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency between sizes {old} and {new}")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("the consistency proof does not join the two roots")
