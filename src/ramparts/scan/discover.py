"""AI asset discovery: what AI a repository holds, uses and deploys, and shadow AI.

:func:`discover` walks a tree once (or takes a list already walked) and reads each
file at most once, up to :data:`TEXT_LIMIT` bytes:

- **models** by content (:func:`ramparts.scan.models.formats.sniff`): a file named like
  a model whose bytes match a model format, or any binary file with an unambiguous
  model signature (safetensors, GGUF, NumPy, a binary pickle, a PyTorch zip), with its
  SHA-256 (streamed for large files) (:mod:`.discover_files`);
- **datasets**: CSV, TSV, JSON Lines, Parquet, Arrow, Feather, Avro, ORC and TFRecord,
  by extension or by magic number; files under 1 KiB only inside a ``data`` or
  ``datasets`` folder;
- **notebooks** (``.ipynb``), and the SDK use in their code cells;
- **SDK use** in Python and JavaScript/TypeScript, and **AI API hostnames** in any text
  file (:mod:`.discover_code`);
- **MCP servers** and **agent configurations** (:mod:`.discover_config`);
- **infrastructure as code** (:mod:`.discover_iac`).

Binary files are recognised by a NUL byte in their first bytes and are only sniffed.
Nothing is imported, loaded or executed. :func:`shadow_ai` then names the external AI
in use whose provider is not approved, and the model files whose digest the registry
does not know.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ramparts.core.hashing import hash_files, sha256_file
from ramparts.core.settings import ScanSettings
from ramparts.core.types import Digest, ErrorRecord, Location, Skip
from ramparts.errors import InputError
from ramparts.scan.discover_assets import (
    ASSET_KINDS,
    EXTERNAL_KINDS,
    AiAsset,
    Inventory,
    LinePlacer,
    Placer,
    ShadowFinding,
)
from ramparts.scan.discover_code import CODE_HINTS, hostnames, js_sdk, python_sdk
from ramparts.scan.discover_config import agent_config, is_mcp_config, mcp_servers
from ramparts.scan.discover_files import DATASET_FORMATS, dataset_format, model_format
from ramparts.scan.discover_iac import (
    cloudformation,
    dockerfile,
    is_dockerfile,
    kubernetes,
    terraform,
)
from ramparts.scan.interface import HEAD_SIZE
from ramparts.scan.walk import FileEntry, walk
from ramparts.sign.interface import SignError
from ramparts.sign.manifest import artifact_digest

if TYPE_CHECKING:
    from ramparts.scan.notebook import Part
    from ramparts.scan.runner import ProgressSink

__all__ = [
    "ASSET_KINDS",
    "DATASET_FORMATS",
    "TEXT_LIMIT",
    "AiAsset",
    "Inventory",
    "ShadowFinding",
    "discover",
    "shadow_ai",
    "unregistered_models",
]

TEXT_LIMIT = 4 << 20
"""Text files up to this size are searched; larger ones are only sniffed."""

_PY = frozenset({".py", ".pyi", ".pyw"})
_JS = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"})
_YAML = frozenset({".yaml", ".yml"})
_CFN_JSON = frozenset({".json", ".template"})


def _suffix(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


class _Discovery:
    """The state of one run: assets, skips, errors and the model files to hash."""

    def __init__(self) -> None:
        self.assets: list[AiAsset] = []
        self.skips: list[Skip] = []
        self.errors: list[ErrorRecord] = []
        self.models: list[tuple[Path, str, str, str, bytes | None]] = []

    def file(self, path: Path, rel: str, size: int) -> None:
        try:
            with path.open("rb", buffering=0) as fh:
                # Sized to the file: read(n) allocates n bytes before it reads.
                data = fh.read(min(size, TEXT_LIMIT) + 1)
        except OSError as exc:
            self.errors.append(ErrorRecord(rel, f"cannot read: {exc.strerror or exc}"))
            return
        if not data:
            return
        complete = len(data) <= TEXT_LIMIT
        head = data[:HEAD_SIZE]
        binary = b"\x00" in head
        suffix = _suffix(rel)
        model = model_format(suffix, head, binary)
        if model is not None:
            self.models.append((path, rel, *model, data if complete else None))
            return
        size = len(data) if complete else TEXT_LIMIT + 1
        fmt = dataset_format(rel, suffix, head, binary, size)
        if fmt is not None:
            props = {"format": fmt}
            self.assets.append(
                AiAsset("dataset", rel, Location(rel), None, f"{fmt} dataset", props)
            )
            return
        if binary:
            return
        if not complete:
            self.skips.append(
                Skip(rel, f"larger than {TEXT_LIMIT >> 20} MiB: sniffed, not searched")
            )
            return
        self.text(rel, suffix, data.decode("utf-8", errors="replace"))

    def text(self, rel: str, suffix: str, text: str) -> None:
        place = LinePlacer(rel, text)
        found = self.assets
        if suffix == ".ipynb":
            found.extend(_notebook(rel, text))
        elif suffix in _PY:
            found.extend(python_sdk(text, place))
        elif suffix in _JS:
            found.extend(js_sdk(text, place))
        elif suffix == ".tf":
            found.extend(terraform(rel, text))
        elif suffix in _YAML:
            found.extend(kubernetes(rel, text))
            found.extend(cloudformation(rel, text))
        elif suffix in _CFN_JSON:
            found.extend(cloudformation(rel, text))
        elif is_dockerfile(rel):
            found.extend(dockerfile(rel, text))
        if is_mcp_config(rel):
            servers = mcp_servers(rel, text)
            if servers is None:
                self.skips.append(Skip(rel, "MCP configuration is not valid JSON"))
            else:
                found.extend(servers)
        config = agent_config(rel, text)
        if config is not None:
            found.append(config)
        found.extend(hostnames(text, place))

    def digests(self) -> None:
        """Hash the model files (in memory when read whole, else streamed in parallel)."""
        large = {path: rel for path, rel, *_, data in self.models if data is None}
        digests: dict[Path, Digest] = {}
        try:
            digests = dict(hash_files(large))
        except InputError:  # one file failed: hash one by one to name it
            for path, rel in large.items():
                try:
                    digests[path] = sha256_file(path)
                except InputError as exc:
                    reason = getattr(exc.__cause__, "strerror", None) or "unreadable"
                    self.errors.append(ErrorRecord(rel, f"cannot hash: {reason}"))
        for path, rel, fmt, detail, data in self.models:
            digest = (
                Digest("sha256", hashlib.sha256(data).hexdigest())
                if data is not None
                else digests.get(path)
            )
            props = {"format": fmt}
            if digest is not None:
                props["digest"] = str(digest)
            self.assets.append(AiAsset("model", rel, Location(rel), None, detail, props))


def _notebook(rel: str, text: str) -> Iterator[AiAsset]:
    """The notebook itself, and the SDK use in its code cells."""
    try:
        doc = json.loads(text)
    except ValueError:
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        return
    cells = doc["cells"]
    meta = doc.get("metadata")
    language = ""
    if isinstance(meta, dict):
        info = meta.get("language_info") or meta.get("kernelspec") or {}
        language = (
            str(info.get("name") or info.get("language") or "") if isinstance(info, dict) else ""
        )
    props = {"cells": str(len(cells))}
    if language:
        props["language"] = language
    yield AiAsset("notebook", rel, Location(rel), None, "Jupyter notebook", props)
    if not any(hint in text for hint in CODE_HINTS):
        return
    from ramparts.scan.notebook import notebook_parts  # noqa: PLC0415 - only for AI notebooks

    code = {
        f"cells[{i}]"
        for i, cell in enumerate(cells)
        if isinstance(cell, dict) and cell.get("cell_type") == "code"
    }
    for part in notebook_parts(text) or ():
        if part.member[-1] == "source" and part.member[0] in code:
            yield from python_sdk(part.text, _cell_placer(rel, part))


def _cell_placer(rel: str, part: Part) -> Placer:
    def place(offset: int) -> Location:
        return Location(rel, line=part.place(offset)[0], member=part.member)

    return place


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` ('/' separated); its name when it is ``root``."""
    if path == root:
        return path.name
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        pass
    try:  # resolved only when needed: resolving every file of a walk is slow
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name  # outside the root: never print where it lives on this machine


def _entries(
    root: Path, files: Sequence[Path] | None, settings: ScanSettings, skips: list[Skip]
) -> list[tuple[Path, str, int]]:
    if files is None:
        entries = []
        for entry in walk(root, settings):
            if isinstance(entry, FileEntry):
                entries.append((entry.path, entry.rel, entry.size))
            else:
                skips.append(entry)
        return entries
    out = []
    for path in files:
        rel = _relative(path, root)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        out.append((path, rel, size))
    return out


def discover(
    root: Path,
    *,
    files: Sequence[Path] | None = None,
    settings: ScanSettings | None = None,
    progress: ProgressSink | None = None,
) -> Inventory:
    """The AI assets under ``root`` (a folder or one file).

    ``files`` is a list already walked (absolute paths under ``root``) so that a caller
    running several checks walks once; ``None`` walks ``root`` with
    :func:`ramparts.scan.walk.walk` (``.gitignore``, excludes, size limit). Raises
    :class:`InputError` when ``root`` cannot be read; a file that cannot be read is
    an error record of the inventory, never an exception.
    """
    run = _Discovery()
    entries = _entries(root, files, settings or ScanSettings(), run.skips)
    if progress is not None:
        progress.start(len(entries), sum(size for _, _, size in entries))
    for path, rel, size in entries:
        run.file(path, rel, size)
        if progress is not None:
            progress.advance(rel, size)
    run.digests()
    return Inventory(
        root=str(root),
        assets=tuple(run.assets),
        skips=tuple(run.skips),
        errors=tuple(run.errors),
        files_seen=len(entries),
    )


def _approved(provider: str, approved: frozenset[str]) -> bool:
    # "aws" approves "aws-bedrock" and "aws-sagemaker"; "azure" every Azure service.
    return provider in approved or any(provider.startswith(a + "-") for a in approved)


def _hex(digest: str) -> str:
    return digest.strip().lower().removeprefix("sha256:")


def unregistered_models(inventory: Inventory, registered_digests: Iterable[str]) -> list[AiAsset]:
    """Model files that are neither a registered file nor inside a registered folder.

    ``registered_digests`` are SHA-256 digests (``sha256:HEX`` or ``HEX``) of registered
    versions. A folder pushed to the registry is named by its OpenSSF Model Signing
    digest, so the folder holding each model file is hashed the same way (once per
    folder, and never the scan root itself).
    """
    registered = frozenset(_hex(d) for d in registered_digests)
    root = Path(inventory.root)
    folders: dict[Path, str | None] = {}
    missing = []
    for asset in inventory.of_kind("model"):
        if _hex(asset.properties.get("digest", "")) in registered:
            continue
        folder = (root / asset.location.path).parent
        if folder not in folders:
            try:
                inside = folder.resolve() != root.resolve()
                folders[folder] = artifact_digest(folder) if inside else None
            except (OSError, SignError):
                folders[folder] = None
        if folders[folder] not in registered:
            missing.append(asset)
    return missing


def shadow_ai(
    inventory: Inventory,
    *,
    approved_providers: Iterable[str],
    registered_digests: frozenset[str] | None,
) -> tuple[ShadowFinding, ...]:
    """The assets in use without approval.

    - an SDK use, endpoint, IaC resource or MCP server whose provider is not in
      ``approved_providers`` (a name approves itself and its ``name-*`` services);
    - a model file that is not a registered version, alone or in its folder
      (:func:`unregistered_models`), only when a registry is known (not ``None``).
    """
    approved = frozenset(p.strip().lower() for p in approved_providers if p.strip())
    unregistered = (
        set()
        if registered_digests is None
        else set(unregistered_models(inventory, registered_digests))
    )
    found: list[ShadowFinding] = []
    for asset in inventory.assets:  # in the inventory's order
        if asset.kind in EXTERNAL_KINDS and asset.provider:
            if not _approved(asset.provider, approved):
                found.append(ShadowFinding(asset, f"provider {asset.provider} is not approved"))
        elif asset in unregistered:
            found.append(ShadowFinding(asset, "model file is not in the registry"))
    return tuple(found)
