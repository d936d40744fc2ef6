"""``ramparts audit`` as a CI step and an auditor use it."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAMPARTS_AUDIT__CHECKPOINT_EVERY", "2")
    return tmp_path


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_append_verify_export_and_erase(
    home: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(["audit", "append", "--actor", "ci", "--action", "model.promote",
                        "--resource", "model:fraud@7", "--detail", "stage=prod"])  # fmt: skip
    assert code == 0
    assert out.startswith("recorded entry 0 ")
    event = {"actor": "gw", "action": "model.invoke", "resource": "model:fraud@7",
             "details": {"subject": "cust-42", "prompt": "call me on +44 7700 900123"}}  # fmt: skip
    _stdin(monkeypatch, json.dumps(event))
    code, out, _ = cli(["-f", "json", "audit", "append"])
    assert json.loads(out)["index"] == 1
    code, out, _ = cli(["audit", "verify"])
    assert code == 0
    assert out.startswith("verified: 2 entries")
    assert "1 signed checkpoint(s)" in out
    code, out, _ = cli(["audit", "show", "1"])
    assert json.loads(out)["event"]["details"]["prompt"] == "call me on +44 7700 900123"
    assert cli(["audit", "erase", "--subject", "cust-42"])[0] == 0
    code, out, _ = cli(["audit", "show", "1"])
    assert json.loads(out)["event"]["details"]["prompt"] == "[erased]"
    code, key, _ = cli(["audit", "key"])
    (home / "log.vkey").write_text(key)
    assert cli(["audit", "export", str(home / "exp")])[0] == 0
    code, out, _ = cli(["audit", "verify", "--export", str(home / "exp"), "--public-key", str(home / "log.vkey")])  # fmt: skip
    assert code == 0, out
    code, out, _ = cli(["audit", "proof", "0"])
    assert json.loads(out)["tree_size"] == 2


def test_tampering_exits_1_naming_the_entry(home: Path, cli: CliRun) -> None:
    for i in range(5):
        cli(["audit", "append", "--actor", "ci", "--action", "step", "--resource", f"job:{i}"])
    db = sqlite3.connect(home / ".ramparts" / "ramparts.db")
    db.execute("DROP TRIGGER audit_entries_no_update")
    db.execute("UPDATE audit_entries SET event = replace(event, 'job:3', 'job:9') WHERE idx = 3")
    db.commit()
    db.close()
    code, out, _ = cli(["audit", "verify"])
    assert code == 1
    assert out.startswith("FAILED: audit log does not verify: entry 3: modified")
    code, out, _ = cli(["-f", "json", "audit", "verify"])
    assert json.loads(out)["first_bad_index"] == 3


def test_bad_input_is_one_line(home: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, "{not json")
    code, _, err = cli(["audit", "append"])
    assert code == 2
    assert err.startswith("ramparts: error: stdin is not one JSON event")
    _stdin(monkeypatch, '{"actor": "x"}')
    code, _, err = cli(["audit", "append"])
    assert code == 2
    assert "actor, action, resource are required" in err
    code, _, err = cli(["audit", "show", "99"])
    assert code == 2
    assert "no entry 99" in err
    code, _, err = cli(["audit", "verify", "--export", str(home)])
    assert code == 2


def test_ocsf_export_and_syslog(home: Path, cli: CliRun) -> None:
    import socket  # noqa: PLC0415

    cli(
        ["audit", "append", "--actor", "ci", "--action", "model.promote", "--resource", "model:m@2"]
    )
    cli(["audit", "append", "--actor", "alice", "--action", "auth.login", "--resource", "gateway",
         "--outcome", "denied", "--reason", "expired token"])  # fmt: skip
    code, out, _ = cli(["audit", "tail", "--ocsf"])
    first, second = (json.loads(line) for line in out.splitlines())
    assert (first["class_uid"], first["activity_id"], first["type_uid"]) == (6003, 3, 600303)
    assert first["api"]["operation"] == "model.promote"
    assert first["metadata"]["uid"] == "0"
    assert (second["class_uid"], second["activity_id"], second["status"]) == (3002, 1, "Failure")
    assert second["status_detail"] == "expired token"
    assert cli(["audit", "export", str(home / "exp"), "--ocsf"])[0] == 0
    assert len((home / "exp" / "ocsf.jsonl").read_text().splitlines()) == 2
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        port = server.getsockname()[1]
        code, out, _ = cli(["audit", "tail", "-n", "1", "--syslog", f"udp://127.0.0.1:{port}"])
        assert (code, out.strip()) == (0, f"sent 1 audit entry to udp://127.0.0.1:{port}")
        message = server.recv(65536).decode()
    assert message.startswith("<84>1 ")  # facility 10 (security/authorization), warning
    assert ' audit [ramparts@32473 index="1" action="auth.login"' in message
    code, _, err = cli(["audit", "tail", "--syslog", "http://x"])
    assert code == 2
    assert "expected udp://HOST:PORT" in err


def test_retention_below_six_months_is_refused(
    home: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPARTS_AUDIT__RETENTION_DAYS", "30")
    code, _, err = cli(["audit", "tail"])
    assert code == 2
    assert "at least 183" in err
