"""The library example of docs/identity.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

DOC = Path(__file__).parents[2] / "docs" / "identity.md"


def test_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = re.search(r"## Library\n\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code.group(1), str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.splitlines() == [
        "('evaluator',) ('vision',)",
        "True",
        "the one-time code was already used: wait for the next one",
    ]
    engine = scope["engine"]
    assert isinstance(engine, sa.Engine)
    engine.dispose()
