"""``ramparts gateway`` on the command line: the kill switch, and usage errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

CliRun = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RAMPARTS_DATABASE_URL", "RAMPARTS_STATE_DIR", "RAMPARTS_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_kill_resume_and_status(home: Path, cli: CliRun) -> None:
    assert cli(["identity", "create", "app", "--role", "model-consumer"])[0] == 0
    code, out, err = cli(["gateway", "kill", "--model", "llama3", "--reason", "jailbreak wave"])
    assert (code, out.strip()) == (0, "kill switch engaged: model llama3 (jailbreak wave)"), err
    assert cli(["gateway", "kill", "--identity", "app"])[0] == 0
    code, out, _ = cli(["-f", "json", "gateway", "status"])
    engaged = {(k["scope"], k["reason"]) for k in json.loads(out)}
    assert engaged == {("model", "jailbreak wave"), ("identity", "kill switch")}
    code, out, _ = cli(["gateway", "resume", "--model", "llama3"])
    assert out.strip() == "kill switch released: model llama3"
    code, out, _ = cli(["gateway", "resume", "--model", "llama3"])
    assert out.strip() == "no kill switch was engaged for model llama3"
    code, out, _ = cli(["audit", "tail"])
    actions = [json.loads(line)["event"]["action"] for line in out.splitlines()]
    assert actions.count("gateway.kill") == 2
    assert actions.count("gateway.resume") == 2


def test_usage_errors(home: Path, cli: CliRun) -> None:
    code, _, err = cli(["gateway"])
    assert (code, err.strip()) == (
        2,
        "ramparts: error: give --upstream URL or --config gateway.toml",
    )
    code, _, err = cli(["gateway", "--config", "missing.toml"])
    assert code == 2
    assert "cannot read missing.toml" in err
