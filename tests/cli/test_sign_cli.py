"""``ramparts keygen``, ``sign`` and ``verify`` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""


@pytest.fixture
def setup(tmp_path: Path, cli: CliRun) -> tuple[Path, Path, Path]:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (model / "config.json").write_text('{"layers": 2}')
    private = tmp_path / "keys" / "signing.pem"
    code, out, _ = cli(["keygen", str(private)])
    assert code == 0, out
    public = tmp_path / "keys" / "signing.pub.pem"
    assert public.is_file()
    assert private.stat().st_mode & 0o777 == 0o600
    return model, private, public


def test_sign_then_verify(setup: tuple[Path, Path, Path], cli: CliRun) -> None:
    model, private, public = setup
    code, out, _ = cli(["sign", str(model), "--key", str(private)])
    assert code == 0, out
    assert "2 files" in out
    assert (model / "model.sig").is_file()
    code, out, _ = cli(["verify", str(model), "--key", str(public)])
    assert code == 0, out
    assert out.startswith(f"verified {model}: 2 files match the signature")


def test_tampering_exits_1_naming_each_file(setup: tuple[Path, Path, Path], cli: CliRun) -> None:
    model, private, public = setup
    cli(["sign", str(model), "--key", str(private)])
    with (model / "weights.bin").open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00")
    (model / "config.json").unlink()
    (model / "hook.py").write_text("import os")
    code, out, _ = cli(["verify", str(model), "--key", str(public)])
    assert code == 1
    assert "weights.bin: content changed" in out
    assert "config.json: signed but missing" in out
    assert "hook.py: present but not signed" in out
    code, out, _ = cli(["verify", str(model), "--key", str(public), "-f", "json"])
    assert code == 1
    rules = sorted(f["rule_id"] for f in json.loads(out)["findings"])
    assert rules == ["RMP-SIGN-CHANGED", "RMP-SIGN-EXTRA", "RMP-SIGN-MISSING"]
    code, out, _ = cli(["verify", str(model), "--key", str(public), "-f", "sarif"])
    assert code == 1
    assert json.loads(out)["version"] == "2.1.0"


def test_fail_on_cannot_soften_verification(setup: tuple[Path, Path, Path], cli: CliRun) -> None:
    model, private, public = setup
    cli(["sign", str(model), "--key", str(private)])
    (model / "extra.txt").write_text("x")
    code, _, _ = cli(["--fail-on", "critical", "verify", str(model), "--key", str(public)])
    assert code == 1


def test_file_model_and_json_summary(setup: tuple[Path, Path, Path], cli: CliRun) -> None:
    model, private, public = setup
    weights = model / "weights.bin"
    code, out, _ = cli(
        ["-f", "json", "sign", str(weights), "--key", str(private), "--shard-size", "4096"]
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["signature"] == f"{weights}.sig"
    assert summary["method"] == "shards"
    assert summary["resources"] == 4
    code, out, _ = cli(["verify", str(weights), "--key", str(public), "-f", "json"])
    assert code == 0
    assert json.loads(out)["properties"]["verified"] is True


def test_unusable_inputs_give_one_line_errors(
    setup: tuple[Path, Path, Path], cli: CliRun, tmp_path: Path
) -> None:
    model, private, public = setup
    code, _, err = cli(["verify", str(model), "--key", str(public)])
    assert code == 2
    assert err.strip().startswith("ramparts: error: cannot read the signature")
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli(["sign", str(model), "--key", str(public)])
    assert code == 2
    assert "not a PEM private key" in err
    code, _, err = cli(["verify", str(model)])
    assert code == 4
    (model / "model.sig").write_text("not json")
    code, _, err = cli(["verify", str(model), "--key", str(public)])
    assert code == 2
    assert "not a Sigstore bundle" in err
    code, _, err = cli(["keygen", str(private)])
    assert code == 2
    assert "refusing to overwrite" in err


def test_encrypted_key_uses_the_password_variable(
    setup: tuple[Path, Path, Path],
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, private, public = setup
    key = serialization.load_pem_private_key(private.read_bytes(), None)
    locked = private.with_name("locked.pem")
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter22"),
        )
    )
    code, _, err = cli(["sign", str(model), "--key", str(locked)])
    assert code == 2
    assert "RAMPARTS_KEY_PASSWORD" in err
    monkeypatch.setenv("RAMPARTS_KEY_PASSWORD", "hunter22")
    code, _, _ = cli(["sign", str(model), "--key", str(locked)])
    assert code == 0
    code, _, _ = cli(["verify", str(model), "--key", str(public)])
    assert code == 0
