"""Link tables: model-technique use, slide mentions and the provenance of every fact."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Text
from sqlmodel import Field, SQLModel

from models.base import EntityKind, LinkRelation, TimestampMixin, in_values, utc_now


class ModelTechnique(TimestampMixin, table=True):
    """A model uses (or, as a sourced negative fact, does not use) a technique."""

    __tablename__ = "model_technique"
    __table_args__ = (
        CheckConstraint(in_values("relation", LinkRelation), name="relation"),
        # The reverse direction: "which models use this technique" walks technique_id first.
        Index("ix_model_technique_technique_id_model_id", "technique_id", "model_id"),
    )

    # The link belongs to the model (CASCADE); a technique in use cannot be deleted (RESTRICT).
    model_id: int = Field(foreign_key="model.id", ondelete="CASCADE", primary_key=True)
    technique_id: int = Field(foreign_key="technique.id", ondelete="RESTRICT", primary_key=True)
    relation: LinkRelation = Field(default=LinkRelation.uses, sa_type=String(12))
    evidence: str | None = Field(default=None, max_length=1000)
    created_by: str | None = Field(default=None, max_length=80)
    updated_by: str | None = Field(default=None, max_length=80)


class SlideMention(SQLModel, table=True):
    """A slide names an entity (written by the seed, for provenance)."""

    __tablename__ = "slide_mention"
    __table_args__ = (
        CheckConstraint(in_values("entity_kind", EntityKind), name="entity_kind"),
        Index("ix_slide_mention_entity", "entity_kind", "entity_id"),
    )

    slide_id: int = Field(foreign_key="slide.id", ondelete="CASCADE", primary_key=True)
    entity_kind: str = Field(max_length=10, primary_key=True)
    entity_id: int = Field(primary_key=True)


class Source(SQLModel, table=True):
    """Where one fact comes from: a verbatim slide quote or a named reference.

    A fact is (subject, predicate[, object]): `model:12 uses technique:3`, `model:12 parameters`.
    One table serves every kind of subject, the same `kind:id` shape as the graph's edges, so the
    entity and relation rows stay free of provenance columns. Write functions remove an entity's
    sources with it.
    """

    __table_args__ = (
        CheckConstraint("kind IN ('slide', 'reference')", name="kind"),
        CheckConstraint(in_values("subject_kind", EntityKind), name="subject_kind"),
        CheckConstraint(
            "(kind = 'slide' AND slide_id IS NOT NULL AND quote IS NOT NULL)"
            " OR (kind = 'reference' AND reference IS NOT NULL)",
            name="complete",
        ),
        Index("ix_source_subject", "subject_kind", "subject_id", "predicate"),
        Index("ix_source_object", "object_kind", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=10)
    subject_id: int
    predicate: str = Field(max_length=40)
    object_kind: str | None = Field(default=None, max_length=10)
    object_id: int | None = Field(default=None)
    kind: str = Field(max_length=10)
    slide_id: int | None = Field(
        default=None, foreign_key="slide.id", ondelete="CASCADE", index=True
    )
    quote: str | None = Field(default=None, sa_type=Text)
    reference: str | None = Field(default=None, max_length=500)
    reference_id: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=1000)
    # Who wrote the fact: "seed:<deck>" for a deck loader, "key:<name>" for an API write; a re-seed
    # replaces only its own rows.
    origin: str = Field(max_length=100, index=True)
    created_at: datetime = Field(
        default_factory=utc_now, sa_type=DateTime(timezone=True), nullable=False
    )


class DataVersion(SQLModel, table=True):
    """One row: bumped by every write, so ETags and caches can tell when anything changed."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=DateTime(timezone=True), nullable=False
    )
