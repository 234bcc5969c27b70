"""The migration environment (Alembic): env.py, script.py.mako and the revisions in versions/.

Found as package data (`aggregator:migrations`), so an installed wheel migrates without an
alembic.ini; `aggregator.store_migrate` runs it. To add a revision after changing schema.py:
`python -m aggregator.migrations "what changed"` (see __main__ and docs/migrations.md).
"""
