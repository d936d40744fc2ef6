"""The ML-BOM takes what discovery finds: external AI services and datasets by content."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from ramparts.registry.bom import BomOptions, build_bom


def test_services_and_discovered_datasets(
    tmp_path: Path, cyclonedx: jsonschema.Draft7Validator
) -> None:
    (tmp_path / "app.py").write_text(
        "from openai import OpenAI\nimport langchain\nBASE = 'https://api.openai.com/v1'\n"
    )
    (tmp_path / "local.yaml").write_text("ollama: http://localhost:11434\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.tfrecord").write_bytes(b"\x10\x00\x00\x00" + b"\x00" * 64)
    doc = build_bom(tmp_path, BomOptions(personal_data=False))
    cyclonedx.validate(doc)
    services = {s["name"]: s for s in doc["services"]}
    assert set(services) == {"openai", "ollama"}  # langchain is a library, not a service
    assert services["openai"]["endpoints"] == ["https://api.openai.com"]
    assert services["ollama"]["endpoints"] == ["http://localhost:11434"]
    assert services["openai"]["properties"] == [{"name": "ramparts:found-in", "value": "app.py"}]
    data = [c["name"] for c in doc["components"] if c["type"] == "data"]
    assert data == ["data/train.tfrecord"]


def test_no_services_key_without_ai_services(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print('training')\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    doc = build_bom(tmp_path, BomOptions(personal_data=False))
    assert "services" not in doc
    assert [c["name"] for c in doc["components"] if c["type"] == "data"] == ["data.csv"]
