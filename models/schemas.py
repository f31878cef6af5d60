"""Response shapes shared by every entity: links, sources, pages and problems."""

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class EntityLink(BaseModel):
    """A related entity as embedded in another: enough to show it and follow it."""

    slug: str
    name: str | None
    url: str = Field(examples=["/labs/deepseek"])


class PaperLink(EntityLink):
    arxiv_id: str | None = None


class LineageLink(EntityLink):
    derivation: Literal["successor", "architecture", "weights", "distilled"] | None = None


class SourcePublic(BaseModel):
    """Where a fact comes from: a verbatim slide quote, or a named reference."""

    about: str = Field(description="The fact this source supports: a field or relation name.")
    kind: Literal["slide", "reference"]
    deck: str | None = None
    slide: int | None = None
    title: str | None = None
    quote: str | None = Field(default=None, description="Verbatim from the slide.")
    source: str | None = Field(default=None, description="URL or arXiv id of a reference.")
    reference_id: str | None = None
    note: str | None = Field(default=None, description="Where the slide is loose: what is exact.")
    url: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a collection; follow `next` (also in the `Link` header) for more."""

    items: list[T]
    next: str | None = Field(description="URL of the next page, or null on the last page.")


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str = Field(examples=["/problems/not-found"])
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    suggestions: list[str] | None = None
