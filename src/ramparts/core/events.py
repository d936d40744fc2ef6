"""Event sinks that need no storage: one that keeps events in memory, one that fans out."""

from __future__ import annotations

from collections.abc import Sequence

from ramparts.core.interface import Event, EventSink

__all__ = ["FanOutSink", "MemorySink"]


class MemorySink:
    """Keeps events in a list; for library users who inspect events themselves, and tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        """Append ``event`` to :attr:`events`."""
        self.events.append(event)


class FanOutSink:
    """Sends each event to every sink in order; the first failure propagates (fail closed)."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self._sinks = tuple(sinks)

    def emit(self, event: Event) -> None:
        """Emit to every sink; an ``AuditError`` from any of them stops and propagates."""
        for sink in self._sinks:
            sink.emit(event)
