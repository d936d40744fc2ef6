from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ramparts.store import StoreError
from ramparts.store.redis import RedisAdapter

pytestmark = pytest.mark.redis

INCR_WITH_TTL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@pytest.fixture
def redis(redis_url: str) -> Iterator[tuple[RedisAdapter, str]]:
    adapter = RedisAdapter.from_url(redis_url)
    prefix = f"ramparts-test:{uuid.uuid4().hex}:"
    yield adapter, prefix
    adapter.delete(prefix + "a", prefix + "n")
    adapter.close()


def test_round_trip_ttl_and_script(redis: tuple[RedisAdapter, str]) -> None:
    adapter, prefix = redis
    adapter.ping()
    assert adapter.get(prefix + "a") is None
    adapter.set(prefix + "a", "1", ttl_seconds=30)
    assert adapter.get(prefix + "a") == b"1"
    ttl = adapter.ttl(prefix + "a")
    assert ttl is not None
    assert 0 < ttl <= 30
    assert [adapter.eval_script(INCR_WITH_TTL, [prefix + "n"], [60000]) for _ in range(3)] == [
        1,
        2,
        3,
    ]
    assert adapter.delete(prefix + "a") == 1


def test_unreachable_redis_is_a_store_error() -> None:
    adapter = RedisAdapter.from_url("redis://:hunter2@127.0.0.1:1/0", timeout=0.5)
    try:
        with pytest.raises(StoreError) as info:
            adapter.ping()
        assert "hunter2" not in str(info.value)
    finally:
        adapter.close()
