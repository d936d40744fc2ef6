"""A small Redis adapter: what gateway replicas share (limits, kill switch, revocations).

The ``redis`` package is optional (``pip install 'ramparts[redis]'``) and imported only
when an adapter is made. Every Redis failure becomes a :class:`StoreError` whose
message names the server with its password hidden; callers on the request path fail
closed on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ParamSpec, Self, TypeVar

from ramparts.errors import InputError
from ramparts.store.engine import redact_url
from ramparts.store.interface import StoreError

if TYPE_CHECKING:
    from types import TracebackType

    from redis import Redis
    from redis.commands.core import Script

__all__ = ["RedisAdapter", "ScriptArg"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

ScriptArg = str | bytes | int | float
"""What a Lua script receives in ``ARGV`` (Redis sends each as a string)."""

_INSTALL_HINT = "Redis needs the redis package: pip install 'ramparts[redis]'"


class RedisAdapter:
    """Typed access to the few Redis operations ramparts needs.

    Values are bytes on the way out (``get``); keys are strings. Build it with
    :meth:`from_url`; it is a context manager that closes its connection pool.
    """

    def __init__(self, client: Redis, *, url: str) -> None:
        """Wrap an existing client; ``url`` (password hidden) names it in messages."""
        from redis.exceptions import RedisError  # noqa: PLC0415 - redis is optional

        self._client = client
        self._url = redact_url(url)
        self._error: type[Exception] = RedisError
        self._scripts: dict[str, Script] = {}

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0, retries: int = 2) -> Self:
        """An adapter for ``redis://[:password@]host:port/db`` (or ``rediss://``).

        Nothing is sent until the first command. ``timeout`` bounds connecting and
        each reply; a dropped connection is retried ``retries`` times with a short
        backoff, so that an outage is reported in about ``timeout`` seconds instead of
        stalling the request path.
        """
        try:
            from redis import Redis  # noqa: PLC0415 - redis is optional
            from redis.backoff import ExponentialWithJitterBackoff  # noqa: PLC0415
            from redis.retry import Retry  # noqa: PLC0415
        except ImportError as exc:
            raise StoreError(_INSTALL_HINT) from exc
        try:
            client = Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(ExponentialWithJitterBackoff(cap=0.1, base=0.01), retries),
                decode_responses=False,
            )
        except ValueError as exc:
            # The parser's message may quote the URL; ours shows it redacted.
            raise StoreError(
                f"invalid Redis URL {redact_url(url)!r} (use redis://host:port/db)"
            ) from exc
        return cls(client, url=url)

    def _call(self, what: str, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return func(*args, **kwargs)
        except self._error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"Redis {what} at {self._url} failed: {reason}") from exc

    def ping(self) -> None:
        """Return if the server answers; raise :class:`StoreError` otherwise."""
        self._call("PING", self._client.ping)

    def get(self, key: str) -> bytes | None:
        """The value at ``key``, or ``None`` when it does not exist."""
        value = self._call("GET", self._client.get, key)
        if value is None or isinstance(value, bytes):
            return value
        return value.encode()

    def set(self, key: str, value: bytes | str | int, *, ttl_seconds: float | None = None) -> None:
        """Set ``key``; with ``ttl_seconds`` it expires after that long (millisecond precision)."""
        px = None
        if ttl_seconds is not None:
            if not ttl_seconds > 0:
                raise InputError(f"ttl_seconds must be > 0, got {ttl_seconds}")
            # Round up: a key must never expire earlier than asked (0 ms is an error).
            px = math.ceil(ttl_seconds * 1000)
        self._call("SET", self._client.set, key, value, px=px)

    def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires; ``None`` when it has no expiry or does not exist."""
        ms = self._call("PTTL", self._client.pttl, key)
        return ms / 1000 if ms >= 0 else None

    def delete(self, *keys: str) -> int:
        """Delete ``keys``; return how many existed."""
        if not keys:
            return 0
        return self._call("DEL", self._client.delete, *keys)

    def eval_script(
        self, script: str, keys: Sequence[str] = (), args: Sequence[ScriptArg] = ()
    ) -> object:
        """Run a Lua script atomically and return its reply.

        A script is registered once per adapter and then called by its SHA1
        (``EVALSHA``), so its text crosses the network only when the server does not
        know it yet (first use, or after a restart or ``SCRIPT FLUSH``).
        """
        registered = self._scripts.get(script)
        if registered is None:
            # register_script only hashes the text locally; nothing is sent yet.
            registered = self._client.register_script(script)
            self._scripts[script] = registered
        result: object = self._call("EVALSHA", registered, keys=list(keys), args=list(args))
        return result

    def close(self) -> None:
        """Close the connection pool; the adapter must not be used afterwards."""
        self._call("close", self._client.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
