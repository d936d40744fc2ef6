"""Shared fixtures: databases and Redis, for the store and every layer above it.

PostgreSQL and Redis tests run against real servers named by
``RAMPARTS_TEST_POSTGRES_URL`` (an admin URL; each test gets its own fresh database)
and ``RAMPARTS_TEST_REDIS_URL``; ``source .ci/services.sh`` starts both and sets them.
Without them these tests skip with a reason, unless ``RAMPARTS_REQUIRE_SERVICES=1``
(set in CI), which turns the skip into a failure.

- ``sqlite_url``: a SQLite file in a directory that does not exist yet.
- ``postgres_url``: a fresh PostgreSQL database, dropped after the test.
- ``db_url``: parametrized, ``[sqlite]`` and ``[postgres]`` (marked ``postgres``).
- ``redis_url``: the test server; ``redis_prefix``: a key prefix of this test, whose
  keys are deleted afterwards. Tests using them are marked ``redis``.
- ``cli``: runs ``ramparts ARGV`` in this process and returns (exit code, stdout, stderr).
- ``serve``: serves an ASGI app with uvicorn on a free loopback port, in a thread, and
  returns its base URL; every server is stopped (lifespan shutdown run) after the test.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ramparts.store import create_engine

pytest_plugins = ["pytester"]

POSTGRES_ENV = "RAMPARTS_TEST_POSTGRES_URL"
REDIS_ENV = "RAMPARTS_TEST_REDIS_URL"
REQUIRE_ENV = "RAMPARTS_REQUIRE_SERVICES"


def _service_url(var: str, what: str) -> str:
    url = os.environ.get(var, "")
    if url:
        return url
    message = f"{what} tests need a real server: set {var} (source .ci/services.sh)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message}; {REQUIRE_ENV}=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a fresh directory that does not exist yet."""
    return f"sqlite:///{(tmp_path / 'state' / 'ramparts.db').as_posix()}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    admin_url = _service_url(POSTGRES_ENV, "PostgreSQL")
    name = f"ramparts_test_{uuid.uuid4().hex[:16]}"
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE ends sessions a failed test left open (engines not disposed).
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on SQLite and on a real PostgreSQL server."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL."""
    return _service_url(REDIS_ENV, "Redis")


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test; every key under it is deleted afterwards."""
    import redis  # noqa: PLC0415 - only Redis tests need the package

    prefix = f"ramparts-test:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


CliRun = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """Run ``ramparts ARGV`` in this process: ``(exit code, stdout, stderr)``."""
    from ramparts.cli import main  # noqa: PLC0415

    def run(argv: list[str]) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(argv)
        out, err = capsys.readouterr()
        code = info.value.code
        return (code if isinstance(code, int) else 0), out, err

    return run


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Start ASGI apps on free loopback ports; each call returns the app's base URL."""
    import uvicorn  # noqa: PLC0415

    running: list[tuple[Any, threading.Thread, socket.socket]] = []

    def start(app: Any) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread, sock))
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread, sock in reversed(running):
        server.should_exit = True
        thread.join(10)
        sock.close()
