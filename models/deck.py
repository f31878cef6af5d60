"""The sources themselves: slide decks, their slides, and the resources and questions they list."""

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import SLUG_MAX, TimestampMixin


class Deck(TimestampMixin, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=SLUG_MAX, unique=True, index=True)
    title: str = Field(max_length=300)
    file_name: str = Field(max_length=300)
    sha256: str = Field(max_length=64)


class Slide(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("deck_id", "number", name="uq_slide_deck_id_number"),)

    id: int | None = Field(default=None, primary_key=True)
    # A slide belongs to its deck: re-ingesting or deleting a deck takes its slides with it.
    deck_id: int = Field(foreign_key="deck.id", ondelete="CASCADE", index=True)
    number: int
    title: str = Field(max_length=300)
    body: str = Field(sa_type=Text)


class SlideItem(SQLModel, table=True):
    """One row of a slide's structured content: a summary row, a reading link or a question."""

    __tablename__ = "slide_item"
    __table_args__ = (
        CheckConstraint("kind IN ('summary', 'resource', 'question')", name="kind"),
        Index("ix_slide_item_slide_id_position", "slide_id", "position", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    slide_id: int = Field(foreign_key="slide.id", ondelete="CASCADE")
    position: int
    kind: str = Field(max_length=10)
    text: str = Field(max_length=1000)
    url: str | None = Field(default=None, max_length=500)
    detail: str | None = Field(default=None, max_length=1000)
