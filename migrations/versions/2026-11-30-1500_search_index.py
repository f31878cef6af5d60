"""Search index: a document per entity and slide, with full-text search on either dialect.

`search_document` is the same table everywhere. The full-text index over it is per dialect:

- SQLite: `search_fts`, an FTS5 table whose content is `search_document` (external content),
  kept in step by three triggers, with prefix indexes for type-ahead.
- PostgreSQL: `search_document_vector(name, terms, body)`, an immutable SQL function that weighs
  name (A) over terms (B) over body (C) with the 'simple' configuration (no stemming, so slugs and
  acronyms stay whole), and a GIN index over it; queries call the same function, so they use it.

Both split text on punctuation the same way, so a query finds the same rows on either dialect.
Rows are written by `api.queries.search.reindex`; the seed fills the index.

Note for later migrations: on SQLite a batch ALTER of `search_document` recreates the table and
drops its triggers, so such a migration must create them again.

Revision ID: 2c292fa6075e
Revises: 65515a0b6818
Create Date: 2026-11-30 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "2c292fa6075e"
down_revision: str | None = "65515a0b6818"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        name, terms, body,
        content = 'search_document', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '2 3'
    )
    """,
    """
    CREATE TRIGGER search_document_after_insert AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts (rowid, name, terms, body)
        VALUES (new.id, new.name, new.terms, new.body);
    END
    """,
    """
    CREATE TRIGGER search_document_after_delete AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts (search_fts, rowid, name, terms, body)
        VALUES ('delete', old.id, old.name, old.terms, old.body);
    END
    """,
    """
    CREATE TRIGGER search_document_after_update AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts (search_fts, rowid, name, terms, body)
        VALUES ('delete', old.id, old.name, old.terms, old.body);
        INSERT INTO search_fts (rowid, name, terms, body)
        VALUES (new.id, new.name, new.terms, new.body);
    END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_document_after_update",
    "DROP TRIGGER IF EXISTS search_document_after_delete",
    "DROP TRIGGER IF EXISTS search_document_after_insert",
    "DROP TABLE IF EXISTS search_fts",
]

POSTGRES_UP = [
    # Punctuation becomes a space before parsing, as FTS5's unicode61 tokenizer does: the parser
    # would otherwise keep "2407.21783" or "deepseek-v2" as one word that a query for "21783"
    # or "v2" cannot find.
    r"""
    CREATE FUNCTION search_document_vector(name text, terms text, body text)
    RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT
            setweight(to_tsvector('simple', regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A')
            || setweight(to_tsvector('simple', regexp_replace(terms, '[[:punct:]]+', ' ', 'g')), 'B')
            || setweight(to_tsvector('simple', regexp_replace(body, '[[:punct:]]+', ' ', 'g')), 'C')
    $$
    """,
    """
    CREATE INDEX ix_search_document_vector ON search_document
    USING gin (search_document_vector(name, terms, body))
    """,
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_search_document_vector",
    "DROP FUNCTION IF EXISTS search_document_vector(text, text, text)",
]


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('lab', 'paper', 'model', 'technique', 'slide')",
            name=op.f("ck_search_document_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
        sa.UniqueConstraint("kind", "entity_id", name=op.f("uq_search_document_kind_entity_id")),
    )
    for statement in _dialect_statements(SQLITE_UP, POSTGRES_UP):
        op.execute(statement)


def downgrade() -> None:
    for statement in _dialect_statements(SQLITE_DOWN, POSTGRES_DOWN):
        op.execute(statement)
    op.drop_table("search_document")


def _dialect_statements(sqlite: list[str], postgresql: list[str]) -> list[str]:
    name = op.get_bind().dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return postgresql
    raise NotImplementedError(f"no full-text search index for the {name} dialect")
