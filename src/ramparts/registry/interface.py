"""Value types and errors of the ``registry`` layer.

Errors::

    RampartsError
    └── RegistryError        a registry record or bill of materials cannot be built or used
        ├── AuthError        the request's credentials do not authenticate
        ├── NotFoundError    no such asset or version, or the caller may not know it exists
        ├── ConflictError    it exists already, or its state forbids the change
        └── RefusedError     policy, separation of duties or a second factor refused it
            └── GateError    a promotion gate failed (each failed gate is named)

Every error has an HTTP status (:attr:`RegistryError.status`) so that the service and
its client agree on what a refusal looks like.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from ramparts.core.records import field, record
from ramparts.core.types import Principal
from ramparts.errors import RampartsError
from ramparts.policy.interface import CLASSIFICATIONS

__all__ = [
    "CLASSIFICATIONS",
    "KINDS",
    "STAGES",
    "STATES",
    "Asset",
    "AuthError",
    "Caller",
    "ConflictError",
    "GateError",
    "GateResult",
    "NotFoundError",
    "PythonPackage",
    "RefusedError",
    "RegistryError",
    "Version",
    "check_name",
    "parse_ref",
]

KINDS = ("model", "dataset", "endpoint")
"""What the registry holds; endpoints are deployments that serve a model version."""
STAGES = ("dev", "staging", "prod")
"""Lifecycle stages, in promotion order."""
STATES = ("registered", "approved", "rejected", "quarantined", "deleted")
"""What can happen to a version."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class RegistryError(RampartsError):
    """A registry record or a bill of materials cannot be built or used."""

    status: ClassVar[int] = 400


class AuthError(RegistryError):
    """The request's credentials do not authenticate."""

    status: ClassVar[int] = 401


class NotFoundError(RegistryError):
    """No such asset or version, or one the caller's roles and teams do not cover."""

    status: ClassVar[int] = 404


class ConflictError(RegistryError):
    """The record exists already, or its state does not allow the change."""

    status: ClassVar[int] = 409


class RefusedError(RegistryError):
    """Policy, separation of duties or a missing second factor refused the action."""

    status: ClassVar[int] = 403


@record
class GateResult:
    """One promotion gate's verdict and why."""

    gate: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {"gate": self.gate, "passed": self.passed, "detail": self.detail}


class GateError(RefusedError):
    """A promotion was refused because gates failed."""

    status: ClassVar[int] = 409

    def __init__(self, message: str, gates: tuple[GateResult, ...] = ()) -> None:
        super().__init__(message)
        self.gates = gates


def parse_ref(text: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME@VERSION`` as (name, version or None)."""
    name, at, version = text.partition("@")
    if not _NAME.fullmatch(name) or (at and not _NAME.fullmatch(version)):
        raise RegistryError(
            f"invalid reference {text!r}: NAME or NAME@VERSION (letters, digits, '.', '_', '-')"
        )
    return name, version if at else None


def check_name(text: str, what: str) -> str:
    """``text`` if it is a valid asset name or version label."""
    if not _NAME.fullmatch(text):
        raise RegistryError(f"invalid {what} {text!r} (letters, digits, '.', '_', '-'; 1-128)")
    return text


@record
class Caller:
    """Who asks, and how they proved it: the principal and its request context.

    ``mfa`` says a second factor backs this request (a token issued after a TOTP
    check, or a TOTP code checked with the request); ``fresh_totp`` says a TOTP code
    was checked with this very request, which deletion demands.
    """

    principal: Principal
    mfa: bool = False
    fresh_totp: bool = False
    source_ip: str | None = None
    request_id: str = ""


@record
class Asset:
    """A model, dataset or endpoint."""

    id: str
    kind: str
    name: str
    team: str | None
    created_by: str
    purpose: str
    classification: str
    tags: Mapping[str, str]
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The asset as JSON-ready data."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "team": self.team,
            "created_by": self.created_by,
            "purpose": self.purpose,
            "classification": self.classification,
            "tags": dict(self.tags),
            "created_at": self.created_at.isoformat(),
        }


@record
class Version:
    """One version of an asset and what is known about it."""

    id: str
    asset: Asset
    version: str
    digest: str
    size: int
    author: str
    created_at: datetime
    state: str
    stages: tuple[str, ...] = ()
    signed: bool = False
    provenance: bool = False
    bom: bool = False
    scan: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    approved_by: str | None = None
    approved_at: datetime | None = None
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Display names of the principals above, by id (ids stay the reference)."""

    @property
    def ref(self) -> str:
        """``NAME@VERSION``."""
        return f"{self.asset.name}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        """The version as JSON-ready data."""
        return {
            "id": self.id,
            "ref": self.ref,
            "asset": self.asset.to_json(),
            "version": self.version,
            "digest": f"sha256:{self.digest}",
            "size": self.size,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "state": self.state,
            "stages": list(self.stages),
            "signed": self.signed,
            "provenance": self.provenance,
            "bom": self.bom,
            "scan": dict(self.scan) if self.scan is not None else None,
            "metrics": dict(self.metrics),
            "approved_by": self.approved_by,
            "author_name": self.names.get(self.author, self.author),
            "approved_by_name": (
                self.names.get(self.approved_by, self.approved_by) if self.approved_by else None
            ),
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
        }


@record
class PythonPackage:
    """A Python distribution the project depends on: pinned or not, archive hashes if known."""

    name: str
    version: str | None
    hashes: tuple[tuple[str, str], ...] = ()
    source: str = ""
