"""Pinned item tables of the public frameworks that posture maps its controls to.

Each file under ``posture/data/frameworks/`` holds one framework: ``id``, ``name``,
``version``, ``source`` (the public document its ids come from), an optional ``notes``
(how the table was checked) and ``items``, each with ``id``, ``title`` and an optional
``group``. A control mapping may only name an item id of these tables, so a typo or an id
that a framework retired is caught when the catalogue is checked, not in a report.

A pinned table says which items exist; it never says that anything complies with them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ramparts.posture.interface import Framework, FrameworkItem, PostureError

# libyaml's safe loader when present: the catalogue is read on every run.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["FRAMEWORK_IDS", "load_frameworks", "load_frameworks_from", "parse_framework"]

FRAMEWORK_IDS: tuple[str, ...] = (
    "nist-ai-rmf",
    "nist-ai-600-1",
    "iso-42001",
    "eu-ai-act",
    "owasp-llm-2025",
    "owasp-ml-2023",
    "mitre-atlas",
    "google-saif",
)
"""Every built-in framework table, in the order reports show them."""

_REQUIRED = ("id", "name", "version", "source", "items")
_OPTIONAL = ("notes",)
_ITEM_FIELDS = ("id", "title", "group")


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PostureError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _item(entry: Any, where: str) -> FrameworkItem:
    if not isinstance(entry, Mapping):
        raise PostureError(f"{where}: each item must be a mapping with id and title")
    unknown = set(entry) - set(_ITEM_FIELDS)
    if unknown:
        raise PostureError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    item_id = _text(entry, "id", where)
    where = f"{where} ({item_id})"
    group = entry.get("group", "")
    if not isinstance(group, str):
        raise PostureError(f"{where}: group must be a string")
    return FrameworkItem(id=item_id, title=_text(entry, "title", where), group=group.strip())


def parse_framework(text: str, source: str) -> Framework:
    """The framework table of one file's ``text`` (``source`` names it in errors).

    The table's ``id`` must equal the file name without ``.yaml``, and item ids must be
    unique within it.
    """
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise PostureError(f"{source}: invalid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise PostureError(f"{source}: expected a mapping with {', '.join(_REQUIRED)}")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise PostureError(f"{source}: missing field(s) {', '.join(missing)}")
    unknown = set(data) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise PostureError(f"{source}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    framework_id = _text(data, "id", source)
    stem = source.rsplit("/", 1)[-1].removesuffix(".yaml")
    if framework_id != stem:
        raise PostureError(f"{source}: id {framework_id!r} must match the file name {stem!r}")
    if data.get("notes") is not None:
        _text(data, "notes", source)
    entries = data["items"]
    if not isinstance(entries, list) or not entries:
        raise PostureError(f"{source}: items must be a non-empty list")
    items = tuple(_item(entry, f"{source}: item {n}") for n, entry in enumerate(entries, 1))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise PostureError(f"{source}: item id {item.id} is listed twice")
        seen.add(item.id)
    return Framework(
        id=framework_id,
        name=_text(data, "name", source),
        version=_text(data, "version", source),
        source=_text(data, "source", source),
        items=items,
    )


def _ordered(tables: Iterable[Framework]) -> Mapping[str, Framework]:
    by_id: dict[str, Framework] = {}
    for table in tables:
        if table.id in by_id:
            raise PostureError(f"framework {table.id} is defined twice")
        by_id[table.id] = table
    rank = {fid: n for n, fid in enumerate(FRAMEWORK_IDS)}
    order = sorted(by_id, key=lambda fid: (rank.get(fid, len(rank)), fid))
    return MappingProxyType({fid: by_id[fid] for fid in order})


def load_frameworks_from(folder: Path) -> Mapping[str, Framework]:
    """Every framework table of the ``*.yaml`` files in ``folder``, by id.

    Built-in ids come first in :data:`FRAMEWORK_IDS` order, any others after them by id.
    """
    try:
        files = sorted(folder.glob("*.yaml"))
        texts = [(path.name, path.read_text(encoding="utf-8")) for path in files]
    except (OSError, UnicodeDecodeError) as exc:
        raise PostureError(f"{folder}: cannot read the framework tables: {exc}") from exc
    if not texts:
        raise PostureError(f"{folder}: no *.yaml framework tables")
    return _ordered(parse_framework(text, name) for name, text in texts)


@functools.cache
def load_frameworks() -> Mapping[str, Framework]:
    """The framework tables shipped with ramparts, by id in :data:`FRAMEWORK_IDS` order.

    Raises :class:`PostureError` when a table is defective, missing or unexpected.
    """
    folder = resources.files("ramparts.posture") / "data" / "frameworks"
    try:
        texts = sorted(
            (entry.name, entry.read_text(encoding="utf-8"))
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise PostureError(f"cannot read the built-in framework tables: {exc}") from exc
    tables = _ordered(parse_framework(text, name) for name, text in texts)
    if tuple(tables) != FRAMEWORK_IDS:
        missing = sorted(set(FRAMEWORK_IDS) - set(tables))
        extra = sorted(set(tables) - set(FRAMEWORK_IDS))
        raise PostureError(
            f"built-in framework tables do not match FRAMEWORK_IDS "
            f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'})"
        )
    return tables
