"""Verification of the audit log, from the database or from an export.

One pass over the entries in index order recomputes every leaf hash from the stored
event and every tree head from the leaves, and compares them with what is stored; the
first difference names its entry. Each signed checkpoint must verify with the public
key and equal the recomputed root at its size: a checkpoint that no longer matches
means the entries before it were rewritten after it was signed (even if the attacker
recomputed every stored hash), and a checkpoint larger than the log means it was
truncated. Checkpoints copied to write-once storage are checked the same way, so a
history rewritten and signed again with a stolen key is still caught as a fork.
Because every checkpoint root is recomputed from one sequence of leaves, consecutive
checkpoints are consistent exactly when this pass succeeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ramparts.audit.interface import Checkpoint, LogIntegrityError, Verified
from ramparts.audit.note import NoteVerifier
from ramparts.core.merkle import MerkleAccumulator

__all__ = ["WINDOW", "Row", "verify_entries"]

_sha256 = hashlib.sha256


def _checked(notes: Sequence[str], verifier: NoteVerifier) -> dict[int, Checkpoint]:
    found: dict[int, Checkpoint] = {}
    for note in notes:
        cp = verifier.verify(note)
        previous = found.get(cp.size)
        if previous is not None and previous.root != cp.root:
            raise LogIntegrityError(f"two signed checkpoints of size {cp.size} disagree (a fork)")
        found[cp.size] = cp
    return found


WINDOW = 1024
"""Stored tree heads are compared every this many entries (and at every checkpoint);
after a mismatch the window is replayed entry by entry to name the first bad one."""

Row = tuple[int, bytes, bytes, bytes]
"""What verification reads of an entry: index, canonical event, leaf hash, tree head."""


def verify_entries(
    entries: Iterable[Row],
    checkpoints: Sequence[str],
    verifier: NoteVerifier,
    *,
    external: Sequence[str] = (),
) -> Verified:
    """Check every entry and checkpoint; raise :class:`LogIntegrityError` at the first break."""
    local = _checked(checkpoints, verifier)
    worm = _checked(external, verifier)
    wanted = sorted(local.keys() | worm.keys())
    acc = MerkleAccumulator()
    try:
        _walk(entries, acc, local, worm)
    finally:
        close = getattr(entries, "close", None)
        if close is not None:  # a generator over a database cursor: release it now
            close()
    size = acc.size
    beyond = [s for s in wanted if s > size]
    if beyond:
        raise LogIntegrityError(
            f"truncated: a checkpoint was signed for {beyond[-1]} entries, {size} remain", size
        )
    return Verified(size, acc.root(), len(local), len(worm))


def _walk(
    entries: Iterable[Row],
    acc: MerkleAccumulator,
    local: dict[int, Checkpoint],
    worm: dict[int, Checkpoint],
) -> None:
    last_good = 0
    start = acc.copy()
    window: list[tuple[bytes, bytes]] = []
    signed_sizes = local.keys() | worm.keys()
    append, remember = acc.append, window.append
    for index, event, stored_leaf, stored_root in entries:
        expected = acc.size
        if index != expected:
            if index > expected:
                raise LogIntegrityError("missing: the entry was deleted", expected)
            raise LogIntegrityError("out of order or repeated", index)
        leaf = _sha256(b"\x00" + event).digest()  # leaf_hash, inlined: once per entry
        if leaf != stored_leaf:
            raise LogIntegrityError(
                "modified: its content no longer matches its leaf hash", expected
            )
        append(leaf)
        remember((leaf, stored_root))
        size = expected + 1
        signed = size in signed_sizes
        if signed or size % WINDOW == 0:
            root = acc.root()
            _check_window(start, window, root)
            start = acc.copy()
            window.clear()
            if signed:
                _match(size, root, local, worm, last_good)
                last_good = size
    if window:
        _check_window(start, window, acc.root())


def _check_window(start: MerkleAccumulator, window: list[tuple[bytes, bytes]], root: bytes) -> None:
    """Compare the window's last stored tree head with ``root``, the recomputed one; on a
    mismatch, replay the window from ``start`` to find the first bad entry."""
    if not window or root == window[-1][1]:
        return
    replay = start.copy()
    for leaf, stored in window:
        replay.append(leaf)
        if replay.root() != stored:
            break
    raise LogIntegrityError(
        "the stored tree head differs from the recomputed one "
        "(an entry up to here was changed, inserted or reordered)",
        replay.size - 1,
    )


def _match(
    size: int,
    root: bytes,
    local: dict[int, Checkpoint],
    worm: dict[int, Checkpoint],
    last_good: int,
) -> None:
    for where, table in (("signed checkpoint", local), ("write-once copy of the checkpoint", worm)):
        cp = table.get(size)
        if cp is not None and cp.root != root:
            kind = "rewritten" if table is local else "forked from what was published"
            raise LogIntegrityError(
                f"the {where} at size {size} does not match the entries: the log was {kind} "
                f"after it was signed (the change lies in entries {last_good} to {size - 1})",
                last_good,
            )
