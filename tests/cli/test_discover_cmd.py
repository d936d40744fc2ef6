"""``ramparts discover``: table and JSON, approved providers, registry digests, exit codes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ramparts.core.types import ErrorRecord
from ramparts.scan.discover import Inventory
from ramparts.store import create_engine, upgrade
from ramparts.store.schema import registry_assets, registry_versions

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""

PICKLE = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    for name in (
        "RAMPARTS_DATABASE_URL",
        "RAMPARTS_STATE_DIR",
        "RAMPARTS_POSTURE__APPROVED_PROVIDERS",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def project(home: Path) -> Path:
    root = home / "proj"
    (root / "models").mkdir(parents=True)
    (root / "models" / "clf.pkl").write_bytes(PICKLE)
    (root / "app.py").write_text("import anthropic\nfrom openai import OpenAI\n", encoding="utf-8")
    return root


def _doc(out: str) -> dict[str, object]:
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def test_table_lists_assets_and_shadow_reasons(project: Path, cli: CliRun) -> None:
    code, out, _ = cli(["discover", str(project), "--approved-provider", "openai"])
    assert code == 0
    assert "models/clf.pkl" in out
    assert "provider anthropic is not approved" in out
    assert "provider openai is not approved" not in out
    assert "3 AI asset(s)" in out


def test_json_document(project: Path, cli: CliRun) -> None:
    code, out, _ = cli(["discover", str(project), "-f", "json", "--approved-provider", "Anthropic"])
    assert code == 0
    doc = _doc(out)
    assert list(doc) == ["inventory", "shadow"]
    inventory = doc["inventory"]
    assert isinstance(inventory, dict)
    assert inventory["providers"] == ["anthropic", "openai"]
    shadow = doc["shadow"]
    assert isinstance(shadow, list)
    assert [s["asset"]["provider"] for s in shadow] == ["openai"]


def test_approved_providers_come_from_settings_too(project: Path, home: Path, cli: CliRun) -> None:
    (home / "ramparts.toml").write_text(
        '[posture]\napproved_providers = ["anthropic"]\n', encoding="utf-8"
    )
    code, out, _ = cli(["discover", str(project), "-f", "json", "--approved-provider", "openai"])
    assert code == 0
    assert _doc(out)["shadow"] == []


def test_output_file(project: Path, home: Path, cli: CliRun) -> None:
    target = home / "out" / "inventory.json"
    code, out, err = cli(["discover", str(project), "--format", "json", "-o", str(target)])
    assert code == 0
    assert out == ""
    assert "-> " in err
    assert json.loads(target.read_text(encoding="utf-8"))["inventory"]["files_seen"] == 2
    code, _, _ = cli(["-q", "discover", str(project), "-o", str(home / "inv.txt")])
    assert code == 0
    assert "kind" in (home / "inv.txt").read_text(encoding="utf-8")


def test_nothing_seen_exits_3(home: Path, cli: CliRun) -> None:
    (home / "empty").mkdir()
    code, _, _ = cli(["discover", str(home / "empty")])
    assert code == 3


def test_usage_errors_exit_4(project: Path, cli: CliRun) -> None:
    code, _, err = cli(["discover", str(project), "-f", "sarif"])
    assert code == 4
    code, _, err = cli(["-f", "sarif", "discover", str(project)])
    assert code == 4
    assert "table or json" in err
    code, _, _ = cli(["discover", str(project / "missing")])
    assert code == 4


def test_errors_exit_2(project: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(root: Path, **_: object) -> Inventory:
        return Inventory(str(root), (), errors=(ErrorRecord("x.py", "cannot read"),), files_seen=1)

    monkeypatch.setattr("ramparts.scan.discover.discover", broken)
    code, out, _ = cli(["discover", str(project)])
    assert code == 2
    assert "cannot read" in out


def _register(home: Path, digest: str) -> None:
    engine = create_engine(f"sqlite:///{home / '.ramparts' / 'ramparts.db'}")
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            registry_assets.insert().values(
                id="a1", kind="model", name="clf", team=None, created_by="t", purpose="",
                classification="internal", tags="{}", created_at=now,
            )
        )  # fmt: skip
        conn.execute(
            registry_versions.insert().values(
                id="v1", asset_id="a1", version="1", seq=1, digest=digest, size=1, author="t",
                created_at=now, state="registered", metrics="{}", updated_at=now,
            )
        )  # fmt: skip
    engine.dispose()


def _model_shadow(out: str) -> list[str]:
    shadow = _doc(out)["shadow"]
    assert isinstance(shadow, list)
    return [s["reason"] for s in shadow if s["asset"]["kind"] == "model"]


def test_registry_digests_only_when_a_database_exists(
    project: Path, home: Path, cli: CliRun
) -> None:
    args = ["discover", str(project), "-f", "json"]
    code, out, _ = cli(args)
    assert code == 0
    assert _model_shadow(out) == []
    assert not (home / ".ramparts").exists()  # discovery never creates the database

    _register(home, "0" * 64)
    code, out, _ = cli(args)
    assert _model_shadow(out) == ["model file is not in the registry"]

    (home / ".ramparts" / "ramparts.db").unlink()
    _register(home, hashlib.sha256(PICKLE).hexdigest())
    code, out, _ = cli(args)
    assert _model_shadow(out) == []
