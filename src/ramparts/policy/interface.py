"""Value types and errors of the policy decision engine.

Errors::

    RampartsError
    └── PolicyError   a policy file or a request cannot be used (never a silent allow)
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ramparts.core.records import field, record
from ramparts.core.types import Principal
from ramparts.errors import RampartsError

__all__ = [
    "CLASSIFICATIONS",
    "RESOURCE_TYPES",
    "Context",
    "Decision",
    "Effect",
    "PolicyError",
    "Request",
    "Resource",
]

RESOURCE_TYPES = (
    "model",
    "dataset",
    "endpoint",
    "stage",
    "audit",
    "policy",
    "key",
    "identity",
    "sandbox",
)
"""What permissions are granted on."""

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
"""Resource classifications, least sensitive first."""


class PolicyError(RampartsError):
    """A policy file or a request is invalid."""


class Effect(enum.Enum):
    """What a matching rule does."""

    ALLOW = "allow"
    DENY = "deny"


@record
class Resource:
    """What is acted on: a type, an id, and the attributes conditions read."""

    type: str
    id: str = "*"
    classification: str | None = None
    environment: str | None = None
    owner: str | None = None

    def __post_init__(self) -> None:
        if self.type not in RESOURCE_TYPES:
            raise PolicyError(
                f"unknown resource type {self.type!r} (one of {', '.join(RESOURCE_TYPES)})"
            )
        if self.classification is not None and self.classification not in CLASSIFICATIONS:
            raise PolicyError(f"unknown classification {self.classification!r}")

    @classmethod
    def parse(cls, text: str, **attributes: Any) -> Resource:
        """``TYPE`` or ``TYPE:ID`` (``model:fraud@7``)."""
        kind, _, ident = text.partition(":")
        return cls(kind, ident or "*", **attributes)


@record
class Context:
    """The circumstances of a request: when, from where, with MFA or not."""

    time: datetime
    source_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    mfa: bool = False
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise PolicyError("a request's time must be timezone-aware")


@record
class Request:
    """A principal asking to perform an action on a resource."""

    principal: Principal
    action: str
    resource: Resource
    context: Context


@record
class Decision:
    """The answer and why: the rule that decided, and every rule that was considered."""

    allowed: bool
    reason: str
    rule: str | None = None
    trace: tuple[str, ...] = ()
