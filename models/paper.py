"""Papers: arXiv reports that describe models or first propose techniques."""

from datetime import date

from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from models.base import SLUG_MAX, DatePrecision, TimestampMixin, in_values
from models.schemas import EntityLink, SourcePublic


class PaperBase(SQLModel):
    slug: str = Field(max_length=SLUG_MAX, unique=True, index=True)
    arxiv_id: str | None = Field(default=None, max_length=20, unique=True, index=True)
    title: str = Field(max_length=500)
    authors: str | None = Field(default=None, max_length=500)
    published_date: date | None = Field(default=None)
    date_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=String(5))
    url: str | None = Field(default=None, max_length=500)
    key_idea: str | None = Field(default=None, max_length=500)


class Paper(PaperBase, TimestampMixin, table=True):
    __table_args__ = (
        CheckConstraint(in_values("date_precision", DatePrecision), name="precision"),
        Index("ix_paper_published_date_slug", "published_date", "slug"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # A lab that is deleted leaves its papers standing, unattributed: the paper is still a fact.
    lab_id: int | None = Field(default=None, foreign_key="lab.id", ondelete="SET NULL", index=True)
    created_by: str | None = Field(default=None, max_length=80)
    updated_by: str | None = Field(default=None, max_length=80)


class PaperPublic(SQLModel):
    slug: str
    name: str
    url: str
    arxiv_id: str | None
    arxiv_url: str | None
    title: str
    authors: str | None = Field(description="First author (or collective author).")
    published_date: str | None = Field(description="ISO 8601 at `date_precision`.")
    date_precision: DatePrecision
    key_idea: str | None = Field(description="From the chapter's summary table.")
    lab: EntityLink | None


class SlideRef(SQLModel):
    deck: str
    number: int
    title: str
    url: str


class PaperDetail(PaperPublic):
    """A paper with the models it describes and the techniques it first proposed."""

    models: list[EntityLink]
    proposed_techniques: list[EntityLink]
    slides: list[SlideRef]
    sources: list[SourcePublic]
