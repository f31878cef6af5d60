"""Labs: the organisations that develop models and publish papers."""

from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from models.base import SLUG_MAX, LabKind, TimestampMixin, in_values
from models.schemas import EntityLink, PaperLink, SourcePublic


class LabBase(SQLModel):
    slug: str = Field(max_length=SLUG_MAX, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: LabKind = Field(default=LabKind.industry, sa_type=String(20), index=True)
    country: str | None = Field(default=None, max_length=2, index=True)
    homepage: str | None = Field(default=None, max_length=500)


class Lab(LabBase, TimestampMixin, table=True):
    __table_args__ = (CheckConstraint(in_values("kind", LabKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    created_by: str | None = Field(default=None, max_length=80)
    updated_by: str | None = Field(default=None, max_length=80)


class LabPublic(SQLModel):
    slug: str
    name: str
    url: str
    kind: LabKind
    country: str | None
    homepage: str | None


class LabDetail(LabPublic):
    """A lab with the models it developed and the papers it published."""

    models: list[EntityLink]
    papers: list[PaperLink]
    sources: list[SourcePublic]
