"""Pins the precedence of settings: flags > RAMPARTS_* environment > ramparts.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.core.settings import Settings, load_settings
from ramparts.core.types import Severity
from ramparts.errors import ConfigError


def write_toml(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ramparts.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_need_nothing(tmp_path: Path) -> None:
    s = load_settings(project_dir=tmp_path, environ={})
    assert s.fail_on is Severity.HIGH
    assert s.scan.respect_gitignore is True
    assert s.sqlalchemy_url() == "sqlite:///.ramparts/ramparts.db"


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    project = write_toml(
        tmp_path,
        'fail_on = "low"\nlog_level = "info"\n[scan]\nmax_archive_depth = 2\nworkers = 3\n',
    )
    env = {"RAMPARTS_FAIL_ON": "medium", "RAMPARTS_SCAN__MAX_ARCHIVE_DEPTH": "4"}
    s = load_settings(project_dir=project, environ=env, overrides={"fail_on": "critical"})
    assert s.fail_on is Severity.CRITICAL  # flag beats environment
    assert s.scan.max_archive_depth == 4  # environment beats file, nested with __
    assert s.scan.workers == 3  # file beats default, and nesting merges deeply
    assert s.log_level == "info"  # file beats default
    no_flags = load_settings(project_dir=project, environ=env)
    assert no_flags.fail_on is Severity.MEDIUM
    file_only = load_settings(project_dir=project, environ={})
    assert file_only.fail_on is Severity.LOW


def test_library_never_reads_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAMPARTS_FAIL_ON", "info")
    assert load_settings(project_dir=tmp_path, environ={}).fail_on is Severity.HIGH
    assert Settings().fail_on is Severity.HIGH


def test_other_tools_variables_with_our_prefix_are_ignored(tmp_path: Path) -> None:
    env = {"RAMPARTS_TEST_POSTGRES_URL": "postgresql://x", "RAMPARTS_REQUIRE_SERVICES": "1"}
    assert load_settings(project_dir=tmp_path, environ=env) == Settings()


def test_lists_from_env_and_file(tmp_path: Path) -> None:
    project = write_toml(tmp_path, '[scan.models]\nallow = ["a.*"]\n')
    s = load_settings(project_dir=project, environ={"RAMPARTS_SCAN__EXCLUDE": '["data/"]'})
    assert s.scan.exclude == ("data/",)
    assert s.scan.models.allow == ("a.*",)


def test_secrets_are_secret_and_relative_state_dir_follows_the_file(tmp_path: Path) -> None:
    project = write_toml(tmp_path, 'state_dir = "state"\n')
    env = {"RAMPARTS_DATABASE_URL": "postgresql://u:hunter2@db/x"}
    s = load_settings(project_dir=project, environ=env)
    assert "hunter2" not in repr(s)
    assert s.sqlalchemy_url() == "postgresql://u:hunter2@db/x"
    assert s.state_dir == tmp_path / "state"


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("fail_on = \n", {}, "invalid TOML"),
        ('fail_on = "worst"\n', {}, "unknown severity"),
        ("", {"RAMPARTS_SCAN__MAX_ARCHIVE_DEPTH": "-1"}, "max_archive_depth must be >= 0"),
        ("", {"RAMPARTS_SCAN__MAX_FILE_BYTES": "lots"}, "scan.max_file_bytes"),
        ("", {"RAMPARTS_SCAN__EXCLUDE": "[oops"}, "not valid JSON"),
        ('colour = "red"\n', {}, "colour"),
    ],
)
def test_bad_settings_give_one_line(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    project = write_toml(tmp_path, toml)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(project_dir=project, environ=env)
    assert "\n" not in str(info.value)
