"""Rate limits: token buckets per key, in this process or shared by replicas in Redis.

A bucket holds at most ``burst`` tokens and refills at ``per_minute / 60`` tokens a
second; a new (or long idle) bucket is full. :meth:`RateLimiter.take` takes ``cost``
tokens at once or none at all and says, when it refuses, how long until enough are
back (the HTTP ``Retry-After``). :meth:`RateLimiter.adjust` reconciles afterwards, once
the real cost is known (tokens of a completion): a positive delta takes more, even
below zero, so that the key's next requests wait; a negative one refunds, never above
``burst``.

- :class:`MemoryRateLimiter`: one process (the default without Redis). Exact under
  asyncio concurrency, bounded memory.
- :class:`RedisRateLimiter`: every replica shares one Redis. Each operation is one Lua
  script, one round trip, timed by the Redis server's clock; a Redis that cannot
  answer raises :class:`~ramparts.gateway.interface.LimiterUnavailableError`, which the
  gateway answers with 503 ``limiter_unavailable``. It never falls back to a local
  bucket: replicas that each grant a full bucket while Redis is away (or just restarted
  and still refusing) multiply the limit by their number.

:class:`RedisScripts` is the small asyncio Redis client both this module and the Redis
kill switch use.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, Self

from ramparts.core.records import record
from ramparts.errors import InputError
from ramparts.gateway.interface import GatewayError, LimiterUnavailableError
from ramparts.store.engine import redact_url

if TYPE_CHECKING:
    from types import TracebackType

    from redis.asyncio import Redis

__all__ = [
    "AsyncClosing",
    "Limit",
    "LimitDecision",
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "RedisScripts",
]

# Refills are float sums (rate x elapsed seconds); a bucket that should hold exactly
# ``cost`` tokens may hold cost - 1e-16. Both implementations forgive the same hair.
_EPSILON = 1e-9

_UNEXPECTED = "unexpected reply from the Redis rate limiter: "
_INSTALL_HINT = "a Redis-backed gateway needs the redis package: pip install 'ramparts[redis]'"


@record
class Limit:
    """``per_minute`` tokens a minute, of which at most ``burst`` at once."""

    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if isinstance(self.per_minute, bool) or not (
            math.isfinite(self.per_minute) and self.per_minute > 0
        ):
            raise InputError(f"a rate limit needs per_minute > 0, got {self.per_minute!r}")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst <= 0:
            raise InputError(f"a rate limit needs an integer burst > 0, got {self.burst!r}")

    @property
    def per_second(self) -> float:
        """Tokens added back each second."""
        return self.per_minute / 60.0


@record
class LimitDecision:
    """The answer to :meth:`RateLimiter.take`.

    ``remaining``: tokens left in the bucket afterwards (never below 0 here, even when
    an :meth:`~RateLimiter.adjust` left the bucket in debt). ``retry_after``: seconds
    until the refused cost would be granted (0 when allowed).
    """

    allowed: bool
    remaining: float
    retry_after: float

    def __post_init__(self) -> None:
        if self.retry_after < 0 or self.remaining < 0:
            raise InputError("a rate-limit decision needs remaining >= 0 and retry_after >= 0")

    @property
    def retry_after_header(self) -> int:
        """Whole seconds for HTTP ``Retry-After``: rounded up, at least 1 when refused."""
        if self.allowed:
            return 0
        return max(1, math.ceil(self.retry_after))


class RateLimiter(Protocol):
    """Token buckets keyed by strings such as ``id:<principal>:req`` or ``model:<name>:tok``."""

    async def take(self, key: str, limit: Limit, cost: float = 1.0) -> LimitDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them all, else none.

        ``0 <= cost <= limit.burst`` (a larger cost could never be granted: it raises
        :class:`~ramparts.errors.InputError`, and callers refuse such requests before).
        """
        ...

    async def adjust(self, key: str, limit: Limit, delta: float) -> None:
        """Take ``delta`` more tokens (may leave a debt), or refund ``-delta`` (capped at burst)."""
        ...


def _check_cost(limit: Limit, cost: float) -> None:
    if not (math.isfinite(cost) and 0 <= cost <= limit.burst):
        raise InputError(
            f"a rate-limit cost must be between 0 and the burst ({limit.burst}), got {cost!r}"
        )


def _check_delta(delta: float) -> None:
    if not math.isfinite(delta):
        raise InputError(f"a rate-limit adjustment must be finite, got {delta!r}")


def _refused(tokens: float, cost: float, limit: Limit) -> LimitDecision:
    return LimitDecision(False, max(tokens, 0.0), (cost - tokens) / limit.per_second)


class _Bucket:
    __slots__ = ("full_at", "stamp", "tokens")

    def __init__(self, tokens: float, stamp: float, full_at: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        # When the bucket is full again: from then on it equals a missing one.
        self.full_at = full_at


class MemoryRateLimiter:
    """Token buckets in this process.

    Exact under asyncio concurrency: each operation runs to completion without awaiting,
    so no two interleave (operations from other threads are not supported).

    Memory is bounded by ``max_keys`` buckets, kept in least-recently-used order. A
    bucket that has refilled is dropped when it reaches the old end of that order:
    a missing bucket is a full one, so nothing is lost. Should ``max_keys`` keys be in
    use at once, a new key evicts the least recently used bucket even if it was not
    full, and that key starts over with a full bucket; size ``max_keys`` above the
    number of identities and models the gateway serves.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, max_keys: int = 100_000
    ) -> None:
        """Buckets timed by ``clock`` (monotonic seconds), at most ``max_keys`` of them."""
        if max_keys <= 0:
            raise InputError(f"max_keys must be > 0, got {max_keys}")
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many buckets are held (full ones may already have been dropped)."""
        return len(self._buckets)

    def _level(self, key: str, limit: Limit, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(limit.burst)
        self._buckets.move_to_end(key)
        if now <= bucket.stamp:
            return bucket.tokens
        return min(float(limit.burst), bucket.tokens + (now - bucket.stamp) * limit.per_second)

    def _store(self, key: str, limit: Limit, tokens: float, now: float) -> None:
        full_at = now + max(limit.burst - tokens, 0.0) / limit.per_second
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens, bucket.stamp, bucket.full_at = tokens, now, full_at
            return
        self._drop_full(now, 2)
        if len(self._buckets) >= self._max_keys:
            self._buckets.popitem(last=False)
        self._buckets[key] = _Bucket(tokens, now, full_at)

    def _drop_full(self, now: float, at_most: int) -> None:
        # A couple of checks per operation keep idle keys from piling up, at O(1) cost.
        for _ in range(at_most):
            if not self._buckets:
                return
            key, bucket = next(iter(self._buckets.items()))
            if bucket.full_at > now:
                return
            del self._buckets[key]

    def take_now(self, key: str, limit: Limit, cost: float = 1.0) -> LimitDecision:
        """:meth:`take`, synchronously (it never waits on anything)."""
        _check_cost(limit, cost)
        now = self._clock()
        tokens = self._level(key, limit, now)
        if tokens + _EPSILON < cost:
            self._drop_full(now, 1)
            return _refused(tokens, cost, limit)
        tokens -= cost
        self._store(key, limit, tokens, now)
        return LimitDecision(True, max(tokens, 0.0), 0.0)

    def adjust_now(self, key: str, limit: Limit, delta: float) -> None:
        """:meth:`adjust`, synchronously."""
        _check_delta(delta)
        now = self._clock()
        tokens = min(float(limit.burst), self._level(key, limit, now) - delta)
        self._store(key, limit, tokens, now)

    async def take(self, key: str, limit: Limit, cost: float = 1.0) -> LimitDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them all, else none."""
        return self.take_now(key, limit, cost)

    async def adjust(self, key: str, limit: Limit, delta: float) -> None:
        """Take ``delta`` more tokens (may leave a debt), or refund ``-delta`` (capped at burst)."""
        self.adjust_now(key, limit, delta)


class AsyncClosing:
    """``async with`` for objects that hold connections: leaving calls :meth:`aclose`."""

    async def aclose(self) -> None:
        """Release what the object holds (nothing by default)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class RedisScripts(AsyncClosing):
    """An asyncio Redis client that runs Lua scripts, one round trip each.

    A script goes by its SHA1 (``EVALSHA``); when the server does not know it (first
    use, after a restart or ``SCRIPT FLUSH``) it is sent once with ``EVAL``, which also
    caches it there. Every failure (unreachable, timeout, error reply) becomes
    :class:`~ramparts.gateway.interface.LimiterUnavailableError` naming the server with
    its password hidden.

    ``target`` is a URL (``redis://[:password@]host:port/db``, ``rediss://``): the client
    is made here, with ``timeout`` bounding connecting and each reply and ``retries``
    retries of a dropped connection, and closed by :meth:`aclose`. Or it is a
    ``redis.asyncio.Redis`` the caller owns (and closes). A retried command may have
    run twice on the server (for a take, that errs on the strict side).
    """

    def __init__(
        self, target: str | Redis, *, timeout: float = 0.5, retries: int = 1, what: str = "Redis"
    ) -> None:
        """Connect lazily to ``target``; ``what`` names the user in messages ("rate limiter")."""
        try:
            from redis.exceptions import RedisError  # noqa: PLC0415 - redis is optional
        except ImportError as exc:
            raise GatewayError(_INSTALL_HINT) from exc
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self._what = what
        if isinstance(target, str):
            self._client = _client_from_url(target, timeout=timeout, retries=retries)
            self._owned = True
            self.where = redact_url(target)
        else:
            self._client = target
            self._owned = False
            self.where = _describe(target)
        self._shas: dict[str, str] = {}

    @property
    def client(self) -> Redis:
        """The underlying client."""
        return self._client

    async def run(
        self, script: str, keys: Sequence[str] = (), args: Sequence[str | int | float] = ()
    ) -> object:
        """The reply of ``script`` run atomically with ``keys`` and ``args``."""
        from redis.exceptions import NoScriptError  # noqa: PLC0415 - redis is optional

        sha = self._shas.get(script)
        if sha is None:
            sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
            self._shas[script] = sha
        try:
            try:
                reply: object = await self._client.evalsha(sha, len(keys), *keys, *args)
            except NoScriptError:
                reply = await self._client.eval(script, len(keys), *keys, *args)
        except self._errors as exc:
            raise self.failure(exc) from exc
        return reply

    def failure(self, exc: BaseException) -> LimiterUnavailableError:
        """The error to raise for ``exc``: one line, the server named, no password."""
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        return LimiterUnavailableError(f"{self._what} at {self.where} cannot answer: {reason}")

    async def aclose(self) -> None:
        """Close the client if it was made here (from a URL)."""
        if self._owned:
            await self._client.aclose()


def _client_from_url(url: str, *, timeout: float, retries: int) -> Redis:
    from redis.asyncio import Redis  # noqa: PLC0415 - redis is optional
    from redis.asyncio.retry import Retry  # noqa: PLC0415
    from redis.backoff import ExponentialWithJitterBackoff  # noqa: PLC0415

    if not (math.isfinite(timeout) and timeout > 0) or retries < 0:
        raise InputError("a Redis client needs timeout > 0 and retries >= 0")
    try:
        return Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries),
            decode_responses=False,
        )
    except ValueError as exc:
        # The parser's message may quote the URL; ours shows it redacted.
        raise GatewayError(
            f"invalid Redis URL {redact_url(url)!r} (use redis://host:port/db)"
        ) from exc


def _describe(client: Redis) -> str:
    # Built from the pool's settings, never from a URL that may hold a password.
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"redis://{host}:{port}/{db}"


# Both scripts: ARGV[1] tokens a second, ARGV[2] burst, ARGV[3] cost or delta.
# State is a hash {tk: tokens, ts: server time in microseconds}; a missing bucket is
# full. The key expires when the bucket would be full again (plus a second), so idle
# buckets cost no memory and an expired one reads exactly as it should. Numbers are
# written with %.17g (lossless) and returned as strings: Redis would truncate a Lua
# number reply to an integer. TIME makes the scripts non-deterministic, which Redis 5+
# replicates by effects (the default; Redis 7 has nothing else).
_LEVEL = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tk', 'ts')
local tokens = burst
if state[1] then
  tokens = tonumber(state[1])
  local elapsed = now - tonumber(state[2])
  if elapsed > 0 then tokens = math.min(burst, tokens + elapsed * rate / 1000000) end
end
local function store(level)
  if level >= burst then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'tk', string.format('%.17g', level), 'ts', string.format('%d', now))
    redis.call('PEXPIRE', KEYS[1], math.ceil((burst - level) / rate * 1000) + 1000)
  end
end
"""

_TAKE = (
    _LEVEL
    + f"""
if tokens + {_EPSILON} < amount then
  return {{0, string.format('%.17g', tokens)}}
end
tokens = tokens - amount
if amount > 0 then store(tokens) end
return {{1, string.format('%.17g', tokens)}}
"""
)

_ADJUST = (
    _LEVEL
    + """
store(math.min(burst, tokens - amount))
return 1
"""
)


def _number(value: object) -> float:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, int | float | str):
        return float(value)
    raise LimiterUnavailableError(_UNEXPECTED + repr(value))


class RedisRateLimiter(AsyncClosing):
    """Token buckets in Redis, shared exactly by every gateway replica.

    Each :meth:`take` or :meth:`adjust` is one Lua script (one round trip), atomic on
    the server and timed by the server's clock (``TIME``), so replicas' clocks do not
    matter. Keys are ``prefix + key`` and expire once their bucket has refilled.

    When Redis cannot be reached or fails, both raise
    :class:`~ramparts.gateway.interface.LimiterUnavailableError`; nothing is granted
    from a local bucket. After a Redis restart without persistence every bucket is
    full again (one burst per key, across all replicas together, as for a new key).

    ``target`` is a URL or a ``redis.asyncio.Redis`` (see :class:`RedisScripts`);
    close a limiter made from a URL with :meth:`aclose` (or ``async with``).
    """

    def __init__(
        self,
        target: str | Redis,
        *,
        prefix: str = "ramparts:rl:",
        timeout: float = 0.5,
        retries: int = 1,
    ) -> None:
        """Buckets under ``prefix`` on the server ``target`` (nothing is sent yet)."""
        self._redis = RedisScripts(
            target, timeout=timeout, retries=retries, what="the Redis rate limiter"
        )
        self._prefix = prefix

    async def take(self, key: str, limit: Limit, cost: float = 1.0) -> LimitDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them all, else none."""
        _check_cost(limit, cost)
        reply = await self._redis.run(
            _TAKE, [self._prefix + key], [repr(limit.per_second), limit.burst, repr(float(cost))]
        )
        if not (isinstance(reply, list) and len(reply) == 2):
            raise LimiterUnavailableError(_UNEXPECTED + repr(reply))
        allowed = reply[0] == 1
        tokens = _number(reply[1])
        if not allowed:
            return _refused(tokens, cost, limit)
        return LimitDecision(True, max(tokens, 0.0), 0.0)

    async def adjust(self, key: str, limit: Limit, delta: float) -> None:
        """Take ``delta`` more tokens (may leave a debt), or refund ``-delta`` (capped at burst)."""
        _check_delta(delta)
        await self._redis.run(
            _ADJUST, [self._prefix + key], [repr(limit.per_second), limit.burst, repr(float(delta))]
        )

    async def aclose(self) -> None:
        """Close the connection pool if this limiter made it (from a URL)."""
        await self._redis.aclose()
