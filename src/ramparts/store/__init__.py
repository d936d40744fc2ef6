"""State: the SQL database (SQLite by default, PostgreSQL by URL) and Redis (tier 1).

::

    engine = create_engine(settings.sqlalchemy_url())
    upgrade(engine)                       # apply migrations; safe to repeat
    ScanRunStore(engine).record(run)      # history of scan runs
    engine.dispose()

:class:`~ramparts.store.redis.RedisAdapter` lives in ``ramparts.store.redis`` and needs
the optional ``redis`` package; importing this package does not import it.
"""

from ramparts.store.engine import begin_write, create_engine, ping, redact_url
from ramparts.store.interface import MigrationError, ScanRunHistory, ScanRunRecord, StoreError
from ramparts.store.migrate import current_revision, head_revision, require_current, upgrade
from ramparts.store.runs import ScanRunStore

__all__ = [
    "MigrationError",
    "ScanRunHistory",
    "ScanRunRecord",
    "ScanRunStore",
    "StoreError",
    "begin_write",
    "create_engine",
    "current_revision",
    "head_revision",
    "ping",
    "redact_url",
    "require_current",
    "upgrade",
]
