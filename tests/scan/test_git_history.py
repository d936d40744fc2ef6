"""Secrets in git history: found at their commit, never by running the repo's config."""

from __future__ import annotations

import random
import shutil
import string
import subprocess
from pathlib import Path

import pytest

from ramparts.scan.git_history import scan_history

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

_RNG = random.Random(11)  # noqa: S311 - reproducible test data, not keys


def _groq() -> str:
    return "gsk_" + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(52))


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [str(GIT), "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "dev@example.invalid")
    _git(root, "config", "user.name", "dev")
    _git(root, "config", "commit.gpgsign", "false")
    return root


def test_a_secret_removed_later_is_found_at_the_commit_that_added_it(repo: Path) -> None:
    key = _groq()
    app = repo / "app.py"
    app.write_text(f'import os\nKEY = "{key}"\n', encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "add key")
    added = _git(repo, "rev-parse", "HEAD")
    app.write_text('import os\nKEY = os.environ["GROQ_API_KEY"]\n', encoding="utf-8")
    _git(repo, "commit", "-qam", "use the environment")
    found = scan_history(repo)
    assert [(f.rule_id, f.location.path, f.location.line) for f in found] == [
        ("RMP-SECRET-GROQ-API-KEY", "app.py", 2)
    ]
    assert found[0].location.member == (f"commit {added[:12]}",)
    assert key not in (found[0].evidence or "")


def test_the_repository_config_cannot_run_programs(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (repo / ".gitattributes").write_text("*.py diff=evil\n", encoding="utf-8")
    _git(repo, "config", "diff.external", f"touch {marker}")
    _git(repo, "config", "diff.evil.textconv", f"touch {marker};cat")
    (repo / "a.py").write_text(f'K = "{_groq()}"\n', encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    assert len(scan_history(repo)) == 1
    assert not marker.exists()


def test_not_a_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="git log failed"):
        scan_history(tmp_path)
