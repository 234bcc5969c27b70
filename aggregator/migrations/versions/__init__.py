"""The revisions, oldest first by their four-digit ids; Alembic reads them, nothing imports them."""
