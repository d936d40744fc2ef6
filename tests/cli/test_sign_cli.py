"""``ramparts keygen``, ``sign`` and ``verify`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ramparts.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, Path]:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (model / "config.json").write_text('{"layers": 2}')
    private = tmp_path / "keys" / "signing.pem"
    code, out, _ = run(["keygen", str(private)], capsys)
    assert code == 0, out
    public = tmp_path / "keys" / "signing.pub.pem"
    assert public.is_file()
    assert private.stat().st_mode & 0o777 == 0o600
    return model, private, public


def test_sign_then_verify(
    setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = setup
    code, out, _ = run(["sign", str(model), "--key", str(private)], capsys)
    assert code == 0, out
    assert "2 files" in out
    assert (model / "model.sig").is_file()
    code, out, _ = run(["verify", str(model), "--key", str(public)], capsys)
    assert code == 0, out
    assert out.startswith(f"verified {model}: 2 files match the signature")


def test_tampering_exits_1_naming_each_file(
    setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = setup
    run(["sign", str(model), "--key", str(private)], capsys)
    with (model / "weights.bin").open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00")
    (model / "config.json").unlink()
    (model / "hook.py").write_text("import os")
    code, out, _ = run(["verify", str(model), "--key", str(public)], capsys)
    assert code == 1
    assert "weights.bin: content changed" in out
    assert "config.json: signed but missing" in out
    assert "hook.py: present but not signed" in out
    code, out, _ = run(["verify", str(model), "--key", str(public), "-f", "json"], capsys)
    assert code == 1
    rules = sorted(f["rule_id"] for f in json.loads(out)["findings"])
    assert rules == ["RMP-SIGN-CHANGED", "RMP-SIGN-EXTRA", "RMP-SIGN-MISSING"]
    code, out, _ = run(["verify", str(model), "--key", str(public), "-f", "sarif"], capsys)
    assert code == 1
    assert json.loads(out)["version"] == "2.1.0"


def test_fail_on_cannot_soften_verification(
    setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = setup
    run(["sign", str(model), "--key", str(private)], capsys)
    (model / "extra.txt").write_text("x")
    code, _, _ = run(["--fail-on", "critical", "verify", str(model), "--key", str(public)], capsys)
    assert code == 1


def test_file_model_and_json_summary(
    setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = setup
    weights = model / "weights.bin"
    code, out, _ = run(
        ["-f", "json", "sign", str(weights), "--key", str(private), "--shard-size", "4096"], capsys
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["signature"] == f"{weights}.sig"
    assert summary["method"] == "shards"
    assert summary["resources"] == 4
    code, out, _ = run(["verify", str(weights), "--key", str(public), "-f", "json"], capsys)
    assert code == 0
    assert json.loads(out)["properties"]["verified"] is True


def test_unusable_inputs_give_one_line_errors(
    setup: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model, private, public = setup
    code, _, err = run(["verify", str(model), "--key", str(public)], capsys)
    assert code == 2
    assert err.strip().startswith("ramparts: error: cannot read the signature")
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(["sign", str(model), "--key", str(public)], capsys)
    assert code == 2
    assert "not a PEM private key" in err
    code, _, err = run(["verify", str(model)], capsys)
    assert code == 4
    (model / "model.sig").write_text("not json")
    code, _, err = run(["verify", str(model), "--key", str(public)], capsys)
    assert code == 2
    assert "not a Sigstore bundle" in err
    code, _, err = run(["keygen", str(private)], capsys)
    assert code == 2
    assert "refusing to overwrite" in err


def test_encrypted_key_uses_the_password_variable(
    setup: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
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
    code, _, err = run(["sign", str(model), "--key", str(locked)], capsys)
    assert code == 2
    assert "RAMPARTS_KEY_PASSWORD" in err
    monkeypatch.setenv("RAMPARTS_KEY_PASSWORD", "hunter22")
    code, _, _ = run(["sign", str(model), "--key", str(locked)], capsys)
    assert code == 0
    code, _, _ = run(["verify", str(model), "--key", str(public)], capsys)
    assert code == 0
