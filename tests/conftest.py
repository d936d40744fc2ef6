"""Shared fixtures: databases and Redis.

PostgreSQL and Redis tests run against real servers named by
``RAMPARTS_TEST_POSTGRES_URL`` and ``RAMPARTS_TEST_REDIS_URL`` (``.ci/run`` starts them).
Without them these tests skip with a reason, unless ``RAMPARTS_REQUIRE_SERVICES=1``
(set in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ramparts.store import create_engine


def _service_url(var: str, what: str) -> str:
    url = os.environ.get(var)
    if url:
        return url
    message = f"{what} tests need a real server: set {var} (.ci/run does)"
    if os.environ.get("RAMPARTS_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; RAMPARTS_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a fresh directory that does not exist yet."""
    return f"sqlite:///{tmp_path / 'state' / 'ramparts.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    admin_url = _service_url("RAMPARTS_TEST_POSTGRES_URL", "PostgreSQL")
    name = f"ramparts_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(admin_url).set(database=name)
        yield url.render_as_string(hide_password=False)
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
    return _service_url("RAMPARTS_TEST_REDIS_URL", "Redis")
