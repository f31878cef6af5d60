"""Request bodies of the write API: the same field names as the items the API returns.

Related entities are named by slug (`"lab": "meta"`); the link objects a GET returns
(`{"slug": "meta", "name": …}`) are accepted too, so an item can be fetched, edited and put back.
Read-only fields of the item (url, timestamps, sources, embedded lists) are ignored; any other
unknown field is refused.
"""

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from models.base import (
    SLUG_MAX,
    SLUG_PATTERN,
    DatePrecision,
    Derivation,
    LabKind,
    LinkRelation,
    TechniqueCategory,
    parse_reduced_date,
)

ARXIV_PATTERN = r"^\d{4}\.\d{4,5}(v\d+)?$"
MAX_PARAMETERS = 10**15


def _reduced_date(value: str) -> str:
    parse_reduced_date(value)  # raises ValueError with a clear message
    return value


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=SLUG_MAX)]
# Paper slugs may keep an arXiv id whole ("arxiv-2307.09288"): a dot is allowed between parts.
PAPER_SLUG_PATTERN = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"
PaperSlug = Annotated[
    str, StringConstraints(pattern=PAPER_SLUG_PATTERN, min_length=1, max_length=SLUG_MAX)
]
ArxivId = Annotated[str, StringConstraints(pattern=ARXIV_PATTERN)]
ReducedDate = Annotated[str, AfterValidator(_reduced_date)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PaperRef = Annotated[
    str, StringConstraints(pattern=rf"^(?:{PAPER_SLUG_PATTERN[1:-1]}|{ARXIV_PATTERN[1:-1]})$")
]  # a paper slug or an arXiv id
Count = Annotated[int, Field(ge=0, le=MAX_PARAMETERS)]


def _refuse_nul(value: Any) -> None:
    """Text with NUL bytes cannot be stored (PostgreSQL refuses it): say so up front."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL bytes")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item)


class WriteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    READ_ONLY: ClassVar[frozenset[str]] = frozenset(
        {"url", "id", "created_at", "updated_at", "sources", "slides", "links", "role"}
    )
    REFERENCES: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _accept_items(cls, data: Any) -> Any:
        """Drop read-only fields; turn embedded link objects back into slugs."""
        if not isinstance(data, dict):
            return data
        _refuse_nul(data)
        body = {k: v for k, v in data.items() if k not in cls.READ_ONLY}
        for name in cls.REFERENCES:
            if isinstance(body.get(name), dict) and "slug" in body[name]:
                body[name] = body[name]["slug"]
        return body


class LabWrite(WriteBody):
    slug: Slug
    name: Name
    kind: LabKind = LabKind.industry
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None
    homepage: (
        Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)] | None
    ) = None
    READ_ONLY = WriteBody.READ_ONLY | {"models", "papers"}


class PaperWrite(WriteBody):
    slug: PaperSlug
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    arxiv_id: ArxivId | None = None
    authors: Annotated[str, StringConstraints(max_length=500)] | None = None
    published_date: ReducedDate | None = None
    arxiv_url: (
        Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)] | None
    ) = None
    key_idea: Annotated[str, StringConstraints(max_length=500)] | None = None
    lab: Slug | None = None
    READ_ONLY = WriteBody.READ_ONLY | {"name", "date_precision", "models", "proposed_techniques"}
    REFERENCES = ("lab",)


class ModelWrite(WriteBody):
    slug: Slug
    name: Name
    lab: Slug | None = None
    paper: PaperRef | None = None
    derived_from: Slug | None = None
    derivation: Derivation | None = None
    family: Annotated[str, StringConstraints(max_length=80)] | None = None
    release_date: ReducedDate | None = None
    open_weights: bool = True
    parameters: Count | None = None
    active_parameters: Count | None = None
    sizes: Annotated[str, StringConstraints(max_length=200)] | None = None
    context_length: Annotated[int, Field(ge=0, le=10**9)] | None = None
    license: Annotated[str, StringConstraints(max_length=300)] | None = None
    summary: Text | None = None
    READ_ONLY = WriteBody.READ_ONLY | {"date_precision", "techniques"}
    REFERENCES = ("lab", "paper", "derived_from")

    @model_validator(mode="before")
    @classmethod
    def _derivation_from_link(cls, data: Any) -> Any:
        # A fetched item carries the derivation inside its `derived_from` link.
        if isinstance(data, dict) and isinstance(data.get("derived_from"), dict):
            data = dict(data)
            data.setdefault("derivation", data["derived_from"].get("derivation"))
        return data

    @model_validator(mode="after")
    def _default_derivation(self) -> Self:
        # Cross-field rules (self-lineage, cycles, active <= total) are checked by the write
        # functions, so that their 422 names the field.
        if self.derived_from is not None and self.derivation is None:
            self.derivation = Derivation.successor
        return self


class TechniqueWrite(WriteBody):
    slug: Slug
    name: Name
    category: TechniqueCategory
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30
    )
    description: Text | None = None
    proposed_in: PaperRef | None = None
    refines: Slug | None = None
    READ_ONLY = WriteBody.READ_ONLY | {
        "proposed_date", "refined_by", "introduced_by", "adopters_count",
    }  # fmt: skip
    REFERENCES = ("proposed_in", "refines")


class SourceWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class LinkWrite(BaseModel):
    """`PUT /models/{slug}/techniques/{technique}`: the model uses (or does not use) it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _refuse_nul(data)
        return data

    relation: LinkRelation = LinkRelation.uses
    evidence: Annotated[str, StringConstraints(max_length=1000)] | None = None
    sources: list[SourceWrite] = Field(default_factory=list, max_length=20)


def split_date(value: str | None) -> tuple[date | None, DatePrecision]:
    if value is None:
        return None, DatePrecision.day
    return parse_reduced_date(value)


def normal_arxiv(value: str) -> str:
    """`2307.09288v2` -> `2307.09288`: the graph keys papers by the versionless id."""
    return re.sub(r"v\d+$", "", value)
