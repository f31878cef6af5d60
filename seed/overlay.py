"""The curated overlay's shape: classifications plus facts, each fact with its sources."""

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.base import Derivation, LabKind, TechniqueCategory
from seed.reference import load_yaml


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(Strict):
    """Either a slide and a verbatim quote from it, or a reference relation id (`r036`)."""

    slide: int | None = None
    quote: str | None = None
    ref: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.slide is None) == (self.ref is None):
            raise ValueError("a source names either `slide` (with `quote`) or `ref`")
        if self.slide is not None and not self.quote:
            raise ValueError("a slide source needs a verbatim `quote`")
        return self


class FactSpec(Strict):
    about: str
    object: str | None = None
    value: Any = None
    sources: list[SourceSpec] = Field(min_length=1)


class EntitySpec(Strict):
    slug: str
    name: str | None = None
    facts: list[FactSpec] = Field(default_factory=list)


class LabSpec(EntitySpec):
    kind: LabKind = LabKind.industry
    country: str | None = Field(default=None, min_length=2, max_length=2)
    homepage: str | None = None


class ModelSpec(EntitySpec):
    family: str | None = None
    derivation: Derivation | None = None
    open_weights: bool | None = None


class TechniqueSpec(EntitySpec):
    category: TechniqueCategory
    aliases: list[str] | None = None


class PaperSpec(EntitySpec):
    arxiv_id: str | None = None
    lab: str | None = None


class Overlay(Strict):
    version: int = 1
    labs: list[LabSpec] = Field(default_factory=list)
    papers: list[PaperSpec] = Field(default_factory=list)
    models: list[ModelSpec] = Field(default_factory=list)
    techniques: list[TechniqueSpec] = Field(default_factory=list)


def load_overlay(path: Path) -> Overlay:
    return Overlay.model_validate(load_yaml(path) or {})
