"""``ramparts posture`` on the sample project, before and after the fixes it asks for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import CliRun
from ramparts.posture.templates import TEMPLATE_FILES, TEMPLATE_MARKER

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-ai-project"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RAMPARTS_DATABASE_URL", "RAMPARTS_API_URL", "RAMPARTS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAMPARTS_AUDIT__CHECKPOINT_EVERY", "1")
    return Path(shutil.copytree(SAMPLE, tmp_path / "project"))


def _posture(cli: CliRun, project: Path, *extra: str) -> dict[str, Any]:
    code, out, err = cli(
        ["posture", str(project), "-f", "json", "--approved-provider", "openai", *extra]
    )
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def _status(report: dict[str, Any], control: str) -> str:
    (result,) = [r for r in report["results"] if r["id"] == control]
    status: str = result["status"]
    return status


def test_the_sample_project_fails_with_evidence_and_fix(cli: CliRun, project: Path) -> None:
    report = _posture(cli, project)
    assert report["score"]["value"] < 50
    failing = {r["id"]: r for r in report["results"] if r["status"] == "FAIL"}
    assert {"RP-MOD-50", "RP-SEC-50", "RP-SC-50", "RP-GW-50", "RP-INV-51"} <= set(failing)
    pickle = failing["RP-MOD-50"]
    assert "models/classifier.pkl" in pickle["evidence"]
    assert pickle["remediation"]
    shadow = report["inventory"]["shadow"]
    assert any(s["provider"] == "anthropic" for s in shadow)
    assert not any(s["provider"] == "openai" for s in shadow)
    assert "compliant" not in json.dumps(report).lower()


def test_fixing_the_project_raises_the_score_and_the_diff_says_why(
    cli: CliRun, project: Path, tmp_path: Path
) -> None:
    before = _posture(cli, project)
    assert before["previous"] is None
    (project / "models" / "classifier.pkl").unlink()
    key = tmp_path / "signing.pem"
    assert cli(["keygen", str(key)])[0] == 0
    assert cli(["sign", str(project / "models"), "--key", str(key)])[0] == 0
    code, _, err = cli(["registry", "push", str(project / "models"), "--name", "churn", "--team", "ml",
                        "--signature", str(project / "models" / "model.sig")])  # fmt: skip
    assert code == 0, err
    (project / "gateway.toml").write_text(
        '[[routes]]\nname = "openai"\nupstream = "https://api.openai.com/v1"\n'
        'upstream_key_env = "OPENAI_API_KEY"\n'
    )
    after = _posture(cli, project)
    assert after["score"]["value"] > before["score"]["value"]
    changes = {c["id"]: c for c in after["previous"]["changes"]}
    for control in ("RP-MOD-50", "RP-SC-50", "RP-GW-50"):
        assert changes[control]["before"] == "FAIL"
        assert changes[control]["after"] == "PASS"
    assert _status(after, "RP-INV-52") == "PASS"  # the signed folder is the registered version
    assert "every model file is covered by a signature" in changes["RP-SC-50"]["text"]


def test_fail_under_exits_1_and_no_record_leaves_no_state(
    cli: CliRun, project: Path, tmp_path: Path
) -> None:
    code, _, err = cli(["--quiet", "posture", str(project), "--fail-under", "90", "--no-record",
                        "-f", "json", "-o", str(tmp_path / "p.json")])  # fmt: skip
    assert code == 1
    assert not (tmp_path / ".ramparts" / "ramparts.db").exists()
    code, _, err = cli(["posture", str(project), "--fail-under", "120"])
    assert code == 4
    assert "between 0 and 100" in err


def test_every_format_renders(cli: CliRun, project: Path, tmp_path: Path) -> None:
    for fmt in ("table", "markdown", "html", "sarif", "ocsf"):
        out = tmp_path / f"posture.{fmt}"
        code, _, err = cli(["posture", str(project), "--no-record", "-f", fmt, "-o", str(out)])
        assert code == 0, err
        assert out.stat().st_size > 1000
    sarif = json.loads((tmp_path / "posture.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "RP-MOD-50" for r in sarif["runs"][0]["results"])
    assert "RP-MOD-50" in (tmp_path / "posture.html").read_text()


def test_templates_are_written_filled_and_kept(cli: CliRun, project: Path) -> None:
    code, _, err = cli(["posture", str(project), "--no-record", "--templates"])
    assert code == 0, err
    folder = project / "docs" / "ai-governance"
    assert sorted(p.name for p in folder.iterdir()) == sorted(TEMPLATE_FILES)
    policy = (folder / "ai-policy.md").read_text()
    assert TEMPLATE_MARKER in policy
    assert "anthropic" in policy  # the shadow AI discovery found
    assert "models/classifier.pkl" in (folder / "impact-assessment.md").read_text()
    (folder / "ai-policy.md").write_text("# our AI policy\n")
    code, _, err = cli(["posture", str(project), "--no-record", "--templates"])
    assert (folder / "ai-policy.md").read_text() == "# our AI policy\n"
    assert "kept" in err


def test_a_broken_gateway_config_is_manual_not_a_crash(cli: CliRun, project: Path) -> None:
    (project / "gateway.toml").write_text("[[routes]\n")
    report = _posture(cli, project, "--no-record")
    assert _status(report, "RP-GW-50") == "MANUAL"
    (result,) = [r for r in report["results"] if r["id"] == "RP-GW-50"]
    assert "not valid TOML" in result["evidence"]


def test_a_file_is_a_usage_error(cli: CliRun, project: Path) -> None:
    code, _, err = cli(["posture", str(project / "train.py")])
    assert code in {2, 4}
    assert "not a folder" in err


def test_a_signature_that_is_a_link_is_never_followed(cli: CliRun, project: Path) -> None:
    (project / "models" / "model.sig").symlink_to("/dev/zero")
    report = _posture(cli, project, "--no-record")
    (result,) = [r for r in report["results"] if r["id"] == "RP-SC-50"]
    assert result["status"] == "FAIL"
    assert "without a signature" in result["evidence"]


def test_a_gateway_config_that_is_a_link_is_not_read(
    cli: CliRun, project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('[[routes]]\nupstream = "https://api.openai.com/v1"\n')
    (project / "gateway.toml").symlink_to(elsewhere)
    report = _posture(cli, project, "--no-record")
    (result,) = [r for r in report["results"] if r["id"] == "RP-GW-50"]
    assert result["status"] == "MANUAL"
    assert "is a link" in result["evidence"]
