"""Two gateway replicas on one real Redis share their limits exactly, even right after
the limits' keys vanish (a Redis restart), and refuse when Redis is unreachable."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from ramparts.cli.gateway_cmd import build_gateway
from ramparts.cli.identity_cmd import wiring
from ramparts.cli.state import AppState
from ramparts.gateway.config import GatewayConfig, Route
from ramparts.gateway.killswitch import RedisKillSwitch
from ramparts.gateway.mock import MockUpstream
from ramparts.gateway.ratelimit import RedisRateLimiter

pytestmark = pytest.mark.redis


def _flush(url: str, prefix: str) -> None:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


async def _burst(urls: list[str], key: str, count: int) -> list[int]:
    body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(timeout=30) as client:
        replies = await asyncio.gather(*[
            client.post(urls[i % len(urls)] + "/v1/chat/completions", json=body,
                        headers={"Authorization": f"Bearer {key}"})
            for i in range(count)
        ])  # fmt: skip
    return [r.status_code for r in replies]


def test_two_replicas_one_redis(
    tmp_path: Path, serve: Callable[[Any], str], redis_url: str, redis_prefix: str
) -> None:
    environ = {"RAMPARTS_STATE_DIR": str(tmp_path / "state"), "RAMPARTS_REDIS_URL": redis_url}
    state = AppState(environ=environ)
    upstream = serve(MockUpstream()) + "/v1"
    config = GatewayConfig(routes=(Route("default", upstream),), requests_per_minute=5,
                           requests_burst=5, token_endpoint=False)  # fmt: skip
    replicas = []
    for _ in range(2):
        gateway = build_gateway(state, config, [])
        # Each replica has its own connections; the keys are this test's own.
        gateway._limiter = RedisRateLimiter(redis_url, prefix=redis_prefix + "rl:")
        gateway._kill = RedisKillSwitch(redis_url, prefix=redis_prefix)
        replicas.append(serve(gateway))
    people = wiring(state)
    key = people.identities.create("app", ["model-consumer"]).api_key
    statuses = asyncio.run(_burst(replicas, key, 40))
    assert statuses.count(200) == 5
    assert statuses.count(429) == 35
    # A restart loses every key: the buckets start full again, but never more than full.
    _flush(redis_url, redis_prefix)
    statuses = asyncio.run(_burst(replicas, key, 40))
    assert statuses.count(200) <= 5
    assert set(statuses) <= {200, 429}

    # Redis unreachable: refused (503 limiter_unavailable), never served from local counts.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    gateway = build_gateway(state, config, [])
    gateway._limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0")
    gateway._kill = RedisKillSwitch(redis_url, prefix=redis_prefix)
    down = serve(gateway)
    statuses = asyncio.run(_burst([down], key, 3))
    assert statuses == [503, 503, 503]
    people.close()
