"""The token revocation list: in the state database, or in Redis for replicas to share.

A revocation names one token (its ``jti``) or an identity (every token whose ``sub`` it
is) and lasts until every token it could deny has expired. Checking reads both in one
query or one round trip. A backend that cannot be read raises ``StoreError``; token
verification turns that into a denial (fail closed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ramparts.core.interface import Clock
from ramparts.policy.identity_types import AuthenticationError, Rejection, RevocationKind
from ramparts.store.engine import begin_write, store_error
from ramparts.store.interface import StoreError
from ramparts.store.redis import RedisAdapter
from ramparts.store.schema import token_revocations

__all__ = ["RedisRevocations", "SqlRevocations"]

# A revocation never shortens an earlier one: set only if the key lives less long.
_EXTEND = """
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
"""
_CHECK = "return {redis.call('EXISTS', KEYS[1]), redis.call('EXISTS', KEYS[2])}"


def _rejected(kind: RevocationKind, value: str) -> AuthenticationError:
    if kind is RevocationKind.TOKEN:
        return AuthenticationError(Rejection.REVOKED, f"token {value} is revoked")
    return AuthenticationError(Rejection.IDENTITY_REVOKED, f"identity {value} is revoked")


class SqlRevocations:
    """Revocations in the state database (the default when no Redis is configured)."""

    def __init__(self, engine: sa.Engine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def revoke(self, kind: RevocationKind, value: str, until: datetime) -> None:
        """Deny ``value`` until ``until`` (an earlier end is extended, never shortened)."""
        now = self._clock.now().astimezone(UTC)
        until = until.astimezone(UTC)
        table = token_revocations.c
        this = (table.kind == kind.value) & (table.value == value)
        try:
            with begin_write(self._engine) as conn:
                # Entries whose tokens are all gone deny nothing any more.
                conn.execute(token_revocations.delete().where(table.expires_at <= now))
                end = conn.execute(sa.select(table.expires_at).where(this)).scalar()
                if end is None:
                    row = {"kind": kind.value, "value": value, "revoked_at": now}
                    conn.execute(token_revocations.insert().values(**row, expires_at=until))
                else:
                    conn.execute(
                        token_revocations.update()
                        .where(this & (table.expires_at < until))
                        .values(expires_at=until)
                    )
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "recording a revocation", exc) from exc

    def check(self, jti: str, subject: str) -> None:
        """Raise :class:`AuthenticationError` if the token or its subject is revoked."""
        now = self._clock.now().astimezone(UTC)
        table = token_revocations.c
        query = sa.select(table.kind).where(
            (
                ((table.kind == RevocationKind.TOKEN.value) & (table.value == jti))
                | ((table.kind == RevocationKind.IDENTITY.value) & (table.value == subject))
            )
            & (table.expires_at > now)
        )
        try:
            with self._engine.connect() as conn:
                kinds = {RevocationKind(k) for k in conn.execute(query).scalars()}
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "reading the revocation list", exc) from exc
        if RevocationKind.IDENTITY in kinds:
            raise _rejected(RevocationKind.IDENTITY, subject)
        if RevocationKind.TOKEN in kinds:
            raise _rejected(RevocationKind.TOKEN, jti)


class RedisRevocations:
    """Revocations in Redis, shared by every replica; each expires on its own.

    Keys are ``PREFIX + "revoked:jti:" + jti`` and ``PREFIX + "revoked:sub:" + id``.
    Redis must keep its data across restarts (AOF or RDB): a revocation lost with it
    lets the tokens it denied through until they expire.
    """

    def __init__(self, redis: RedisAdapter, *, clock: Clock, prefix: str = "ramparts:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix

    def _key(self, kind: RevocationKind, value: str) -> str:
        return f"{self._prefix}revoked:{kind.value}:{value}"

    def revoke(self, kind: RevocationKind, value: str, until: datetime) -> None:
        """Deny ``value`` until ``until`` (an earlier end is extended, never shortened)."""
        ms = int((until - self._clock.now()).total_seconds() * 1000) + 1
        if ms > 0:
            self._redis.eval_script(_EXTEND, [self._key(kind, value)], [ms])

    def check(self, jti: str, subject: str) -> None:
        """Raise :class:`AuthenticationError` if the token or its subject is revoked."""
        keys = [self._key(RevocationKind.TOKEN, jti), self._key(RevocationKind.IDENTITY, subject)]
        reply = self._redis.eval_script(_CHECK, keys)
        if not isinstance(reply, list) or len(reply) != 2:
            raise StoreError(f"unexpected reply from Redis to a revocation check: {reply!r}")
        token, identity = reply
        if identity:
            raise _rejected(RevocationKind.IDENTITY, subject)
        if token:
            raise _rejected(RevocationKind.TOKEN, jti)
