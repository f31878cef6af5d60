"""The export document, version 1: what each record holds, in what order, and how it is checked.

Every record names other records by slug (sources and mentions by `kind` + `slug`, slides by
`deck` + `number`), never by database id, so a document moves between databases. Dates are ISO
8601 at their precision (`2023`, `2023-07`, `2023-07-18`), as the API writes them; timestamps are
UTC with microseconds (`2024-05-06T10:00:00.000000Z`).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from sqlalchemy import Table

from api.errors import ApiError
from models import tables as t
from models.base import Derivation, EntityKind, LabKind, LinkRelation, TechniqueCategory
from models.writes import ArxivId, Count, PaperSlug, ReducedDate, Slug

FORMAT, VERSION = "paperkg-export", 1
# Validation context for records read from JSON text holding no `\u0000` escape: no string in
# them can hold a NUL, so the check is skipped.
NUL_FREE: dict[str, bool] = {"nul_free": True}
AUDIT = ("created_at", "updated_at", "created_by", "updated_by")
# Any offset is accepted and kept as the same instant in UTC: SQLite stores the wall time alone.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]


class DocumentError(ApiError):
    """The import document is not valid; `detail` names the first bad record."""

    status = 422
    title = "Invalid document"
    type = "invalid-document"

    def __init__(self, where: str, problem: str, **extra: Any) -> None:
        super().__init__(f"{where}: {problem}", record=where, **extra)


@dataclass(frozen=True)
class EntityKindSpec:
    """One entity list of the document: its table and its fields in document order."""

    kind: str
    plural: str
    table: Table
    fields: tuple[str, ...]
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (fk column, kind)
    dates: dict[str, str] = field(default_factory=dict)  # field -> its precision column


ENTITIES: dict[str, EntityKindSpec] = {
    "lab": EntityKindSpec("lab", "labs", t.lab, ("slug", "name", "kind", "country", "homepage")),
    "paper": EntityKindSpec(
        "paper", "papers", t.paper,
        ("slug", "arxiv_id", "title", "authors", "published_date", "url", "key_idea", "lab"),
        refs={"lab": ("lab_id", "lab")}, dates={"published_date": "date_precision"},
    ),
    "model": EntityKindSpec(
        "model", "models", t.model,
        ("slug", "name", "lab", "paper", "derived_from", "derivation", "family", "release_date",
         "open_weights", "parameters", "active_parameters", "sizes", "context_length", "license",
         "summary"),
        refs={"lab": ("lab_id", "lab"), "paper": ("paper_id", "paper"),
              "derived_from": ("derived_from_id", "model")},
        dates={"release_date": "date_precision"},
    ),
    "technique": EntityKindSpec(
        "technique", "techniques", t.technique,
        ("slug", "name", "aliases", "category", "description", "proposed_in", "refines"),
        refs={"proposed_in": ("proposed_in_id", "paper"), "refines": ("refines_id", "technique")},
    ),
}  # fmt: skip
LISTS = ("decks", "labs", "papers", "models", "techniques", "links", "sources", "mentions")


def timestamp(value: datetime | None) -> str | None:
    """A stored timestamp as UTC ISO 8601 with microseconds; SQLite's naive values are UTC."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(limit: int, *, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=limit)


Who = Annotated[str, _text(80)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)]


class Record(BaseModel):
    """Text is kept exactly as given (no trimming): a document must round-trip byte for byte."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is NUL_FREE or not isinstance(data, dict):
            return data
        for value in data.values():
            if isinstance(value, str) and "\x00" in value:
                raise ValueError("text may not contain NUL bytes")
        return data


class Audited(Record):
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    created_by: Who | None = None
    updated_by: Who | None = None


class LabRecord(Audited):
    slug: Slug
    name: Annotated[str, _text(200, min_length=1)]
    kind: LabKind = LabKind.industry
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    homepage: Url | None = None


class PaperRecord(Audited):
    slug: PaperSlug
    arxiv_id: ArxivId | None = None
    title: Annotated[str, _text(500, min_length=1)]
    authors: Annotated[str, _text(500)] | None = None
    published_date: ReducedDate | None = None
    url: Url | None = None
    key_idea: Annotated[str, _text(500)] | None = None
    lab: Slug | None = None


class ModelRecord(Audited):
    slug: Slug
    name: Annotated[str, _text(200, min_length=1)]
    lab: Slug | None = None
    paper: PaperSlug | None = None
    derived_from: Slug | None = None
    derivation: Derivation | None = None
    family: Annotated[str, _text(80)] | None = None
    release_date: ReducedDate | None = None
    open_weights: bool = True
    parameters: Count | None = None
    active_parameters: Count | None = None
    sizes: Annotated[str, _text(200)] | None = None
    context_length: Annotated[int, Field(ge=0, le=10**9)] | None = None
    license: Annotated[str, _text(300)] | None = None
    summary: Annotated[str, _text(1000)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        total, active = self.parameters, self.active_parameters
        if total is not None and active is not None and active > total:
            raise ValueError("active_parameters is more than parameters")
        if self.derived_from == self.slug:
            raise ValueError("a model cannot derive from itself")
        return self


class TechniqueRecord(Audited):
    slug: Slug
    name: Annotated[str, _text(200, min_length=1)]
    aliases: list[Annotated[str, _text(100, min_length=1)]] = Field(
        default_factory=list, max_length=30
    )
    category: TechniqueCategory
    description: Annotated[str, _text(1000)] | None = None
    proposed_in: PaperSlug | None = None
    refines: Slug | None = None

    @model_validator(mode="after")
    def _not_itself(self) -> Self:
        if self.refines == self.slug:
            raise ValueError("a technique cannot refine itself")
        return self


class ItemRecord(Record):
    position: Annotated[int, Field(ge=0)]
    kind: Literal["summary", "resource", "question"]
    text: Annotated[str, _text(1000)]
    url: Annotated[str, _text(500)] | None = None
    detail: Annotated[str, _text(1000)] | None = None


class SlideRecord(Record):
    number: Annotated[int, Field(ge=1, le=100_000)]
    title: Annotated[str, _text(300)]
    body: str
    items: list[ItemRecord] = Field(default_factory=list)


class DeckRecord(Record):
    slug: Slug
    title: Annotated[str, _text(300)]
    file_name: Annotated[str, _text(300)]
    sha256: Annotated[str, _text(64)]
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    slides: list[SlideRecord] = Field(default_factory=list)


class LinkRecord(Audited):
    model: Slug
    technique: Slug
    relation: LinkRelation = LinkRelation.uses
    evidence: Annotated[str, _text(1000)] | None = None


class SourceRecord(Record):
    subject_kind: EntityKind
    subject: PaperSlug
    predicate: Annotated[str, _text(40, min_length=1)]
    object_kind: EntityKind | None = None
    object: PaperSlug | None = None
    kind: Literal["slide", "reference"]
    deck: Slug | None = None
    slide: Annotated[int, Field(ge=1)] | None = None
    quote: str | None = None
    reference: Annotated[str, _text(500)] | None = None
    reference_id: Annotated[str, _text(20)] | None = None
    note: Annotated[str, _text(1000)] | None = None
    origin: Annotated[str, _text(100, min_length=1)]
    created_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.object_kind is None) != (self.object is None):
            raise ValueError("object_kind and object go together")
        if (self.deck is None) != (self.slide is None):
            raise ValueError("deck and slide go together")
        if self.kind == "slide" and (self.slide is None or self.quote is None):
            raise ValueError("a slide source needs deck, slide and quote")
        if self.kind == "reference" and self.reference is None:
            raise ValueError("a reference source needs reference")
        return self


class MentionRecord(Record):
    deck: Slug
    slide: Annotated[int, Field(ge=1)]
    kind: EntityKind
    slug: PaperSlug


RECORDS: dict[str, type[Record]] = {
    "decks": DeckRecord,
    "labs": LabRecord,
    "papers": PaperRecord,
    "models": ModelRecord,
    "techniques": TechniqueRecord,
    "links": LinkRecord,
    "sources": SourceRecord,
    "mentions": MentionRecord,
}
