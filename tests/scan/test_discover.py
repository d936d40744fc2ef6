"""``discover``: models by content, datasets, notebooks, the inventory, shadow AI.

Model fixtures are written byte by byte here; nothing is ever unpickled or loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.core.settings import ScanSettings
from ramparts.scan.discover import (
    ASSET_KINDS,
    TEXT_LIMIT,
    AiAsset,
    Inventory,
    discover,
    shadow_ai,
)
from ramparts.sign.manifest import artifact_digest

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-ai-project"
PICKLE = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def _safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\x00" * 8


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _names(inventory: Inventory, kind: str) -> dict[str, AiAsset]:
    return {a.name: a for a in inventory.of_kind(kind)}


def test_models_by_content_with_their_digest(tmp_path: Path) -> None:
    torch_zip = _zip({"archive/data.pkl": PICKLE, "archive/version": b"3\n"})
    _write(tmp_path, "m/a.safetensors", _safetensors())
    _write(tmp_path, "m/b.pkl", PICKLE)
    _write(tmp_path, "m/c.pt", torch_zip)
    _write(tmp_path, "m/blob", _safetensors())  # no extension, unmistakable content
    _write(tmp_path, "m/d.gguf", b"GGUF\x03\x00\x00\x00" + b"\x00" * 16)
    models = _names(discover(tmp_path), "model")
    assert set(models) == {"m/a.safetensors", "m/b.pkl", "m/c.pt", "m/blob", "m/d.gguf"}
    assert models["m/c.pt"].detail == "pickle (PyTorch zip)"
    assert models["m/c.pt"].properties["format"] == "pytorch-zip"
    assert models["m/b.pkl"].properties["format"] == "pickle"
    assert models["m/a.safetensors"].properties["digest"] == (
        "sha256:" + hashlib.sha256(_safetensors()).hexdigest()
    )
    assert all(m.provider is None for m in models.values())


def test_large_model_digest_is_streamed(tmp_path: Path) -> None:
    data = _safetensors() + b"\x01" * (TEXT_LIMIT + 10)
    _write(tmp_path, "big.safetensors", data)
    [model] = discover(tmp_path).of_kind("model")
    assert model.properties["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()


def test_model_near_misses(tmp_path: Path) -> None:
    _write(tmp_path, "notes.bin", "x ^ this is text, not a zlib stream\n")
    _write(tmp_path, "weights.pt", "git-lfs pointer: oid sha256:abc\n")
    _write(tmp_path, "docs.zip", _zip({"README.md": b"hello"}))
    _write(tmp_path, "archive.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    assert discover(tmp_path).of_kind("model") == ()


def test_datasets_by_extension_and_magic(tmp_path: Path) -> None:
    row = "id,name,score\n" + "1,a,0.5\n" * 200
    _write(tmp_path, "train/big.csv", row)
    _write(tmp_path, "data/tiny.csv", "a,b\n1,2\n")  # tiny, but in a data folder
    _write(tmp_path, "features", b"PAR1\x15\x04\x00" + b"\x00" * 2000)  # Parquet, no extension
    _write(tmp_path, "records.tfrecord", b"\x10\x00\x00\x00" + b"\x00" * 2000)
    datasets = _names(discover(tmp_path), "dataset")
    assert set(datasets) == {"train/big.csv", "data/tiny.csv", "features", "records.tfrecord"}
    assert datasets["features"].properties["format"] == "parquet"
    assert datasets["records.tfrecord"].properties["format"] == "tfrecord"


def test_dataset_near_misses(tmp_path: Path) -> None:
    _write(tmp_path, "src/fixture.csv", "a,b\n1,2\n")  # tiny, outside a data folder
    _write(tmp_path, "data/blob.csv", b"\x00\x01" * 1000)  # binary, named like a table
    _write(tmp_path, "model.intoto.jsonl", "{}\n" * 600)  # provenance, not data
    assert discover(tmp_path).of_kind("dataset") == ()


def _notebook(cells: list[dict[str, object]]) -> str:
    doc = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4}
    return json.dumps(doc, indent=1)


def test_notebook_and_sdk_use_in_its_code_cells(tmp_path: Path) -> None:
    text = _notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["we could `import openai`\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": ["import os\n", "from anthropic import Anthropic\n"],
            },
        ]
    )
    _write(tmp_path, "nb/explore.ipynb", text)
    inventory = discover(tmp_path)
    [notebook] = inventory.of_kind("notebook")
    assert notebook.properties == {"cells": "2", "language": "python"}
    [sdk] = inventory.of_kind("sdk")
    assert (sdk.name, sdk.provider) == ("anthropic", "anthropic")
    assert sdk.location.member == ("cells[1]", "source")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "from anthropic" in s)
    assert sdk.location.line == line


def test_notebook_near_miss(tmp_path: Path) -> None:
    _write(tmp_path, "broken.ipynb", '{"cells": "not a list"}')
    _write(tmp_path, "data.ipynb.bak", _notebook([]))
    assert discover(tmp_path).of_kind("notebook") == ()


def test_inventory_is_sorted_and_serialisable(tmp_path: Path) -> None:
    _write(tmp_path, "b.py", "import openai\n")
    _write(tmp_path, "a.py", "x = 1\nimport anthropic\n")
    inventory = discover(tmp_path)
    assert [a.location.path for a in inventory.assets] == ["a.py", "b.py"]
    assert inventory.providers() == frozenset({"openai", "anthropic"})
    assert inventory.files_seen == 2
    doc = json.loads(json.dumps(inventory.to_dict()))
    assert list(doc) == ["root", "files_seen", "counts", "providers", "assets", "skips", "errors"]
    assert list(doc["counts"]) == list(ASSET_KINDS)
    assert doc["assets"][0] == {
        "kind": "sdk",
        "name": "anthropic",
        "provider": "anthropic",
        "location": {"path": "a.py", "line": 2},
        "detail": "import anthropic",
        "properties": {},
    }
    with pytest.raises(Exception, match="unknown asset kind"):
        inventory.of_kind("models")


def test_walked_files_are_used_as_given(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", "import openai\n")
    _write(tmp_path, "b.py", "import anthropic\n")
    inventory = discover(tmp_path, files=[tmp_path / "a.py"])
    assert inventory.providers() == frozenset({"openai"})
    assert inventory.files_seen == 1


def test_unreadable_and_oversized_files_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "huge.log", "api.openai.com\n" + "x" * TEXT_LIMIT)
    inventory = discover(tmp_path, files=[tmp_path / "huge.log", tmp_path / "gone.py"])
    assert [s.path for s in inventory.skips] == ["huge.log"]
    assert [e.path for e in inventory.errors] == ["gone.py"]
    assert inventory.assets == ()


def test_gitignore_and_excludes_are_honoured(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "vendor/\n")
    _write(tmp_path, "vendor/x.py", "import openai\n")
    _write(tmp_path, "gen/y.py", "import anthropic\n")
    inventory = discover(tmp_path, settings=ScanSettings(exclude=("gen/",)))
    assert inventory.assets == ()


def _asset(kind: str, provider: str | None, **props: str) -> AiAsset:
    from ramparts.core.types import Location  # noqa: PLC0415

    return AiAsset(kind, f"{kind}-{provider}", Location("x.py", line=1), provider, "d", props)


def test_shadow_ai_rules() -> None:
    digest = "sha256:" + "a" * 64
    inventory = Inventory(
        root=".",
        assets=(
            _asset("sdk", "openai"),
            _asset("endpoint", "anthropic"),
            _asset("iac", "aws-bedrock"),
            _asset("mcp-server", "mcp.example.com"),
            _asset("mcp-server", None),
            _asset("model", None, digest=digest),
            _asset("dataset", None),
        ),
    )
    found = shadow_ai(inventory, approved_providers=["OpenAI", "aws"], registered_digests=None)
    assert {(s.asset.kind, s.asset.provider) for s in found} == {
        ("endpoint", "anthropic"),
        ("mcp-server", "mcp.example.com"),
    }
    assert found[0].reason.startswith("provider ")
    registered = shadow_ai(
        inventory, approved_providers=[], registered_digests=frozenset({"a" * 64})
    )
    assert "model" not in {s.asset.kind for s in registered}
    unregistered = shadow_ai(inventory, approved_providers=[], registered_digests=frozenset())
    [model] = [s for s in unregistered if s.asset.kind == "model"]
    assert model.reason == "model file is not in the registry"


def test_sample_project_lists_every_planted_asset() -> None:
    inventory = discover(SAMPLE)
    listed = {(a.kind, a.name, a.location.path) for a in inventory.assets}
    assert {
        ("mcp-server", "filesystem", ".cursor/mcp.json"),
        ("mcp-server", "docs", ".cursor/mcp.json"),
        ("iac", "aws_sagemaker_endpoint_configuration.churn", "infra/main.tf"),
        ("iac", "aws_bedrockagent_agent.support", "infra/main.tf"),
        ("iac", "Deployment/vllm", "deploy/vllm.yaml"),
        ("sdk", "anthropic", "summarise.py"),
        ("sdk", "openai", "train.py"),
        ("model", "models/classifier.pkl", "models/classifier.pkl"),
        ("model", "models/encoder.safetensors", "models/encoder.safetensors"),
        ("model", "models/weights.pt", "models/weights.pt"),
        ("dataset", "data/customers.csv", "data/customers.csv"),
        ("notebook", "notebooks/exploration.ipynb", "notebooks/exploration.ipynb"),
    } <= listed
    tf = _names(inventory, "iac")
    assert "kms_key_arn" not in tf["aws_sagemaker_endpoint_configuration.churn"].properties[
        "attributes"
    ].split(",")
    assert "guardrail_configuration" not in tf["aws_bedrockagent_agent.support"].properties[
        "attributes"
    ].split(",")
    shadow = shadow_ai(inventory, approved_providers=["openai"], registered_digests=None)
    calls = [
        s
        for s in shadow
        if s.asset.location.path == "summarise.py" and s.asset.detail == "messages.create call"
    ]
    assert [c.asset.provider for c in calls] == ["anthropic"]
    assert not any(s.asset.provider == "openai" for s in shadow)


NAMES = [
    "a.py",
    "b.ts",
    "main.tf",
    "k.yaml",
    "s.json",
    ".cursor/mcp.json",
    "AGENTS.md",
    "langgraph.json",
    "config/agents.yaml",
    "n.ipynb",
    "data/t.csv",
    "m.pkl",
    "m.pt",
    "w.safetensors",
    "Dockerfile",
    "blob",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=3000))
def test_discovery_never_raises_on_arbitrary_bytes(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root, name, data)
        inventory = discover(root)
    assert inventory.files_seen == 1
    assert all(a.kind in ASSET_KINDS for a in inventory.assets)


TEXTY = st.text(
    alphabet=st.sampled_from(list('abcimportfromresource"{}[]:=-.\n /\\#openaiAWS::SageMaker')),
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(NAMES), text=TEXTY)
def test_discovery_never_raises_on_structured_noise(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root, name, text)
        inventory = discover(root)
    json.dumps(inventory.to_dict())


def test_a_model_in_a_registered_folder_is_not_shadow_ai(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "weights.safetensors").write_bytes(_safetensors())
    inventory = discover(tmp_path)
    assert [a.kind for a in inventory.assets] == ["model"]
    by_folder = shadow_ai(
        inventory, approved_providers=[], registered_digests=frozenset({artifact_digest(folder)})
    )
    assert by_folder == ()
    other = shadow_ai(inventory, approved_providers=[], registered_digests=frozenset({"b" * 64}))
    assert [s.reason for s in other] == ["model file is not in the registry"]
