"""Response shapes of the timeline, the "who introduced what" answers and model lineage."""

from typing import Literal

from pydantic import BaseModel, Field

from models.base import DatePrecision
from models.schemas import EntityLink, PaperLink, SourcePublic

EventKind = Literal["model", "paper", "technique"]
Role = Literal["introduced", "uses"]
ReducedDate = Field(description="ISO 8601 at `date_precision`: 2023, 2023-07 or 2023-07-18.")


# --- /timeline ---------------------------------------------------------------------------------


class TimelineEntity(EntityLink):
    kind: EventKind


class TimelineEvent(BaseModel):
    """One dated event: a model released, a paper published or a technique proposed."""

    date: str = ReducedDate
    date_precision: DatePrecision
    kind: EventKind
    title: str = Field(examples=["Llama 2 released"])
    summary: str | None = Field(description="One line: model summary, paper key idea or author.")
    lab: EntityLink | None
    entity: TimelineEntity


class TimelineGroup(BaseModel):
    """The events of one year or month."""

    key: str = Field(examples=["2024", "2024-07"])
    label: str = Field(examples=["2024", "July 2024"])
    count: int
    events: list[TimelineEvent]


class TimelineGroups(BaseModel):
    """Every matching event (up to the cap), in buckets; never paged."""

    items: list[TimelineGroup]
    next: None = None
    truncated: bool = Field(description="True when more events matched than one answer holds.")


# --- who introduced what -----------------------------------------------------------------------


class DatedModelLink(EntityLink):
    release_date: str | None = ReducedDate
    date_precision: DatePrecision | None = None
    lab: EntityLink | None = None


class ProposingPaper(PaperLink):
    title: str
    published_date: str | None = ReducedDate
    date_precision: DatePrecision | None = None
    lab: EntityLink | None = None


class SourcedPaper(ProposingPaper):
    sources: list[SourcePublic] = Field(description="Where the proposal is stated.")


class TechniqueSummary(EntityLink):
    category: str
    aliases: list[str]
    description: str | None


class Introducer(DatedModelLink):
    sources: list[SourcePublic]


class Adopter(DatedModelLink):
    role: Role
    sources: list[SourcePublic]


class FirstAdopter(DatedModelLink):
    role: Role


class TechniqueIntroductions(BaseModel):
    """Who proposed a technique, which model introduced it, and who adopted it when."""

    technique: TechniqueSummary
    proposed_in: SourcedPaper | None = Field(
        description="The paper that first proposed it; null when its origin is not verified."
    )
    introduced_by: list[Introducer] = Field(description="Models whose own paper proposed it.")
    first_adopter: FirstAdopter | None = Field(description="The earliest model using it.")
    adopters: list[Adopter] = Field(description="Every model using it, by release date.")
    not_used_by: list[Introducer] = Field(description="Models sourced as not using it.")


class TechniqueOfModel(EntityLink):
    category: str
    proposed_in: ProposingPaper | None
    sources: list[SourcePublic]


class AdoptedTechnique(TechniqueOfModel):
    first_in_graph: bool = Field(description="No model in the graph used it earlier.")


class ModelIntroductions(BaseModel):
    """What one model introduced, what it adopted from others, and what it does not use."""

    model: DatedModelLink
    introduced: list[TechniqueOfModel]
    adopted: list[AdoptedTechnique]
    does_not_use: list[TechniqueOfModel]


class TechniqueLink(EntityLink):
    category: str


class IntroductionRow(BaseModel):
    """One technique: its proposing paper, the model that introduced it, its first adopter."""

    technique: TechniqueLink
    introduced_by: list[DatedModelLink]
    paper: ProposingPaper | None
    date: str | None = ReducedDate
    date_precision: DatePrecision | None
    first_adopter: DatedModelLink | None
    adopters_count: int


class IntroductionTable(BaseModel):
    items: list[IntroductionRow]
    next: None = None


# --- lineage -----------------------------------------------------------------------------------


class LineageEntry(EntityLink):
    depth: int = Field(description="1 for the parent (or a child), 2 for the next generation …")
    derivation: str | None = Field(description="successor, architecture, weights or distilled.")
    release_date: str | None = ReducedDate
    date_precision: DatePrecision | None


class Descendant(LineageEntry):
    parent: str = Field(description="Slug of the model it derives from directly.")


class Lineage(BaseModel):
    """A model's ancestors (parent first) and every model derived from it, at any depth."""

    model: DatedModelLink
    ancestors: list[LineageEntry]
    descendants: list[Descendant]
