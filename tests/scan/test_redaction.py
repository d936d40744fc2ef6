"""ramparts redact: a sanitised copy, rescanned clean, restored with the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.cli import main
from ramparts.scan.pii import PiiScanner
from ramparts.scan.runner import run_scan
from ramparts.scan.secrets import SecretScanner

ROWS = (
    "id,full_name,email,card_number,note\n"
    '1,Stefan Thompson,sthompson@proton.me,4103 0738 6009 7117,"DOB: 06/06/1947"\n'
    "2,Nadia Nguyen,nadia@northwind.io,5140-9424-6978-3164,token ghp_placeholder\n"
)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    code = info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().err


def test_redact_then_rescan_finds_nothing_and_reverse_restores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the key store lives in ./.ramparts
    src = tmp_path / "in"
    src.mkdir()
    (src / "customers.csv").write_text(ROWS, encoding="utf-8")
    log = {"prompt": "my key is AKIAZ3MQ7YXHJ4KLPQ2R and my email sthompson@proton.me"}
    (src / "requests.jsonl").write_text(json.dumps(log) + "\n", encoding="utf-8")
    before = (src / "customers.csv").read_bytes()

    code, err = _run(["redact", "in", "out", "--default", "tokenize", "--key", "t"], capsys)
    assert code == 0, err
    assert (src / "customers.csv").read_bytes() == before  # never changed in place
    rescan = run_scan(tmp_path / "out", [PiiScanner(), SecretScanner()])
    assert [f.rule_id for f in rescan.findings if f.rule_id != "RMP-DATA-COLUMN"] == []

    code, err = _run(["redact", "--reverse", "out", "back", "--key", "t"], capsys)
    assert code == 0, err
    assert (tmp_path / "back" / "customers.csv").read_bytes() == before
    restored = json.loads((tmp_path / "back" / "requests.jsonl").read_text(encoding="utf-8"))
    assert restored == log

    code, err = _run(["redact", "--reverse", "out", "nope", "--key", "missing"], capsys)
    assert code == 2
    assert "no key named 'missing'" in err


def test_output_inside_the_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.csv").write_text(ROWS, encoding="utf-8")
    code, err = _run(["redact", str(tmp_path), str(tmp_path / "clean")], capsys)
    assert code == 2
    assert "must be outside the input" in err
