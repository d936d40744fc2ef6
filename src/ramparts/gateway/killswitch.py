"""The kill switch: stop all traffic, one model's, or one identity's, at once.

A switch is engaged for a scope: ``global`` (value ``*``), ``model`` (a model name) or
``identity`` (a principal). :meth:`KillSwitch.check` returns the engaged switch that
stops a request (global first, then its model, then its identity) or ``None``.

State lives where every replica and the CLI (``ramparts gateway kill`` / ``resume``,
another process) see it: the ``gateway_kills`` table (:class:`SqlKillSwitch`) or one
Redis hash (:class:`RedisKillSwitch`). The gateway reads it into an in-memory snapshot
and checks against that, at no I/O cost per request:

- the snapshot is refreshed at most every ``refresh`` seconds (default 1): the request
  that finds it older waits for one read (a query in a worker thread for SQL, one round
  trip for Redis), shared by the requests that arrive meanwhile; a flip made anywhere
  is effective within ``refresh`` seconds;
- when the store cannot be read, the last snapshot keeps serving while it is younger
  than ``grace`` seconds (default 5), and a failed read is retried every ``refresh``
  seconds. Once the snapshot is older than ``grace``, :meth:`KillSwitch.check` raises
  :class:`~ramparts.gateway.interface.LimiterUnavailableError` (fail closed) until a
  read succeeds again;
- a slow read is never cancelled, but a request waits for it at most ``max_wait``
  seconds (default 0.25) while the last snapshot can still answer (and then uses it),
  and at most ``cold_wait`` seconds (default 2) when none can (the first read after
  start, or past the grace period).

The CLI is not asynchronous: :class:`SqlKillSwitchAdmin` and
:class:`RedisKillSwitchAdmin` engage, release and list switches synchronously. Neither
side records audit events; the caller does, with the :class:`Kill` it gets back.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, Self

import sqlalchemy as sa

from ramparts.core.clock import SystemClock
from ramparts.core.records import record
from ramparts.errors import InputError
from ramparts.gateway.interface import LimiterUnavailableError
from ramparts.gateway.ratelimit import AsyncClosing, RedisScripts
from ramparts.store.engine import begin_write, failure_reason, redact_url
from ramparts.store.interface import StoreError
from ramparts.store.schema import gateway_kills

if TYPE_CHECKING:
    from types import TracebackType

    from redis.asyncio import Redis

    from ramparts.core.interface import Clock

__all__ = [
    "GLOBAL_VALUE",
    "Kill",
    "KillScope",
    "KillSwitch",
    "KillSwitchAdmin",
    "RedisKillSwitch",
    "RedisKillSwitchAdmin",
    "SqlKillSwitch",
    "SqlKillSwitchAdmin",
]

GLOBAL_VALUE = "*"
"""The value of the one ``global`` switch."""


class KillScope(StrEnum):
    """What an engaged switch stops."""

    GLOBAL = "global"
    MODEL = "model"
    IDENTITY = "identity"


def _scope(scope: KillScope | str) -> KillScope:
    try:
        return KillScope(scope)
    except ValueError:
        names = ", ".join(s.value for s in KillScope)
        raise InputError(f"unknown kill switch scope {scope!r} (use {names})") from None


def _value(scope: KillScope, value: str | None) -> str:
    if scope is KillScope.GLOBAL:
        if value not in (None, GLOBAL_VALUE):
            raise InputError(f"the global kill switch takes no value (or {GLOBAL_VALUE!r})")
        return GLOBAL_VALUE
    if not value:
        raise InputError(f"a {scope.value} kill switch needs the {scope.value} it stops")
    return value


@record
class Kill:
    """One engaged switch: what it stops, why, who engaged it and when (UTC)."""

    scope: KillScope
    value: str
    reason: str
    actor: str
    at: datetime

    def __post_init__(self) -> None:
        scope = _scope(self.scope)
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "value", _value(scope, self.value))
        if not self.reason.strip():
            raise InputError("a kill switch needs a reason")
        if not self.actor.strip():
            raise InputError("a kill switch needs the actor who engages it")
        if self.at.tzinfo is None:
            raise InputError("a kill switch's time must be timezone-aware")
        object.__setattr__(self, "at", self.at.astimezone(UTC))

    @property
    def key(self) -> tuple[KillScope, str]:
        """``(scope, value)``: what identifies the switch."""
        return (self.scope, self.value)


def _find(
    kills: Mapping[tuple[KillScope, str], Kill], model: str | None, identity: str | None
) -> Kill | None:
    if not kills:
        return None
    found = kills.get((KillScope.GLOBAL, GLOBAL_VALUE))
    if found is None and model:
        found = kills.get((KillScope.MODEL, model))
    if found is None and identity:
        found = kills.get((KillScope.IDENTITY, identity))
    return found


def _sorted(kills: Iterable[Kill]) -> list[Kill]:
    order = {s: i for i, s in enumerate(KillScope)}
    return sorted(kills, key=lambda k: (order[k.scope], k.value))


class KillSwitch(Protocol):
    """Engaged switches, checked on every request."""

    async def check(self, model: str | None, identity: str | None) -> Kill | None:
        """The engaged switch that stops a request for ``model`` by ``identity``, or ``None``.

        Raises :class:`~ramparts.gateway.interface.LimiterUnavailableError` when the
        state cannot be known (the gateway refuses the request).
        """
        ...

    async def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: its reason, actor and time are replaced)."""
        ...

    async def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged."""
        ...

    async def engaged(self) -> list[Kill]:
        """Every engaged switch: global, then models, then identities."""
        ...


class KillSwitchAdmin(Protocol):
    """Synchronous access to the switches, for the CLI."""

    def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: its reason, actor and time are replaced)."""
        ...

    def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged."""
        ...

    def engaged(self) -> list[Kill]:
        """Every engaged switch: global, then models, then identities."""
        ...


def _released(scope: KillScope | str, value: str | None, actor: str) -> tuple[KillScope, str]:
    kind = _scope(scope)
    if not actor.strip():
        raise InputError("releasing a kill switch needs the actor who releases it")
    return kind, _value(kind, value)


class _Snapshot:
    """The refresh, grace and fail-closed rules of the module docstring, over ``_load``."""

    def __init__(
        self,
        *,
        refresh: float,
        grace: float,
        max_wait: float,
        cold_wait: float,
        clock: Callable[[], float],
        wall: Clock,
    ) -> None:
        settings = {
            "refresh": refresh,
            "grace": grace,
            "max_wait": max_wait,
            "cold_wait": cold_wait,
        }
        for name, seconds in settings.items():
            if not (math.isfinite(seconds) and seconds > 0):
                raise InputError(f"kill switch {name} must be > 0 seconds, got {seconds!r}")
        if grace < refresh:
            raise InputError("the kill switch grace must be at least its refresh interval")
        self._refresh_s = refresh
        self._grace = grace
        self._max_wait = max_wait
        self._cold_wait = cold_wait
        self._clock = clock
        self._wall = wall
        self._kills: dict[tuple[KillScope, str], Kill] = {}
        self._loaded_at: float | None = None
        self._retry_at = -math.inf
        self._task: asyncio.Task[None] | None = None
        self._failure = "never read"
        # Bumped by this instance's writes: a read that started before one is stale.
        self._writes = 0

    async def _load(self) -> list[Kill]:
        raise NotImplementedError

    async def _refresh(self) -> None:
        try:
            await self.refresh()
        # Whatever keeps the state from being read (driver, network, a corrupt entry) is
        # an outage: serve the snapshot through the grace period, then fail closed.
        except Exception as exc:  # noqa: BLE001
            lines = str(exc).strip().splitlines()
            self._failure = lines[0] if lines else type(exc).__name__
            self._retry_at = self._clock() + self._refresh_s
        finally:
            self._task = None

    async def _current(self) -> Mapping[tuple[KillScope, str], Kill]:
        loaded = self._loaded_at
        now = self._clock()
        if loaded is not None and now - loaded < self._refresh_s:
            return self._kills
        task = self._task
        if task is None and now >= self._retry_at:
            task = self._task = asyncio.create_task(self._refresh())
        if task is not None:
            usable = loaded is not None and now - loaded < self._grace
            wait = self._max_wait if usable else self._cold_wait
            # asyncio.wait never cancels the read: a slow one still lands for the next check.
            await asyncio.wait((task,), timeout=wait)
        loaded = self._loaded_at
        if loaded is not None and self._clock() - loaded < self._grace:
            return self._kills
        reason = self._failure
        if self._task is not None:
            reason = "no answer in time"
        raise LimiterUnavailableError(f"the kill switch state cannot be read: {reason}")

    def _remember(self, kill: Kill) -> None:
        self._writes += 1
        self._kills = {**self._kills, kill.key: kill}

    def _forget(self, key: tuple[KillScope, str]) -> None:
        self._writes += 1
        self._kills = {k: v for k, v in self._kills.items() if k != key}

    async def check(self, model: str | None, identity: str | None) -> Kill | None:
        """The engaged switch that stops a request for ``model`` by ``identity``, or ``None``.

        Raises :class:`~ramparts.gateway.interface.LimiterUnavailableError` when the
        snapshot is older than the grace period and the store cannot be read.
        """
        return _find(await self._current(), model, identity)

    async def engaged(self) -> list[Kill]:
        """Every engaged switch (from the snapshot): global, then models, then identities."""
        return _sorted((await self._current()).values())

    async def refresh(self) -> None:
        """Read the state now, whatever the snapshot's age; raise if that fails.

        A failure leaves the snapshot as it was (its grace period runs on).
        """
        started = self._clock()
        writes = self._writes
        kills = await self._load()
        if writes == self._writes:
            self._kills = {k.key: k for k in kills}
            self._loaded_at = started


class SqlKillSwitchAdmin:
    """Switches in the ``gateway_kills`` table, synchronously (the CLI, and the gateway's reads).

    Every database failure raises
    :class:`~ramparts.gateway.interface.LimiterUnavailableError`.
    """

    def __init__(self, engine: sa.Engine, *, wall: Clock | None = None) -> None:
        """Switches in ``engine``'s database (migrated); ``wall`` dates them (UTC)."""
        self._engine = engine
        self._wall: Clock = wall or SystemClock()

    def _failure(
        self, what: str, exc: sa.exc.SQLAlchemyError | StoreError
    ) -> LimiterUnavailableError:
        reason = failure_reason(exc, self._engine.url)
        where = redact_url(self._engine.url)
        return LimiterUnavailableError(f"{what} in {where} failed: {reason}")

    def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: its reason, actor and time are replaced)."""
        kind = _scope(scope)
        kill = Kill(kind, _value(kind, value), reason, actor, self._wall.now())
        c = gateway_kills.c
        try:
            with begin_write(self._engine) as conn:
                conn.execute(
                    gateway_kills.delete().where(
                        (c.scope == kill.scope.value) & (c.value == kill.value)
                    )
                )
                conn.execute(
                    gateway_kills.insert().values(
                        scope=kill.scope.value,
                        value=kill.value,
                        reason=kill.reason,
                        actor=kill.actor,
                        at=kill.at,
                    )
                )
        except (sa.exc.SQLAlchemyError, StoreError) as exc:
            raise self._failure("engaging the kill switch", exc) from exc
        return kill

    def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged.

        ``actor`` must be given (the caller's audit event names it); the table keeps no
        history.
        """
        kind, name = _released(scope, value, actor)
        c = gateway_kills.c
        this = (c.scope == kind.value) & (c.value == name)
        try:
            with begin_write(self._engine) as conn:
                row = conn.execute(sa.select(gateway_kills).where(this)).one_or_none()
                if row is None:
                    return None
                conn.execute(gateway_kills.delete().where(this))
        except (sa.exc.SQLAlchemyError, StoreError) as exc:
            raise self._failure("releasing the kill switch", exc) from exc
        return _from_row(row._mapping)

    def engaged(self) -> list[Kill]:
        """Every engaged switch: global, then models, then identities."""
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(sa.select(gateway_kills)).all()
        except (sa.exc.SQLAlchemyError, StoreError) as exc:
            raise self._failure("reading the kill switch", exc) from exc
        return _sorted(_from_row(row._mapping) for row in rows)


def _from_row(row: sa.RowMapping) -> Kill:
    at = row["at"]
    if not isinstance(at, datetime):
        raise LimiterUnavailableError(f"unreadable kill switch row: time {at!r}")
    if at.tzinfo is None:
        # SQLite keeps no offset; the table holds UTC.
        at = at.replace(tzinfo=UTC)
    try:
        scope = KillScope(str(row["scope"]))
        return Kill(scope, str(row["value"]), str(row["reason"]), str(row["actor"]), at)
    except (ValueError, InputError) as exc:
        raise LimiterUnavailableError(f"unreadable kill switch row: {exc}") from exc


class SqlKillSwitch(_Snapshot):
    """The kill switch in the ``gateway_kills`` table (the default without Redis).

    Reads and writes run in a worker thread (:func:`asyncio.to_thread`); the event loop
    never waits on the database. Refresh, grace and failure rules: module docstring.
    ``clock`` (monotonic seconds) times the refreshes; ``wall`` dates engaged switches.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        refresh: float = 1.0,
        grace: float = 5.0,
        max_wait: float = 0.25,
        cold_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Clock | None = None,
    ) -> None:
        """The switches of ``engine``'s (migrated) database; nothing is read yet."""
        wall = wall or SystemClock()
        super().__init__(
            refresh=refresh,
            grace=grace,
            max_wait=max_wait,
            cold_wait=cold_wait,
            clock=clock,
            wall=wall,
        )
        self.admin = SqlKillSwitchAdmin(engine, wall=wall)

    async def _load(self) -> list[Kill]:
        return await asyncio.to_thread(self.admin.engaged)

    async def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: reason, actor and time are replaced); effective here at once."""
        kill = await asyncio.to_thread(
            lambda: self.admin.engage(scope, value, reason=reason, actor=actor)
        )
        self._remember(kill)
        return kill

    async def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged."""
        key = _released(scope, value, actor)
        kill = await asyncio.to_thread(lambda: self.admin.release(scope, value, actor=actor))
        self._forget(key)
        return kill


# One hash: field "<scope>:<value>" -> JSON {scope, value, reason, actor, at}.
_HGETALL = "return redis.call('HGETALL', KEYS[1])"
_HSET = "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])"
_HTAKE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v
"""


def _field(key: tuple[KillScope, str]) -> str:
    return f"{key[0].value}:{key[1]}"


def _encode(kill: Kill) -> str:
    record = {
        "scope": kill.scope.value,
        "value": kill.value,
        "reason": kill.reason,
        "actor": kill.actor,
        "at": kill.at.isoformat(),
    }
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def _decode(raw: object) -> Kill:
    if not isinstance(raw, bytes | str):
        raise LimiterUnavailableError(f"unexpected reply from the Redis kill switch: {raw!r}")
    try:
        record = json.loads(raw)
        return Kill(
            KillScope(record["scope"]),
            record["value"],
            record["reason"],
            record["actor"],
            datetime.fromisoformat(record["at"]),
        )
    except (ValueError, TypeError, KeyError, InputError) as exc:
        raise LimiterUnavailableError(f"unreadable kill switch entry in Redis: {exc}") from exc


def _decode_all(reply: object) -> list[Kill]:
    if not isinstance(reply, list) or len(reply) % 2:
        raise LimiterUnavailableError(f"unexpected reply from the Redis kill switch: {reply!r}")
    return _sorted(_decode(raw) for raw in reply[1::2])


class RedisKillSwitch(_Snapshot, AsyncClosing):
    """The kill switch in one Redis hash, ``prefix + "kills"``.

    A refresh is one round trip; refresh, grace and failure rules: module docstring.
    ``target`` is a URL or a ``redis.asyncio.Redis`` (see
    :class:`~ramparts.gateway.ratelimit.RedisScripts`); close one made from a URL with
    :meth:`aclose`.
    """

    def __init__(
        self,
        target: str | Redis,
        *,
        prefix: str = "ramparts:",
        refresh: float = 1.0,
        grace: float = 5.0,
        max_wait: float = 0.25,
        cold_wait: float = 2.0,
        timeout: float = 0.5,
        retries: int = 1,
        clock: Callable[[], float] = time.monotonic,
        wall: Clock | None = None,
    ) -> None:
        """The switches in ``target``'s hash ``prefix + "kills"``; nothing is sent yet."""
        super().__init__(
            refresh=refresh,
            grace=grace,
            max_wait=max_wait,
            cold_wait=cold_wait,
            clock=clock,
            wall=wall or SystemClock(),
        )
        self._redis = RedisScripts(
            target, timeout=timeout, retries=retries, what="the Redis kill switch"
        )
        self._key = prefix + "kills"

    async def _load(self) -> list[Kill]:
        return _decode_all(await self._redis.run(_HGETALL, [self._key]))

    async def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: reason, actor and time are replaced); effective here at once."""
        kind = _scope(scope)
        kill = Kill(kind, _value(kind, value), reason, actor, self._wall.now())
        await self._redis.run(_HSET, [self._key], [_field(kill.key), _encode(kill)])
        self._remember(kill)
        return kill

    async def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged."""
        key = _released(scope, value, actor)
        raw = await self._redis.run(_HTAKE, [self._key], [_field(key)])
        self._forget(key)
        return None if raw is None else _decode(raw)

    async def aclose(self) -> None:
        """Close the connection pool if this switch made it (from a URL)."""
        await self._redis.aclose()


class RedisKillSwitchAdmin:
    """The Redis kill switch, synchronously (the CLI). Close it, or use it as a context manager.

    Every Redis failure raises
    :class:`~ramparts.gateway.interface.LimiterUnavailableError`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ramparts:",
        timeout: float = 2.0,
        wall: Clock | None = None,
    ) -> None:
        """The switches in the hash ``prefix + "kills"`` at ``url``; nothing is sent yet."""
        from ramparts.store.redis import RedisAdapter  # noqa: PLC0415 - redis is optional

        try:
            self._redis = RedisAdapter.from_url(url, timeout=timeout)
        except StoreError as exc:
            raise LimiterUnavailableError(str(exc)) from exc
        self._key = prefix + "kills"
        self._wall: Clock = wall or SystemClock()

    def _run(self, script: str, args: tuple[str, ...] = ()) -> object:
        try:
            return self._redis.eval_script(script, [self._key], args)
        except StoreError as exc:
            raise LimiterUnavailableError(str(exc)) from exc

    def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        """Engage a switch (again: its reason, actor and time are replaced)."""
        kind = _scope(scope)
        kill = Kill(kind, _value(kind, value), reason, actor, self._wall.now())
        self._run(_HSET, (_field(kill.key), _encode(kill)))
        return kill

    def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        """Release a switch; the released one, or ``None`` if it was not engaged."""
        key = _released(scope, value, actor)
        raw = self._run(_HTAKE, (_field(key),))
        return None if raw is None else _decode(raw)

    def engaged(self) -> list[Kill]:
        """Every engaged switch: global, then models, then identities."""
        return _decode_all(self._run(_HGETALL))

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
