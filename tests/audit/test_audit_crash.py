"""A writer killed with SIGKILL under concurrent load loses no acknowledged entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ramparts.audit.log import AuditLog
from ramparts.audit.note import NoteSigner, NoteVerifier
from ramparts.audit.verify import verify_entries
from ramparts.core.clock import SystemClock
from ramparts.store import create_engine, upgrade

WRITER = r"""
import sys, threading
from datetime import UTC, datetime
from pathlib import Path
from ramparts.audit.log import AuditLog
from ramparts.audit.note import NoteSigner
from ramparts.core.clock import SystemClock
from ramparts.core.interface import Event, Outcome
from ramparts.store import create_engine

url, key = sys.argv[1], Path(sys.argv[2])
log = AuditLog(create_engine(url), NoteSigner("ramparts.test/crash", key), clock=SystemClock(),
               checkpoint_every=50)
out = threading.Lock()

def write(t):
    i = 0
    while True:
        rid = f"w{t}-{i}"
        r = log.append(Event(actor="svc", action="model.invoke", resource="model:m", outcome=Outcome.SUCCESS,
                             time=datetime.now(UTC), request_id=rid))
        with out:
            sys.stdout.write(f"{r.index} {rid}\n")
            sys.stdout.flush()
        i += 1

for t in range(4):
    threading.Thread(target=write, args=(t,), daemon=True).start()
threading.Event().wait()
"""


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_entry(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    upgrade(engine)
    key = tmp_path / "audit.pem"
    signer = NoteSigner("ramparts.test/crash", key)
    acked: list[tuple[int, str]] = []
    for _ in range(2):  # crash, restart, crash again
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, str(key)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            index, rid = line.split()
            acked.append((int(index), rid))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert len(acked) > 100
    log = AuditLog(engine, signer, clock=SystemClock())
    verified = verify_entries(
        log.rows(), [c.note for c in log.checkpoints()], NoteVerifier(signer.vkey)
    )
    assert verified.size >= len(acked)
    for index, rid in acked:
        assert json.loads(log.get(index).event)["request_id"] == rid
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one()
            == verified.size
        )
    engine.dispose()
