"""Circuit breakers: stop sending requests to an upstream that keeps failing.

One breaker per upstream, in three states:

- **closed** (normal): requests pass. ``failures`` consecutive failures (default 5)
  open it; any success resets the count. Consecutive failures, not a failure ratio over
  a window: it needs no window to tune, reacts as fast at low traffic as at high, and
  an upstream that answers some requests is still worth sending to.
- **open**: every request is refused at once with :class:`CircuitOpenError` (the
  gateway answers 503 ``upstream_unavailable`` with ``Retry-After``) for
  ``reset_after`` seconds (default 30).
- **half-open**: then one request, the probe, passes; the others are still refused.
  The probe's success closes the breaker, its failure opens it again for
  ``reset_after``. A probe whose outcome is never reported (its task was cancelled, the
  caller forgot) stops blocking after ``probe_timeout`` seconds, when another probe
  may pass.

::

    with breakers.get(upstream).acquire() as permit:   # raises CircuitOpenError
        response = await send(request)                 # an exception counts as a failure
        if response.status_code >= 500:
            permit.failure()

Wrap only the upstream call: an exception inside the ``with`` block is the upstream's
failure; a cancellation (``asyncio.CancelledError``, a client that went away) counts
as neither. A permit's first report wins; reports about an earlier state (a request
admitted before the breaker opened) are ignored.

Every method runs without awaiting, so under asyncio no two interleave; breakers are
not meant to be shared between threads. ``clock`` (monotonic seconds) is injectable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Self

from ramparts.errors import InputError
from ramparts.gateway.interface import GatewayError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["BreakerState", "CircuitBreaker", "CircuitBreakers", "CircuitOpenError", "Permit"]


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(GatewayError):
    """The upstream's breaker is open: the request was not sent (503 ``upstream_unavailable``)."""

    code = "upstream_unavailable"

    def __init__(self, upstream: str, retry_after: float) -> None:
        """``upstream`` refuses requests for about ``retry_after`` more seconds."""
        self.upstream = upstream
        self.retry_after = max(retry_after, 0.0)
        super().__init__(
            f"upstream {upstream} is unavailable after repeated failures; "
            f"retry in {self.retry_after_header} s"
        )

    @property
    def retry_after_header(self) -> int:
        """Whole seconds for HTTP ``Retry-After`` (rounded up, at least 1)."""
        return max(1, math.ceil(self.retry_after))


class Permit:
    """Leave to send one request; report how it went (once) or use it as a context manager."""

    __slots__ = ("_breaker", "_done", "_generation", "probe")

    def __init__(self, breaker: CircuitBreaker, generation: int, *, probe: bool) -> None:
        """Made by :meth:`CircuitBreaker.acquire`."""
        self._breaker = breaker
        self._generation = generation
        self._done = False
        self.probe = probe
        """Whether this request is the half-open breaker's probe."""

    def success(self) -> None:
        """The upstream answered: reset the failure count, or close a half-open breaker."""
        if not self._done:
            self._done = True
            self._breaker._succeeded(self._generation)

    def failure(self) -> None:
        """The upstream failed: count it, or reopen a half-open breaker."""
        if not self._done:
            self._done = True
            self._breaker._failed(self._generation)

    def release(self) -> None:
        """Nothing is known about the upstream (the request was abandoned): count nothing."""
        if not self._done:
            self._done = True
            self._breaker._released(self._generation)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.success()
        elif isinstance(exc, Exception):
            self.failure()
        else:
            # CancelledError, KeyboardInterrupt...: not the upstream's doing.
            self.release()


class CircuitBreaker:
    """The breaker of one upstream (see the module docstring)."""

    def __init__(
        self,
        upstream: str,
        *,
        failures: int = 5,
        reset_after: float = 30.0,
        probe_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Open after ``failures`` in a row, for ``reset_after`` s; probes get ``probe_timeout`` s.

        ``probe_timeout`` defaults to ``reset_after``.
        """
        if isinstance(failures, bool) or failures <= 0:
            raise InputError(f"a circuit breaker needs failures > 0, got {failures!r}")
        probe_timeout = reset_after if probe_timeout is None else probe_timeout
        for name, seconds in (("reset_after", reset_after), ("probe_timeout", probe_timeout)):
            if not (math.isfinite(seconds) and seconds > 0):
                raise InputError(f"a circuit breaker needs {name} > 0 seconds, got {seconds!r}")
        self.upstream = upstream
        self._threshold = failures
        self._reset_after = reset_after
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._state = BreakerState.CLOSED
        # Bumped on every change of state and every probe: a permit reports only about
        # the state it was given in.
        self._generation = 0
        self._failures = 0
        self._opened_at = 0.0
        self._probe_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads half-open)."""
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self._reset_after
        ):
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures in a row while closed."""
        return self._failures

    def acquire(self) -> Permit:
        """Leave to send one request, or :class:`CircuitOpenError` if the upstream is shut off."""
        if self._state is BreakerState.CLOSED:
            return Permit(self, self._generation, probe=False)
        now = self._clock()
        if self._state is BreakerState.OPEN:
            left = self._opened_at + self._reset_after - now
            if left > 0:
                raise CircuitOpenError(self.upstream, left)
            self._state = BreakerState.HALF_OPEN
            self._probe_at = None
        if self._probe_at is not None and now - self._probe_at < self._probe_timeout:
            raise CircuitOpenError(self.upstream, self._probe_at + self._probe_timeout - now)
        self._generation += 1
        self._probe_at = now
        return Permit(self, self._generation, probe=True)

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._generation += 1
        self._failures = 0
        self._probe_at = None

    def _succeeded(self, generation: int) -> None:
        if generation != self._generation:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._state = BreakerState.CLOSED
            self._generation += 1
            self._probe_at = None
        self._failures = 0

    def _failed(self, generation: int) -> None:
        if generation != self._generation:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self._threshold:
            self._open()

    def _released(self, generation: int) -> None:
        if generation == self._generation and self._state is BreakerState.HALF_OPEN:
            # The probe told nothing: let the next request probe at once.
            self._probe_at = None


class CircuitBreakers:
    """One :class:`CircuitBreaker` per upstream, made on first use with shared settings."""

    def __init__(
        self,
        *,
        failures: int = 5,
        reset_after: float = 30.0,
        probe_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Settings of every breaker (see :class:`CircuitBreaker`); validated here."""
        # Building one validates the settings now rather than at the first request.
        CircuitBreaker("-", failures=failures, reset_after=reset_after, probe_timeout=probe_timeout)
        self._failures = failures
        self._reset_after = reset_after
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, upstream: str) -> CircuitBreaker:
        """The breaker of ``upstream`` (a name or base URL, as the gateway configures it)."""
        breaker = self._breakers.get(upstream)
        if breaker is None:
            breaker = self._breakers[upstream] = CircuitBreaker(
                upstream,
                failures=self._failures,
                reset_after=self._reset_after,
                probe_timeout=self._probe_timeout,
                clock=self._clock,
            )
        return breaker

    def states(self) -> dict[str, BreakerState]:
        """Each known upstream's state."""
        return {name: b.state for name, b in sorted(self._breakers.items())}
