"""Write a new revision for a change to schema.py: `python -m aggregator.migrations "message"`.

Brings a scratch SQLite database to head, lets Alembic's autogenerate compare it with
schema.py, and writes versions/NNNN_message.py (the next four-digit id) with what it found, as
batch operations that SQLite and PostgreSQL both run. Read and finish it by hand: a renamed
column shows as a drop and an add, data moves are not guessed, and PostgreSQL-only DDL is not
seen. Then run tests/test_migrations.py, which compares a migrated database with schema.py on
both backends.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from aggregator.store_migrate import alembic_config, migration_transaction, revisions, upgrade


def main(argv: list[str]) -> int:
    """Write the revision; print its path. Exit status 2 without a message."""
    message = " ".join(argv).strip()
    if not message or message.startswith("-"):
        print('usage: python -m aggregator.migrations "what changed"', file=sys.stderr)
        return 2
    next_id = f"{int(revisions()[-1].id) + 1:04d}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'scratch.db'}"
        upgrade(url, 30.0)
        with migration_transaction(url, 30.0, "comparing with schema.py") as conn:
            config = alembic_config(conn)
            hooks = {  # format the new file as the rest of the code (ruff, from [dev])
                "hooks": "ruff",
                "ruff.type": "exec",
                "ruff.executable": sys.executable,
                "ruff.options": "-m ruff format REVISION_SCRIPT_FILENAME",
            }
            for key, value in hooks.items():
                config.set_section_option("post_write_hooks", key, value)
            made = command.revision(config, message=message, autogenerate=True, rev_id=next_id)
    scripts = made if isinstance(made, list) else [made]
    for script in scripts:
        if script is not None:
            print(script.path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
