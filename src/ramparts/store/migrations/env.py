"""Alembic environment: runs on the connection that :mod:`ramparts.store.migrate` hands over.

Users never run the ``alembic`` command: ``ramparts db upgrade`` (or
:func:`ramparts.store.upgrade`) opens the transaction, takes the migration lock and
passes the connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from ramparts.store.interface import MigrationError
from ramparts.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise MigrationError("run migrations with ramparts.store.upgrade(engine), not alembic")
# target_metadata carries the naming convention to op.create_table and friends.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
