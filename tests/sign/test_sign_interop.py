"""Cross-verification with the reference implementation, ``model_signing`` (PyPI).

model-signing is installed into its own virtualenv by this test (never into ours), with
``pyopenssl``, which it imports without declaring. Set ``RAMPARTS_MODEL_SIGNING_VENV``
to reuse an existing one. Without network the tests skip, unless
``RAMPARTS_REQUIRE_SERVICES=1`` (CI), which makes that a failure.

model_signing's CLI always rehashes with ``files``/``sha256``, so shards and blake3
signatures are checked through its library API, which reads the recorded parameters
(it never shards blake3, so that pair is not exchanged).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.cli import main

pytestmark = pytest.mark.slow

MODEL_SIGNING = "model-signing==1.1.1"


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("RAMPARTS_MODEL_SIGNING_VENV")
    if given:
        yield Path(given) / "bin"
        return
    home = tmp_path_factory.mktemp("model-signing-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    done = subprocess.run(
        [*pip, MODEL_SIGNING, "pyopenssl"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = f"cannot install {MODEL_SIGNING}: {done.stderr.strip()[-300:]}"
        if os.environ.get("RAMPARTS_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield home / "bin"


def ramparts(*argv: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    return info.value.code if isinstance(info.value.code, int) else 0


def peer_cli(bin_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    cli = [str(bin_dir / "model_signing"), *argv]
    return subprocess.run(cli, capture_output=True, text=True, check=False, timeout=300)


_API = """
import pathlib, sys
import model_signing as ms
key, model, sig = (pathlib.Path(a) for a in sys.argv[2:5])
if sys.argv[1] == "verify":
    ms.verifying.Config().use_elliptic_key_verifier(public_key=key).verify(model, sig)
else:
    cfg = ms.signing.Config().use_elliptic_key_signer(private_key=key)
    hashing = ms.hashing.Config()
    if sys.argv[5] == "shards":
        hashing.use_shard_serialization(shard_size=4096)
    cfg.set_hashing_config(hashing).sign(model, sig)
"""


def peer_api(bin_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(bin_dir / "python"), "-c", _API, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, Path]:
    model = tmp_path / "model"
    (model / "tokenizer").mkdir(parents=True)
    (model / "weights.bin").write_bytes(os.urandom(20_000))
    (model / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    (model / ".gitattributes").write_text("*.bin filter=lfs")
    private = tmp_path / "key.pem"
    assert ramparts("keygen", str(private)) == 0
    capsys.readouterr()
    return model, private, tmp_path / "key.pub.pem"


def _tamper(model: Path) -> None:
    with (model / "weights.bin").open("r+b") as fh:
        fh.seek(777)
        byte = fh.read(1)
        fh.seek(777)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_model_signing_cli_accepts_ours(
    peer: Path, work: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = work
    assert ramparts("sign", str(model), "--key", str(private)) == 0
    sig = str(model / "model.sig")
    done = peer_cli(
        peer, "verify", "key", str(model), "--signature", sig, "--public_key", str(public)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _tamper(model)
    done = peer_cli(
        peer, "verify", "key", str(model), "--signature", sig, "--public_key", str(public)
    )
    assert done.returncode != 0
    assert "weights.bin" in done.stdout + done.stderr


@pytest.mark.parametrize("options", [("--shard-size", "4096"), ("--hash", "blake3")])
def test_model_signing_api_accepts_our_shards_and_blake3(
    peer: Path, work: tuple[Path, Path, Path], options: tuple[str, str]
) -> None:
    model, private, public = work
    sig = model.parent / "api.sig"
    argv = ["sign", str(model), "--key", str(private), "--signature", str(sig)]
    assert ramparts(*argv, *options) == 0
    done = peer_api(peer, "verify", str(public), str(model), str(sig))
    assert done.returncode == 0, done.stderr


def test_we_accept_model_signing_cli_and_name_tampering(
    peer: Path, work: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model, private, public = work
    sig = str(model / "model.sig")
    done = peer_cli(
        peer, "sign", "key", str(model), "--signature", sig, "--private_key", str(private)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    capsys.readouterr()
    assert ramparts("verify", str(model), "--key", str(public)) == 0
    _tamper(model)
    (model / "tokenizer" / "vocab.txt").unlink()
    (model / "inject.py").write_text("import os")
    assert ramparts("verify", str(model), "--key", str(public)) == 1
    out = capsys.readouterr().out
    assert "weights.bin: content changed" in out
    assert "tokenizer/vocab.txt: signed but missing" in out
    assert "inject.py: present but not signed" in out


def test_we_accept_model_signing_api_shards(peer: Path, work: tuple[Path, Path, Path]) -> None:
    model, private, public = work
    sig = model.parent / "theirs.sig"
    done = peer_api(peer, "sign", str(private), str(model), str(sig), "shards")
    assert done.returncode == 0, done.stderr
    assert ramparts("verify", str(model), "--key", str(public), "--signature", str(sig)) == 0
    (model / "weights.bin").write_bytes(b"")
    assert ramparts("verify", str(model), "--key", str(public), "--signature", str(sig)) == 1


def test_certificate_method_both_ways(
    peer: Path, work: tuple[Path, Path, Path], pki: dict[str, Path]
) -> None:
    model = work[0]
    sig = str(model.parent / "cert.sig")
    key, leaf, mid, root = (str(pki[k]) for k in ("leaf_key", "leaf", "mid", "root"))
    assert ramparts(
        "sign", str(model), "--key", key, "--certificate", leaf,
        "--certificate-chain", mid, "--signature", sig,
    ) == 0  # fmt: skip
    chain = ["--certificate_chain", root, "--certificate_chain", mid]
    done = peer_cli(peer, "verify", "certificate", str(model), "--signature", sig, *chain)
    assert done.returncode == 0, done.stdout + done.stderr
    theirs = str(model.parent / "theirs-cert.sig")
    done = peer_cli(
        peer, "sign", "certificate", str(model), "--signature", theirs, "--private_key", key,
        "--signing_certificate", leaf, "--certificate_chain", mid,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    argv = ["verify", str(model), "--certificate-chain", root, "--signature", theirs]
    assert ramparts(*argv) == 0
    assert ramparts(*argv[:-3], str(pki["other_root"]), "--signature", theirs) == 1


if __name__ == "__main__":  # pragma: no cover - a manual entry point for debugging
    sys.exit(pytest.main([__file__, "-q"]))
