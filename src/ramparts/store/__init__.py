"""State: the SQL database (SQLite by default, PostgreSQL by URL) and Redis (tier 1).

engine = create_engine(settings.sqlalchemy_url())
upgrade(engine)                       # apply migrations, idempotent
ScanRunStore(engine).record(run)      # history of scan runs
"""

from ramparts.store.engine import create_engine, redact_url
from ramparts.store.interface import MigrationError, ScanRunRecord, StoreError
from ramparts.store.migrate import current_revision, head_revision, upgrade
from ramparts.store.runs import ScanRunStore

__all__ = [
    "MigrationError",
    "ScanRunRecord",
    "ScanRunStore",
    "StoreError",
    "create_engine",
    "current_revision",
    "head_revision",
    "redact_url",
    "upgrade",
]
