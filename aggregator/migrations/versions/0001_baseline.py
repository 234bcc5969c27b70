"""baseline: the schema when migrations took over (schema version 5)

A new database gets these tables. A database made before migrations (schema version 1, 2 or
5) keeps its tables and rows and gains, in place, what it lacks: missing tables, columns
(each added since was nullable or had a server default) and indexes. The tables are a frozen
copy: this revision never changes, later ones change the schema. The search index is not
here; schema_search makes it after every upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA_VERSION = 6
"""Written to meta `schema_version`: releases before migrations refuse a database above theirs
(the last was 5), so an older program never opens a migrated database."""

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_UTC = sa.DateTime(timezone=True)  # schema.UTCDateTime's column type
_JSON = sa.Text()  # schema.JSONText's column type


def _tables() -> sa.MetaData:
    frozen = sa.MetaData(naming_convention=_NAMING)
    sources = sa.Table(
        "sources",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("config_url", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("language", sa.String),
        sa.Column("timezone", sa.String),
        sa.Column("interval", sa.Integer),
        sa.Column("headers", _JSON, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_fetched_at", _UTC),
        sa.Column("next_fetch_at", _UTC),
        sa.Column("last_status", sa.String),
        sa.Column("last_error", sa.Text),
        sa.Column("error_streak", sa.Integer, nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("link", sa.Text),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("empty_streak", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hints", _JSON),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_expires", _UTC),
        sa.UniqueConstraint("name"),
        sa.Index(None, "next_fetch_at"),
    )
    sa.Index(
        "ix_sources_due",
        sources.c.next_fetch_at,
        postgresql_where=sources.c.enabled,
        sqlite_where=sources.c.enabled,
    )
    sa.Table(
        "articles",
        frozen,
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("authors", _JSON, nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("enclosures", _JSON, nullable=False),
        sa.Column("published", _UTC, nullable=False),
        sa.Column("updated", _UTC),
        sa.Column("first_seen", _UTC, nullable=False),
        sa.Column("date_is_first_seen", sa.Boolean, nullable=False),
        sa.Column("language", sa.String),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.Column("policy", _JSON),
        sa.Column("story_id", sa.Integer),
        sa.UniqueConstraint("source_id", "article_id"),
        sa.Index(None, "published"),
        sa.Index(None, "source_id", "published"),
        sa.Index(None, "first_seen", "source_id"),
        sa.Index(None, "story_id"),
    )
    sa.Table(
        "article_topics",
        frozen,
        sa.Column(
            "article_pk",
            sa.Integer,
            sa.ForeignKey("articles.pk", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("terms", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("article_pk", "topic"),
        sa.Index(None, "topic", "article_pk"),
    )
    sa.Table(
        "meta",
        frozen,
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    sa.Table(
        "stories",
        frozen,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created", _UTC, nullable=False),
        sa.Column("updated", _UTC, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Index(None, "updated"),
    )
    sa.Table(
        "story_signatures",
        frozen,
        sa.Column(
            "article_pk",
            sa.Integer,
            sa.ForeignKey("articles.pk", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "story_bands",
        frozen,
        sa.Column("band", sa.BigInteger, nullable=False),
        sa.Column("article_pk", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("band", "article_pk"),
        sqlite_with_rowid=False,
    )
    return frozen


def upgrade() -> None:
    """Make the missing tables, columns and indexes; stamp meta with SCHEMA_VERSION."""
    conn = op.get_bind()
    frozen = _tables()
    frozen.create_all(conn)  # only the tables that are missing, with their indexes
    inspector = sa.inspect(conn)
    for table in frozen.sorted_tables:
        have = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                op.add_column(table.name, _detached(column))
        for index in table.indexes:  # an existing table misses the indexes added since
            index.create(conn, checkfirst=True)
    meta = frozen.tables["meta"]
    stored = {key for (key,) in conn.execute(sa.select(meta.c.key))}
    if "data_version" not in stored:
        conn.execute(meta.insert().values(key="data_version", value=0))
    if "schema_version" in stored:
        version = sa.update(meta).where(meta.c.key == "schema_version")
        conn.execute(version.values(value=SCHEMA_VERSION))
    else:
        conn.execute(meta.insert().values(key="schema_version", value=SCHEMA_VERSION))


def _detached(column: sa.Column[object]) -> sa.Column[object]:
    """A copy of `column` to add to its table (a column belongs to one table object)."""
    default = column.server_default
    arg = None  # the baseline's only server default is a string ("0")
    if isinstance(default, sa.DefaultClause) and isinstance(default.arg, str):
        arg = default.arg
    return sa.Column(column.name, column.type, nullable=column.nullable, server_default=arg)


def downgrade() -> None:
    """Not possible: before the baseline there is no migrated schema to go back to."""
    raise NotImplementedError("the baseline is the first revision")
