"""The values of AI asset discovery: an asset, the inventory of a tree, shadow AI.

:mod:`ramparts.scan.discover` fills an :class:`Inventory`; the detectors beside it
(``discover_code``, ``discover_config``, ``discover_iac``) build :class:`AiAsset`\\ s
through a :class:`Placer`, which turns an offset in the text they read into a
:class:`Location` (a line in the file, a cell in a notebook).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ramparts.core.records import field, record
from ramparts.core.types import ErrorRecord, Location, Skip
from ramparts.errors import InputError

__all__ = [
    "ASSET_KINDS",
    "EXTERNAL_KINDS",
    "AiAsset",
    "Inventory",
    "LinePlacer",
    "Placer",
    "ShadowFinding",
]

ASSET_KINDS = (
    "model",
    "dataset",
    "notebook",
    "sdk",
    "endpoint",
    "mcp-server",
    "agent-config",
    "iac",
)
"""Every kind of asset discovery reports."""

EXTERNAL_KINDS = frozenset({"sdk", "endpoint", "iac", "mcp-server"})
"""Kinds whose provider is judged against the approved providers (shadow AI)."""

Placer = Callable[[int], Location]
"""Turns an offset in the text a detector reads into where it lies in the file."""


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@record
class AiAsset:
    """One AI asset: a model file, a dataset, an SDK call, an endpoint, a resource...

    ``provider`` is a lower-case provider id (``openai``, ``aws-bedrock``...) or
    ``None`` for local files; ``properties`` never holds a secret or an environment
    value, only names, formats, hosts, images and digests.
    """

    kind: str
    name: str
    location: Location
    provider: str | None
    detail: str
    properties: Mapping[str, str] = field(default_factory=_frozen, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in ASSET_KINDS:
            raise InputError(f"unknown asset kind {self.kind!r}")
        if not self.name:
            raise InputError("an asset needs a name")
        if not isinstance(self.properties, MappingProxyType):
            object.__setattr__(self, "properties", _frozen(self.properties))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with stable keys."""
        location: dict[str, Any] = {"path": self.location.path, "line": self.location.line}
        if self.location.member:
            location["member"] = list(self.location.member)
        return {
            "kind": self.kind,
            "name": self.name,
            "provider": self.provider,
            "location": location,
            "detail": self.detail,
            "properties": dict(sorted(self.properties.items())),
        }


def _order(asset: AiAsset) -> tuple[str, tuple[str, ...], int, str, str, str]:
    loc = asset.location
    return (loc.path, loc.member, loc.line or 0, asset.kind, asset.name, asset.detail)


@record
class Inventory:
    """Every AI asset found under ``root``, sorted (path, line, kind, name)."""

    root: str
    assets: tuple[AiAsset, ...]
    skips: tuple[Skip, ...] = ()
    errors: tuple[ErrorRecord, ...] = ()
    files_seen: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", tuple(sorted(set(self.assets), key=_order)))

    def of_kind(self, kind: str) -> tuple[AiAsset, ...]:
        """The assets of one kind (see :data:`ASSET_KINDS`)."""
        if kind not in ASSET_KINDS:
            raise InputError(
                f"unknown asset kind {kind!r}; expected one of {', '.join(ASSET_KINDS)}"
            )
        return tuple(a for a in self.assets if a.kind == kind)

    def providers(self) -> frozenset[str]:
        """Every provider an asset names."""
        return frozenset(a.provider for a in self.assets if a.provider)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with stable keys."""
        return {
            "root": self.root,
            "files_seen": self.files_seen,
            "counts": {k: sum(1 for a in self.assets if a.kind == k) for k in ASSET_KINDS},
            "providers": sorted(self.providers()),
            "assets": [a.to_dict() for a in self.assets],
            "skips": [{"path": s.path, "reason": s.reason} for s in self.skips],
            "errors": [{"path": e.path, "message": e.message} for e in self.errors],
        }


@record
class ShadowFinding:
    """An asset in use that the organisation has not approved or registered, and why."""

    asset: AiAsset
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the asset and the reason."""
        return {"asset": self.asset.to_dict(), "reason": self.reason}


class LinePlacer:
    """A :data:`Placer` for a plain text file: offset -> 1-based line."""

    __slots__ = ("_path", "_starts", "_text")

    def __init__(self, path: str, text: str) -> None:
        self._path = path
        self._text = text
        self._starts: list[int] | None = None

    def line(self, offset: int) -> int:
        """The 1-based line holding ``text[offset]``."""
        if self._starts is None:
            starts = [0]
            find = self._text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return bisect.bisect_right(self._starts, offset)

    def __call__(self, offset: int) -> Location:
        return Location(self._path, line=self.line(offset))
