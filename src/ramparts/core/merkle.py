"""RFC 6962 / RFC 9162 Merkle tree hashing, computed as leaves stream in.

``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``; a tree of
``n`` leaves splits at the largest power of two below ``n``, and the empty tree's hash
is ``SHA-256("")``. :class:`MerkleAccumulator` keeps one hash per set bit of the leaf
count (a compact range), so a root over millions of leaves needs O(log n) memory;
merging the stack from the right reproduces the RFC's split exactly.
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "MerkleAccumulator", "leaf_hash", "node_hash"]

EMPTY_ROOT = hashlib.sha256(b"").digest()


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

    def append_data(self, data: bytes) -> None:
        """Append the leaf for ``data``."""
        self.append(leaf_hash(data))

    def append(self, leaf: bytes) -> None:
        """Append an already hashed leaf."""
        self._stack.append(leaf)
        self._size += 1
        # Each trailing one bit of the new size closes a perfect subtree.
        size = self._size
        while size % 2 == 0:
            right = self._stack.pop()
            self._stack[-1] = node_hash(self._stack[-1], right)
            size //= 2

    def root(self) -> bytes:
        """The RFC 6962 root hash of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            acc = node_hash(left, acc)
        return acc
