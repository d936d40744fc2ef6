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

from collections.abc import Iterable, Sequence

from ramparts.audit.interface import Checkpoint, LogIntegrityError, StoredEntry, Verified
from ramparts.audit.note import NoteVerifier
from ramparts.core.merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash

__all__ = ["verify_entries"]


def _checked(notes: Sequence[str], verifier: NoteVerifier) -> dict[int, Checkpoint]:
    found: dict[int, Checkpoint] = {}
    for note in notes:
        cp = verifier.verify(note)
        previous = found.get(cp.size)
        if previous is not None and previous.root != cp.root:
            raise LogIntegrityError(f"two signed checkpoints of size {cp.size} disagree (a fork)")
        found[cp.size] = cp
    return found


def verify_entries(
    entries: Iterable[StoredEntry],
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
    roots: dict[int, bytes] = {}
    if 0 in local or 0 in worm:
        roots[0] = EMPTY_ROOT
    try:
        size = _walk(entries, acc, local, worm, roots)
    finally:
        close = getattr(entries, "close", None)
        if close is not None:  # a generator over a database cursor: release it now
            close()
    beyond = [s for s in wanted if s > size]
    if beyond:
        raise LogIntegrityError(
            f"truncated: a checkpoint was signed for {beyond[-1]} entries, {size} remain", size
        )
    return Verified(size, acc.root(), len(local), len(worm))


def _walk(
    entries: Iterable[StoredEntry],
    acc: MerkleAccumulator,
    local: dict[int, Checkpoint],
    worm: dict[int, Checkpoint],
    roots: dict[int, bytes],
) -> int:
    last_good = 0
    for entry in entries:
        expected = acc.size
        if entry.index != expected:
            if entry.index > expected:
                raise LogIntegrityError("missing: the entry was deleted", expected)
            raise LogIntegrityError("out of order or repeated", entry.index)
        leaf = leaf_hash(entry.event)
        if leaf != entry.leaf_hash:
            raise LogIntegrityError(
                "modified: its content no longer matches its leaf hash", expected
            )
        acc.append(leaf)
        if acc.root() != entry.root:
            raise LogIntegrityError(
                "the stored tree head differs from the recomputed one "
                "(an entry up to here was changed, inserted or reordered)",
                expected,
            )
        if acc.size in local or acc.size in worm:
            roots[acc.size] = acc.root()
            _match(acc.size, roots[acc.size], local, worm, last_good)
            last_good = acc.size
    return acc.size


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
