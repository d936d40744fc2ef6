"""CI evidence: which security steps run, and how safely GitHub workflows run."""

from __future__ import annotations

from pathlib import Path

import pytest
from posture_repo import collect

SHA = "b4ffde65f46336ab88eb53be808477a3936bae11"


def workflow(*steps: str, head: str = "on: [push]\npermissions:\n  contents: read\n") -> str:
    body = "".join(f"      - {step}\n" for step in steps)
    return f"{head}jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{body}"


def gh(*steps: str, **kwargs: str) -> dict[str, str]:
    return {".github/workflows/ci.yml": workflow(*steps, **kwargs)}


STEP_CASES: list[tuple[str, dict[str, str], str, bool]] = [
    ("gitlab", {".gitlab-ci.yml": "test:\n  script: [pytest]\n"}, "ci.present", True),
    ("jenkins", {"Jenkinsfile": "pipeline {}\n"}, "ci.present", True),
    ("workflow-elsewhere", {"workflows/ci.yml": "on: push\n"}, "ci.present", False),
    ("ramparts-scan", gh("run: ramparts scan . --format sarif"), "ci.scan_step", True),
    ("picklescan", gh("run: picklescan --path models"), "ci.scan_step", True),
    ("scan-deps-only", gh("run: ramparts scan deps ."), "ci.scan_step", False),
    (
        "scan-commented",
        {**gh("run: pytest"), ".gitlab-ci.yml": "# ramparts scan .\n"},
        "ci.scan_step",
        False,
    ),
    ("gitleaks", gh("uses: gitleaks/gitleaks-action@" + SHA), "ci.secret_scan_step", True),
    (
        "scan-all-covers-secrets",
        {".gitlab-ci.yml": "scan:\n  script: [ramparts scan .]\n"},
        "ci.secret_scan_step",
        True,
    ),
    ("scan-models-only", gh("run: ramparts scan models ."), "ci.secret_scan_step", False),
    ("pip-audit", gh("run: pip-audit -r requirements.txt"), "ci.dependency_audit_step", True),
    (
        "dependabot",
        {".github/dependabot.yml": "version: 2\n", **gh("run: pytest")},
        "ci.dependency_audit_step",
        True,
    ),
    ("pip-install", gh("run: pip install pip-tools"), "ci.dependency_audit_step", False),
    ("ramparts-sign", gh("run: ramparts sign models/ --sigstore"), "ci.signing_step", True),
    (
        "cosign",
        {"azure-pipelines.yml": "steps:\n- script: cosign sign-blob m.bin\n"},
        "ci.signing_step",
        True,
    ),
    ("cosign-install-only", gh("uses: sigstore/cosign-installer@" + SHA), "ci.signing_step", False),
    ("attest", gh("uses: actions/attest-build-provenance@v1"), "ci.provenance_step", True),
    (
        "ramparts-attest",
        {".circleci/config.yml": "jobs:\n  a:\n    steps: [{run: ramparts attest m}]\n"},
        "ci.provenance_step",
        True,
    ),
    ("no-provenance", gh("run: python -m build"), "ci.provenance_step", False),
    ("sarif", gh("uses: github/codeql-action/upload-sarif@v3"), "ci.sarif_upload", True),
    ("codeql-init", gh("uses: github/codeql-action/init@v3"), "ci.sarif_upload", False),
    ("bom", gh("run: ramparts bom . --output bom.cdx.json"), "ci.bom_step", True),
    ("no-bom", gh("run: ramparts scan ."), "ci.bom_step", False),
    ("posture-gate", gh("run: ramparts posture . --fail-under 80"), "ci.posture_step", True),
    ("posture-no-gate", gh("run: ramparts posture . -f html -o p.html"), "ci.posture_step", False),
]


@pytest.mark.parametrize(
    ("files", "fact", "expected"), [c[1:] for c in STEP_CASES], ids=[c[0] for c in STEP_CASES]
)
def test_ci_step_fact(tmp_path: Path, files: dict[str, str], fact: str, expected: bool) -> None:
    got = collect(tmp_path, files)[fact]
    assert got.value is expected, got
    if expected:
        assert got.locations


def test_posture_without_gate_says_so(tmp_path: Path) -> None:
    got = collect(tmp_path, gh("run: ramparts posture ."))["ci.posture_step"]
    assert "without `--fail-under`" in got.detail


def test_unpinned_third_party_actions(tmp_path: Path) -> None:
    facts = collect(
        tmp_path,
        gh(
            "uses: actions/checkout@v4",
            "uses: github/codeql-action/upload-sarif@v3",
            "uses: aquasecurity/trivy-action@master",
            f"uses: pypa/gh-action-pypi-publish@{SHA}",
            "uses: ./.github/actions/local",
            "uses: docker://alpine:3.20",
        ),
    )
    got = facts["ci.unpinned_actions"]
    assert got.value == ("aquasecurity/trivy-action@master", "docker://alpine:3.20")
    assert got.locations[0].path == ".github/workflows/ci.yml"
    assert got.locations[0].line is not None


def test_pinned_actions_pass(tmp_path: Path) -> None:
    facts = collect(
        tmp_path, gh(f"uses: aquasecurity/trivy-action@{SHA}", "uses: actions/cache@v4")
    )
    assert facts["ci.unpinned_actions"].value == ()


def test_reusable_workflow_and_composite_action_refs_are_judged(tmp_path: Path) -> None:
    facts = collect(
        tmp_path,
        {
            ".github/workflows/release.yml": (
                "on: push\npermissions: {}\njobs:\n  call:\n    uses: org/shared/.github/workflows/r.yml@main\n"
            ),
            ".github/actions/setup/action.yml": (
                "runs:\n  using: composite\n  steps:\n    - uses: some/action@v2\n"
            ),
        },
    )
    assert facts["ci.unpinned_actions"].value == (
        "org/shared/.github/workflows/r.yml@main",
        "some/action@v2",
    )


@pytest.mark.parametrize(
    ("head", "flagged"),
    [
        ("on: push\n", True),
        ("on: push\npermissions: write-all\n", True),
        ("on: push\npermissions:\n  contents: read\n", False),
        ("on: push\npermissions: read-all\n", False),
    ],
)
def test_token_permissions(tmp_path: Path, head: str, flagged: bool) -> None:
    got = collect(tmp_path, gh("run: pytest", head=head))["ci.write_all_permissions"]
    assert got.value == ((".github/workflows/ci.yml",) if flagged else ())


def test_job_level_permissions_everywhere_pass(tmp_path: Path) -> None:
    text = "on: push\njobs:\n  a:\n    permissions:\n      contents: read\n    runs-on: x\n    steps: [{run: pytest}]\n"
    facts = collect(tmp_path, {".github/workflows/a.yml": text})
    assert facts["ci.write_all_permissions"].value == ()


PWN_HEAD = "on:\n  pull_request_target:\n    types: [opened]\npermissions:\n  contents: read\n"


def test_pull_request_target_checking_out_the_head_is_flagged(tmp_path: Path) -> None:
    step = "uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}"
    got = collect(tmp_path, gh(step, "run: make test", head=PWN_HEAD))[
        "ci.pull_request_target_checkout"
    ]
    assert got.value == (".github/workflows/ci.yml",)
    assert got.locations[0].line == 2


def test_pull_request_target_without_checkout_of_head_passes(tmp_path: Path) -> None:
    facts = collect(tmp_path, gh("uses: actions/checkout@v4", "run: make label", head=PWN_HEAD))
    assert facts["ci.pull_request_target_checkout"].value == ()


def test_pull_request_with_head_checkout_passes(tmp_path: Path) -> None:
    step = "run: git checkout ${{ github.head_ref }}"
    facts = collect(tmp_path, gh(step, head="on: [pull_request]\npermissions: {}\n"))
    assert facts["ci.pull_request_target_checkout"].value == ()


def test_no_ci_at_all(tmp_path: Path) -> None:
    facts = collect(tmp_path, {"README.md": "# x"})
    assert facts["ci.present"].value is False
    assert facts["ci.scan_step"].value is False
    assert facts["ci.unpinned_actions"].value == ()
    assert "no GitHub Actions workflow" in facts["ci.unpinned_actions"].detail
