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
