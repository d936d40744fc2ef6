"""A CycloneDX 1.6 machine-learning bill of materials for a project folder.

What it holds:

- **models** (``machine-learning-model``): every model file found by extension, its
  format sniffed from content, its SHA-256, and a ``modelCard`` filled from the
  folder's card and ``config.json`` (task, architecture, datasets, metrics,
  considerations);
- **datasets** (``data``): tables and record files, each with its SHA-256 and a ``data``
  entry whose ``sensitiveData`` and ``classification`` come from the personal-data
  scanner (the kinds found, and the most sensitive class among them), and governance
  owners when given;
- **Python dependencies** (``library``, with ``purl`` and the archive hashes a lock file
  records);
- **AI services** (``services``): the external AI providers the code calls or names,
  as :func:`ramparts.scan.discover.discover` finds them (SDK use, API hostnames as
  ``endpoints``); datasets that discovery recognises by content join the datasets;
- **formulation**: a workflow per signed SLSA provenance statement found beside the
  artifacts (builder, repository, commit; its datasets as inputs and models as
  outputs), and per training script or CI workflow file otherwise.

:func:`completeness` scores how many recommended fields are filled, naming the gaps.
Nothing is loaded or executed: model files are hashed and sniffed, cards are parsed.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ramparts._version import __version__
from ramparts.core.hashing import hash_files
from ramparts.core.records import field, record
from ramparts.core.settings import ScanSettings
from ramparts.core.types import Finding
from ramparts.registry.interface import PythonPackage, RegistryError
from ramparts.registry.modelcard import CardFacts, read_card
from ramparts.scan.discover import Inventory, discover
from ramparts.scan.models.formats import MODEL_EXTENSIONS, sniff
from ramparts.scan.walk import FileEntry, walk

__all__ = [
    "DATA_SUFFIXES",
    "BomOptions",
    "Completeness",
    "build_bom",
    "completeness",
    "project_packages",
]

DATA_SUFFIXES = frozenset(
    {".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".arrow", ".feather", ".avro", ".orc"}
)
_SENSITIVITY = ("internal", "confidential", "restricted")
_TRAINING = re.compile(r"(^|/)(train|fine_?tune|finetune)[\w-]*\.(py|ipynb)$", re.I)
_CI_FILES = re.compile(r"(^|/)(\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.yml)$")
_SLSA = "https://slsa.dev/provenance/v1"
# Libraries that run in the process (or orchestrate others): not services of their own.
_FRAMEWORKS = frozenset({"langchain", "llama-index", "litellm", "vllm", "crewai", "autogen"})


@record
class BomOptions:
    """How to build the BOM: project name, data owner, scan settings, dependencies."""

    settings: ScanSettings = field(default_factory=ScanSettings)
    name: str | None = None
    owner: str | None = None
    packages: Sequence[PythonPackage] = ()
    personal_data: bool = True


@record
class Completeness:
    """How many of the recommended fields the BOM fills, and which ones it lacks."""

    filled: int
    total: int
    missing: tuple[str, ...]

    @property
    def score(self) -> float:
        """Share of recommended fields filled, 0 to 1."""
        return self.filled / self.total if self.total else 1.0


def _ref(kind: str, rel: str) -> str:
    return f"{kind}:{rel}"


def _card_for(root: Path, rel: str, cache: dict[Path, CardFacts]) -> CardFacts:
    folder = (root / rel).parent
    if folder not in cache:
        cache[folder] = read_card(folder)
    return cache[folder]


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError:
        return b""


def _model_card(facts: CardFacts, dataset_refs: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if facts.approach:
        params["approach"] = {"type": facts.approach}
    if facts.task:
        params["task"] = facts.task
    if facts.architecture_family:
        params["architectureFamily"] = facts.architecture_family
    if facts.architecture:
        params["modelArchitecture"] = facts.architecture
    datasets: list[dict[str, Any]] = [{"ref": r} for r in dataset_refs]
    named = {r.split(":", 1)[1] for r in dataset_refs}
    datasets += [{"type": "dataset", "name": d} for d in facts.datasets if d not in named]
    if datasets:
        params["datasets"] = datasets
    card: dict[str, Any] = {}
    if params:
        card["modelParameters"] = params
    if facts.metrics:
        card["quantitativeAnalysis"] = {
            "performanceMetrics": [{"type": k, "value": v} for k, v in facts.metrics]
        }
    considerations: dict[str, Any] = {}
    for key, texts in facts.considerations.items():
        if key == "ethicalConsiderations":
            considerations[key] = [{"name": t} for t in texts]
        else:
            considerations[key] = list(texts)
    if considerations:
        card["considerations"] = considerations
    return card


def _pii_by_path(root: Path, settings: ScanSettings) -> dict[str, set[str]]:
    from ramparts.privacy.pii import KINDS  # noqa: PLC0415 - only when personal data is asked for
    from ramparts.scan.interface import ScanContext  # noqa: PLC0415
    from ramparts.scan.pii import PiiScanner  # noqa: PLC0415
    from ramparts.scan.runner import run_scan  # noqa: PLC0415

    report = run_scan(root, [PiiScanner(data_only=True)], ctx=ScanContext(settings=settings))
    by_rule = {k.rule_id: k.kind for k in KINDS.values()}
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        kind = _kind_of(finding, by_rule)
        if kind:
            found.setdefault(finding.location.path, set()).add(kind)
    return found


def _kind_of(finding: Finding, by_rule: dict[str, str]) -> str | None:
    if finding.rule_id == "RMP-DATA-COLUMN" and finding.evidence:
        return finding.evidence.rpartition(": ")[2] or None
    return by_rule.get(finding.rule_id)


def _classification(kinds: Iterable[str]) -> str | None:
    from ramparts.privacy.pii import KINDS  # noqa: PLC0415

    levels = [_SENSITIVITY.index(KINDS[k].sensitivity) for k in kinds if k in KINDS]
    return _SENSITIVITY[max(levels)] if levels else None


def _dataset(entry: FileEntry, digest: str, kinds: list[str], owner: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "dataset",
        "name": entry.rel,
        "contents": {"url": entry.rel},
        "sensitiveData": kinds,
    }
    classification = _classification(kinds)
    if classification:
        data["classification"] = classification
    if owner:
        data["governance"] = {"owners": [{"organization": {"name": owner}}]}
    return {
        "type": "data",
        "bom-ref": _ref("data", entry.rel),
        "name": entry.rel,
        "hashes": [{"alg": "SHA-256", "content": digest}],
        "data": [data],
    }


def _provenance(root: Path, entries: Sequence[FileEntry]) -> list[dict[str, Any]]:
    statements = []
    for entry in entries:
        if not entry.rel.endswith(".intoto.jsonl"):
            continue
        try:
            lines = entry.path.read_bytes().splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                envelope = json.loads(line)
                statement = json.loads(base64.b64decode(envelope["payload"]))
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(statement, dict) and statement.get("predicateType") == _SLSA:
                statements.append(statement)
    return statements


def _digests(statement: dict[str, Any], key: str) -> list[str]:
    items = (
        statement.get(key, [])
        if key == "subject"
        else (
            statement.get("predicate", {})
            .get("buildDefinition", {})
            .get("resolvedDependencies", [])
        )
    )
    out = []
    for item in items if isinstance(items, list) else []:
        digest = item.get("digest", {}) if isinstance(item, dict) else {}
        if isinstance(digest, dict) and isinstance(digest.get("sha256"), str):
            out.append(digest["sha256"])
    return out


def _workflows(
    statements: Sequence[dict[str, Any]],
    entries: Sequence[FileEntry],
    refs_by_digest: dict[str, str],
) -> list[dict[str, Any]]:
    workflows: list[dict[str, Any]] = []
    for i, statement in enumerate(statements):
        predicate = statement.get("predicate", {})
        build = predicate.get("buildDefinition", {})
        external = build.get("externalParameters", {})
        run = predicate.get("runDetails", {})
        uid = run.get("metadata", {}).get("invocationId") or f"provenance-{i + 1}"
        workflow: dict[str, Any] = {
            "bom-ref": f"workflow:provenance-{i + 1}",
            "uid": str(uid),
            "name": str(external.get("workflow") or "build"),
            "taskTypes": ["build"],
            "properties": [
                {"name": f"slsa:{k}", "value": str(v)}
                for k, v in (
                    ("builder", run.get("builder", {}).get("id")),
                    ("repository", external.get("repository")),
                    ("ref", external.get("ref")),
                    ("commit", external.get("commit")),
                    ("event", external.get("event")),
                )
                if v
            ],
        }
        inputs = [refs_by_digest[d] for d in _digests(statement, "deps") if d in refs_by_digest]
        outputs = [refs_by_digest[d] for d in _digests(statement, "subject") if d in refs_by_digest]
        if inputs:
            workflow["inputs"] = [{"resource": {"ref": r}} for r in inputs]
        if outputs:
            workflow["outputs"] = [{"resource": {"ref": r}} for r in outputs]
        workflows.append(workflow)
    for entry in entries:
        if _TRAINING.search(entry.rel) or _CI_FILES.search(entry.rel):
            workflows.append(
                {
                    "bom-ref": f"workflow:{entry.rel}",
                    "uid": entry.rel,
                    "name": entry.rel,
                    "taskTypes": ["build"],
                    "description": "training script"
                    if _TRAINING.search(entry.rel)
                    else "CI workflow",
                }
            )
    return workflows


def build_bom(root: Path, options: BomOptions) -> dict[str, Any]:
    """The CycloneDX 1.6 document for the project at ``root``."""
    if not root.is_dir():
        raise RegistryError(f"{root} is not a folder; a bill of materials describes a project")
    entries = [e for e in walk(root, options.settings) if isinstance(e, FileEntry)]
    models = [e for e in entries if Path(e.rel).suffix.lower() in MODEL_EXTENSIONS]
    datasets = [
        e
        for e in entries
        if Path(e.rel).suffix.lower() in DATA_SUFFIXES and not e.rel.endswith(".intoto.jsonl")
    ]
    inventory = discover(root, files=[e.path for e in entries], settings=options.settings)
    datasets += _discovered_datasets(inventory, entries, datasets)
    digests = dict(hash_files([e.path for e in (*models, *datasets)]))
    pii = _pii_by_path(root, options.settings) if options.personal_data and datasets else {}

    components = [
        _dataset(e, digests[e.path].value, sorted(pii.get(e.rel, ())), options.owner)
        for e in datasets
    ]
    refs_by_digest = {digests[e.path].value: _ref("data", e.rel) for e in datasets}
    dataset_refs = {e.rel: _ref("data", e.rel) for e in datasets}
    cards: dict[Path, CardFacts] = {}
    dependencies: list[dict[str, Any]] = []
    for entry in models:
        ref = _ref("model", entry.rel)
        refs_by_digest[digests[entry.path].value] = ref
        facts = _card_for(root, entry.rel, cards)
        used = [dataset_refs[d] for d in facts.datasets if d in dataset_refs]
        component: dict[str, Any] = {
            "type": "machine-learning-model",
            "bom-ref": ref,
            "name": entry.rel,
            "hashes": [{"alg": "SHA-256", "content": digests[entry.path].value}],
            "properties": [{"name": "ramparts:format", "value": sniff(_head(entry.path)).value}],
        }
        if facts.license:
            component["licenses"] = [{"license": {"name": facts.license}}]
        card = _model_card(facts, used)
        if card:
            component["modelCard"] = card
        components.append(component)
        if used:
            dependencies.append({"ref": ref, "dependsOn": used})
    packages = options.packages or project_packages(entries)
    components += [_library(p) for p in packages]

    statements = _provenance(root, entries)
    workflows = _workflows(statements, entries, refs_by_digest)
    name = options.name or root.resolve().name
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "tools": {
                "components": [{"type": "application", "name": "ramparts", "version": __version__}]
            },
            "component": {"type": "application", "bom-ref": "project", "name": name},
        },
        "components": components,
    }
    services = _services(inventory)
    if services:
        document["services"] = services
    if dependencies:
        document["dependencies"] = dependencies
    if workflows:
        document["formulation"] = [{"bom-ref": "formulation", "workflows": workflows}]
    return document


def _discovered_datasets(
    inventory: Inventory, entries: Sequence[FileEntry], known: Sequence[FileEntry]
) -> list[FileEntry]:
    """Datasets that discovery recognised by content (TFRecord, Parquet under another name)."""
    have = {e.rel for e in known}
    found = {a.location.path for a in inventory.of_kind("dataset")} - have
    return [e for e in entries if e.rel in found]


def _services(inventory: Inventory) -> list[dict[str, Any]]:
    """External AI services the code calls or names: one per provider, with its hosts."""
    hosts: dict[str, set[str]] = {}
    places: dict[str, set[str]] = {}
    for asset in inventory.assets:
        if asset.kind not in ("sdk", "endpoint") or asset.provider in _FRAMEWORKS:
            continue
        provider = asset.provider or ""
        if not provider:
            continue
        places.setdefault(provider, set()).add(asset.location.path)
        host = asset.properties.get("host")
        if host:
            scheme = "http" if host.startswith(("localhost:", "127.0.0.1:")) else "https"
            hosts.setdefault(provider, set()).add(f"{scheme}://{host}")
    services = []
    for provider in sorted(places):
        service: dict[str, Any] = {"bom-ref": f"service:{provider}", "name": provider}
        if hosts.get(provider):
            service["endpoints"] = sorted(hosts[provider])
        service["properties"] = [
            {"name": "ramparts:found-in", "value": path} for path in sorted(places[provider])
        ]
        services.append(service)
    return services


def _library(package: PythonPackage) -> dict[str, Any]:
    pinned = f"@{package.version}" if package.version else ""
    library: dict[str, Any] = {
        "type": "library",
        "bom-ref": f"pypi:{package.name.lower()}{pinned}",
        "name": package.name,
        "purl": f"pkg:pypi/{package.name.lower()}{pinned}",
    }
    if package.version:
        library["version"] = package.version
    if package.source:
        library["properties"] = [{"name": "ramparts:declared-in", "value": package.source}]
    if package.hashes:
        library["hashes"] = [{"alg": _alg(a), "content": h} for a, h in package.hashes]
    return library


def project_packages(entries: Sequence[FileEntry]) -> list[PythonPackage]:
    """Python dependencies the project's lock files pin (else its manifests declare).

    Lock files win over ``requirements*.txt`` and ``pyproject.toml``: they name the
    versions that get installed, with archive hashes. One entry per package and version.
    """
    from ramparts.scan.lockfiles import manifest_kind, parse_manifest  # noqa: PLC0415

    manifests = [(e, kind) for e in entries if (kind := manifest_kind(e.rel)) is not None]
    locked = [(e, k) for e, k in manifests if k not in ("requirements", "pyproject")]
    chosen: dict[tuple[str, str | None], PythonPackage] = {}
    for entry, kind in locked or manifests:
        try:
            text = entry.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for dep in parse_manifest(kind, text, entry.rel).dependencies:
            key = (dep.canonical_name, dep.version)
            hashes = tuple((alg, hexa) for alg, _, hexa in (h.partition(":") for h in dep.hashes))
            previous = chosen.get(key)
            if previous is not None:
                hashes = tuple(dict.fromkeys((*previous.hashes, *hashes)))
            chosen[key] = PythonPackage(dep.canonical_name, dep.version, hashes, entry.rel)
    return [chosen[k] for k in sorted(chosen, key=lambda k: (k[0], k[1] or ""))]


def _alg(name: str) -> str:
    return {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "md5": "MD5"}.get(
        name.lower(), name.upper()
    )


def completeness(document: dict[str, Any]) -> Completeness:
    """Score the recommended fields of models, datasets, dependencies and formulation."""
    checks: list[tuple[bool, str]] = []
    for c in document.get("components", []):
        name = c.get("name", "?")
        if c.get("type") == "machine-learning-model":
            params = c.get("modelCard", {}).get("modelParameters", {})
            card = c.get("modelCard", {})
            for key, label in (
                ("task", "task"),
                ("architectureFamily", "architecture family"),
                ("approach", "learning approach"),
                ("datasets", "datasets"),
                ("inputs", "inputs"),
                ("outputs", "outputs"),
            ):
                checks.append((key in params, f"model {name}: {label}"))
            checks.append(("quantitativeAnalysis" in card, f"model {name}: metrics"))
            checks.append(("considerations" in card, f"model {name}: considerations"))
            checks.append((bool(c.get("licenses")), f"model {name}: license"))
        elif c.get("type") == "data":
            data = (c.get("data") or [{}])[0]
            checks.append(("classification" in data, f"dataset {name}: classification"))
            checks.append(("governance" in data, f"dataset {name}: owners"))
        elif c.get("type") == "library":
            checks.append(("version" in c, f"dependency {name}: pinned version"))
            checks.append((bool(c.get("hashes")), f"dependency {name}: hashes"))
    checks.append(("formulation" in document, "formulation (training workflow)"))
    checks.append(
        (
            any(c.get("type") == "library" for c in document.get("components", [])),
            "Python dependencies",
        )
    )
    missing = tuple(label for ok, label in checks if not ok)
    return Completeness(len(checks) - len(missing), len(checks), missing)
