"""Audit log throughput and verification, beside a plain SQLite insert loop.

    python benchmarks/audit/run.py [--entries 1000000] [--out DIR]

Every figure is measured in this run on one machine, each on a fresh SQLite file in WAL
mode with ``synchronous=FULL`` (the setting ramparts uses, so that an acknowledged
write survives a crash):

1. the floor: a plain ``sqlite3`` loop inserting one row per committed transaction,
   and the same rows inserted 1,000 per transaction (what SQLite itself allows);
2. ramparts ``AuditLog.append`` (durable, acknowledged one by one) from 1 and 16
   threads, ``append_async`` from 2,000 asyncio tasks, and 2 processes of 1,000 tasks;
3. ``append_many`` batches of 10,000, used to fill a log of ``--entries`` entries;
4. verification of that log: in-process (``verify_entries``) and ``ramparts audit
   verify`` from the command line (wall time, start-up included).

A Markdown table is printed; docs/benchmarks.md records it with this command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import ROOT, table  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from ramparts.audit.log import AuditLog  # noqa: E402
from ramparts.audit.note import NoteSigner, NoteVerifier  # noqa: E402
from ramparts.audit.verify import verify_entries  # noqa: E402
from ramparts.core.clock import SystemClock  # noqa: E402
from ramparts.core.interface import Event, Outcome  # noqa: E402
from ramparts.store import create_engine, upgrade  # noqa: E402

DETAILS = {"model": "fraud-detector", "version": "7", "tokens": 412, "latency_ms": 83}


def event(i: int) -> Event:
    return Event(
        actor=f"svc-{i % 7}",
        action="model.invoke",
        resource="model:fraud-detector@7",
        outcome=Outcome.SUCCESS,
        time=datetime.now(UTC),
        request_id=f"req-{i}",
        details=DETAILS,
    )


def floor(folder: Path, n: int, per_commit: int) -> float:
    """Plain sqlite3: ``n`` rows, ``per_commit`` per committed transaction."""
    db = sqlite3.connect(folder / f"floor-{per_commit}.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (idx INTEGER PRIMARY KEY, event TEXT NOT NULL)")
    body = json.dumps({"actor": "svc", "action": "model.invoke", "details": DETAILS})
    t0 = time.perf_counter()
    for start in range(0, n, per_commit):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO t VALUES (?, ?)", [(i, body) for i in range(start, start + per_commit)]
        )
        db.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    db.close()
    return rate


def open_log(path: Path) -> AuditLog:
    engine = create_engine(f"sqlite:///{path.as_posix()}")
    upgrade(engine)
    signer = NoteSigner("bench/audit", path.with_suffix(".pem"))
    return AuditLog(engine, signer, clock=SystemClock(), checkpoint_every=10_000)


def threads(path: Path, count: int, per_thread: int) -> float:
    log = open_log(path)

    def work(k: int) -> None:
        for i in range(per_thread):
            log.append(event(k * per_thread + i))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(count)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return count * per_thread / (time.perf_counter() - t0)


def tasks(path: Path, count: int, per_task: int) -> float:
    log = open_log(path)

    async def work(k: int) -> None:
        for i in range(per_task):
            await log.append_async(event(k * per_task + i))

    async def main() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(work(k) for k in range(count)))
        return count * per_task / (time.perf_counter() - t0)

    return asyncio.run(main())


def processes(path: Path, count: int, tasks_each: int, per_task: int) -> float:
    code = (
        "import sys; sys.path.insert(0, sys.argv[4]); from run import tasks;"
        "from pathlib import Path; tasks(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
    )
    open_log(path)  # migrate once before the writers start
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(tasks_each), str(per_task), str(HERE)]
        )
        for _ in range(count)
    ]
    for p in procs:
        p.wait()
    return count * tasks_each * per_task / (time.perf_counter() - t0)


def fill(path: Path, entries: int) -> tuple[AuditLog, float]:
    log = open_log(path)
    t0 = time.perf_counter()
    for start in range(0, entries, 10_000):
        log.append_many([event(i) for i in range(start, min(start + 10_000, entries))])
    return log, entries / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None, help="scratch folder (default: temp)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="ramparts-audit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = [["what", "durable writes/s"]]
    rows.append(["floor: sqlite3, 1 row per commit", f"{floor(folder, 3_000, 1):,.0f}"])
    rows.append(["floor: sqlite3, 1,000 rows per commit", f"{floor(folder, 200_000, 1000):,.0f}"])
    rows.append(["ramparts append, 1 thread", f"{threads(folder / 't1.db', 1, 2_000):,.0f}"])
    rows.append(["ramparts append, 16 threads", f"{threads(folder / 't16.db', 16, 500):,.0f}"])
    rows.append(["ramparts append_async, 2,000 tasks", f"{tasks(folder / 'a.db', 2000, 15):,.0f}"])
    rows.append(
        [
            "ramparts append_async, 2 processes x 1,000 tasks",
            f"{processes(folder / 'p.db', 2, 1000, 15):,.0f}",
        ]
    )
    log, rate = fill(folder / "big.db", args.entries)
    rows.append(
        [f"ramparts append_many (10,000 per commit), {args.entries:,} entries", f"{rate:,.0f}"]
    )
    print(table(rows))
    signer = NoteSigner("bench/audit", (folder / "big.db").with_suffix(".pem"))
    t0 = time.perf_counter()
    result = verify_entries(
        log.rows(), [c.note for c in log.checkpoints()], NoteVerifier(signer.vkey)
    )
    inproc = time.perf_counter() - t0
    env = {**os.environ, "RAMPARTS_DATABASE_URL": f"sqlite:///{(folder / 'big.db').as_posix()}",
           "RAMPARTS_AUDIT__ORIGIN": "bench/audit",
           "RAMPARTS_AUDIT__SIGNING_KEY": str((folder / "big.db").with_suffix(".pem"))}  # fmt: skip
    ramparts = Path(sys.executable).with_name("ramparts")
    t0 = time.perf_counter()
    done = subprocess.run(
        [str(ramparts), "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    cli = time.perf_counter() - t0
    print()
    print(table([
        ["verification", "entries", "checkpoints", "seconds"],
        ["in process (verify_entries)", f"{result.size:,}", str(result.checkpoints), f"{inproc:.1f}"],
        ["ramparts audit verify (CLI, wall)", f"{result.size:,}", str(result.checkpoints), f"{cli:.1f}"],
    ]))  # fmt: skip
    print(f"\nCLI said: {done.stdout.strip()[:120]} (exit {done.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
