"""Fixtures of the identity and token tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ramparts.store import create_engine, upgrade


@pytest.fixture
def state_db(db_url: str) -> Iterator[sa.Engine]:
    """A migrated state database, on SQLite and on PostgreSQL (``db_url``)."""
    engine = create_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()
