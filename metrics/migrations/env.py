"""Alembic environment: migrations run on the connection metrics.storage hands over, inside
its write-locked transaction (so there is no alembic.ini and no offline mode)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
