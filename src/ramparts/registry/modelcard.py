"""What a model folder says about itself: a Hugging Face-style card and ``config.json``.

``README.md`` may open with YAML front matter (``pipeline_tag``, ``datasets``,
``base_model``, ``license``, ``model-index`` with metrics); its Markdown sections on
limitations, bias and intended use become considerations. ``config.json`` names the
architecture (``model_type``, ``architectures``). Nothing is executed; YAML is read
with the safe loader and bounded in size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ramparts.core.records import field, record

__all__ = ["CardFacts", "read_card"]

_MAX_BYTES = 1 << 20
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
_HEADING = re.compile(r"^#{1,4}\s+(.+?)\s*$", re.M)
_SECTIONS = {
    "limitation": "technicalLimitations",
    "bias": "ethicalConsiderations",
    "risk": "ethicalConsiderations",
    "intended use": "useCases",
    "use case": "useCases",
    "out-of-scope": "technicalLimitations",
}


@record
class CardFacts:
    """Facts found in a model folder; each is absent when the folder does not say."""

    task: str | None = None
    architecture_family: str | None = None
    architecture: str | None = None
    approach: str | None = None
    datasets: tuple[str, ...] = ()
    base_models: tuple[str, ...] = ()
    license: str | None = None
    metrics: tuple[tuple[str, str], ...] = ()
    considerations: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _read_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float))
    return ()


def _metrics(index: object) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for entry in index if isinstance(index, list) else []:
        for result in entry.get("results", []) if isinstance(entry, dict) else []:
            for metric in result.get("metrics", []) if isinstance(result, dict) else []:
                if isinstance(metric, dict) and "value" in metric:
                    kind = metric.get("type") or metric.get("name") or "metric"
                    out.append((str(kind), str(metric["value"])))
    return tuple(out)


def _considerations(body: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    headings = list(_HEADING.finditer(body))
    for i, heading in enumerate(headings):
        title = heading.group(1).lower()
        key = next((v for k, v in _SECTIONS.items() if k in title), None)
        if key is None:
            continue
        end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
        text = " ".join(body[heading.end() : end].split())[:1000]
        if text:
            found.setdefault(key, []).append(text)
    return {k: tuple(v) for k, v in found.items()}


def _front_matter(text: str) -> dict[str, Any]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def read_card(folder: Path) -> CardFacts:
    """The facts of the model card and config in ``folder`` (empty when there are none)."""
    card = _read_text(folder / "README.md") or ""
    meta = _front_matter(card)
    match = _FRONT_MATTER.match(card)
    body = card[match.end() :] if match else card
    config: dict[str, Any] = {}
    raw = _read_text(folder / "config.json")
    if raw:
        try:
            loaded = json.loads(raw)
        except json.JSONDecodeError:
            loaded = None
        config = loaded if isinstance(loaded, dict) else {}
    architectures = _strings(config.get("architectures"))
    approach = meta.get("approach") if isinstance(meta.get("approach"), str) else None
    return CardFacts(
        task=str(meta["pipeline_tag"]) if isinstance(meta.get("pipeline_tag"), str) else None,
        architecture_family=str(config["model_type"])
        if isinstance(config.get("model_type"), str)
        else None,
        architecture=architectures[0] if architectures else None,
        approach=approach,
        datasets=_strings(meta.get("datasets")),
        base_models=_strings(meta.get("base_model")),
        license=str(meta["license"]) if isinstance(meta.get("license"), str) else None,
        metrics=_metrics(meta.get("model-index")),
        considerations=_considerations(body),
    )
