"""Clocks: the system clock, and a frozen one for tests and replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ramparts.errors import InputError

__all__ = ["FrozenClock", "SystemClock"]


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise InputError("a frozen clock needs a timezone-aware start time")
        self._now = start

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._now += delta
