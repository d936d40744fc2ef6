from __future__ import annotations

import asyncio

import pytest

from ramparts.errors import InputError
from ramparts.gateway.breaker import (
    BreakerState,
    CircuitBreaker,
    CircuitBreakers,
    CircuitOpenError,
)
from ramparts.gateway.interface import CODES, GatewayError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class UpstreamDownError(Exception):
    """What a failing upstream call raises in these tests."""


def state(breaker: CircuitBreaker) -> BreakerState:
    # A call, so that type checkers do not narrow the property between assertions.
    return breaker.state


def fail(breaker: CircuitBreaker) -> None:
    with pytest.raises(UpstreamDownError), breaker.acquire():
        raise UpstreamDownError


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.acquire():
        pass


def test_opens_after_consecutive_failures_and_refuses_at_once() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=3, reset_after=30, clock=clock)
    fail(breaker)
    fail(breaker)
    succeed(breaker)  # a success in between resets the count
    assert breaker.consecutive_failures == 0
    for _ in range(3):
        assert state(breaker) is BreakerState.CLOSED
        fail(breaker)
    assert state(breaker) is BreakerState.OPEN
    clock.now += 10
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    error = info.value
    assert isinstance(error, GatewayError)
    assert error.code == "upstream_unavailable"
    assert error.code in CODES
    assert error.upstream == "llm-a"
    assert error.retry_after == pytest.approx(20)
    assert error.retry_after_header == 20
    assert "llm-a" in str(error)


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=1, reset_after=30, clock=clock)
    fail(breaker)
    clock.now += 30
    assert state(breaker) is BreakerState.HALF_OPEN
    probe = breaker.acquire()
    assert probe.probe
    # While the probe is out, everyone else is still refused.
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    probe.success()
    assert state(breaker) is BreakerState.CLOSED
    permit = breaker.acquire()
    assert not permit.probe


def test_a_failed_probe_reopens_for_the_full_period() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=2, reset_after=30, clock=clock)
    fail(breaker)
    fail(breaker)
    clock.now += 31
    fail(breaker)  # the probe
    assert state(breaker) is BreakerState.OPEN
    clock.now += 29
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    clock.now += 1
    succeed(breaker)
    assert state(breaker) is BreakerState.CLOSED


def test_late_reports_from_before_the_breaker_opened_are_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=2, reset_after=30, clock=clock)
    early = [breaker.acquire() for _ in range(4)]
    early[0].failure()
    early[1].failure()
    assert state(breaker) is BreakerState.OPEN
    # Requests sent before it opened: their outcome says nothing about now.
    early[2].success()
    assert state(breaker) is BreakerState.OPEN
    clock.now += 30
    probe = breaker.acquire()
    early[3].failure()
    assert state(breaker) is BreakerState.HALF_OPEN
    probe.success()
    assert state(breaker) is BreakerState.CLOSED


def test_a_permit_reports_once() -> None:
    breaker = CircuitBreaker("llm-a", failures=2, clock=FakeClock())
    permit = breaker.acquire()
    permit.failure()
    permit.failure()
    assert state(breaker) is BreakerState.CLOSED
    # The block reported a failure itself; leaving it normally does not add a success.
    with breaker.acquire() as permit:
        permit.failure()
    assert state(breaker) is BreakerState.OPEN


def test_a_cancelled_probe_counts_as_nothing_and_frees_the_next_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=1, reset_after=5, clock=clock)
    fail(breaker)
    clock.now += 5

    async def probe_then_cancel() -> None:
        async def call() -> None:
            with breaker.acquire():
                await asyncio.sleep(3600)

        task = asyncio.ensure_future(call())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(probe_then_cancel())
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.acquire().probe


def test_a_probe_that_never_reports_stops_blocking_after_the_probe_timeout() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=1, reset_after=30, probe_timeout=10, clock=clock)
    fail(breaker)
    clock.now += 30
    forgotten = breaker.acquire()
    clock.now += 9
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert info.value.retry_after == pytest.approx(1)
    clock.now += 1
    second = breaker.acquire()
    assert second.probe
    # Only the latest probe counts.
    forgotten.failure()
    assert state(breaker) is BreakerState.HALF_OPEN
    second.success()
    assert state(breaker) is BreakerState.CLOSED


def test_concurrent_failures_open_once_and_the_open_period_is_not_extended() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("llm-a", failures=5, reset_after=30, clock=clock)

    async def call() -> None:
        with breaker.acquire():
            await asyncio.sleep(0)
            clock.now += 1
            raise UpstreamDownError

    async def many() -> list[BaseException | None]:
        return await asyncio.gather(*(call() for _ in range(20)), return_exceptions=True)

    outcomes = asyncio.run(many())
    assert all(isinstance(o, UpstreamDownError) for o in outcomes)
    assert state(breaker) is BreakerState.OPEN
    # Opened by the fifth failure (t=1005); the fifteen after it do not push that back.
    assert clock.now == 1020
    clock.now += 14.5
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    clock.now += 0.5
    assert breaker.acquire().probe


def test_one_breaker_per_upstream() -> None:
    clock = FakeClock()
    breakers = CircuitBreakers(failures=1, reset_after=10, clock=clock)
    fail(breakers.get("a"))
    assert breakers.get("a") is breakers.get("a")
    succeed(breakers.get("b"))
    assert breakers.states() == {"a": BreakerState.OPEN, "b": BreakerState.CLOSED}
    with pytest.raises(InputError):
        CircuitBreakers(failures=0)
    with pytest.raises(InputError):
        CircuitBreaker("x", reset_after=0)
