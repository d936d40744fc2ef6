from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import redis as redis_lib

from ramparts.errors import InputError
from ramparts.store import StoreError
from ramparts.store.redis import RedisAdapter

INCR_WITH_TTL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@pytest.fixture
def adapter(redis_url: str) -> Iterator[RedisAdapter]:
    with RedisAdapter.from_url(redis_url) as a:
        yield a


@pytest.mark.redis
def test_get_set_ttl_delete_round_trip(adapter: RedisAdapter, redis_prefix: str) -> None:
    key = redis_prefix + "a"
    adapter.ping()
    assert adapter.get(key) is None
    assert adapter.ttl(key) is None
    adapter.set(key, "caf\u00e9")
    assert adapter.get(key) == "caf\u00e9".encode()
    assert adapter.ttl(key) is None
    adapter.set(key, b"\x00\xff", ttl_seconds=30)
    assert adapter.get(key) == b"\x00\xff"
    ttl = adapter.ttl(key)
    assert ttl is not None
    assert 29 < ttl <= 30
    assert adapter.delete(key, redis_prefix + "missing") == 1
    assert adapter.get(key) is None


@pytest.mark.redis
def test_sub_millisecond_ttl_is_rounded_up_not_refused(
    adapter: RedisAdapter, redis_prefix: str
) -> None:
    adapter.set(redis_prefix + "a", 1, ttl_seconds=0.0001)
    with pytest.raises(InputError, match="ttl_seconds"):
        adapter.set(redis_prefix + "a", 1, ttl_seconds=0)


@pytest.mark.redis
def test_eval_script_is_atomic_and_survives_a_script_flush(
    adapter: RedisAdapter, redis_prefix: str, redis_url: str
) -> None:
    key = redis_prefix + "n"
    assert [adapter.eval_script(INCR_WITH_TTL, [key], [60_000]) for _ in range(3)] == [1, 2, 3]
    ttl = adapter.ttl(key)
    assert ttl is not None
    assert 59 < ttl <= 60
    with redis_lib.Redis.from_url(redis_url) as raw:
        raw.script_flush()
    assert adapter.eval_script(INCR_WITH_TTL, [key], [60_000]) == 4


@pytest.mark.redis
def test_a_script_error_is_a_store_error(adapter: RedisAdapter) -> None:
    with pytest.raises(StoreError, match=r"Redis EVALSHA at redis://.* failed"):
        adapter.eval_script("return redis.call('NOSUCHCOMMAND')")


def test_unreachable_redis_is_a_store_error_without_the_password() -> None:
    with (
        RedisAdapter.from_url("redis://:hunter2@127.0.0.1:1/0", timeout=0.5) as adapter,
        pytest.raises(StoreError) as info,
    ):
        adapter.ping()
    text = str(info.value)
    assert "hunter2" not in text
    assert text.startswith("Redis PING at redis://:***@127.0.0.1:1/0 failed:")


def test_a_bad_redis_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="invalid Redis URL 'http://u:\\*\\*\\*@h/0'"):
        RedisAdapter.from_url("http://u:hunter2@h/0")


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(StoreError, match=r"pip install 'ramparts\[redis\]'"):
        RedisAdapter.from_url("redis://127.0.0.1:1/0")
