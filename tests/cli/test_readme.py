"""The README's help excerpt is the real ``ramparts --help``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ramparts.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_help_excerpt_matches(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["--help"])
    real = capsys.readouterr().out.strip()
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- help:begin -->\n```text\n(.*?)\n```\n<!-- help:end -->", text, re.S)
    assert match, "README lacks the help excerpt markers"
    assert match.group(1).strip() == real
