"""The audit log: durable appends, append-only rows, proofs, erasure, and every tamper."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from ramparts.audit.export import export_log, read_export
from ramparts.audit.interface import LogIntegrityError
from ramparts.audit.log import AuditLog
from ramparts.audit.note import NoteSigner, NoteVerifier
from ramparts.audit.verify import verify_entries
from ramparts.audit.worm import DirectoryWorm
from ramparts.core.clock import SystemClock
from ramparts.core.interface import Event, Outcome
from ramparts.core.merkle import (
    MerkleAccumulator,
    leaf_hash,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)
from ramparts.errors import AuditError, InputError
from ramparts.store import create_engine, upgrade


def event(i: int, **details: object) -> Event:
    return Event(
        actor=f"user-{i % 3}",
        action="model.invoke",
        resource="model:classifier@3",
        outcome=Outcome.SUCCESS,
        time=datetime(2026, 12, 1, 12, 0, i % 60, tzinfo=UTC),
        request_id=f"req-{i}",
        details=details,
    )


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = create_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def signer(tmp_path: Path) -> NoteSigner:
    return NoteSigner("ramparts.test/audit", tmp_path / "keys" / "audit.pem")


@pytest.fixture
def log(engine: sa.Engine, signer: NoteSigner, tmp_path: Path) -> AuditLog:
    return AuditLog(
        engine,
        signer,
        clock=SystemClock(),
        checkpoint_every=10,
        worm=DirectoryWorm(tmp_path / "worm"),
    )


def verify(log: AuditLog, signer: NoteSigner, worm: Path | None = None) -> int:
    external = [p.read_text() for p in sorted(worm.glob("*.note"))] if worm else []
    notes = [cp.note for cp in log.checkpoints()]
    return verify_entries(log.rows(), notes, NoteVerifier(signer.vkey), external=external).size


def fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(event(i, model="classifier", version="3"))


def test_appends_checkpoints_and_verifies(
    log: AuditLog, signer: NoteSigner, tmp_path: Path
) -> None:
    receipts = [log.append(event(i)) for i in range(25)]
    assert [r.index for r in receipts] == list(range(25))
    assert [cp.size for cp in log.checkpoints()] == [10, 20]
    assert sorted(p.name for p in (tmp_path / "worm").iterdir()) == [
        "checkpoint-00000000000000000010.note",
        "checkpoint-00000000000000000020.note",
    ]
    cp = log.checkpoint()
    assert cp is not None
    assert cp.size == 25
    assert cp.root == receipts[-1].root
    assert log.checkpoint() is None
    assert verify(log, signer, tmp_path / "worm") == 25
    first = json.loads(log.get(0).event)
    assert first["action"] == "model.invoke"
    assert first["time"] == "2026-12-01T12:00:00Z"


def test_rows_refuse_update_and_delete(log: AuditLog, engine: sa.Engine) -> None:
    fill(log, 12)  # one checkpoint
    for statement in (
        "UPDATE audit_entries SET event = '{}' WHERE idx = 1",
        "DELETE FROM audit_entries WHERE idx = 2",
        "UPDATE audit_checkpoints SET note = ''",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE audit_entries"))


def _attacker(engine: sa.Engine, *statements: str, **params: object) -> None:
    """An attacker with write access to the database: drops the triggers first."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
            conn.execute(sa.text("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"))
        else:
            for name in ("audit_entries", "audit_checkpoints"):
                for verb in ("update", "delete"):
                    conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}_no_{verb}"))
        for statement in statements:
            conn.execute(sa.text(statement), params)


def _tampered(log: AuditLog, signer: NoteSigner) -> LogIntegrityError:
    with pytest.raises(LogIntegrityError) as info:
        verify(log, signer)
    return info.value


def test_modified_entry_is_located(log: AuditLog, signer: NoteSigner, engine: sa.Engine) -> None:
    fill(log, 25)
    _attacker(
        engine, "UPDATE audit_entries SET event = REPLACE(event, 'user-2', 'user-0') WHERE idx = 14"
    )
    err = _tampered(log, signer)
    assert (err.index, err.reason.split(":")[0]) == (14, "modified")


def test_modified_entry_with_its_leaf_hash_recomputed(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine
) -> None:
    fill(log, 25)
    forged = log.get(14).event.replace(b"user-2", b"user-0")
    _attacker(
        engine,
        "UPDATE audit_entries SET event = :event, leaf_hash = :leaf WHERE idx = 14",
        event=forged.decode(),
        leaf=leaf_hash(forged),
    )
    err = _tampered(log, signer)
    assert err.index == 14
    assert "tree head differs" in err.reason


def _rewrite_history(
    log: AuditLog, engine: sa.Engine, index: int, old: bytes, new: bytes
) -> MerkleAccumulator:
    """Change entry ``index`` and recompute every stored leaf hash and tree head after it,
    as an attacker with write access to the database would; the tree as rewritten."""
    acc = MerkleAccumulator()
    for e in list(log.entries()):
        body = e.event.replace(old, new) if e.index == index else e.event
        acc.append(leaf_hash(body))
        if e.index >= index:
            _attacker(
                engine,
                "UPDATE audit_entries SET event = :e, leaf_hash = :l, root = :r WHERE idx = :i",
                e=body.decode(),
                l=leaf_hash(body),
                r=acc.root(),
                i=e.index,
            )
    return acc


def test_history_rewritten_with_every_hash_recomputed(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine
) -> None:
    """The attacker recomputes leaves and tree heads: the signed checkpoint still catches it."""
    fill(log, 25)
    _rewrite_history(log, engine, 14, b"user-2", b"user-0")
    err = _tampered(log, signer)
    assert "signed checkpoint at size 20 does not match" in err.reason
    assert err.index == 10  # the change lies in entries 10..19


@pytest.mark.parametrize(
    ("statement", "index", "reason"),
    [
        ("DELETE FROM audit_entries WHERE idx = 7", 7, "missing"),
        ("DELETE FROM audit_entries WHERE idx >= 22", 22, "truncated"),
    ],
)
def test_deleted_and_truncated_entries_are_located(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine, statement: str, index: int, reason: str
) -> None:
    fill(log, 25)
    log.checkpoint()
    _attacker(engine, statement)
    err = _tampered(log, signer)
    assert (err.index, err.reason.split(":")[0]) == (index, reason)


def test_inserted_and_reordered_entries_are_located(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine
) -> None:
    fill(log, 25)
    e3, e4 = log.get(3), log.get(4)
    _attacker(
        engine,
        "UPDATE audit_entries SET event = :a, leaf_hash = :la WHERE idx = 3",
        a=e4.event.decode(),
        la=e4.leaf_hash,
    )
    _attacker(
        engine,
        "UPDATE audit_entries SET event = :b, leaf_hash = :lb WHERE idx = 4",
        b=e3.event.decode(),
        lb=e3.leaf_hash,
    )
    assert _tampered(log, signer).index == 3


def test_forged_checkpoints_are_refused(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine, tmp_path: Path
) -> None:
    fill(log, 25)
    real = log.checkpoints()[0]
    other = NoteSigner("ramparts.test/audit", tmp_path / "other.pem").sign(25, b"\x00" * 32)
    altered = real.note.replace(real.note.splitlines()[2], "A" * 43 + "=")
    for note, message in ((other.note, "no signature by"), (altered, "signature does not verify")):
        _attacker(engine, "DELETE FROM audit_checkpoints WHERE size = 10")
        _attacker(
            engine,
            "INSERT INTO audit_checkpoints VALUES (10, :r, :n, :t)",
            r=real.root,
            n=note,
            t=datetime.now(UTC),
        )
        with pytest.raises(LogIntegrityError, match=message):
            verify(log, signer)


def test_fork_signed_with_a_stolen_key_is_caught_by_the_write_once_copy(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine, tmp_path: Path
) -> None:
    fill(log, 25)  # checkpoints 10 and 20 were copied to the write-once folder
    _rewrite_history(log, engine, 5, b"req-5", b"req-X")
    _attacker(engine, "DELETE FROM audit_checkpoints")
    leaves = [e.leaf_hash for e in log.entries()]
    for size in (10, 20):  # signed again with the stolen key
        forged = signer.sign(size, subtree_root(leaves, 0, size))
        _attacker(
            engine,
            "INSERT INTO audit_checkpoints VALUES (:s, :r, :n, :t)",
            s=size,
            r=forged.root,
            n=forged.note,
            t=datetime.now(UTC),
        )
    assert verify(log, signer) == 25  # the rewritten log is consistent with itself...
    with pytest.raises(LogIntegrityError, match="forked from what was published") as info:
        verify(log, signer, tmp_path / "worm")  # ...but not with the published checkpoints
    assert info.value.index == 0


def test_erasure_keeps_the_log_verifiable_and_the_prompt_unreadable(
    log: AuditLog, signer: NoteSigner, engine: sa.Engine
) -> None:
    log.append(event(1, subject="cust-42", prompt="my card is 4111 1111 1111 1111", response="ok"))
    log.append(event(2, subject="cust-7", prompt="hello"))
    stored = log.get(0)
    assert b"4111" not in stored.event
    assert stored.sealed is not None
    assert log.reveal(stored)["details"]["prompt"] == "my card is 4111 1111 1111 1111"
    assert log.erase("cust-42") == 1
    revealed = log.reveal(log.get(0))["details"]
    assert revealed["prompt"] == revealed["response"] == "[erased]"
    assert log.reveal(log.get(1))["details"]["prompt"] == "hello"
    assert verify(log, signer) == 2
    with pytest.raises(InputError, match="no personal data"):
        log.erase("nobody")


def test_tampered_sealed_fields_are_refused(log: AuditLog, engine: sa.Engine) -> None:
    log.append(event(1, subject="cust-1", prompt="secret"))
    sealed = bytearray(log.get(0).sealed or b"")
    sealed[-1] ^= 1
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        conn.execute(sa.text("UPDATE audit_entries SET sealed = :s"), {"s": bytes(sealed)})
    with pytest.raises(LogIntegrityError, match="do not open"):
        log.reveal(log.get(0))


def test_proofs(log: AuditLog) -> None:
    fill(log, 37)
    leaf, path, root = log.inclusion(21)
    verify_inclusion(21, 37, leaf, path, root)
    proof, old_root, new_root = log.consistency(20)
    verify_consistency(20, 37, old_root, new_root, proof)
    assert old_root == next(cp.root for cp in log.checkpoints() if cp.size == 20)


def test_concurrent_writers_share_commits(log: AuditLog, signer: NoteSigner) -> None:
    receipts: list[int] = []
    lock = threading.Lock()

    def writer(k: int) -> None:
        for i in range(40):
            r = log.append(event(k * 100 + i))
            with lock:
                receipts.append(r.index)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(receipts) == list(range(240))
    assert verify(log, signer) == 240


def test_an_unexpected_error_fails_its_batch_closed_and_the_log_goes_on(
    log: AuditLog, signer: NoteSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An error the writer does not expect (a bug, not a database error) fails its batch
    # with an AuditError that names it, and the next append is written.
    real_row = AuditLog._row
    broken = {"once": True}

    def row_once(self: AuditLog, *args: object) -> tuple[object, ...]:
        if broken.pop("once", False):
            raise RuntimeError("a bug")
        return real_row(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(AuditLog, "_row", row_once)
    with pytest.raises(AuditError, match="internal error: RuntimeError"):
        log.append(event(1))
    assert log.append(event(2)).index == 0
    assert verify(log, signer) == 1


def test_export_verifies_offline_with_only_the_public_key(
    log: AuditLog, signer: NoteSigner, tmp_path: Path
) -> None:
    fill(log, 23)
    log.checkpoint()
    folder = tmp_path / "export"
    assert export_log(log, folder, signer.vkey) == 23
    entries, notes = read_export(folder)
    assert verify_entries(entries, notes, NoteVerifier(signer.vkey)).size == 23
    lines = (folder / "entries.jsonl").read_text().splitlines()
    doctored = json.loads(lines[9])
    doctored["event"] = doctored["event"].replace("req-9", "req-0")
    lines[9] = json.dumps(doctored)
    (folder / "entries.jsonl").write_text("\n".join(lines) + "\n")
    entries, notes = read_export(folder)
    with pytest.raises(LogIntegrityError) as info:
        verify_entries(entries, notes, NoteVerifier(signer.vkey))
    assert info.value.index == 9


def test_append_many_and_append_async(log: AuditLog, signer: NoteSigner) -> None:
    import asyncio  # noqa: PLC0415

    receipts = log.append_many([event(i) for i in range(15)])
    assert [r.index for r in receipts] == list(range(15))

    async def many() -> list[int]:
        done = await asyncio.gather(*(log.append_async(event(100 + i)) for i in range(50)))
        return sorted(r.index for r in done)

    assert asyncio.run(many()) == list(range(15, 65))
    assert verify(log, signer) == 65


def test_events_json_cannot_state_are_refused_alone(log: AuditLog) -> None:
    with pytest.raises(InputError, match="cannot be recorded as JSON"):
        log.append(event(1, score=float("nan")))
    assert log.append(event(2)).index == 0


def test_one_batch_seals_for_new_known_and_erased_subjects(
    log: AuditLog, signer: NoteSigner
) -> None:
    log.append(event(1, subject="known", prompt="first"))
    log.append(event(2, subject="erased", prompt="gone"))
    log.erase("erased")
    log.append_many(
        [
            event(3, subject="known", prompt="second"),
            event(4, subject="erased", prompt="after erasure"),
            event(5, subject="new", prompt="hello"),
            event(6, subject="new", response="again"),
        ]
    )
    opened = [log.reveal(log.get(i))["details"] for i in range(6)]
    assert [d.get("prompt", d.get("response")) for d in opened] == [
        "first",
        "[erased]",
        "second",
        "after erasure",
        "hello",
        "again",
    ]
    assert verify(log, signer) == 6


def test_a_failing_database_is_an_audit_error_and_nothing_is_acknowledged(
    log: AuditLog, engine: sa.Engine
) -> None:
    import asyncio  # noqa: PLC0415

    fill(log, 3)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_subject_keys"))
    with pytest.raises(AuditError, match=r"could not record the event: .*audit_subject_keys"):
        log.append(event(3, subject="cust-1", prompt="hello"))
    with pytest.raises(AuditError, match="could not record the event"):
        asyncio.run(log.append_async(event(4, subject="cust-1", prompt="hello")))
    assert log.size() == 3
    assert log.append(event(5)).index == 3  # events without personal data still go in
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_checkpoints"))
    with pytest.raises(AuditError, match="checkpoint could not be written"):
        log.checkpoint()


def test_a_batch_of_more_subjects_than_one_query_looks_up(
    log: AuditLog, signer: NoteSigner
) -> None:
    log.append(event(0, subject="cust-7", prompt="before"))
    log.append_many([event(i, subject=f"cust-{i}", prompt=f"hello {i}") for i in range(1, 1201)])
    assert log.reveal(log.get(0))["details"]["prompt"] == "before"
    assert log.reveal(log.get(7))["details"]["prompt"] == "hello 7"  # cust-7's key again
    assert log.reveal(log.get(1200))["details"]["prompt"] == "hello 1200"
    assert verify(log, signer) == 1201
