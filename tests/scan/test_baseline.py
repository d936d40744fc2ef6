"""Baselines: known findings are not reported again, new ones are."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from ramparts.cli import main
from ramparts.errors import InputError
from ramparts.scan.baseline import load_baseline

_RNG = random.Random(5)  # noqa: S311 - reproducible test data, not keys


def _groq() -> str:
    return "gsk_" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(52))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    code = info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().out


def test_only_new_findings_fail_after_a_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    app = src / "app.py"
    app.write_text(f'KEY = "{_groq()}"\n', encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    code, _ = _run(["-q", "scan", "secrets", str(src), "-f", "json", "-o", str(baseline)], capsys)
    assert code == 1
    # Known finding, moved down two lines: still known.
    app.write_text(f"# settings\n\n{app.read_text(encoding='utf-8')}", encoding="utf-8")
    code, out = _run(["scan", "secrets", str(src), "--baseline", str(baseline)], capsys)
    assert code == 0, out
    assert "1 known finding(s)" in out
    # A new secret is reported, the known one is not.
    new = _groq()
    app.write_text(app.read_text(encoding="utf-8") + f'OTHER = "{new}"\n', encoding="utf-8")
    code, out = _run(
        ["scan", "secrets", str(src), "--baseline", str(baseline), "-f", "json"], capsys
    )
    assert code == 1
    doc = json.loads(out)
    assert [f["location"]["line"] for f in doc["findings"]] == [4]
    assert doc["properties"]["baseline_suppressed"] == 1


def test_a_file_that_is_not_a_baseline_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="no 'findings' list"):
        load_baseline(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        load_baseline(bad)
    bad.write_text('["a1", "b2"]', encoding="utf-8")
    assert load_baseline(bad) == frozenset({"a1", "b2"})
