from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest
import redis as redis_lib

from ramparts.errors import InputError
from ramparts.gateway.interface import GatewayError, LimiterUnavailableError
from ramparts.gateway.ratelimit import (
    Limit,
    LimitDecision,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)

FIVE_A_MINUTE = Limit(per_minute=5, burst=5)
CLOSED_PORT = "redis://:hunter2@127.0.0.1:1/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def flush_prefix(url: str, prefix: str) -> int:
    """Forget every bucket under ``prefix`` (a Redis restart, for this test's keys only)."""
    with redis_lib.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        return client.delete(*keys) if keys else 0


# Values and validation


@pytest.mark.parametrize(
    ("per_minute", "burst"), [(0, 1), (-1, 1), (math.inf, 1), (math.nan, 1), (1, 0), (1, 1.5)]
)
def test_limits_validate_themselves(per_minute: float, burst: Any) -> None:
    with pytest.raises(InputError, match="rate limit"):
        Limit(per_minute, burst)


def test_retry_after_header_rounds_up_and_is_at_least_one_second() -> None:
    assert LimitDecision(False, 0, 0.2).retry_after_header == 1
    assert LimitDecision(False, 0, 11.01).retry_after_header == 12
    assert LimitDecision(True, 3, 0).retry_after_header == 0
    with pytest.raises(InputError):
        LimitDecision(False, 0, -1)


@pytest.mark.parametrize("cost", [-1.0, 6.0, math.inf, math.nan])
def test_a_cost_that_can_never_be_granted_is_refused_before_anything_is_taken(cost: float) -> None:
    limiter = MemoryRateLimiter(FakeClock())
    with pytest.raises(InputError, match="cost"):
        run(limiter.take("k", FIVE_A_MINUTE, cost))
    assert run(limiter.take("k", FIVE_A_MINUTE, 5)).allowed


# In memory


def test_memory_bucket_grants_the_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    limiter: RateLimiter = MemoryRateLimiter(clock)
    for left in (4, 3, 2, 1, 0):
        decision = run(limiter.take("id:alice:req", FIVE_A_MINUTE))
        assert decision == LimitDecision(True, left, 0.0)
    refused = run(limiter.take("id:alice:req", FIVE_A_MINUTE))
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(12.0)  # one token every 60/5 s
    assert refused.retry_after_header == 12
    clock.now += 6
    assert run(limiter.take("id:alice:req", FIVE_A_MINUTE)).retry_after == pytest.approx(6.0)
    clock.now += 6
    assert run(limiter.take("id:alice:req", FIVE_A_MINUTE)).allowed
    # Another key has its own bucket.
    assert run(limiter.take("id:bob:req", FIVE_A_MINUTE)).remaining == 4


def test_memory_take_is_all_or_nothing() -> None:
    limiter = MemoryRateLimiter(FakeClock())
    assert run(limiter.take("k", FIVE_A_MINUTE, 3)).remaining == 2
    refused = run(limiter.take("k", FIVE_A_MINUTE, 3))
    assert (refused.allowed, refused.remaining) == (False, 2)
    assert refused.retry_after == pytest.approx(12.0)
    assert run(limiter.take("k", FIVE_A_MINUTE, 2)) == LimitDecision(True, 0.0, 0.0)


def test_memory_exact_refill_boundaries_are_not_lost_to_rounding() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    limit = Limit(per_minute=7, burst=1)
    for _ in range(50):
        assert run(limiter.take("k", limit)).allowed
        assert not run(limiter.take("k", limit)).allowed
        clock.now += 60 / 7


def test_memory_adjust_takes_into_debt_and_refunds_up_to_the_burst() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    tokens = Limit(per_minute=600, burst=100)  # 10 tokens a second
    assert run(limiter.take("id:a:tok", tokens, 50)).remaining == 50
    # The completion used 130 more tokens than estimated: 80 in debt.
    run(limiter.adjust("id:a:tok", tokens, 130))
    refused = run(limiter.take("id:a:tok", tokens, 1))
    assert (refused.allowed, refused.remaining) == (False, 0.0)
    assert refused.retry_after == pytest.approx(8.1)
    clock.now += 8.1
    assert run(limiter.take("id:a:tok", tokens, 1)).allowed
    # A refund larger than what was taken stops at the burst.
    run(limiter.adjust("id:a:tok", tokens, -1000))
    assert run(limiter.take("id:a:tok", tokens, 0)).remaining == 100
    with pytest.raises(InputError):
        run(limiter.adjust("id:a:tok", tokens, math.nan))


def test_memory_limiter_is_exact_under_asyncio_concurrency() -> None:
    limiter = MemoryRateLimiter()

    async def burst() -> list[LimitDecision]:
        return await asyncio.gather(*(limiter.take("k", FIVE_A_MINUTE) for _ in range(40)))

    decisions = run(burst())
    assert sum(d.allowed for d in decisions) == 5


def test_memory_drops_buckets_that_refilled_without_losing_anything() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock)
    limit = Limit(per_minute=60, burst=2)  # full again 2 s after taking 2
    for key in ("a", "b", "c"):
        run(limiter.take(key, limit, 2))
    assert len(limiter) == 3
    clock.now += 5
    run(limiter.take("d", limit))
    assert len(limiter) < 4
    # A dropped bucket was full: its key gets exactly what it would have had.
    for key in ("a", "b", "c"):
        assert run(limiter.take(key, limit, 2)).allowed
        assert not run(limiter.take(key, limit)).allowed


def test_memory_at_the_key_cap_the_least_recently_used_bucket_starts_over() -> None:
    limiter = MemoryRateLimiter(FakeClock(), max_keys=2)
    for key in ("x", "y", "z"):
        assert run(limiter.take(key, FIVE_A_MINUTE, 5)).allowed
    assert len(limiter) == 2
    # "x" was evicted while empty and comes back full; "z", kept, is still empty.
    assert run(limiter.take("x", FIVE_A_MINUTE, 5)).allowed
    assert not run(limiter.take("z", FIVE_A_MINUTE)).allowed
    with pytest.raises(InputError):
        MemoryRateLimiter(max_keys=0)


def test_memory_stays_bounded_under_many_keys() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(clock, max_keys=100)
    for i in range(10_000):
        limiter.take_now(f"id:{i}:req", FIVE_A_MINUTE)
        clock.now += 0.001
    assert len(limiter) == 100


# Redis: no server needed for an outage


def test_unreachable_redis_refuses_instead_of_allowing() -> None:
    async def attempt() -> None:
        async with RedisRateLimiter(CLOSED_PORT, timeout=0.5) as limiter:
            with pytest.raises(LimiterUnavailableError) as info:
                await limiter.take("id:a:req", FIVE_A_MINUTE)
            assert "hunter2" not in str(info.value)
            assert "127.0.0.1:1" in str(info.value)
            with pytest.raises(LimiterUnavailableError):
                await limiter.adjust("id:a:req", FIVE_A_MINUTE, 1)

    run(attempt())


def test_an_invalid_redis_url_is_a_gateway_error_without_the_password() -> None:
    with pytest.raises(GatewayError, match="invalid Redis URL") as info:
        RedisRateLimiter("http://:hunter2@nowhere/0")
    assert "hunter2" not in str(info.value)


# Redis: a real server


@pytest.mark.redis
def test_two_replicas_on_one_redis_grant_exactly_the_limit_even_after_a_restart(
    redis_url: str, redis_prefix: str
) -> None:
    """The issue's must-show: 5/min, 40 concurrent requests over two replicas."""

    async def round_of_40(replicas: list[RedisRateLimiter]) -> int:
        takes = [replicas[i % 2].take("id:alice:req", FIVE_A_MINUTE) for i in range(40)]
        decisions = await asyncio.gather(*takes)
        refused = [d for d in decisions if not d.allowed]
        assert all(0 < d.retry_after <= 12 for d in refused)
        return sum(d.allowed for d in decisions)

    async def scenario() -> tuple[int, int, int]:
        # Two replicas: two limiters, each with its own connection pool.
        async with (
            RedisRateLimiter(redis_url, prefix=redis_prefix) as one,
            RedisRateLimiter(redis_url, prefix=redis_prefix) as two,
        ):
            assert one._redis.client.connection_pool is not two._redis.client.connection_pool
            first = await round_of_40([one, two])
            again = await round_of_40([one, two])
            # A restart without persistence forgets the buckets (here: this test's keys).
            assert flush_prefix(redis_url, redis_prefix) >= 1
            after_restart = await round_of_40([one, two])
        return first, again, after_restart

    first, again, after_restart = run(scenario())
    assert first == 5
    assert again == 0
    assert after_restart <= 5


@pytest.mark.redis
def test_redis_outage_refuses_and_recovery_keeps_the_spent_buckets(
    redis_url: str, redis_prefix: str, tcp_proxy: Callable[[], Any]
) -> None:
    async def scenario() -> None:
        proxy = tcp_proxy()
        await proxy.start()
        async with RedisRateLimiter(proxy.url(), prefix=redis_prefix, timeout=0.5) as limiter:
            assert sum([(await limiter.take("k", FIVE_A_MINUTE)).allowed for _ in range(4)]) == 4
            await proxy.stop()
            for _ in range(3):
                with pytest.raises(LimiterUnavailableError):
                    await limiter.take("k", FIVE_A_MINUTE)
            await proxy.start()
            # Back: the bucket is where it was, not a fresh local one.
            assert (await limiter.take("k", FIVE_A_MINUTE)).allowed
            assert not (await limiter.take("k", FIVE_A_MINUTE)).allowed
            await proxy.stop()

    run(scenario())


@pytest.mark.redis
def test_redis_buckets_behave_like_memory_ones(redis_url: str, redis_prefix: str) -> None:
    tokens = Limit(per_minute=600, burst=100)

    async def scenario() -> None:
        async with RedisRateLimiter(redis_url, prefix=redis_prefix) as limiter:
            first = await limiter.take("id:a:tok", tokens, 50)
            assert first.allowed
            assert 50 <= first.remaining < 51
            refused = await limiter.take("id:a:tok", tokens, 60)
            assert not refused.allowed
            assert 0.8 < refused.retry_after <= 1.0
            await limiter.adjust("id:a:tok", tokens, 130)  # 80 in debt
            refused = await limiter.take("id:a:tok", tokens, 1)
            assert (refused.allowed, refused.remaining) == (False, 0.0)
            assert 7 < refused.retry_after <= 8.1
            await limiter.adjust("id:a:tok", tokens, -1000)
            full = await limiter.take("id:a:tok", tokens, 0)
            assert full.remaining == 100
            assert (await limiter.take("id:a:tok", tokens, 100)).allowed
            assert not (await limiter.take("id:a:tok", tokens, 1)).allowed

    run(scenario())
    with redis_lib.Redis.from_url(redis_url) as raw:
        key = redis_prefix + "id:a:tok"
        assert raw.hgetall(key).keys() == {b"tk", b"ts"}
        # The key lives until its bucket is full again (10 s here), plus a second.
        assert 9_000 < raw.pttl(key) <= 11_000
        # A bucket refunded to full is the same as no bucket: no key left behind.
        asyncio.run(_refund(redis_url, redis_prefix, key="id:a:tok", limit=tokens))
        assert not raw.exists(key)


async def _refund(url: str, prefix: str, *, key: str, limit: Limit) -> None:
    async with RedisRateLimiter(url, prefix=prefix) as limiter:
        await limiter.adjust(key, limit, -limit.burst)


@pytest.mark.redis
def test_redis_scripts_survive_a_script_flush(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> None:
        async with RedisRateLimiter(redis_url, prefix=redis_prefix) as limiter:
            # Whole tokens: the server's clock refills a little between calls.
            assert math.floor((await limiter.take("k", FIVE_A_MINUTE)).remaining) == 4
            with redis_lib.Redis.from_url(redis_url) as raw:
                raw.script_flush()
            assert math.floor((await limiter.take("k", FIVE_A_MINUTE)).remaining) == 3
            await limiter.adjust("k", FIVE_A_MINUTE, 1)
            assert math.floor((await limiter.take("k", FIVE_A_MINUTE)).remaining) == 1

    run(scenario())


@pytest.mark.redis
def test_a_caller_owned_client_is_used_and_left_open(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio  # noqa: PLC0415

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        async with RedisRateLimiter(client, prefix=redis_prefix) as limiter:
            assert (await limiter.take("k", FIVE_A_MINUTE)).allowed
        assert await client.ping()
        await client.aclose()

    run(scenario())
