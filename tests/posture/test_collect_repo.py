"""Repository evidence: ``repo.*`` and ``docs.*`` facts, and the collector as a whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from posture_repo import collect

from ramparts.posture.collect_repo import FACT_NAMES, collect_repository

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-ai-project"
MARKER = "<!-- ramparts:template -->"


def matches(value: object, expected: object) -> bool:
    """``expected``: a bool/int is compared, ``()`` means empty, a str must appear in an item."""
    if isinstance(expected, str):
        return isinstance(value, tuple) and any(expected in item for item in value)
    return value == expected


CASES: list[tuple[str, dict[str, str | bytes], str, object]] = [
    # security policy and code owners
    ("security-md", {"SECURITY.md": "# Security\nMail us."}, "repo.security_policy", True),
    ("security-in-src", {"src/SECURITY.md": "# Security"}, "repo.security_policy", False),
    ("codeowners", {".github/CODEOWNERS": "* @team\n"}, "repo.codeowners", True),
    ("codeowners-empty", {".github/CODEOWNERS": "# nobody yet\n"}, "repo.codeowners", False),
    # .env handling
    ("gitignore-env", {".gitignore": ".env\n"}, "repo.gitignore_env", True),
    ("gitignore-env-glob", {".gitignore": "*.env\n.env*\n"}, "repo.gitignore_env", True),
    ("gitignore-other", {".gitignore": "env/\n.envrc\n"}, "repo.gitignore_env", False),
    (
        "env-committed",
        {"config/.env.prod": "KEY=1"},
        "repo.env_files_committed",
        "config/.env.prod",
    ),
    ("env-example", {".env.example": "KEY=", ".env.sample": "K="}, "repo.env_files_committed", ()),
    # dependencies
    (
        "lock",
        {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "version = 1\n"},
        "repo.lockfile",
        True,
    ),
    ("pinned-reqs", {"requirements.txt": "torch==2.3.0\nnumpy==1.26.4\n"}, "repo.lockfile", True),
    ("range-reqs", {"requirements.txt": "torch>=2\n"}, "repo.lockfile", False),
    ("no-manifest", {"README.md": "# x"}, "repo.lockfile", None),
    (
        "unpinned",
        {"requirements.txt": "torch==2.3.0\nrequests\n"},
        "repo.unpinned_requirements",
        "requirements.txt:2 requests",
    ),
    (
        "hashed",
        {"requirements.txt": "requests==2.32.3 --hash=sha256:" + "a" * 64 + "\n"},
        "repo.unpinned_requirements",
        (),
    ),
    ("manifests", {"package.json": "{}"}, "repo.dependency_manifests", True),
    # unsafe loading, read from the syntax tree
    (
        "pickle",
        {"serve.py": "import pickle\nm = pickle.load(open('m', 'rb'))\n"},
        "repo.pickle_load_in_code",
        "serve.py:2 pickle.load",
    ),
    (
        "pickle-alias",
        {"a.py": "from joblib import load as jl\nm = jl('m')\n"},
        "repo.pickle_load_in_code",
        "joblib.load",
    ),
    (
        "pickle-in-string",
        {"t.py": "CODE = 'pickle.load(fh)'\n# pickle.load(fh)\n"},
        "repo.pickle_load_in_code",
        (),
    ),
    (
        "torch",
        {"a.py": "import torch\nm = torch.load('w.pt')\n"},
        "repo.pickle_load_in_code",
        "torch.load without weights_only=True",
    ),
    (
        "torch-alias",
        {"a.py": "import torch as t\nm = t.load('w.pt')\n"},
        "repo.pickle_load_in_code",
        "a.py:2 torch.load without weights_only=True",
    ),
    (
        "yaml-alias",
        {"a.py": "import yaml as y\nd = y.load(open('c'))\n"},
        "repo.pickle_load_in_code",
        "yaml.load without a safe loader",
    ),
    (
        "torch-safe",
        {"a.py": "import torch\nm = torch.load('w.pt', weights_only=True)\n"},
        "repo.pickle_load_in_code",
        (),
    ),
    (
        "yaml-load",
        {"a.py": "import yaml\nd = yaml.load(open('c'))\n"},
        "repo.pickle_load_in_code",
        "yaml.load without a safe loader",
    ),
    (
        "yaml-safe",
        {"a.py": "import yaml\nd = yaml.load(open('c'), Loader=yaml.SafeLoader)\n"},
        "repo.pickle_load_in_code",
        (),
    ),
    (
        "remote-code",
        {
            "a.py": "from transformers import AutoModel\nAutoModel.from_pretrained('x', trust_remote_code=True)\n"
        },
        "repo.pickle_load_in_code",
        "trust_remote_code=True",
    ),
    (
        "remote-code-off",
        {
            "a.py": "from transformers import AutoModel\nAutoModel.from_pretrained('x', trust_remote_code=False)\n"
        },
        "repo.pickle_load_in_code",
        (),
    ),
    (
        "numpy-pickle",
        {"a.py": "import numpy as np\nnp.load('a.npy', allow_pickle=True)\n"},
        "repo.pickle_load_in_code",
        "numpy.load(allow_pickle=True)",
    ),
    # hub downloads
    (
        "hub-unpinned",
        {
            "t.py": "from transformers import AutoModel\nAutoModel.from_pretrained('org/model', revision='main')\n"
        },
        "repo.unpinned_hub_downloads",
        "from_pretrained('org/model')",
    ),
    (
        "hub-pinned",
        {
            "t.py": "from datasets import load_dataset\nload_dataset('org/data', revision='"
            + "0" * 40
            + "')\n"
        },
        "repo.unpinned_hub_downloads",
        (),
    ),
    (
        "hub-local",
        {
            "t.py": "from transformers import AutoModel\nAutoModel.from_pretrained('./checkpoints/best')\n"
        },
        "repo.unpinned_hub_downloads",
        (),
    ),
    # AI assets and their documentation
    ("model-file", {"models/m.safetensors": b"\x00\x01"}, "repo.ai_project", True),
    ("ai-dependency", {"requirements.txt": "openai==1.40.0\n"}, "repo.ai_dependencies", "openai"),
    ("not-ai", {"requirements.txt": "flask==3.0.0\n"}, "repo.ai_project", False),
    ("model-card", {"MODEL_CARD.md": "# Model card\n"}, "repo.model_card", True),
    ("readme-card", {"README.md": "# x\n\n## Intended use\nChurn.\n"}, "repo.model_card", True),
    ("readme-plain", {"README.md": "# x\n\n## Usage\nRun it.\n"}, "repo.model_card", False),
    ("datasets", {"data/train.parquet": b"PAR1"}, "repo.datasets_present", True),
    ("csv-outside-data", {"docs/table.csv": "a,b\n"}, "repo.datasets_present", False),
    ("datasheet", {"data/DATASHEET.md": "# Datasheet\n"}, "repo.datasheet", True),
    (
        "datasheet-section",
        {"data/README.md": "# Data\n## Data card\nSource: x\n"},
        "repo.datasheet",
        True,
    ),
    (
        "aibom",
        {
            "bom.cdx.json": '{"bomFormat": "CycloneDX", "components": [{"type": "machine-learning-model"}]}'
        },
        "repo.aibom",
        True,
    ),
    (
        "sbom-only",
        {"bom.cdx.json": '{"bomFormat": "CycloneDX", "components": [{"type": "library"}]}'},
        "repo.aibom",
        False,
    ),
    # governance documents
    ("ai-policy-name", {"docs/ai-policy.md": "# Our policy\nText."}, "docs.ai_policy", True),
    (
        "ai-policy-heading",
        {"governance/policies.md": "# Responsible AI policy\nText."},
        "docs.ai_policy",
        True,
    ),
    (
        "ai-policy-template",
        {"docs/ai-governance/ai-policy.md": f"{MARKER}\n# AI policy\n"},
        "docs.ai_policy",
        False,
    ),
    ("ai-policy-elsewhere", {"src/ai-policy.md": "# AI policy\n"}, "docs.ai_policy", False),
    (
        "roles",
        {"docs/ai-governance/roles-and-responsibilities.md": "# Roles\n"},
        "docs.roles_responsibilities",
        True,
    ),
    (
        "roles-template",
        {"docs/ai-governance/roles-and-responsibilities.md": MARKER},
        "docs.roles_responsibilities",
        False,
    ),
    ("impact", {"docs/impact-assessment.md": "# Impact\n"}, "docs.impact_assessment", True),
    (
        "impact-other",
        {"docs/assessment.md": "# Performance assessment\n"},
        "docs.impact_assessment",
        False,
    ),
    (
        "playbook",
        {"docs/runbooks.md": "# Runbooks\n## Incident response\n"},
        "docs.incident_playbook",
        True,
    ),
    (
        "playbook-none",
        {"docs/runbooks.md": "# Runbooks\n## Deploying\n"},
        "docs.incident_playbook",
        False,
    ),
    ("rollback", {"docs/rollback.md": "steps"}, "docs.rollback_procedure", True),
    ("rollback-none", {"docs/deploy.md": "# Deploy\n"}, "docs.rollback_procedure", False),
    (
        "break-glass",
        {"docs/access.md": "Access\n======\n\nBreak-glass access\n------------------\n"},
        "docs.break_glass",
        True,
    ),
    ("break-glass-none", {"docs/access.md": "# Access\n"}, "docs.break_glass", False),
    ("risk-register", {"governance/risk-register.csv": "risk,owner\n"}, "docs.risk_register", True),
    ("risk-none", {"governance/risk.csv": "risk,owner\n"}, "docs.risk_register", False),
    (
        "intended-use",
        {"models/MODEL_CARD.md": "# Card\n## Intended use\n"},
        "docs.intended_use",
        True,
    ),
    ("intended-none", {"models/MODEL_CARD.md": "# Card\n## Metrics\n"}, "docs.intended_use", False),
]


@pytest.mark.parametrize(
    ("files", "fact", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_repository_fact(
    tmp_path: Path, files: dict[str, str | bytes], fact: str, expected: object
) -> None:
    got = collect(tmp_path, files)[fact]
    assert matches(got.value, expected), got
    assert got.detail


def test_every_fact_is_produced_on_an_empty_folder(tmp_path: Path) -> None:
    facts = collect_repository(tmp_path, [])
    assert [fact.name for fact in facts] == list(FACT_NAMES)
    assert len(set(FACT_NAMES)) == len(FACT_NAMES)
    for fact in facts:
        assert fact.detail, fact.name
        assert fact.value is None or isinstance(fact.value, bool | int | float | str | tuple)
    by_name = {fact.name: fact for fact in facts}
    assert by_name["ci.present"].value is False
    assert by_name["repo.lockfile"].value is None


def test_files_outside_the_walk_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "serve.py").write_text("import pickle\npickle.loads(b'')\n", encoding="utf-8")
    facts = {fact.name: fact for fact in collect_repository(tmp_path, [])}
    assert facts["repo.pickle_load_in_code"].value == ()


@pytest.mark.parametrize(
    ("rel", "content", "fact"),
    [
        (".github/workflows/ci.yml", "jobs: [unclosed\n  - :", "ci.unpinned_actions"),
        (
            "deploy/app.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n",
            "iac.model_server_present",
        ),
        ("stack.json", '{"Resources": {"A": {"Type": "AWS::SageMaker::Model"', "iac.present"),
        (
            "serve.py",
            "import pickle\ndef broken(:\n    pickle.load(x)\n",
            "repo.pickle_load_in_code",
        ),
    ],
)
def test_malformed_file_is_a_detail_not_an_exception(
    tmp_path: Path, rel: str, content: str, fact: str
) -> None:
    facts = collect(tmp_path, {rel: content})
    assert "could not be parsed" in facts[fact].detail
    assert rel in facts[fact].detail
    assert facts["repo.unparsed_files"].value == (rel,)


def test_binary_and_undecodable_files_do_not_break_collection(tmp_path: Path) -> None:
    facts = collect(
        tmp_path,
        {"settings.yaml": b"\xff\xfe\x00bad", "config.py": b"URL = '\xff http://api.corp'\n"},
    )
    assert matches(facts["config.plain_http_endpoints"].value, "config.py:1 http://api.corp")


def test_locations_are_relative_to_the_root(tmp_path: Path) -> None:
    facts = collect(tmp_path, {"app/serve.py": "import pickle\n\npickle.load(f)\n"})
    (where,) = facts["repo.pickle_load_in_code"].locations
    assert (where.path, where.line) == ("app/serve.py", 3)


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="the sample project is not generated")
def test_sample_project_shows_its_planted_problems() -> None:
    walked = sorted(p for p in SAMPLE.rglob("*") if p.is_file())
    facts = {fact.name: fact for fact in collect_repository(SAMPLE, walked)}
    assert facts["ci.present"].value is True
    for step in ("ci.scan_step", "ci.signing_step", "ci.provenance_step"):
        assert facts[step].value is False, step
    assert matches(facts["repo.pickle_load_in_code"].value, "serve.py")
    assert matches(facts["config.plain_http_endpoints"].value, "config/settings.yaml")
    assert facts["repo.ai_project"].value is True
