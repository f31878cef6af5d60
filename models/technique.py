"""Techniques: attention variants, architectures, training and alignment methods."""

from sqlalchemy import JSON, CheckConstraint, String
from sqlmodel import Field, SQLModel

from models.base import SLUG_MAX, TechniqueCategory, TimestampMixin, in_values
from models.paper import SlideRef
from models.schemas import EntityLink, PaperLink, SourcePublic


class TechniqueBase(SQLModel):
    slug: str = Field(max_length=SLUG_MAX, unique=True, index=True)
    name: str = Field(max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    category: TechniqueCategory = Field(sa_type=String(20), index=True)
    description: str | None = Field(default=None, max_length=1000)


class Technique(TechniqueBase, TimestampMixin, table=True):
    __table_args__ = (
        CheckConstraint(in_values("category", TechniqueCategory), name="category"),
        CheckConstraint("refines_id IS NULL OR refines_id <> id", name="no_self_refine"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The paper that first proposed the technique; "introduced" is derived from it, never stored.
    proposed_in_id: int | None = Field(
        default=None, foreign_key="paper.id", ondelete="RESTRICT", index=True
    )
    refines_id: int | None = Field(
        default=None, foreign_key="technique.id", ondelete="RESTRICT", index=True
    )
    created_by: str | None = Field(default=None, max_length=80)
    updated_by: str | None = Field(default=None, max_length=80)


class TechniquePublic(SQLModel):
    slug: str
    name: str
    url: str
    aliases: list[str]
    category: TechniqueCategory
    description: str | None
    proposed_in: PaperLink | None = Field(description="The paper that first proposed it.")
    proposed_date: str | None
    refines: EntityLink | None
    role: str | None = Field(
        default=None, description="In a model's technique list: introduced, uses, does_not_use."
    )


class TechniqueDetail(TechniquePublic):
    """A technique with what refines it, who introduced it and its sources."""

    refined_by: list[EntityLink]
    introduced_by: list[EntityLink]
    adopters_count: int
    slides: list[SlideRef]
    sources: list[SourcePublic]
    links: dict[str, str]
