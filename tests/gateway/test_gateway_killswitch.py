from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from ramparts.core.clock import FrozenClock
from ramparts.errors import InputError
from ramparts.gateway.interface import LimiterUnavailableError
from ramparts.gateway.killswitch import (
    GLOBAL_VALUE,
    Kill,
    KillScope,
    KillSwitch,
    RedisKillSwitch,
    RedisKillSwitchAdmin,
    SqlKillSwitch,
    SqlKillSwitchAdmin,
)
from ramparts.store import create_engine, upgrade

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CLOSED_PORT = "redis://:hunter2@127.0.0.1:1/0"
# How long a check may wait for a read where a test asserts what that read returned: a
# loaded test machine must not turn a slow read into a stale answer.
WAIT = 30.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """A migrated state database, on SQLite and on PostgreSQL."""
    engine = create_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def break_table(engine: sa.Engine, broken: bool) -> None:
    """Make the table unreadable (an outage of the store), or readable again."""
    old, new = (
        ("gateway_kills", "gateway_kills_away")
        if broken
        else ("gateway_kills_away", "gateway_kills")
    )
    with engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))


async def exercise_scopes(switch: KillSwitch) -> None:
    """Engage, check and release every scope, and their precedence."""
    assert await switch.check("m1", "alice") is None
    assert await switch.engaged() == []

    kill = await switch.engage("model", "m1", reason="leaking data", actor="oncall")
    assert (kill.scope, kill.value, kill.reason, kill.actor) == (
        KillScope.MODEL,
        "m1",
        "leaking data",
        "oncall",
    )
    assert await switch.check("m1", "alice") == kill
    assert await switch.check("m2", "alice") is None
    assert await switch.check(None, "alice") is None

    who = await switch.engage(KillScope.IDENTITY, "mallory", reason="abuse", actor="oncall")
    assert await switch.check("m2", "mallory") == who
    assert await switch.check(None, "mallory") == who
    # A request that two switches stop reports the broader one.
    assert await switch.check("m1", "mallory") == kill

    everything = await switch.engage("global", reason="incident 42", actor="ciso")
    assert everything.value == GLOBAL_VALUE
    for model, identity in (("m1", "alice"), ("m2", "mallory"), (None, None)):
        assert await switch.check(model, identity) == everything
    assert [k.scope for k in await switch.engaged()] == [
        KillScope.GLOBAL,
        KillScope.MODEL,
        KillScope.IDENTITY,
    ]

    assert await switch.release("global", actor="ciso") == everything
    assert await switch.release("global", actor="ciso") is None
    assert await switch.check("m2", "alice") is None
    assert await switch.release("model", "m1", actor="oncall") == kill
    assert await switch.check("m1", "alice") is None
    assert await switch.release("identity", "mallory", actor="oncall") == who
    assert await switch.engaged() == []


# Values


@pytest.mark.parametrize(
    ("scope", "value", "reason", "actor", "message"),
    [
        ("region", "eu", "r", "a", "unknown kill switch scope"),
        ("global", "m1", "r", "a", "global kill switch takes no value"),
        ("model", None, "r", "a", "needs the model"),
        ("identity", "", "r", "a", "needs the identity"),
        ("model", "m1", " ", "a", "needs a reason"),
        ("model", "m1", "r", "", "needs the actor"),
    ],
)
def test_kills_validate_themselves(
    scope: str, value: str | None, reason: str, actor: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        Kill(scope, value, reason, actor, T0)  # type: ignore[arg-type]


def test_kill_times_are_kept_in_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=2)))
    assert Kill(KillScope.MODEL, "m", "r", "a", local).at.tzinfo is UTC
    with pytest.raises(InputError, match="timezone-aware"):
        Kill(KillScope.MODEL, "m", "r", "a", datetime(2025, 1, 1))


# In the state database, on SQLite and on PostgreSQL


def test_sql_engage_check_release_every_scope(engine: sa.Engine) -> None:
    async def scenario() -> None:
        await exercise_scopes(
            SqlKillSwitch(engine, wall=FrozenClock(T0), max_wait=WAIT, cold_wait=WAIT)
        )

    run(scenario())


def test_sql_a_second_replica_sees_a_flip_after_one_refresh(engine: sa.Engine) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        one = SqlKillSwitch(engine, clock=clock, max_wait=WAIT, cold_wait=WAIT)
        two = SqlKillSwitch(engine, clock=clock, max_wait=WAIT, cold_wait=WAIT)
        assert await two.check("m1", "alice") is None  # snapshot taken
        kill = await one.engage("model", "m1", reason="bad outputs", actor="oncall")
        # Effective at once where it was engaged, at the next refresh elsewhere.
        assert await one.check("m1", "alice") == kill
        clock.now += 0.9
        assert await two.check("m1", "alice") is None
        clock.now += 0.1
        assert await two.check("m1", "alice") == kill
        await one.release("model", "m1", actor="oncall")
        assert await two.check("m1", "alice") == kill
        clock.now += 1.0
        assert await two.check("m1", "alice") is None

    run(scenario())


def test_sql_the_cli_admin_and_the_gateway_share_the_table(engine: sa.Engine) -> None:
    clock = FakeClock()
    admin = SqlKillSwitchAdmin(engine, wall=FrozenClock(T0))
    gateway = SqlKillSwitch(engine, clock=clock, max_wait=WAIT, cold_wait=WAIT)

    async def check() -> Kill | None:
        return await gateway.check("m1", "alice")

    async def scenario() -> None:
        assert await check() is None
        kill = await asyncio.to_thread(
            admin.engage, "identity", "alice", reason="key leaked", actor="bob"
        )
        assert kill.at == T0
        clock.now += 1.0
        assert await check() == kill
        again = await asyncio.to_thread(
            admin.engage, "identity", "alice", reason="still leaked", actor="carol"
        )
        assert await asyncio.to_thread(admin.engaged) == [again]
        clock.now += 1.0
        found = await check()
        assert found is not None
        assert (found.reason, found.actor) == ("still leaked", "carol")
        assert await asyncio.to_thread(admin.release, "identity", "alice", actor="bob") == again
        clock.now += 1.0
        assert await check() is None

    run(scenario())
    with pytest.raises(InputError, match="actor"):
        admin.release("identity", "alice", actor=" ")


def test_sql_unreadable_store_serves_the_snapshot_for_the_grace_then_fails_closed(
    engine: sa.Engine,
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        switch = SqlKillSwitch(
            engine, clock=clock, refresh=1.0, grace=5.0, max_wait=WAIT, cold_wait=WAIT
        )
        kill = await switch.engage("model", "m1", reason="r", actor="a")
        await switch.refresh()
        break_table(engine, broken=True)
        # Within the grace period: the last snapshot still answers (and still stops m1).
        for _ in range(4):
            clock.now += 1.2
            assert await switch.check("m1", "alice") == kill
            assert await switch.check("m2", "alice") is None
        clock.now += 0.3
        with pytest.raises(LimiterUnavailableError, match="kill switch state cannot be read"):
            await switch.check("m2", "alice")
        with pytest.raises(LimiterUnavailableError):
            await switch.engaged()
        # Back: the next read (retried every refresh interval) serves again.
        break_table(engine, broken=False)
        clock.now += 1.0
        assert await switch.check("m2", "alice") is None
        assert await switch.check("m1", "alice") == kill

    run(scenario())


def test_sql_a_replica_that_never_read_the_state_refuses_at_once(engine: sa.Engine) -> None:
    break_table(engine, broken=True)

    async def scenario() -> None:
        switch = SqlKillSwitch(engine, clock=FakeClock())
        with pytest.raises(LimiterUnavailableError):
            await switch.check("m1", "alice")
        with pytest.raises(LimiterUnavailableError):
            await switch.engage("model", "m1", reason="r", actor="a")

    run(scenario())
    with pytest.raises(LimiterUnavailableError, match="reading the kill switch"):
        SqlKillSwitchAdmin(engine).engaged()
    break_table(engine, broken=False)


@pytest.mark.postgres
def test_a_hung_read_never_holds_requests_past_max_wait(postgres_url: str) -> None:
    """A read blocked by a table lock: checks answer from the snapshot, then fail closed."""
    engine = create_engine(postgres_url)
    upgrade(engine)
    clock = FakeClock()
    locker = engine.connect()
    try:

        async def scenario() -> None:
            switch = SqlKillSwitch(
                engine, clock=clock, refresh=1.0, grace=3.0, max_wait=0.05, cold_wait=0.05
            )
            kill = await switch.engage("model", "m1", reason="r", actor="a")
            await switch.refresh()
            transaction = locker.begin()
            locker.execute(sa.text("LOCK TABLE gateway_kills IN ACCESS EXCLUSIVE MODE"))
            clock.now += 1.5
            assert await switch.check("m1", "alice") == kill  # the read hangs; snapshot answers
            clock.now += 2.0
            with pytest.raises(LimiterUnavailableError, match="no answer in time"):
                await switch.check("m1", "alice")
            transaction.rollback()
            # The hung read lands once the lock is gone; then checks answer again.
            for _ in range(200):
                await asyncio.sleep(0.05)
                if switch._task is None:
                    break
            assert await switch.check("m1", "alice") == kill

        run(scenario())
    finally:
        locker.close()
        engine.dispose()


def test_sql_an_unknown_row_fails_closed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO gateway_kills (scope, value, reason, actor, at) "
                "VALUES ('region', 'eu', 'r', 'a', :at)"
            ),
            {"at": T0},
        )

    async def scenario() -> None:
        with pytest.raises(LimiterUnavailableError, match="unreadable kill switch row"):
            await SqlKillSwitch(engine, clock=FakeClock()).check("m1", "alice")

    run(scenario())
    with pytest.raises(LimiterUnavailableError, match="unreadable kill switch row"):
        SqlKillSwitchAdmin(engine).engaged()


def test_sql_settings_are_checked(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with pytest.raises(InputError, match="refresh"):
        SqlKillSwitch(engine, refresh=0)
    with pytest.raises(InputError, match="grace"):
        SqlKillSwitch(engine, refresh=2, grace=1)


# Redis


def test_redis_unreachable_fails_closed_without_the_password() -> None:
    async def scenario() -> None:
        async with RedisKillSwitch(CLOSED_PORT, clock=FakeClock()) as switch:
            with pytest.raises(LimiterUnavailableError) as info:
                await switch.check("m1", "alice")
            assert "hunter2" not in str(info.value)
            with pytest.raises(LimiterUnavailableError):
                await switch.engage("global", reason="r", actor="a")

    run(scenario())
    admin = RedisKillSwitchAdmin(CLOSED_PORT, timeout=0.5)
    with pytest.raises(LimiterUnavailableError) as info:
        admin.engaged()
    assert "hunter2" not in str(info.value)
    admin.close()


@pytest.mark.redis
def test_redis_engage_check_release_every_scope(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> None:
        async with RedisKillSwitch(
            redis_url, prefix=redis_prefix, max_wait=WAIT, cold_wait=WAIT
        ) as switch:
            await exercise_scopes(switch)

    run(scenario())


@pytest.mark.redis
def test_redis_a_second_replica_and_the_cli_see_a_flip_after_one_refresh(
    redis_url: str, redis_prefix: str
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with (
            RedisKillSwitch(redis_url, prefix=redis_prefix, clock=clock, max_wait=WAIT) as one,
            RedisKillSwitch(redis_url, prefix=redis_prefix, clock=clock, max_wait=WAIT) as two,
        ):
            assert await two.check("m1", "alice") is None
            kill = await one.engage("model", "m1", reason="bad outputs", actor="oncall")
            assert await one.check("m1", "alice") == kill
            assert await two.check("m1", "alice") is None
            clock.now += 1.0
            assert await two.check("m1", "alice") == kill
            # The CLI, in another process, releases it; then engages the global switch.
            with RedisKillSwitchAdmin(redis_url, prefix=redis_prefix) as admin:
                assert await asyncio.to_thread(admin.engaged) == [kill]
                assert await asyncio.to_thread(admin.release, "model", "m1", actor="x") == kill
                stop = await asyncio.to_thread(admin.engage, "global", reason="r", actor="x")
            clock.now += 1.0
            assert await one.check("m2", "bob") == stop
            assert await two.check("m2", "bob") == stop
            assert await two.engaged() == [stop]

    run(scenario())


@pytest.mark.redis
def test_redis_outage_serves_the_snapshot_for_the_grace_then_fails_closed(
    redis_prefix: str, tcp_proxy: Callable[[], Any]
) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        proxy = tcp_proxy()
        await proxy.start()
        async with RedisKillSwitch(
            proxy.url(),
            prefix=redis_prefix,
            clock=clock,
            grace=3.0,
            timeout=0.5,
            max_wait=WAIT,
            cold_wait=WAIT,
        ) as switch:
            kill = await switch.engage("identity", "mallory", reason="r", actor="a")
            await switch.refresh()
            await proxy.stop()
            clock.now += 2.5
            assert await switch.check(None, "mallory") == kill
            assert await switch.check(None, "alice") is None
            clock.now += 1.0
            with pytest.raises(LimiterUnavailableError, match="cannot be read"):
                await switch.check(None, "alice")
            await proxy.start()
            clock.now += 1.0
            assert await switch.check(None, "mallory") == kill
            await proxy.stop()

    run(scenario())


@pytest.mark.redis
def test_redis_a_corrupt_entry_fails_closed(redis_url: str, redis_prefix: str) -> None:
    import redis  # noqa: PLC0415

    with redis.Redis.from_url(redis_url) as raw:
        raw.hset(redis_prefix + "kills", "model:m1", b"{not json")

    async def scenario() -> None:
        async with RedisKillSwitch(redis_url, prefix=redis_prefix) as switch:
            with pytest.raises(LimiterUnavailableError, match="unreadable kill switch entry"):
                await switch.check("m2", "alice")

    run(scenario())
