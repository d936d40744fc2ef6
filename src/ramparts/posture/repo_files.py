"""The repository's files as the evidence collectors see them: indexed once, read lazily.

The posture command walks the repository once (``ramparts.scan.walk``); the collectors
of ``collect_repo``, ``collect_ci``, ``collect_config`` and ``collect_iac`` share one
:class:`RepoFiles` built from that list. It never walks again, reads a file at most
once and at most :data:`MAX_READ_BYTES` of it, skips binary files, and parses YAML,
JSON and TOML with safe loaders only: a parse error is recorded (and shown in the
detail of the facts that needed the file), never raised.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from ramparts.core.records import record
from ramparts.core.types import Location
from ramparts.posture.interface import Fact

__all__ = [
    "MAX_LISTED",
    "MAX_READ_BYTES",
    "SKIPPED_DIRS",
    "Hit",
    "RepoFile",
    "RepoFiles",
    "hits_fact",
    "line_of",
]

MAX_READ_BYTES = 1 << 20
"""At most this much of a file is read (1 MiB); evidence lives near the top of configs."""

MAX_LISTED = 200
"""A fact lists at most this many offending items (the detail gives the full count)."""

SKIPPED_DIRS = frozenset(
    {"node_modules", ".venv", "venv", "site-packages", ".tox", ".nox", ".git", "__pycache__"}
)
"""Folders of vendored or generated files: what they hold is not the project's own."""


@record
class RepoFile:
    """One file of the walk: its absolute path, its '/'-separated path under the root,
    and its lower-cased name and folders (for matching conventional names)."""

    path: Path
    rel: str
    name: str
    folders: tuple[str, ...]

    @property
    def suffix(self) -> str:
        """The lower-cased last extension with its dot (``.yml``), or ``""``."""
        dot = self.name.rfind(".")
        return self.name[dot:] if dot > 0 else ""

    @property
    def depth(self) -> int:
        """How many folders lie between the root and the file (0 at the root)."""
        return len(self.folders)


@record
class Hit:
    """One offending item a fact lists: the value text and where it was seen."""

    value: str
    location: Location


# libyaml's C loader when installed (ten times faster), else the pure-Python one; both
# build plain data only.
_BaseSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TagTolerantSafeLoader(_BaseSafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that reads unknown tags (``!Ref``, ``!reference``) as plain data."""


def _any_tag(loader: Any, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return None


_TagTolerantSafeLoader.add_multi_constructor("!", _any_tag)


class RepoFiles:
    """The walked files of one repository, with capped, cached, never-raising reads."""

    def __init__(self, root: Path, files: Iterable[Path]) -> None:
        self.root = root
        entries: list[RepoFile] = []
        for path in files:
            try:
                rel = path.relative_to(root).as_posix()
            except ValueError:
                rel = path.name
            parts = rel.lower().split("/")
            if any(part in SKIPPED_DIRS for part in parts[:-1]):
                continue
            entries.append(RepoFile(path, rel, parts[-1], tuple(parts[:-1])))
        entries.sort(key=lambda f: f.rel)
        self.files: tuple[RepoFile, ...] = tuple(entries)
        self._text: dict[str, str | None] = {}
        self.unparsed: dict[str, str] = {}
        """'/'-path -> why the file could not be read or parsed."""

    def select(self, *suffixes: str, names: Sequence[str] = ()) -> list[RepoFile]:
        """Files whose lower-cased name ends with one of ``suffixes`` or is in ``names``."""
        return [f for f in self.files if f.name.endswith(suffixes) or f.name in names]

    def text(self, file: RepoFile) -> str | None:
        """The file's text (its first :data:`MAX_READ_BYTES`), or ``None`` when unreadable
        or binary."""
        if file.rel in self._text:
            return self._text[file.rel]
        text: str | None = None
        try:
            with file.path.open("rb") as fh:
                data = fh.read(MAX_READ_BYTES)
        except OSError as exc:
            self.unparsed[file.rel] = f"cannot read: {exc.strerror or exc}"
        else:
            if b"\x00" not in data[:8192]:
                text = data.decode("utf-8", errors="replace")
        self._text[file.rel] = text
        return text

    def yaml_documents(self, file: RepoFile) -> list[Any]:
        """Every YAML document of the file (safe loader); ``[]`` and a recorded reason
        when it does not parse."""
        text = self.text(file)
        if text is None:
            return []
        try:
            return list(yaml.load_all(text, Loader=_TagTolerantSafeLoader))
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            self.unparsed[file.rel] = f"invalid YAML: {_first_line(exc)}"
            return []

    def json(self, file: RepoFile) -> Any:
        """The decoded JSON of the file, or ``None`` (reason recorded) when invalid."""
        text = self.text(file)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.unparsed[file.rel] = f"invalid JSON: {_first_line(exc)}"
            return None

    def toml(self, file: RepoFile) -> dict[str, Any] | None:
        """The decoded TOML of the file, or ``None`` (reason recorded) when invalid."""
        text = self.text(file)
        if text is None:
            return None
        try:
            return tomllib.loads(text)
        except (ValueError, RecursionError) as exc:
            self.unparsed[file.rel] = f"invalid TOML: {_first_line(exc)}"
            return None

    def unparsed_note(self, rels: Iterable[str]) -> str:
        """`` (N file(s) could not be parsed: a.yml: invalid YAML ...)`` for the given
        files that failed, or ``""``."""
        failed = [f"{rel}: {self.unparsed[rel]}" for rel in rels if rel in self.unparsed]
        if not failed:
            return ""
        shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
        return f" ({len(failed)} file(s) could not be parsed and were not judged: {shown})"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


def line_of(text: str, offset: int) -> int:
    """The 1-based line of ``text[offset]``."""
    return text.count("\n", 0, offset) + 1


def hits_fact(name: str, hits: Sequence[Hit], *, none: str, some: str, note: str = "") -> Fact:
    """A fact whose value is the sorted, de-duplicated hit values.

    ``none`` is the detail when nothing was found; ``some`` starts the detail otherwise
    (``"2 unpinned actions"`` style text is built here: ``some`` gets the count and the
    first few items appended). ``note`` (a parse-failure note) ends either.
    """
    values = tuple(sorted({hit.value for hit in hits}))
    if not values:
        return Fact(name, (), none + note)
    shown = ", ".join(values[:3]) + (f" and {len(values) - 3} more" if len(values) > 3 else "")
    locations = tuple(dict.fromkeys(hit.location for hit in hits))[:MAX_LISTED]
    return Fact(name, values[:MAX_LISTED], f"{some} ({len(values)}): {shown}{note}", locations)
