"""The CLI as a user meets it: help, exit codes, formats, one-line errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ramparts.cli import main
from ramparts.cli.app import COMMANDS, build_parser

# An inert malicious pickle (protocol 2): os.system('touch marker'). Never loaded.
EVIL = b"\x80\x02cos\nsystem\nq\x00X\x0c\x00\x00\x00touch markerq\x01\x85q\x02Rq\x03."
BENIGN = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "evil.pkl").write_bytes(EVIL)
    (tmp_path / "models" / "ok.pkl").write_bytes(BENIGN)
    (tmp_path / "train.py").write_text("print('hi')\n", encoding="utf-8")
    return tmp_path


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "usage: ramparts" in out
    for group in ("scan", "config", "db"):
        code, out, _ = run([group, "--help"], capsys)
        assert code == 0, group
        assert f"usage: ramparts {group}" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.startswith("ramparts, version ")


def test_findings_exit_1_and_clean_exits_0(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["scan", str(project)], capsys)
    assert code == 1
    assert "evil.pkl" in out
    assert "os.system" in out
    (project / "models" / "evil.pkl").unlink()
    code, out, _ = run(["scan", str(project)], capsys)
    assert code == 0, out


def test_the_table_report_is_styled_only_where_colour_is_wanted(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    models = str(project / "models")
    code, out, _ = run(["scan", "models", models], capsys)
    assert code == 1
    assert "\x1b[" not in out  # a pipe: plain text
    assert "CRITICAL  RMP-PICKLE-001  " in out
    assert out.splitlines()[-1].startswith("1 finding(s) (1 critical) in ")
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(["scan", "models", models], capsys)
    assert "\x1b[1m1 finding(s)" in out  # rich, in bold
    assert "┏━" in out  # the table's frame


def test_fail_on_threshold(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["-f", "json", "scan", "models", str(project)], capsys)
    doc = json.loads(out)
    worst = max(
        doc["findings"],
        key=lambda f: ["info", "low", "medium", "high", "critical"].index(f["severity"]),
    )
    assert worst["severity"] == "critical"
    assert code == 1
    (project / "models" / "evil.pkl").write_bytes(BENIGN)
    code, _, _ = run(["scan", str(project), "--fail-on", "info"], capsys)
    assert code == 0


def test_json_and_sarif_to_file(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "out" / "r.sarif"
    code, out, err = run(
        ["scan", str(project), "--format", "sarif", "--output", str(out_file)], capsys
    )
    assert code == 1
    assert out == ""
    assert "finding(s)" in err  # the summary goes to stderr when the report goes to a file
    sarif = json.loads(out_file.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert (
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
            "uri"
        ]
        == "models/evil.pkl"
    )
    code, out, err = run(
        ["--quiet", "scan", str(project), "-f", "json", "-o", str(tmp_path / "r.json")], capsys
    )
    assert err == ""


def test_nothing_scanned_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No scanner reads images (binary, and not a model format).
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, out, _ = run(["scan", str(tmp_path)], capsys)
    assert code == 3
    assert "0 finding(s)" in out


def test_unreadable_file_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = project / "models" / "locked.pkl"
    locked.write_bytes(BENIGN)
    locked.chmod(0)
    try:
        readable = False
        try:
            locked.read_bytes()
            readable = True
        except PermissionError:
            pass
        if readable:
            pytest.skip("running as a user who can read mode-000 files (root)")
        (project / "models" / "evil.pkl").unlink()
        code, out, _ = run(["scan", str(project)], capsys)
        assert code == 2
        assert "locked.pkl" in out
    finally:
        locked.chmod(0o644)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["scan", "/definitely/not/here"], "does not exist"),
        (["scan", ".", "--format", "xml"], "'xml' is not one of"),
        (["--fail-on", "severe", "scan", "."], "'severe' is not one of"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (["scan", ".", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["--config", "/definitely/not/here.toml", "scan", "."], "does not exist"),
    ],
)
def test_usage_errors_are_one_line_exit_4(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(argv, capsys)
    assert code == 4
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_config_errors_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "ramparts.toml"
    cfg.write_text("fail_on = [", encoding="utf-8")
    code, _, err = run(["--config", str(cfg), "scan", str(tmp_path)], capsys)
    assert code == 2
    assert err.startswith("ramparts: error: ")
    assert "invalid TOML" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(["--debug", "--config", str(cfg), "scan", str(tmp_path)], capsys)
    assert "Traceback" in err


def test_env_settings_reach_the_cli(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPARTS_SCAN__EXCLUDE", '["models/", "*.py"]')
    code, out, _ = run(["scan", str(project)], capsys)
    assert code == 3, out  # every file was excluded
    monkeypatch.setenv("RAMPARTS_DATABASE_URL", "postgresql://u:hunter2@db/x")
    code, out, _ = run(["config", "show"], capsys)
    assert code == 0
    assert "hunter2" not in out
    assert json.loads(out)["scan"]["exclude"] == ["models/", "*.py"]


def test_python_dash_m_works(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ramparts", "-f", "json", "scan", str(project)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["critical"] >= 1


def test_allowlist_extension_in_ramparts_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = b"\x80\x02cmypkg.models\nNet\n)\x81."
    (tmp_path / "net.pkl").write_bytes(custom)
    code, out, _ = run(["scan", str(tmp_path)], capsys)
    assert code == 1
    assert "mypkg.models.Net" in out
    cfg = tmp_path / "ramparts.toml"
    cfg.write_text('[scan.models]\nallow = ["mypkg.*"]\n', encoding="utf-8")
    code, out, _ = run(["--config", str(cfg), "scan", str(tmp_path)], capsys)
    assert code == 0, out


def test_bad_allowlist_entry_fails_before_scanning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "ramparts.toml"
    cfg.write_text('[scan.models]\nallow = ["not a name!"]\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no model here", encoding="utf-8")
    code, _, err = run(["--config", str(cfg), "scan", str(tmp_path)], capsys)
    assert code == 2
    assert "not a name!" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["json", "table"])
@pytest.mark.parametrize("name", ["ok.pkl", "state.pt"])
def test_a_pickle_scan_imports_only_what_it_needs(project: Path, name: str, fmt: str) -> None:
    # Start-up time is most of a small scan; keep heavy modules off the common path.
    with zipfile.ZipFile(project / "models" / "state.pt", "w") as zf:  # torch.save's layout
        zf.writestr("state/data.pkl", BENIGN)
        zf.writestr("state/version", "3\n")
        zf.writestr("state/.data/serialization_id", "1234")
    code = (
        "import sys\n"
        "from ramparts.cli import main\n"
        "try:\n"
        f"    main(['-q', '-f', {fmt!r}, 'scan', 'models', {str(project / 'models' / name)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    loaded = set(proc.stderr.split())
    assert "ramparts.scan.models.pickle_vm" in loaded
    assert proc.stdout.startswith("{" if fmt == "json" else "0 finding(s) in 1 of 1 file(s)")
    if fmt == "table":  # a report to a pipe is plain text: no rich, no json
        assert "json" not in loaded
    for heavy in (
        "click",
        "rich",
        "pydantic",
        "sqlalchemy",
        "structlog",
        "tarfile",
        "tomllib",
        "multiprocessing",
        "concurrent.futures",
        "cryptography",
        "phonenumbers",
        "dataclasses",  # with inspect, a sixth of the command's instructions
        "inspect",
        "ast",
        "typing",  # a tenth of the command's instructions: annotations need no import
        "zipfile",  # with pathlib, threading, shutil, bz2 and lzma: read by scan.models.zipdir
        "bz2",
        "lzma",
        "threading",
        "ramparts.scan.models.gguf",
        "ramparts.scan.models.keras",
        "ramparts.scan.models.torchscript",
        "ramparts.scan.baseline",
        "ramparts.scan.models.onnx",
        "ramparts.scan.models.pickle_split",  # only for a data run of 32 MiB or more
    ):
        assert heavy not in loaded, heavy


def test_every_command_is_built_alone_by_the_module_that_adds_it() -> None:
    def words(parser: argparse.ArgumentParser) -> set[str]:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return set(action.choices)

    assert words(build_parser()) == set(COMMANDS)
    for command in COMMANDS:
        assert command in words(build_parser(command))


def test_a_single_command_parses_as_in_the_whole_tree(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["-f", "json", "scan", "models", str(project)], capsys)
    assert code == 1
    assert json.loads(out)["findings"]
    code, _, err = run(["--quiet", "no-such-command"], capsys)
    assert code == 4
    assert "invalid choice" in err
