"""Protocols every layer codes against: the clock and the audit event sink.

Layers emit audit events through :class:`EventSink` instead of importing ``audit``;
the composition root (``cli`` or a service factory) wires the real sink. A sink that
cannot make an event durable raises :class:`ramparts.errors.AuditError`, and the
caller fails closed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from ramparts.core.records import field, record
from ramparts.errors import InputError

__all__ = ["Clock", "DeployedVersion", "Event", "EventSink", "ModelVersions", "Outcome"]


@runtime_checkable
class Clock(Protocol):
    """Tells the time; injected so that tests and replays control it."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class Outcome(enum.Enum):
    """What happened to the action an event records."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@record
class Event:
    """One audit event: who did what to which resource, and how it ended."""

    actor: str
    action: str
    resource: str
    outcome: Outcome
    time: datetime
    reason: str = ""
    request_id: str = ""
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not (self.actor and self.action and self.resource):
            raise InputError("an audit event needs an actor, an action and a resource")
        if self.time.tzinfo is None:
            raise InputError("an audit event's time must be timezone-aware")
        if not isinstance(self.details, MappingProxyType):
            object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


class EventSink(Protocol):
    """Where layers send audit events.

    ``emit`` returns only once the event is durable, or raises
    :class:`ramparts.errors.AuditError`; it never drops an event silently.
    """

    def emit(self, event: Event) -> None:
        """Record ``event`` durably or raise ``AuditError``."""
        ...


@record
class DeployedVersion:
    """The version of a model that a stage serves, as the registry records it."""

    name: str
    version: str
    digest: str
    stage: str

    @property
    def ref(self) -> str:
        """``NAME@VERSION``."""
        return f"{self.name}@{self.version}"


@runtime_checkable
class ModelVersions(Protocol):
    """Which version of a model a stage serves: the registry, as the gateway asks it.

    Defined here so that the gateway (which may not import the registry) and the
    registry meet through the composition root.
    """

    def deployed(self, name: str, stage: str) -> DeployedVersion | None:
        """The version of ``name`` in ``stage``, or ``None`` when none is (or it is
        quarantined). Raises :class:`ramparts.errors.RampartsError` when the registry
        cannot be read."""
        ...
