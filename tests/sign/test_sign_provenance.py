"""SLSA provenance: ``ramparts attest`` and ``ramparts verify --require-provenance``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ramparts.sign.provenance import BuildContext, context_from_environment

COMMIT = "0123456789abcdef0123456789abcdef01234567"
GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/models",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_SHA": COMMIT,
    "GITHUB_WORKFLOW_REF": "acme/models/.github/workflows/train.yml@refs/heads/main",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_RUN_ID": "42",
    "GITHUB_RUN_ATTEMPT": "2",
    "RUNNER_ENVIRONMENT": "github-hosted",
}
BUILDER = "https://github.com/actions/runner/github-hosted"
REPO = "https://github.com/acme/models"

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""


def test_github_actions_environment() -> None:
    ctx = context_from_environment(GITHUB)
    assert ctx.builder_id == BUILDER
    assert ctx.repository == REPO
    assert (ctx.ref, ctx.commit, ctx.event) == ("refs/heads/main", COMMIT, "push")
    assert ctx.workflow == ".github/workflows/train.yml"
    assert ctx.invocation_id == f"{REPO}/actions/runs/42/attempts/2"
    assert ctx.platform == "github"


def test_gitlab_ci_environment() -> None:
    ctx = context_from_environment(
        {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": "https://gitlab.example.com",
            "CI_PROJECT_PATH": "ml/models",
            "CI_RUNNER_ID": "7",
            "CI_COMMIT_BRANCH": "main",
            "CI_COMMIT_SHA": COMMIT,
            "CI_PIPELINE_SOURCE": "schedule",
            "CI_JOB_URL": "https://gitlab.example.com/ml/models/-/jobs/9",
        }
    )
    assert ctx.builder_id == "https://gitlab.example.com/ml/models/-/runners/7"
    assert ctx.repository == "https://gitlab.example.com/ml/models"
    assert (ctx.ref, ctx.event, ctx.workflow) == ("refs/heads/main", "schedule", ".gitlab-ci.yml")


def test_no_ci_and_no_flags_is_refused() -> None:
    assert context_from_environment({}) == BuildContext()


@pytest.fixture
def signed_model(
    tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x01" * 5000)
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    key = tmp_path / "k.pem"
    assert cli(["keygen", str(key)])[0] == 0
    assert cli(["sign", str(model), "--key", str(key)])[0] == 0
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli(["attest", str(model), "--key", str(key), "--dataset", f"train={data}"])
    assert code == 0, err
    assert out.startswith("attested model -> ")
    return model, key, tmp_path / "k.pub.pem"


def _statement(bundle: Path, line: int = 0) -> dict[str, object]:
    envelope = json.loads(bundle.read_text().splitlines()[line])
    return json.loads(base64.b64decode(envelope["payload"]))  # type: ignore[no-any-return]


def test_attest_writes_slsa_v1_in_an_intoto_bundle(signed_model: tuple[Path, Path, Path]) -> None:
    model = signed_model[0]
    bundle = model.with_name("model.intoto.jsonl")
    statement = _statement(bundle)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    predicate = statement["predicate"]
    assert isinstance(predicate, dict)
    build = predicate["buildDefinition"]
    assert build["externalParameters"] == {
        "repository": REPO,
        "ref": "refs/heads/main",
        "commit": COMMIT,
        "workflow": ".github/workflows/train.yml",
        "event": "push",
    }
    kinds = [d["annotations"]["kind"] for d in build["resolvedDependencies"]]
    assert kinds == ["source", "dataset"]
    assert build["resolvedDependencies"][0]["digest"] == {"gitCommit": COMMIT}
    assert predicate["runDetails"]["builder"]["id"] == BUILDER
    assert predicate["runDetails"]["metadata"]["invocationId"].endswith("/runs/42/attempts/2")


def _verify(model: Path, public: Path, *policy: str) -> list[str]:
    return ["verify", str(model), "--key", str(public), *policy]


def test_policy_met(signed_model: tuple[Path, Path, Path], cli: CliRun) -> None:
    model, _, public = signed_model
    argv = _verify(model, public, "--require-provenance", "--builder", BUILDER, "--repo", REPO)
    code, out, _ = cli([*argv, "--branch", "main", "--commit", COMMIT])
    assert code == 0, out
    assert "provenance: built by" in out
    # repository URLs compare without case, trailing slash or .git
    code, _, _ = cli(_verify(model, public, "--builder", BUILDER, "--repo", REPO.upper() + ".git"))
    assert code == 0


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--builder", "https://github.com/actions/runner/self-hosted", "builder is"),
        ("--repo", "https://github.com/evil/models", "repository is"),
        ("--branch", "release", "ref is"),
        ("--commit", "f" * 40, "commit is"),
    ],
)
def test_policy_fails_closed(
    signed_model: tuple[Path, Path, Path],
    cli: CliRun,
    flag: str,
    value: str,
    message: str,
) -> None:
    model, _, public = signed_model
    policy = {"--builder": BUILDER, "--repo": REPO, flag: value}
    argv = _verify(model, public, *[x for kv in policy.items() for x in kv])
    code, out, _ = cli(argv)
    assert code == 1
    assert message in out
    code, out, _ = cli([*argv, "-f", "json"])
    assert code == 1
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["RMP-SIGN-PROVENANCE"]


def test_forged_or_foreign_provenance_is_refused(
    signed_model: tuple[Path, Path, Path], cli: CliRun, tmp_path: Path
) -> None:
    model, key, public = signed_model
    bundle = model.with_name("model.intoto.jsonl")
    envelope = json.loads(bundle.read_text())
    statement = _statement(bundle)
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://evil.example"  # type: ignore[index]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = tmp_path / "forged.intoto.jsonl"
    forged.write_text(json.dumps(envelope) + "\n")
    policy = ["--builder", "https://evil.example", "--repo", REPO, "--provenance", str(forged)]
    code, out, _ = cli(_verify(model, public, *policy))
    assert code == 1
    assert "does not verify" in out
    other = tmp_path / "other"
    other.mkdir()
    (other / "weights.bin").write_bytes(b"\x02")
    assert cli(["attest", str(other), "--key", str(key)])[0] == 0
    foreign = [
        "--builder",
        BUILDER,
        "--repo",
        REPO,
        "--provenance",
        str(tmp_path / "other.intoto.jsonl"),
    ]
    code, out, _ = cli(_verify(model, public, *foreign))
    assert code == 1
    assert "provenance of another artifact" in out


def test_missing_pieces_are_errors(
    signed_model: tuple[Path, Path, Path],
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, key, public = signed_model
    code, _, err = cli(_verify(model, public, "--require-provenance", "--repo", REPO))
    assert code == 2
    assert "needs --builder and --repo" in err
    missing = ["--builder", BUILDER, "--repo", REPO, "--provenance", str(model / "nope.jsonl")]
    code, _, err = cli(_verify(model, public, *missing))
    assert code == 2
    assert "cannot read the provenance" in err
    monkeypatch.delenv("GITHUB_ACTIONS")
    code, _, err = cli(["attest", str(model), "--key", str(key)])
    assert code == 2
    assert "--builder-id, --repository, --commit" in err
    flags = ["--builder-id", "urn:example:laptop", "--repository", REPO, "--commit", COMMIT]
    code, _, err = cli(["attest", str(model), "--key", str(key), *flags])
    assert code == 0, err
    code, _, err = cli(["attest", str(model), "--key", str(key), *flags, "--dataset", "x"])
    assert code == 2
    assert "expected NAME=PATH" in err
