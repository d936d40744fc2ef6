"""Value types and errors of the ``registry`` layer.

Errors::

    RampartsError
    └── RegistryError   a bill of materials or registry record cannot be built
"""

from __future__ import annotations

from dataclasses import dataclass

from ramparts.errors import RampartsError

__all__ = ["PythonPackage", "RegistryError"]


class RegistryError(RampartsError):
    """A bill of materials or a registry record cannot be built from what was given."""


@dataclass(frozen=True, slots=True)
class PythonPackage:
    """A Python distribution the project depends on: pinned or not, archive hashes if known."""

    name: str
    version: str | None
    hashes: tuple[tuple[str, str], ...] = ()
    source: str = ""
