"""A small Redis adapter: what gateway replicas share (limits, kill switch, revocations).

The ``redis`` package is imported lazily, so the core needs it only when a Redis URL
is configured. Every Redis failure becomes a :class:`StoreError` (password hidden).
"""

from __future__ import annotations

import importlib
from typing import Any

from ramparts.store.engine import redact_url
from ramparts.store.interface import StoreError

__all__ = ["RedisAdapter"]


class RedisAdapter:
    """Typed access to the few Redis operations ramparts needs."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = redact_url(url)
        self._scripts: dict[str, Any] = {}
        self._errors: tuple[type[BaseException], ...] = (Exception,)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RedisAdapter:
        """Connect lazily to ``url`` (``redis://host:port/db``)."""
        try:
            redis = importlib.import_module("redis")
        except ImportError as exc:
            raise StoreError(
                "Redis needs the redis package: pip install 'ramparts[redis]'"
            ) from exc
        try:
            client = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=False
            )
        except ValueError as exc:
            raise StoreError(f"invalid Redis URL {redact_url(url)!r}: {exc}") from exc
        adapter = cls(client, url)
        adapter._errors = (redis.RedisError,)
        return adapter

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except self._errors as exc:
            raise StoreError(f"Redis {what} at {self._url} failed: {exc}") from exc

    def ping(self) -> None:
        """Raise :class:`StoreError` unless the server answers."""
        self._call("ping", self._client.ping)

    def get(self, key: str) -> bytes | None:
        """The value at ``key``, or ``None``."""
        value = self._call("GET", self._client.get, key)
        return value if value is None else bytes(value)

    def set(self, key: str, value: bytes | str, *, ttl_seconds: float | None = None) -> None:
        """Set ``key``, expiring after ``ttl_seconds`` if given."""
        px = int(ttl_seconds * 1000) if ttl_seconds is not None else None
        self._call("SET", self._client.set, key, value, px=px)

    def delete(self, *keys: str) -> int:
        """Delete keys; returns how many existed."""
        return int(self._call("DEL", self._client.delete, *keys)) if keys else 0

    def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires (``None`` when it has no expiry or does not exist)."""
        ms = int(self._call("PTTL", self._client.pttl, key))
        return ms / 1000 if ms >= 0 else None

    def eval_script(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script atomically (registered once, then called by its SHA)."""
        registered = self._scripts.get(script)
        if registered is None:
            registered = self._client.register_script(script)
            self._scripts[script] = registered
        return self._call("script", registered, keys=keys, args=args)

    def close(self) -> None:
        """Close the connection pool."""
        self._call("close", self._client.close)
