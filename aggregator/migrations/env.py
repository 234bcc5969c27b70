"""The migration environment: runs the revisions in versions/ on the connection it is given.

`aggregator.store_migrate` opens that connection (our engine, one transaction, a lock) and
passes it as `config.attributes["connection"]`; the options come from
`store_migrate.CONTEXT_OPTIONS`. There is no alembic.ini and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

from aggregator.store_migrate import CONTEXT_OPTIONS

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("migrations run through `aggregator db upgrade`, on a live connection")
context.configure(connection=connection, **CONTEXT_OPTIONS)
with context.begin_transaction():
    context.run_migrations()
