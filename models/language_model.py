"""Language models: the releases on the timeline (table `model`, path `/models`)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from models.base import SLUG_MAX, DatePrecision, Derivation, TimestampMixin, in_values
from models.paper import SlideRef
from models.schemas import EntityLink, LineageLink, PaperLink, SourcePublic


class LanguageModelBase(SQLModel):
    slug: str = Field(max_length=SLUG_MAX, unique=True, index=True)
    name: str = Field(max_length=200)
    family: str | None = Field(default=None, max_length=80, index=True)
    release_date: date | None = Field(default=None)
    date_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=String(5))
    open_weights: bool = Field(default=True, index=True)
    parameters: int | None = Field(default=None, sa_type=BigInteger, index=True)
    active_parameters: int | None = Field(default=None, sa_type=BigInteger)
    sizes: str | None = Field(default=None, max_length=200)
    context_length: int | None = Field(default=None)
    license: str | None = Field(default=None, max_length=300)
    derivation: Derivation | None = Field(default=None, sa_type=String(20))
    summary: str | None = Field(default=None, max_length=1000)


class LanguageModel(LanguageModelBase, TimestampMixin, table=True):
    __tablename__ = "model"
    __table_args__ = (
        CheckConstraint(in_values("date_precision", DatePrecision), name="precision"),
        CheckConstraint(in_values("derivation", Derivation), name="derivation"),
        CheckConstraint("parameters IS NULL OR parameters >= 0", name="parameters"),
        CheckConstraint(
            "active_parameters IS NULL OR (active_parameters >= 0 AND "
            "(parameters IS NULL OR active_parameters <= parameters))",
            name="active_parameters",
        ),
        CheckConstraint("derived_from_id IS NULL OR derived_from_id <> id", name="no_self_lineage"),
        # Timeline and lab pages sort by date then slug; keyset paging walks this index.
        Index("ix_model_release_date_slug", "release_date", "slug"),
        Index("ix_model_lab_id_release_date", "lab_id", "release_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # RESTRICT: a lab, paper or parent model cannot vanish under the models that cite it (409).
    lab_id: int | None = Field(default=None, foreign_key="lab.id", ondelete="RESTRICT")
    paper_id: int | None = Field(
        default=None, foreign_key="paper.id", ondelete="RESTRICT", index=True
    )
    derived_from_id: int | None = Field(
        default=None, foreign_key="model.id", ondelete="RESTRICT", index=True
    )
    created_by: str | None = Field(default=None, max_length=80)
    updated_by: str | None = Field(default=None, max_length=80)


class LanguageModelPublic(SQLModel):
    slug: str
    name: str
    url: str
    family: str | None
    release_date: str | None = Field(description="ISO 8601 at `date_precision`: 2023, 2023-07 …")
    date_precision: DatePrecision
    open_weights: bool
    parameters: int | None = Field(description="Total parameters (largest released size).")
    active_parameters: int | None = Field(description="Active per token (mixture of experts).")
    sizes: str | None
    context_length: int | None
    license: str | None
    summary: str | None = Field(description="What the model brought, in one sentence.")
    lab: EntityLink | None
    paper: PaperLink | None
    derived_from: LineageLink | None
    role: str | None = Field(
        default=None, description="In a technique's model list: introduced, uses, does_not_use."
    )


class TechniqueUse(SQLModel):
    slug: str
    name: str
    url: str
    category: str
    role: str = Field(description="introduced, uses or does_not_use")
    sources: list[SourcePublic]


class LanguageModelDetail(LanguageModelPublic):
    """A model with its lab, paper, parent and techniques, each fact with its sources."""

    techniques: list[TechniqueUse]
    slides: list[SlideRef]
    sources: list[SourcePublic]
    links: dict[str, str]
    created_at: datetime
    updated_at: datetime
