"""The append-only audit log in the state database.

``append`` returns only after the entry is committed (SQLite in WAL mode with
``synchronous=FULL``, or PostgreSQL): an acknowledged event survives a crash. Writers
in one process share commits (group commit): whoever takes the write lock writes every
event queued so far in one transaction, so concurrent callers pay one fsync between
them. Writers in several processes serialise on the head row. Each batch extends the
Merkle tree from the head row's frontier, stores each entry's leaf hash and tree head,
and signs a checkpoint every ``checkpoint_every`` entries; a checkpoint is also written
to a write-once folder when one is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPICursor

from ramparts.audit.events import SEALED_FIELDS, canonical, event_document, seal, unseal
from ramparts.audit.interface import Checkpoint, LogIntegrityError, Receipt, StoredEntry
from ramparts.audit.note import NoteSigner
from ramparts.audit.worm import WormTarget, checkpoint_name
from ramparts.core.interface import Clock, Event
from ramparts.core.merkle import (
    MerkleAccumulator,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    subtree_root,
)
from ramparts.core.records import field, record
from ramparts.errors import AuditError, InputError
from ramparts.store.engine import begin_write, failure_reason
from ramparts.store.schema import audit_checkpoints, audit_entries, audit_head, audit_subject_keys

__all__ = ["AuditLog"]

_READ_BATCH = 10_000
_KEYS_PER_QUERY = 500
"""Subjects looked up per query (a batch may hold thousands; drivers bound parameters)."""


@record(frozen=False, eq=False)
class _Pending:
    event: Event
    document: dict[str, Any] = field(default_factory=dict)
    committed: bytes | None = None
    """The canonical JSON to commit to; None while personal fields await sealing."""
    receipt: Receipt | None = None
    error: AuditError | None = None
    ready: threading.Event | None = None
    """Set when the entry is settled: for a thread waiting in :meth:`AuditLog.append`."""
    loop: asyncio.AbstractEventLoop | None = None
    done: asyncio.Future[None] | None = None
    """Resolved on ``loop`` when settled: for :meth:`AuditLog.append_async`."""


def _settle(batch: list[_Pending]) -> None:
    """Wake every waiter of ``batch``: threads at once, and each event loop with one
    callback for all its futures (a wake-up per entry would cost more than the entry)."""
    loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for pending in batch:
        if pending.ready is not None:
            pending.ready.set()
        if pending.loop is not None and pending.done is not None:
            loops.setdefault(pending.loop, []).append(pending.done)
    for loop, futures in loops.items():
        try:
            loop.call_soon_threadsafe(_resolve, futures)
        except RuntimeError:  # the loop closed while its callers waited: nobody to wake
            continue


def _fail(batch: list[_Pending], reason: str) -> None:
    error = AuditError(f"the audit log could not record the event: {reason}")
    for pending in batch:
        pending.error, pending.receipt = error, None


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for done in futures:
        if not done.done():
            done.set_result(None)


def _outcome(pending: _Pending) -> Receipt:
    if pending.error is not None:
        raise pending.error
    if pending.receipt is None:  # pragma: no cover - _write sets one or the other
        raise AuditError("the audit entry was not written")
    return pending.receipt


class AuditLog:
    """Append, read, prove, checkpoint and erase; :mod:`ramparts.audit.verify` checks."""

    def __init__(
        self,
        engine: sa.Engine,
        signer: NoteSigner | None,
        *,
        clock: Clock,
        checkpoint_every: int = 1000,
        worm: WormTarget | None = None,
        sealed_fields: Sequence[str] = SEALED_FIELDS,
    ) -> None:
        if checkpoint_every < 1:
            raise InputError("checkpoint_every must be at least 1")
        self._engine = engine
        self._signer = signer
        self._clock = clock
        self._every = checkpoint_every
        self._worm = worm
        self._fields = tuple(sealed_fields)
        self._queue: list[_Pending] = []
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None
        self._write_lock = threading.Lock()

    # -- writing ------------------------------------------------------------------

    def append(self, event: Event) -> Receipt:
        """Record ``event``; return once it is durable, or raise :class:`AuditError`.

        An event whose details JSON cannot state (NaN, objects) is refused with
        :class:`InputError` before it joins a batch.
        """
        ready = threading.Event()
        pending = self._enqueue(_Pending(event, ready=ready))
        ready.wait()
        return _outcome(pending)

    async def append_async(self, event: Event) -> Receipt:
        """:meth:`append` for asyncio code: waits without holding a thread.

        Thousands of requests in flight (the gateway) join the same commits, so the
        cost of each fsync is shared by many more entries than threads could offer.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        pending = _Pending(event, loop=loop, done=done)
        self._enqueue(pending)
        await done
        return _outcome(pending)

    def append_many(self, events: Sequence[Event]) -> list[Receipt]:
        """Record ``events`` in one commit (importing or replaying a batch); all or none."""
        pendings = [self._prepare(_Pending(e)) for e in events]
        with self._write_lock:
            self._write(pendings)
        return [_outcome(p) for p in pendings]

    def _enqueue(self, pending: _Pending) -> _Pending:
        self._prepare(pending)
        with self._wake:
            self._queue.append(pending)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._drain, name="ramparts-audit-writer", daemon=True
                )
                self._writer.start()
            self._wake.notify()
        return pending

    def _prepare(self, pending: _Pending) -> _Pending:
        # Encoded by the caller's thread: a bad event fails alone, and the writer thread
        # only hashes and stores. Events to seal are encoded with their commitments later.
        document = event_document(pending.event)
        pending.document = document
        details = document["details"]
        try:
            encoded = canonical(document)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the audit event cannot be recorded as JSON: {exc}") from exc
        to_seal = details.get("subject") is not None and any(f in details for f in self._fields)
        pending.committed = None if to_seal else encoded
        return pending

    def _drain(self) -> None:
        """The writer thread: each pass commits every event queued so far (group commit).

        Idle for five seconds, it ends; the next append starts another. Should it end
        any other way (an error that :meth:`_write` does not turn into an AuditError),
        it says so first, so that the next append starts another too."""
        try:
            while True:
                with self._wake:
                    while not self._queue:
                        if not self._wake.wait(timeout=5.0):
                            self._writer = None  # under the lock: an append now starts one
                            return
                    batch, self._queue = self._queue, []
                with self._write_lock:
                    self._write(batch)
        except BaseException:
            with self._wake:
                if self._writer is threading.current_thread():
                    self._writer = None
            raise

    def emit(self, event: Event) -> None:
        """:class:`~ramparts.core.interface.EventSink`: record durably or raise."""
        self.append(event)

    def _write(self, batch: list[_Pending]) -> None:
        signed: Checkpoint | None = None
        dialect = self._engine.dialect
        try:
            # The driver's own cursor in SQLAlchemy's transaction: statement building,
            # caching and result wrapping cost more than the statements themselves on
            # this, the hot path of the log (three to five statements per batch).
            with (
                begin_write(self._engine) as conn,
                contextlib.closing(conn.connection.cursor()) as cursor,
            ):
                sql = _statements(dialect.name)
                acc, last = _lock_head(cursor, sql)
                now = self._clock.now()
                stamp = _db_time(conn, now)
                keys = self._subject_keys(cursor, sql, batch, stamp)
                rows = [(*self._row(p, acc, keys), stamp) for p in batch]
                cursor.executemany(sql.insert, rows)
                frontier = json.dumps([h.hex() for h in acc.frontier])
                cursor.execute(sql.update_head, (acc.size, frontier))
                if self._signer is not None and acc.size - last >= self._every:
                    signed = self._signer.sign(acc.size, acc.root())
                    _insert_checkpoint(conn, signed, now)
        except (sa.exc.SQLAlchemyError, dialect.loaded_dbapi.Error) as exc:
            _fail(batch, failure_reason(exc, self._engine.url))
        except Exception as exc:  # noqa: BLE001 - a bug fails its batch closed; the writer goes on
            _fail(batch, f"internal error: {exc!r}")
        finally:
            _settle(batch)
        if signed is not None:
            self._copy_to_worm(signed, strict=False)

    def _subject_keys(
        self, cursor: DBAPICursor, sql: _Statements, batch: list[_Pending], stamp: object
    ) -> dict[str, bytes]:
        """The data key of every subject whose fields ``batch`` seals, made where missing:
        one query per 500 subjects of the batch (most batches have one, or none)."""
        wanted = sorted(
            {str(p.document["details"]["subject"]) for p in batch if p.committed is None}
        )
        found: dict[str, bytes | None] = {}
        for first in range(0, len(wanted), _KEYS_PER_QUERY):
            part = wanted[first : first + _KEYS_PER_QUERY]
            marks = ", ".join([sql.mark] * len(part))
            query = f"SELECT subject, data_key FROM audit_subject_keys WHERE subject IN ({marks})"  # noqa: S608 - placeholders only
            cursor.execute(query, tuple(part))
            found.update((str(s), k) for s, k in cursor.fetchall())
        keys: dict[str, bytes] = {}
        for subject in wanted:
            known = found.get(subject)
            if known is not None:
                keys[subject] = bytes(known)
                continue
            key = os.urandom(32)
            # Erased before (the row is there, its key gone): new data gets a new key and
            # the erased data stays unreadable.
            statement = sql.renew_key if subject in found else sql.new_key
            cursor.execute(statement, (key, stamp, subject))
            keys[subject] = key
        return keys

    def _row(
        self, pending: _Pending, acc: MerkleAccumulator, keys: dict[str, bytes]
    ) -> tuple[object, ...]:
        """The entry's columns but its time; ``pending`` gets its receipt."""
        document = pending.document
        subject = document["details"].get("subject")
        who = None if subject is None else str(subject)
        sealed = None
        if pending.committed is None:
            committed, sealed = seal(document, keys[str(subject)], self._fields)
        else:
            committed = pending.committed
        leaf = leaf_hash(committed)
        acc.append(leaf)
        root = acc.root()
        pending.receipt = Receipt(acc.size - 1, leaf, root)
        return (acc.size - 1, leaf, root, committed.decode("utf-8"), who, sealed)

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current tree head now (None if the last checkpoint already covers it)."""
        if self._signer is None:
            raise AuditError("no checkpoint signing key is configured")
        dialect = self._engine.dialect
        try:
            with (
                self._write_lock,
                begin_write(self._engine) as conn,
                contextlib.closing(conn.connection.cursor()) as cursor,
            ):
                acc, last = _lock_head(cursor, _statements(dialect.name))
                if acc.size == 0 or last >= acc.size:
                    return None
                signed = self._signer.sign(acc.size, acc.root())
                _insert_checkpoint(conn, signed, self._clock.now())
        except (sa.exc.SQLAlchemyError, dialect.loaded_dbapi.Error) as exc:
            reason = failure_reason(exc, self._engine.url)
            raise AuditError(f"the checkpoint could not be written: {reason}") from exc
        self._copy_to_worm(signed, strict=True)
        return signed

    def _copy_to_worm(self, cp: Checkpoint, *, strict: bool) -> None:
        """Copy ``cp`` to the write-once target; an existing copy is never replaced.

        After a batch commit (``strict`` false) a failed copy is left for the next
        checkpoint: the entries are already durable and the signed checkpoint is in the
        database; ``ramparts audit checkpoint`` (strict) reports the failure.
        """
        if self._worm is None:
            return
        try:
            self._worm.put(checkpoint_name(cp.size), cp.note)
        except AuditError:
            if strict:
                raise

    def erase(self, subject: str) -> int:
        """Destroy ``subject``'s data key; return how many entries had sealed fields."""
        with begin_write(self._engine) as conn:
            done = conn.execute(
                sa.update(audit_subject_keys)
                .where(audit_subject_keys.c.subject == subject)
                .values(data_key=None, erased_at=self._clock.now())
            )
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(audit_entries)
                .where(audit_entries.c.subject == subject, audit_entries.c.sealed.is_not(None))
            ).scalar_one()
        if done.rowcount == 0:
            raise InputError(f"no personal data of subject {subject!r} is in the audit log")
        return int(count)

    # -- reading ------------------------------------------------------------------

    def size(self) -> int:
        """Entries in the log."""
        with self._engine.connect() as conn:
            size = conn.execute(sa.select(audit_head.c.size).where(audit_head.c.id == 1)).scalar()
        return int(size or 0)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[StoredEntry]:
        """Entries ``start`` to ``end`` (exclusive) in index order, read in batches."""
        query = sa.select(audit_entries).where(audit_entries.c.idx >= start)
        if end is not None:
            query = query.where(audit_entries.c.idx < end)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_READ_BATCH).execute(
                query.order_by(audit_entries.c.idx)
            )
            try:
                for row in result.mappings():
                    yield _stored(row)
            finally:
                result.close()  # a reader that stops early must not leave a cursor open

    def rows(self) -> Iterator[tuple[int, bytes, bytes, bytes]]:
        """(index, event, leaf hash, tree head) of every entry in order: what verify reads."""
        query = "SELECT idx, event, leaf_hash, root FROM audit_entries ORDER BY idx"
        with self._engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # The driver's cursor: SQLAlchemy's work per fetched row costs about as
                # much as verifying the row, and SQLite steps through the rows as they
                # are fetched, so memory stays bounded without a server-side cursor.
                raw = conn.connection.cursor()
                try:
                    raw.execute(query)
                    while batch := raw.fetchmany(_READ_BATCH):
                        for idx, event, leaf, root in batch:
                            yield idx, event.encode("utf-8"), leaf, root
                finally:
                    raw.close()
                return
            result = conn.execution_options(stream_results=True, max_row_buffer=_READ_BATCH)
            cursor = result.exec_driver_sql(query)  # a server-side cursor on PostgreSQL
            try:
                for batch in cursor.partitions(_READ_BATCH):
                    for idx, event, leaf, root in batch:
                        yield int(idx), event.encode("utf-8"), bytes(leaf), bytes(root)
            finally:
                cursor.close()

    def get(self, index: int) -> StoredEntry:
        """Entry ``index``; :class:`InputError` if there is none."""
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(audit_entries).where(audit_entries.c.idx == index))
                .mappings()
                .first()
            )
        if row is None:
            raise InputError(f"the audit log has no entry {index}")
        return _stored(row)

    def checkpoints(self) -> list[Checkpoint]:
        """Every signed checkpoint, smallest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.size))
            return [Checkpoint(int(r.size), bytes(r.root), r.note) for r in rows]

    def reveal(self, entry: StoredEntry) -> dict[str, Any]:
        """The event as recorded, its sealed fields opened (or marked erased)."""
        document: dict[str, Any] = json.loads(entry.event)
        if entry.sealed is None or entry.subject is None:
            return document
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(audit_subject_keys.c.data_key, audit_subject_keys.c.erased_at).where(
                    audit_subject_keys.c.subject == entry.subject
                )
            ).first()
        details = document.setdefault("details", {})
        key, erased_at = (None, None) if row is None else row
        # Recorded before the subject's last erasure: sealed under a key that no longer
        # exists, even if the subject has a new key for what came after.
        if key is None or (erased_at is not None and entry.recorded_at <= _utc(erased_at)):
            for name, value in list(details.items()):
                if isinstance(value, dict) and "sealed" in value:
                    details[name] = "[erased]"
            return document
        details.update(unseal(entry.event, entry.sealed, bytes(key)))
        return document

    def _leaves(self, size: int) -> list[bytes]:
        leaves = [e.leaf_hash for e in self.entries(0, size)]
        if len(leaves) != size:
            raise LogIntegrityError(f"the log holds {len(leaves)} entries, not {size}")
        return leaves

    def inclusion(self, index: int, size: int | None = None) -> tuple[bytes, list[bytes], bytes]:
        """(leaf hash, audit path, root) proving entry ``index`` is in the tree of ``size``."""
        size = self.size() if size is None else size
        leaves = self._leaves(size)
        if not 0 <= index < size:
            raise InputError(f"no entry {index} in a log of {size}")
        return leaves[index], inclusion_proof(leaves, index, size), subtree_root(leaves)

    def consistency(self, old: int, new: int | None = None) -> tuple[list[bytes], bytes, bytes]:
        """(proof, old root, new root) that the log of ``old`` entries is a prefix of ``new``."""
        new = self.size() if new is None else new
        leaves = self._leaves(new)
        if not 0 < old <= new:
            raise InputError(f"no consistency proof from {old} to {new}")
        proof = consistency_proof(leaves, old, new)
        return proof, subtree_root(leaves, 0, old), subtree_root(leaves)


@record(slots=False)
class _Statements:
    """The writer's statements in one driver's placeholder style."""

    mark: str
    head: str
    ensure_head: str
    update_head: str
    insert: str
    new_key: str
    renew_key: str


@functools.cache
def _statements(dialect: str) -> _Statements:
    def driver(text: str) -> str:
        return text if dialect == "sqlite" else text.replace("?", "%s")

    # The last checkpoint's size comes with the head: one round trip instead of two.
    head = (
        "SELECT size, frontier, (SELECT MAX(size) FROM audit_checkpoints) "
        "FROM audit_head WHERE id = 1"
    )
    return _Statements(
        mark=driver("?"),
        head=head if dialect == "sqlite" else head + " FOR UPDATE",
        ensure_head=(
            "INSERT INTO audit_head (id, size, frontier) VALUES (1, 0, '[]') ON CONFLICT DO NOTHING"
        ),
        update_head=driver("UPDATE audit_head SET size = ?, frontier = ? WHERE id = 1"),
        insert=driver(
            "INSERT INTO audit_entries (idx, leaf_hash, root, event, subject, sealed, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ),
        new_key=driver(
            "INSERT INTO audit_subject_keys (data_key, created_at, subject) VALUES (?, ?, ?)"
        ),
        renew_key=driver(
            "UPDATE audit_subject_keys SET data_key = ?, created_at = ? WHERE subject = ?"
        ),
    )


def _db_time(conn: sa.Connection, now: datetime) -> object:
    """``now`` as the driver stores it: SQLAlchemy's SQLite text format, else the datetime."""
    if conn.dialect.name == "sqlite":
        return now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return now


def _utc(value: datetime) -> datetime:
    # SQLite returns stored times without their zone; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _stored(row: sa.RowMapping) -> StoredEntry:
    return StoredEntry(
        index=int(row["idx"]),
        event=row["event"].encode("utf-8"),
        leaf_hash=bytes(row["leaf_hash"]),
        root=bytes(row["root"]),
        recorded_at=_utc(row["recorded_at"]),
        subject=row["subject"],
        sealed=None if row["sealed"] is None else bytes(row["sealed"]),
    )


def _lock_head(cursor: DBAPICursor, sql: _Statements) -> tuple[MerkleAccumulator, int]:
    """The tree as the head row has it, locked until commit; the last checkpoint's size."""
    cursor.execute(sql.head)
    row = cursor.fetchone()
    if row is None:
        # The first append makes the head row (on PostgreSQL another writer may be making
        # it at the same moment, hence ON CONFLICT), then locks it like any other.
        cursor.execute(sql.ensure_head)
        cursor.execute(sql.head)
        row = cursor.fetchone()
    if row is None:  # pragma: no cover - made just above
        raise AuditError("the audit log's head row is missing")
    size, frontier, last = row
    hashes = [bytes.fromhex(h) for h in json.loads(frontier)]
    return MerkleAccumulator.resume(int(size), hashes), int(last or 0)


def _insert_checkpoint(conn: sa.Connection, cp: Checkpoint, now: datetime) -> None:
    conn.execute(
        sa.insert(audit_checkpoints).values(
            size=cp.size, root=cp.root, note=cp.note, created_at=now
        )
    )
