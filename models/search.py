"""The search index: one document per entity or slide, and the shapes /search answers with.

`search_document` is an ordinary table on both dialects. The full-text index over it is made by
the migration and differs by dialect: on SQLite an external-content FTS5 table `search_fts` kept
in step by triggers, on PostgreSQL a GIN index over `search_document_vector(name, terms, body)`.
Neither is declared here, so `include_name` keeps them out of Alembic's model comparison.
"""

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.base import SLUG_MAX

SEARCH_KINDS = ("lab", "paper", "model", "technique", "slide")
SearchKind = Literal["lab", "paper", "model", "technique", "slide"]

# Made by the migration, not by the models (see the module docstring).
FTS_TABLE_PREFIX = "search_fts"
VECTOR_INDEX = "ix_search_document_vector"


class SearchDocument(SQLModel, table=True):
    """What search sees of one entity or slide, rebuilt from the graph by `reindex`."""

    __tablename__ = "search_document"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in SEARCH_KINDS)})", name="kind"),
        UniqueConstraint("kind", "entity_id", name="uq_search_document_kind_entity_id"),
    )

    # An integer key of its own: FTS5 external content needs a stable rowid (VACUUM may renumber
    # the implicit rowid of a table whose primary key is not an INTEGER PRIMARY KEY).
    id: int | None = SQLField(default=None, primary_key=True)
    kind: str = SQLField(max_length=10)
    entity_id: int
    # The entity's slug; for a slide, its deck's slug (and `number`).
    slug: str = SQLField(max_length=SLUG_MAX)
    number: int | None = SQLField(default=None)
    name: str = SQLField(max_length=500)
    # Identifiers: slug, aliases, family, arXiv id, joined by " · ".
    terms: str = SQLField(default="", sa_type=Text)
    # Prose: description, summary, key idea, authors, slide text.
    body: str = SQLField(default="", sa_type=Text)


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic `include_name`: skip the full-text objects that only the migration manages."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE_PREFIX)
    if type_ == "index":
        return name != VECTOR_INDEX
    return True


class SearchHit(BaseModel):
    """One match: an entity or a slide, with where the query matched."""

    kind: SearchKind
    slug: str = Field(description="The entity's slug; for a slide, its deck's slug.")
    number: int | None = Field(default=None, description="The slide's number (slides only).")
    name: str = Field(description="Name or title.")
    url: str = Field(
        examples=["/models/mixtral-8x7b", "/decks/4-open-source-llm-milestones/slides/9"]
    )
    score: float = Field(description="Relevance, higher first; comparable within one answer only.")
    snippet: str = Field(
        description="Where it matched, matched words marked «like this».",
        examples=["…introduced multi-head «latent» attention, which compresses…"],
    )


class Suggestion(BaseModel):
    """An entity whose name, slug or alias starts with what was typed."""

    kind: Literal["lab", "paper", "model", "technique"]
    slug: str
    name: str
    url: str = Field(examples=["/models/deepseek-v2"])


class Resolved(BaseModel):
    """Where an identifier leads (also in the `Location` header)."""

    kind: Literal["lab", "paper", "model", "technique"]
    slug: str
    url: str = Field(examples=["/papers/arxiv-2407.21783"])
