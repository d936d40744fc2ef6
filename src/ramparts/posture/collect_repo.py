"""Evidence from the repository's own files, for ``ramparts posture PATH``.

:func:`collect_repository` takes the files the posture command already walked (it
never walks again) and returns every fact of the ``ci.``, ``repo.``, ``docs.``,
``config.``, ``container.`` and ``iac.`` families, always all of them (:data:`FACT_NAMES`),
with ``False``/``()``/``None`` where nothing was found or nothing could be decided.
Only files whose names can matter are read, at most 1 MiB each, with safe parsers;
nothing is executed, imported or unpickled.

This module holds the ``repo.`` facts and composes the others:
:mod:`~ramparts.posture.collect_ci`, :mod:`~ramparts.posture.collect_docs`,
:mod:`~ramparts.posture.collect_config`, :mod:`~ramparts.posture.collect_container`,
:mod:`~ramparts.posture.collect_iac`, with Python code read once by
:mod:`~ramparts.posture.python_code`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from ramparts.core.types import Location
from ramparts.posture.collect_ci import collect_ci
from ramparts.posture.collect_config import collect_config
from ramparts.posture.collect_container import collect_containers
from ramparts.posture.collect_docs import collect_docs, headings, is_model_card, normalised_stem
from ramparts.posture.collect_iac import collect_iac
from ramparts.posture.interface import Fact
from ramparts.posture.python_code import PythonEvidence, read_python
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles, hits_fact
from ramparts.scan.lockfiles import Included, Manifest, manifest_kind, parse_manifest

__all__ = ["FACT_NAMES", "collect_repository"]

FACT_NAMES = (
    "ci.present",
    "ci.scan_step",
    "ci.secret_scan_step",
    "ci.dependency_audit_step",
    "ci.signing_step",
    "ci.provenance_step",
    "ci.sarif_upload",
    "ci.bom_step",
    "ci.posture_step",
    "ci.unpinned_actions",
    "ci.write_all_permissions",
    "ci.pull_request_target_checkout",
    "repo.security_policy",
    "repo.codeowners",
    "repo.gitignore_env",
    "repo.env_files_committed",
    "repo.dependency_manifests",
    "repo.lockfile",
    "repo.unpinned_requirements",
    "repo.pickle_load_in_code",
    "repo.unpinned_hub_downloads",
    "repo.model_files",
    "repo.ai_dependencies",
    "repo.ai_project",
    "repo.model_card",
    "repo.datasets_present",
    "repo.datasheet",
    "repo.aibom",
    "repo.unparsed_files",
    "docs.ai_policy",
    "docs.roles_responsibilities",
    "docs.impact_assessment",
    "docs.incident_playbook",
    "docs.rollback_procedure",
    "docs.break_glass",
    "docs.risk_register",
    "docs.intended_use",
    "config.plain_http_endpoints",
    "config.tls_verify_disabled",
    "config.weak_tls_versions",
    "container.present",
    "container.dockerfiles",
    "container.runs_as_root",
    "container.unpinned_base_images",
    "iac.present",
    "iac.ai_resources",
    "iac.sagemaker_present",
    "iac.bedrock_present",
    "iac.azure_openai_present",
    "iac.vertex_present",
    "iac.sagemaker_unencrypted",
    "iac.sagemaker_network_exposed",
    "iac.bedrock_agent_no_guardrail",
    "iac.bedrock_no_cmk",
    "iac.azure_openai_public",
    "iac.azure_openai_local_auth",
    "iac.vertex_no_cmek",
    "iac.model_server_present",
    "iac.model_server_exposed",
    "iac.model_server_root",
    "iac.model_server_no_limits",
)
"""Every fact :func:`collect_repository` returns, in this order."""

_LOCK_NAMES = frozenset(
    {
        "uv.lock",
        "poetry.lock",
        "pipfile.lock",
        "pdm.lock",
        "pylock.toml",
        "conda-lock.yml",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "cargo.lock",
        "go.sum",
        "gemfile.lock",
        "composer.lock",
    }
)
_OTHER_MANIFESTS = frozenset(
    {"package.json", "cargo.toml", "go.mod", "gemfile", "composer.json", "pipfile", "setup.py"}
)
_ENV_EXEMPT = (".example", ".sample", ".template", ".dist", ".defaults")
_MODEL_SUFFIXES = (
    ".pt",
    ".pth",
    ".pkl",
    ".pickle",
    ".joblib",
    ".h5",
    ".keras",
    ".onnx",
    ".safetensors",
    ".gguf",
    ".ggml",
    ".tflite",
    ".ckpt",
    ".mlmodel",
)
_DATASET_SUFFIXES = (".parquet", ".arrow", ".tfrecord", ".jsonl", ".feather", ".avro")
_DATA_DIRS = frozenset({"data", "datasets", "dataset", "training_data", "training-data"})
_TABLE_SUFFIXES = (".csv", ".tsv", ".json", ".npy", ".npz")
_AI_PACKAGES = frozenset(
    {
        "openai",
        "anthropic",
        "transformers",
        "torch",
        "tensorflow",
        "keras",
        "jax",
        "scikit-learn",
        "xgboost",
        "lightgbm",
        "langchain",
        "llama-index",
        "litellm",
        "vllm",
        "sentence-transformers",
        "huggingface-hub",
        "diffusers",
        "google-generativeai",
        "google-genai",
        "google-cloud-aiplatform",
        "sagemaker",
        "mistralai",
        "cohere",
        "ollama",
        "onnxruntime",
    }
)
_DATASHEET_STEMS = frozenset(
    {"datasheet", "data-card", "datacard", "dataset-card", "data-sheet", "datasheet-for-dataset"}
)
_DATASHEET_PHRASES = ("datasheet", "data card", "dataset card")
_MODEL_CARD_PHRASES = ("model card", "intended use")


def collect_repository(root: Path, files: Sequence[Path]) -> tuple[Fact, ...]:
    """Every repository fact (:data:`FACT_NAMES`) about ``root``, from the walked
    ``files`` (absolute paths under ``root``); never raises for a file's content."""
    repo = RepoFiles(root, files)
    python = read_python(repo)
    facts = [
        *collect_ci(repo),
        *_repo_facts(repo, python),
        *collect_docs(repo),
        *collect_config(repo, python),
        *collect_containers(repo),
        *collect_iac(repo),
    ]
    unparsed = sorted(repo.unparsed)
    facts.append(
        Fact(
            "repo.unparsed_files",
            tuple(unparsed),
            (
                f"{len(unparsed)} file(s) that mattered could not be read or parsed: "
                + "; ".join(f"{rel}: {repo.unparsed[rel]}" for rel in unparsed[:3])
                if unparsed
                else "every file that mattered was read and parsed"
            ),
            tuple(Location(rel) for rel in unparsed[:50]),
        )
    )
    by_name = {fact.name: fact for fact in facts}
    return tuple(by_name[name] for name in FACT_NAMES)


def _first(files: list[RepoFile], fact: str, what: str, missing: str) -> Fact:
    if files:
        return Fact(fact, True, f"`{files[0].rel}` {what}", (Location(files[0].rel),))
    return Fact(fact, False, missing)


def _repo_facts(repo: RepoFiles, python: PythonEvidence) -> list[Fact]:
    github_places = ((), (".github",), ("docs",))
    security = [
        f
        for f in repo.files
        if normalised_stem(f.name) == "security" and f.folders in github_places
    ]
    owners = [
        f
        for f in repo.files
        if f.name == "codeowners" and f.folders in (*github_places, (".gitlab",))
    ]
    owners_with_rules = [
        f
        for f in owners
        if any(
            line.strip() and not line.lstrip().startswith("#")
            for line in (repo.text(f) or "").splitlines()
        )
    ]
    facts = [
        _first(
            security,
            "repo.security_policy",
            "tells reporters how to disclose a vulnerability",
            "no SECURITY.md in the root, .github/ or docs/",
        ),
        _first(
            owners_with_rules,
            "repo.codeowners",
            "assigns reviewers to paths",
            f"`{owners[0].rel}` holds no ownership rule"
            if owners
            else "no CODEOWNERS file in the root, .github/, docs/ or .gitlab/",
        ),
        _gitignore_env(repo),
        _env_files(repo),
        *_dependencies(repo),
        hits_fact(
            "repo.pickle_load_in_code",
            python.unsafe_loads,
            none=f"no unsafe model loading or trust_remote_code=True in {python.files} "
            "Python file(s)",
            some="calls that can run code from a loaded file",
            note=repo.unparsed_note(python.unparsed),
        ),
        hits_fact(
            "repo.unpinned_hub_downloads",
            python.hub_unpinned,
            none=f"no hub model or dataset fetched without a commit-SHA revision in "
            f"{python.files} Python file(s)",
            some="hub models or datasets fetched without a commit-SHA revision",
            note=repo.unparsed_note(python.unparsed),
        ),
    ]
    facts.extend(_ai_assets(repo, facts))
    return facts


def _gitignore_env(repo: RepoFiles) -> Fact:
    import pathspec  # noqa: PLC0415 - only needed when a .gitignore exists

    ignore = next((f for f in repo.files if f.rel == ".gitignore"), None)
    if ignore is None:
        return Fact("repo.gitignore_env", False, "there is no .gitignore in the root")
    spec = pathspec.GitIgnoreSpec.from_lines((repo.text(ignore) or "").splitlines())
    if spec.match_file(".env"):
        return Fact(
            "repo.gitignore_env", True, "`.gitignore` ignores `.env`", (Location(".gitignore"),)
        )
    return Fact(
        "repo.gitignore_env",
        False,
        "`.gitignore` does not ignore `.env`, so a local secrets file can be committed",
        (Location(".gitignore"),),
    )


def _env_files(repo: RepoFiles) -> Fact:
    hits = [
        Hit(f.rel, Location(f.rel))
        for f in repo.files
        if (f.name == ".env" or f.name.startswith(".env.") or f.name.endswith(".env"))
        and not f.name.endswith(_ENV_EXEMPT)
    ]
    return hits_fact(
        "repo.env_files_committed",
        hits,
        none="no .env file outside the .gitignore (examples and samples excepted)",
        some=".env files in the repository (not ignored by .gitignore)",
    )


def _dependencies(repo: RepoFiles) -> list[Fact]:
    by_rel = {f.rel: f for f in repo.files}

    def include(reference: str, from_path: str) -> Included | str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), reference))
        file = by_rel.get(target)
        text = repo.text(file) if file else None
        return Included(target, text) if text is not None else "not a file in the repository"

    manifests: list[Manifest] = []
    others: list[RepoFile] = []
    locks: list[RepoFile] = []
    for file in repo.files:
        kind = manifest_kind(file.rel)
        if file.name in _LOCK_NAMES:
            locks.append(file)
        elif file.name in _OTHER_MANIFESTS:
            others.append(file)
        if kind is not None and file.name not in _LOCK_NAMES:
            text = repo.text(file)
            if text is not None:
                manifests.append(parse_manifest(kind, text, file.rel, includes=include))
    requirements = [m for m in manifests if m.kind == "requirements"]
    unpinned = [
        Hit(f"{dep.path}:{dep.line} {dep.spec}", Location(dep.path, dep.line))
        for manifest in requirements
        for dep in manifest.dependencies
        if dep.version is None and not dep.hashes
    ]
    pinned_count = sum(len(m.dependencies) for m in requirements) - len(unpinned)
    any_manifest = bool(manifests or others or locks)
    if locks:
        lock = Fact(
            "repo.lockfile",
            True,
            f"`{locks[0].rel}` locks resolved dependency versions",
            (Location(locks[0].rel),),
        )
    elif requirements and not unpinned and pinned_count:
        lock = Fact(
            "repo.lockfile",
            True,
            f"every one of {pinned_count} requirement(s) is pinned with == or hashes",
            tuple(Location(m.path) for m in requirements[:50]),
        )
    elif any_manifest:
        lock = Fact(
            "repo.lockfile",
            False,
            "dependencies are declared but neither a lock file nor fully pinned requirements "
            "fix their versions",
        )
    else:
        lock = Fact("repo.lockfile", None, "no dependency manifest was found")
    declared = sorted({m.path for m in manifests} | {f.rel for f in (*others, *locks)})
    return [
        Fact(
            "repo.dependency_manifests",
            any_manifest,
            f"{len(declared)} dependency manifest(s) or lock file(s)"
            if any_manifest
            else "no dependency manifest or lock file was found",
            tuple(Location(rel) for rel in declared[:50]),
        ),
        lock,
        hits_fact(
            "repo.unpinned_requirements",
            unpinned,
            none=f"every requirement of {len(requirements)} requirements file(s) is pinned",
            some="requirements without == or --hash",
        ),
        hits_fact(
            "repo.ai_dependencies",
            [
                Hit(dep.canonical_name, Location(dep.path, dep.line))
                for manifest in manifests
                for dep in manifest.dependencies
                if dep.canonical_name in _AI_PACKAGES
                or dep.canonical_name.startswith(("langchain-", "llama-index-"))
            ],
            none="no AI or ML package declared in Python dependency manifests",
            some="AI and ML packages declared",
        ),
    ]


def _ai_assets(repo: RepoFiles, facts: list[Fact]) -> list[Fact]:
    models = [Hit(f.rel, Location(f.rel)) for f in repo.files if f.name.endswith(_MODEL_SUFFIXES)]
    datasets = [
        f
        for f in repo.files
        if f.name.endswith(_DATASET_SUFFIXES)
        or (f.name.endswith(_TABLE_SUFFIXES) and _DATA_DIRS.intersection(f.folders))
    ]
    ai_deps = next(f for f in facts if f.name == "repo.ai_dependencies")
    model_fact = hits_fact(
        "repo.model_files",
        models,
        none="no model file (pickle, PyTorch, safetensors, ONNX, GGUF, Keras...) in the repository",
        some="model files",
    )
    declared = ai_deps.value if isinstance(ai_deps.value, tuple) else ()
    is_ai = bool(models) or bool(declared)
    return [
        model_fact,
        Fact(
            "repo.ai_project",
            is_ai,
            (
                f"the repository holds {len(models)} model file(s) and declares "
                f"{len(declared)} AI/ML package(s)"
                if is_ai
                else "no model file and no AI/ML package declared: not judged an AI project"
            ),
        ),
        _documented(
            repo,
            "repo.model_card",
            [f for f in repo.files if is_model_card(f)],
            _MODEL_CARD_PHRASES,
            "model card",
        ),
        Fact(
            "repo.datasets_present",
            bool(datasets),
            f"{len(datasets)} dataset file(s)" if datasets else "no dataset file found",
            tuple(Location(f.rel) for f in datasets[:50]),
        ),
        _documented(
            repo,
            "repo.datasheet",
            [f for f in repo.files if normalised_stem(f.name) in _DATASHEET_STEMS],
            _DATASHEET_PHRASES,
            "datasheet or data card",
        ),
        _aibom(repo),
    ]


def _documented(
    repo: RepoFiles, fact: str, named: list[RepoFile], phrases: tuple[str, ...], what: str
) -> Fact:
    if named:
        return Fact(fact, True, f"`{named[0].rel}` is a {what}", (Location(named[0].rel),))
    readmes = [f for f in repo.files if normalised_stem(f.name) == "readme"]
    for file in readmes:
        for line, heading in headings(repo.text(file) or ""):
            if any(phrase in heading for phrase in phrases):
                return Fact(
                    fact,
                    True,
                    f"`{file.rel}` has a {what} section ('{heading}')",
                    (Location(file.rel, line),),
                )
    return Fact(fact, False, f"no {what} file and no README section for one")


def _aibom(repo: RepoFiles) -> Fact:
    boms = [
        f
        for f in repo.files
        if f.name.endswith((".cdx.json", ".spdx.json"))
        or f.name in ("bom.json", "sbom.json", "aibom.json", "ai-bom.json")
    ]
    plain: str | None = None
    for file in boms:
        text = repo.text(file) or ""
        if "machine-learning-model" in text or "ai_AIPackage" in text:
            return Fact(
                "repo.aibom",
                True,
                f"`{file.rel}` is a bill of materials listing AI components",
                (Location(file.rel),),
            )
        if '"bomFormat"' in text or '"spdxVersion"' in text:
            plain = plain or file.rel
    if plain:
        return Fact(
            "repo.aibom",
            False,
            f"`{plain}` is a software BOM without any machine-learning-model component",
            (Location(plain),),
        )
    return Fact("repo.aibom", False, "no CycloneDX or SPDX bill of materials in the repository")
