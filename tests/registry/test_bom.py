"""``ramparts bom``: a CycloneDX 1.6 ML-BOM that validates, with modelCard, data and formulation."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ramparts.cli import main
from ramparts.registry.bom import BomOptions, build_bom, completeness
from ramparts.registry.interface import PythonPackage, RegistryError
from ramparts.sign.keys import KeySigner, generate_key
from ramparts.sign.manifest import artifact_digest
from ramparts.sign.provenance import BuildContext, Dependency, provenance_statement, sign_statement

CARD = """---
license: apache-2.0
pipeline_tag: text-classification
approach: supervised
datasets:
  - data/train.csv
  - imdb
model-index:
  - name: sentiment
    results:
      - metrics:
          - type: accuracy
            value: 0.93
---
# Sentiment classifier

## Intended uses
Product review triage.

## Limitations and bias
English only; trained on reviews from 2020.
"""


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\x00" * 8


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "model").mkdir(parents=True)
    (root / "data").mkdir()
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / "model" / "README.md").write_text(CARD)
    (root / "model" / "config.json").write_text(
        '{"model_type": "bert", "architectures": ["BertForSequenceClassification"]}'
    )
    (root / "model" / "model.safetensors").write_bytes(_safetensors())
    (root / "data" / "train.csv").write_text(
        "name,email,label\nAda Lovelace,ada@example.org,1\nAlan Turing,alan@example.org,0\n"
    )
    (root / "train.py").write_text("print('training')\n")
    (root / ".github" / "workflows" / "train.yml").write_text("on: push\n")
    key = tmp_path / "k.pem"
    generate_key(key, tmp_path / "k.pub.pem")
    context = BuildContext(
        builder_id="https://github.com/actions/runner/github-hosted",
        repository="https://github.com/acme/proj",
        ref="refs/heads/main",
        commit="a" * 40,
        workflow=".github/workflows/train.yml",
        invocation_id="https://github.com/acme/proj/actions/runs/1/attempts/1",
    )
    weights = root / "model" / "model.safetensors"
    dataset = Dependency(
        "train", sha256=artifact_digest(root / "data" / "train.csv"), kind="dataset"
    )
    statement = provenance_statement(
        [("model.safetensors", artifact_digest(weights))], context, [dataset]
    )
    (root / "model.intoto.jsonl").write_bytes(sign_statement(statement, KeySigner(key)))
    return root


def _component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["components"] if c["name"] == name)


def test_bom_validates_and_holds_model_card_data_and_formulation(
    project: Path, cyclonedx: jsonschema.Draft7Validator
) -> None:
    packages = [PythonPackage("NumPy", "1.26.4", (("sha256", "ab" * 32),))]
    doc = build_bom(project, BomOptions(owner="ML platform", packages=packages))
    cyclonedx.validate(doc)
    model = _component(doc, "model/model.safetensors")
    assert model["type"] == "machine-learning-model"
    assert {"name": "ramparts:format", "value": "safetensors"} in model["properties"]
    params = model["modelCard"]["modelParameters"]
    assert params["task"] == "text-classification"
    assert params["approach"] == {"type": "supervised"}
    assert params["architectureFamily"] == "bert"
    assert params["modelArchitecture"] == "BertForSequenceClassification"
    assert params["datasets"] == [
        {"ref": "data:data/train.csv"},
        {"type": "dataset", "name": "imdb"},
    ]
    assert model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "accuracy", "value": "0.93"}
    ]
    considerations = model["modelCard"]["considerations"]
    assert considerations["useCases"] == ["Product review triage."]
    assert "English only" in considerations["technicalLimitations"][0]
    assert model["licenses"] == [{"license": {"name": "apache-2.0"}}]
    data = _component(doc, "data/train.csv")["data"][0]
    assert data["sensitiveData"] == ["email", "person-name"]
    assert data["classification"] == "confidential"
    assert data["governance"]["owners"] == [{"organization": {"name": "ML platform"}}]
    library = _component(doc, "NumPy")
    assert library["purl"] == "pkg:pypi/numpy@1.26.4"
    assert library["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    workflows = doc["formulation"][0]["workflows"]
    built = workflows[0]
    assert built["inputs"] == [{"resource": {"ref": "data:data/train.csv"}}]
    assert built["outputs"] == [{"resource": {"ref": "model:model/model.safetensors"}}]
    assert {"name": "slsa:commit", "value": "a" * 40} in built["properties"]
    assert {w["uid"] for w in workflows[1:]} == {".github/workflows/train.yml", "train.py"}
    assert doc["dependencies"] == [
        {"ref": "model:model/model.safetensors", "dependsOn": ["data:data/train.csv"]}
    ]


def test_completeness_names_the_gaps(project: Path) -> None:
    doc = build_bom(project, BomOptions())
    score = completeness(doc)
    assert set(score.missing) == {
        "model model/model.safetensors: inputs",
        "model model/model.safetensors: outputs",
        "dataset data/train.csv: owners",
        "Python dependencies",
    }
    assert score.filled == score.total - 4
    (project / "model" / "README.md").unlink()
    bare = completeness(build_bom(project, BomOptions()))
    assert "model model/model.safetensors: task" in bare.missing
    assert bare.score < score.score


def test_bare_project_still_validates(
    tmp_path: Path, cyclonedx: jsonschema.Draft7Validator
) -> None:
    (tmp_path / "weights.pt").write_bytes(b"\x80\x02}q\x00.")
    doc = build_bom(tmp_path, BomOptions(personal_data=False))
    cyclonedx.validate(doc)
    assert [c["name"] for c in doc["components"]] == ["weights.pt"]
    assert "formulation" not in doc


def test_a_file_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "x.pt").write_bytes(b"")
    with pytest.raises(RegistryError, match="not a folder"):
        build_bom(tmp_path / "x.pt", BomOptions())


def test_cli_writes_the_bom_and_scores_it(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cyclonedx: jsonschema.Draft7Validator,
) -> None:
    out = tmp_path / "bom.cdx.json"
    with pytest.raises(SystemExit) as info:
        main(["bom", str(project), "--output", str(out), "--owner", "ML platform"])
    assert info.value.code == 0
    cyclonedx.validate(json.loads(out.read_text()))
    err = capsys.readouterr().err
    assert "1 models, 1 datasets, 0 dependencies; completeness" in err
    assert "missing: Python dependencies" in err


def test_docs_library_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re  # noqa: PLC0415

    monkeypatch.chdir(Path(__file__).parents[2])
    doc = Path("docs/bom.md").read_text()
    code = re.search(r"## Library\n\n```python\n(.*?)```", doc, re.S)
    assert code is not None
    exec(compile(code.group(1), "docs/bom.md", "exec"), {})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.strip().endswith("%")


UV_LOCK = f"""version = 1

[[package]]
name = "NumPy"
version = "1.26.4"
source = {{ registry = "https://pypi.org/simple" }}
sdist = {{ url = "https://example.org/numpy.tar.gz", hash = "sha256:{"a" * 64}" }}
wheels = [{{ url = "https://example.org/numpy.whl", hash = "sha256:{"b" * 64}" }}]

[[package]]
name = "proj"
version = "0.1.0"
source = {{ editable = "." }}
"""


def test_dependencies_come_from_the_lock_file_with_hashes(
    tmp_path: Path, cyclonedx: jsonschema.Draft7Validator
) -> None:
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "requirements.txt").write_text("requests>=2\n")
    doc = build_bom(tmp_path, BomOptions(personal_data=False))
    cyclonedx.validate(doc)
    libraries = [c for c in doc["components"] if c["type"] == "library"]
    assert libraries == [
        {
            "type": "library",
            "bom-ref": "pypi:numpy@1.26.4",
            "name": "numpy",
            "purl": "pkg:pypi/numpy@1.26.4",
            "version": "1.26.4",
            "properties": [{"name": "ramparts:declared-in", "value": "uv.lock"}],
            "hashes": [
                {"alg": "SHA-256", "content": "a" * 64},
                {"alg": "SHA-256", "content": "b" * 64},
            ],
        }
    ]
    (tmp_path / "uv.lock").unlink()
    doc = build_bom(tmp_path, BomOptions(personal_data=False))
    cyclonedx.validate(doc)
    (requests,) = [c for c in doc["components"] if c["type"] == "library"]
    assert (requests["purl"], "version" in requests) == ("pkg:pypi/requests", False)
    assert "dependency requests: pinned version" in completeness(doc).missing
