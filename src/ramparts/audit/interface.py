"""Value types and errors of the ``audit`` layer.

Errors::

    RampartsError
    ├── AuditError           (ramparts.errors) an event could not be made durable
    └── LogIntegrityError    the log, an export or a checkpoint fails verification;
                             ``index`` is the first entry where the proof breaks
"""

from __future__ import annotations

from datetime import datetime

from ramparts.core.records import record
from ramparts.errors import RampartsError

__all__ = ["Checkpoint", "LogIntegrityError", "Receipt", "StoredEntry", "Verified"]


class LogIntegrityError(RampartsError):
    """The log does not verify; ``index`` names the first entry that breaks it, if known."""

    def __init__(self, reason: str, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        where = f"entry {index}: " if index is not None else ""
        super().__init__(f"audit log does not verify: {where}{reason}")


@record
class Receipt:
    """What ``append`` returns once the entry is durable: its index and the new tree head."""

    index: int
    leaf_hash: bytes
    root: bytes


@record
class StoredEntry:
    """One row of the log as stored."""

    index: int
    event: bytes
    """The canonical JSON the leaf hash commits to."""
    leaf_hash: bytes
    root: bytes
    recorded_at: datetime
    subject: str | None = None
    sealed: bytes | None = None


@record
class Checkpoint:
    """A signed tree head: the log's size and root, as a C2SP signed note."""

    size: int
    root: bytes
    note: str


@record
class Verified:
    """What a verification checked."""

    size: int
    root: bytes
    checkpoints: int
    external_checkpoints: int = 0
