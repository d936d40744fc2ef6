"""``ramparts registry`` and ``ramparts lineage`` as users run them: locally as the local
admin or as an identity, and against the control plane with RAMPARTS_API_URL."""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest
from registry_plane import CliRun, Plane


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RAMPARTS_DATABASE_URL", "RAMPARTS_STATE_DIR", "RAMPARTS_API_URL",
                 "RAMPARTS_TOKEN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x00" * 256)
    (model / "extra.pkl").write_bytes(b"cos\nsystem\n(S'echo owned'\ntR.")
    return tmp_path


def test_local_admin_flow(home: Path, cli: CliRun) -> None:
    code, out, err = cli(["registry", "push", "model", "--name", "clf", "--metric", "auc=0.91"])
    assert code == 0, err
    assert out.startswith("pushed clf@1")
    assert "scan: 1 critical" in out
    code, out, err = cli(["registry", "promote", "clf@1", "--stage", "prod"])
    assert code == 1
    assert "FAIL scan: the latest scan has 1 critical finding(s)" in err
    assert err.strip().splitlines()[-1].startswith("ramparts: refused: clf@1 cannot enter prod")
    code, out, _ = cli(["registry", "gates", "clf@1", "--stage", "staging"])
    assert (code, out.strip()) == (1, "FAIL scan: the latest scan has 1 critical finding(s)")
    code, out, err = cli(["registry", "show", "clf", "-f", "json"])
    assert code == 0, err
    shown = json.loads(out)
    assert shown["metrics"] == {"auc": 0.91}
    assert shown["author"] == "local-admin"
    # The local admin breaks glass: audited, listed.
    why = "demo of an audited emergency promotion"
    code, out, err = cli(["registry", "promote", "clf@1", "--stage", "prod", "--break-glass", why])
    assert code == 0, err
    assert "BREAK-GLASS" in out
    code, out, _ = cli(["registry", "exceptions"])
    assert why in out
    # Deleting needs the local admin's second factor.
    code, _, err = cli(["registry", "delete", "clf@1"])
    assert code == 1
    assert "in prod" in err
    code, out, err = cli(["-f", "json", "identity", "mfa", "--local"])
    assert code == 0, err
    secret = json.loads(out)["secret"]
    code, _, err = cli(["registry", "quarantine", "clf@1", "--reason", "owned"])
    assert code == 0, err
    code, _, err = cli(["registry", "delete", "clf@1"])
    assert (code, "TOTP" in err) == (1, True)
    code, out, err = cli(["registry", "delete", "clf@1", "--totp", pyotp.TOTP(secret).now()])
    assert code == 0, err
    assert "deleted" in out
    code, out, _ = cli(["audit", "verify"])
    assert code == 0, out


def test_local_lineage_commands(home: Path, cli: CliRun) -> None:
    (home / "train.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert cli(["registry", "push", "train.csv", "--name", "train", "--kind", "dataset"])[0] == 0
    code, _, err = cli(["registry", "push", "model", "--name", "clf", "--dataset", "train@1",
                        "--environment", "gpu-7", "--code-commit", "abc1234"])  # fmt: skip
    assert code == 0, err
    code, out, _ = cli(["lineage", "affected", "--dataset", "train@1"])
    assert code == 0
    assert "model     clf@1" in out
    code, out, _ = cli(["lineage", "affected", "--environment", "gpu-7", "-f", "json"])
    assert [m["ref"] for m in json.loads(out)["models"]] == ["clf@1"]
    code, out, _ = cli(["lineage", "upstream", "clf@1"])
    assert "dataset   train@1" in out
    assert "environment=gpu-7" in out
    code, out, _ = cli(["lineage", "export", "dot"])
    assert out.startswith("digraph lineage {")
    code, _, err = cli(["lineage", "affected", "--dataset", "nope"])
    assert (code, err.strip()) == (2, "ramparts: error: no dataset 'nope'")


def test_remote_mode_talks_to_the_control_plane(
    plane: Plane, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = plane.model("remote")
    plane.sign(folder)
    monkeypatch.setenv("RAMPARTS_API_URL", str(plane.http.base_url))
    monkeypatch.setenv("RAMPARTS_TOKEN", plane.tokens["alice"])
    code, out, err = cli(["registry", "push", str(folder), "--name", "fraud"])
    assert code == 0, err
    assert "signed=yes provenance=yes bom=yes" in out
    code, _, err = cli(["registry", "approve", "fraud@1"])
    assert code == 1
    assert err.startswith("ramparts: refused: denied by model-author")
    monkeypatch.setenv("RAMPARTS_TOKEN", plane.tokens["bob"])
    assert cli(["registry", "approve", "fraud@1"])[0] == 0
    monkeypatch.setenv("RAMPARTS_TOKEN", plane.tokens["carol"])
    code, out, err = cli(["registry", "promote", "fraud@1", "--stage", "prod"])
    assert code == 0, err
    assert out.strip().endswith("prod -> fraud@1")
    monkeypatch.setenv("RAMPARTS_TOKEN", plane.tokens["eve"])
    code, _, err = cli(["registry", "show", "fraud@1"])
    assert (code, err.strip()) == (2, "ramparts: error: no model 'fraud'")
    monkeypatch.setenv("RAMPARTS_TOKEN", "rmp_aaaaaaaa_" + "x" * 43)
    code, _, err = cli(["registry", "list"])
    assert code == 2
    assert "not authenticated" in err
